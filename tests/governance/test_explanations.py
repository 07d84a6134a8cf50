"""Explanations: feature importances computed by the SDK where the model is, kept with the
model version and pinned to a dataset version; cross-checked against scikit-learn (and
SHAP when installed), validation, roles, the audit trail, the model page's panel."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sklearn.datasets import load_diabetes
from sklearn.inspection import permutation_importance
from sklearn.linear_model import Ridge

from loopwise import Client
from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.clock import FrozenClock
from loopwise.core.context import Actor, Context
from loopwise.core.errors import InvalidInput, NotFound, PermissionDenied
from loopwise.data import service as data
from loopwise.governance import explanations
from loopwise.governance.models import ExplanationMethod
from loopwise.governance.schemas import ExplanationIn
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry

KEY = "EXP"
Opener = Callable[..., AbstractContextManager[Context]]  # the write fixtures (conftest)


def diabetes(rows: int = 150) -> tuple[pd.DataFrame, pd.Series, Ridge]:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=0.5).fit(X.iloc[rows:], y.iloc[rows:])
    return X.iloc[:rows], y.iloc[:rows], model


def setup(write: Opener, tmp_path: Path, user: Actor | None = None) -> str:
    """Project EXP with model ``diab`` v1 and the evaluation rows as a dataset version."""
    X, y, _ = diabetes()
    path = tmp_path / "eval.parquet"
    X.assign(target=y).to_parquet(path, index=False)
    with write(user) as ctx:
        projects.create_project(ctx, ProjectCreate(key=KEY, name="Explain"))
        registry.create_model(ctx, KEY, "diab")
        registry.create_version(ctx, "diab", source="s3://m/1")
        return data.register_path(ctx, KEY, "eval", path).version.id


def body(dv: str, n: int = 3, **changes: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "method": "permutation",
        "dataset_version_id": dv,
        "scoring": "r2",
        "n_repeats": 2,
        "random_state": 0,
        "features": [f"f{i}" for i in range(n)],
        "importances_mean": [0.5 - i / 10 for i in range(n)],
        "importances_std": [0.01] * n,
        "importances": [[0.5 - i / 10] * 2 for i in range(n)],
    }
    return made | changes


def test_the_sdk_computes_permutation_importance_and_the_server_keeps_it(
    client: Client, write: Opener, tmp_path: Path, clock: FrozenClock
) -> None:
    dv = setup(write, tmp_path)
    X, y, model = diabetes()
    (kept,) = client.explain("diab", 1, model, X, y, dataset_version_id=dv, n_repeats=3)

    expected = permutation_importance(model, X, y, n_repeats=3, random_state=0)
    assert [f.feature for f in kept.features] == list(X.columns)
    np.testing.assert_allclose([f.mean for f in kept.features], expected.importances_mean)
    np.testing.assert_allclose([f.std for f in kept.features], expected.importances_std)
    np.testing.assert_allclose([f.raw for f in kept.features], expected.importances)
    assert kept.baseline_score == pytest.approx(model.score(X, y))
    assert (kept.method, kept.scoring, kept.n_repeats, kept.rows) == ("permutation", "r2", 3, 150)
    with write() as ctx:
        pinned = data.get_version(ctx, dv)
        assert (kept.dataset_version_id, kept.dataset_hash) == (pinned.id, pinned.content_hash)
        (entry,) = audit.log(ctx, object=f"explanation:{kept.id}")
        assert entry.action == "explanation.record:permutation"
        assert entry.actor == ctx.actor.user_id
    # the biggest score drop first: for this Ridge, s5 and bmi
    assert {f.feature for f in kept.ranked[:2]} == {"s5", "bmi"}
    assert client.explanations("diab", 1) == [kept]

    # an explicit scorer and a list of feature names for an array, a minute later
    clock.advance(timedelta(minutes=1))
    arrays = Ridge(alpha=0.5).fit(X.to_numpy(), y.to_numpy())
    (mae,) = client.explain(
        "diab",
        1,
        arrays,
        X.to_numpy(),
        y.to_numpy(),
        dataset_version_id=dv,
        feature_names=[c.upper() for c in X.columns],
        scoring="neg_mean_absolute_error",
        n_repeats=2,
        random_state=7,
    )
    again = permutation_importance(
        arrays,
        X.to_numpy(),
        y.to_numpy(),
        scoring="neg_mean_absolute_error",
        n_repeats=2,
        random_state=7,
    )
    np.testing.assert_allclose([f.mean for f in mae.features], again.importances_mean)
    assert mae.features[0].feature == "AGE" and mae.scoring == "neg_mean_absolute_error"
    with write() as ctx:
        assert explanations.latest_explanations(ctx, "diab", 1) == [mae]  # newest per method
    with pytest.raises(InvalidInput, match="2 feature names for 10 columns"):
        client.explain(
            "diab", 1, arrays, X.to_numpy(), y, dataset_version_id=dv, feature_names=["a", "b"]
        )


def test_shap_values_when_shap_is_installed(client: Client, write: Opener, tmp_path: Path) -> None:
    shap = pytest.importorskip("shap")
    dv = setup(write, tmp_path)
    X, y, model = diabetes()
    perm, kept = client.explain(
        "diab", 1, model, X, y, dataset_version_id=dv, n_repeats=2, shap=True
    )
    # 150 rows: every one is explained, the first 100 are the background
    values = shap.Explainer(model, X.iloc[:100])(X).values
    np.testing.assert_allclose([f.mean for f in kept.features], np.abs(values).mean(axis=0))
    np.testing.assert_allclose([f.std for f in kept.features], np.abs(values).std(axis=0))
    assert (kept.method, kept.scoring, kept.rows, perm.method) == ("shap", "", 150, "permutation")
    with write() as ctx:
        latest = explanations.latest_explanations(ctx, "diab", 1)
    assert [e.method for e in latest] == [ExplanationMethod.PERMUTATION, ExplanationMethod.SHAP]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"features": ["a", "a", "b"]}, "unique; repeated: a"),
        ({"importances_mean": [0.1, 0.2]}, "3 features but 2 means"),
        ({"importances_std": [0.1, -0.1, 0.1]}, "greater than or equal to 0"),
        ({"importances": [[0.1, 0.2]] * 3, "n_repeats": 3}, "hold n_repeats=3"),
        ({"method": "lime"}, "'permutation' or 'shap'"),
        ({"scoring": ""}, "names its scoring"),
        ({"method": "shap", "scoring": ""}, "belong to a permutation importance"),
        ({"n_repeats": 0}, "greater than or equal to 1"),
        ({"features": []}, "at least 1 item"),
    ],
)
def test_invalid_explanations_are_refused_with_a_message(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ExplanationIn.model_validate(body("dsv_x", **changes))


def test_the_endpoint_answers_bad_input_with_a_4xx(
    api: TestClient, write: Opener, tmp_path: Path
) -> None:
    dv = setup(write, tmp_path)
    url = "/api/v1/models/diab/versions/1/explanations"
    assert api.post(url, json=body(dv)).status_code == 201
    dup = api.post(url, json=body(dv, features=["a", "a", "b"]))
    assert dup.status_code == 400 and "unique" in dup.json()["error"]["message"]
    text = json.dumps(body(dv)).replace("0.5,", "NaN,", 1)  # not finite
    nan = api.post(url, content=text, headers={"content-type": "application/json"})
    assert nan.status_code == 400, nan.text
    assert api.post(url, json=body("dsv_missing")).status_code == 404
    assert api.post("/api/v1/models/diab/versions/9/explanations", json=body(dv)).status_code == 404
    with write() as ctx:  # a dataset version of another project
        projects.create_project(ctx, ProjectCreate(key="OTH", name="Other"))
        path = tmp_path / "other.parquet"
        pd.DataFrame({"a": [1, 2]}).to_parquet(path)
        other = data.register_path(ctx, "OTH", "other", path).version.id
    foreign = api.post(url, json=body(other))
    assert foreign.status_code == 400 and "another project" in foreign.json()["error"]["message"]
    listed = api.get(url, params={"latest": True}).json()
    assert len(listed) == 1 and listed[0]["features"][0] == {
        "feature": "f0",
        "mean": 0.5,
        "std": 0.01,
        "raw": [0.5, 0.5],
    }


def test_contributors_write_and_readers_read(
    auth_write: Opener, users: dict[str, Actor], tmp_path: Path
) -> None:
    root, ana, max_ = users["root"], users["ana"], users["max"]
    dv = setup(auth_write, tmp_path, root)
    with auth_write(root) as ctx:
        project = projects.resolve_project(ctx, KEY)
        accounts.set_member(ctx, project.id, ana.username, Role.CONTRIBUTOR)
        accounts.set_member(ctx, project.id, max_.username, Role.VIEWER)
    with auth_write(ana) as ctx:
        kept = explanations.record_explanation(ctx, "diab", 1, ExplanationIn(**body(dv)))
        assert kept.created_by == "ana"
    with auth_write(max_) as ctx:
        assert explanations.list_explanations(ctx, "diab", 1) == [kept]
        with pytest.raises(PermissionDenied):
            explanations.record_explanation(ctx, "diab", 1, ExplanationIn(**body(dv)))
    with auth_write(users["ada"]) as ctx, pytest.raises((PermissionDenied, NotFound)):
        explanations.list_explanations(ctx, "diab", 1)  # not a member


def test_the_model_page_shows_the_explanations(app: FastAPI, write: Opener, tmp_path: Path) -> None:
    dv = setup(write, tmp_path)
    n = 40
    many = body(
        dv,
        n,
        features=[f"feature_{i:02d}" for i in range(n)],
        importances_mean=[(i % 7) / 10 - 0.05 for i in range(n)],
        importances=None,
    )
    with write() as ctx:
        explanations.record_explanation(ctx, "diab", 1, ExplanationIn(**many))
    with TestClient(app) as web:
        page = web.get("/models/diab")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'id="explanation-v1-permutation"' in html and "drop in r2" in html
    assert f'href="/datasets/versions/{dv}">eval v1</a>' in html and "by local" in html
    assert html.count('class="chart importances"') == 2  # the top 15 and "show all"
    assert "Show all 40 features" in html
    top = html.split("<details>")[0]
    assert top.count('<g class="feature">') == 15 and "feature_06" in top  # 0.55, the top
