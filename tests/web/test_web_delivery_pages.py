"""Dataset, model, delivery, lineage and evaluation pages without a browser: every page
renders, the readiness exports, form validation (400 with the form), conflicts shown on the
page, roles (viewer 403) and cross-site posts.

These run on SQLite and PostgreSQL (through the ``app`` and ``auth_app`` fixtures).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO

import pandas as pd
import pytest
from fastapi import FastAPI
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Actor
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate

PASSWORD = "correct horse battery"


def alerts(html: str) -> list[str]:
    block = re.search(r'<div class="errors" role="alert">(.*?)</div>', html, re.S)
    found = re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []
    return [m.replace("&#39;", "'").replace("&amp;", "&") for m in found]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    df = load_breast_cancer(as_frame=True).frame
    df.columns = [c.replace(" ", "_") for c in df.columns]
    df.insert(0, "patient_id", [f"P{i:04d}" for i in range(len(df))])
    return df


@pytest.fixture(scope="module")
def predictions(frame: pd.DataFrame) -> dict[str, tuple[list[int], list[float]]]:
    """Two logistic regressions trained on rows :400, predicting rows 400:."""
    x, y = frame.drop(columns=["patient_id", "target"]), frame["target"]
    out = {}
    for name, c in (("logreg-c0.1", 0.1), ("logreg-c1", 1.0)):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c))
        model.fit(x.iloc[:400], y.iloc[:400])
        p = model.predict(x.iloc[400:])
        out[name] = (p.tolist(), model.predict_proba(x.iloc[400:])[:, 1].tolist())
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    buffer = BytesIO()
    df.to_csv(buffer, index=False)
    return buffer.getvalue()


@pytest.fixture
def seeded(
    client: Client,
    frame: pd.DataFrame,
    predictions: dict[str, tuple[list[int], list[float]]],
) -> dict[str, str]:
    """SCREEN: datasets (one ready, one leaky), two runs, a model with two versions that
    went to production (the second through a canary) and a rollback, champion/challenger
    evaluations with slices, and a resolved and an open incident."""
    client.create_project(
        "SCREEN",
        "Screening <model>",
        charter={"data_sources": [{"name": "cancer", "owner": "ada", "permission": "granted"}]},
    )
    client.create_dataset(
        "SCREEN",
        "cancer",
        expectations=[
            {"column": "mean_radius", "min": 5, "max": 40},
            {"column": "patient_id", "unique": True},
        ],
    )
    meta = {
        "owner": "ada",
        "licence": "CC-BY-4.0",
        "personal_data": {"patient_id": ["direct_identifier"]},
        "legal_basis": "consent",
    }
    train = client.register_dataset("SCREEN", "cancer", frame.iloc[:400], meta=meta).version
    ready = client.register_dataset("SCREEN", "cancer", frame.iloc[:300], meta=meta).version
    holdout = client.register_dataset("SCREEN", "holdout", frame.iloc[380:]).version
    client.check_leakage(train.id, holdout.id, label="target", id_columns=["patient_id"])

    y = frame["target"].iloc[400:]
    run_ids = []
    for name, c in (("logreg-c0.1", 0.1), ("logreg-c1", 1.0)):
        p = pd.Series(predictions[name][0], index=y.index)
        with client.start_run("SCREEN", name=name, params={"C": c}) as run:
            run.use_dataset(train, "train")
            run.use_dataset(holdout, "eval")
            run.log_metric("recall", float((p[y == 1] == 1).mean()))
            run.log_metric("accuracy", float((p == y).mean()))
        run_ids.append(run.id)
    client.create_model("SCREEN", "screening")
    v1 = client.create_model_version("screening", run_id=run_ids[0])
    client.move_model_version("screening", 1, "staging")
    client.move_model_version("screening", 1, "production")
    client.create_model_version("screening", run_id=run_ids[1])
    client.move_model_version("screening", 2, "staging")
    client.move_model_version("screening", 2, "canary", traffic_share=0.1)
    client.move_model_version("screening", 2, "production")
    client.rollback("screening", "recall dropped on live traffic")
    client.set_alias("screening", "champion", 1)
    client.set_alias("screening", "challenger", 2)
    records = []
    for version, name in ((1, "logreg-c0.1"), (2, "logreg-c1")):
        p, s = predictions[name]
        records.append(
            client.evaluate(
                "SCREEN",
                "classification",
                y.tolist(),
                p,
                y_score=s,
                model="screening",
                version=version,
                dataset_version_id=holdout.id,
                slices=["large" if r > 15 else "small" for r in frame["mean_radius"].iloc[400:]],
                slice_column="tumour size",
                n_boot=50,
            )
        )
    deployments = client.deployments("SCREEN")
    done = client.open_incident("SCREEN", "v2 recall dropped", severity="sev2")
    client._request("POST", f"/api/v1/incidents/{done.id}/resolve", json={"notes": "rolled"})
    client.open_incident("SCREEN", "Latency spike <p95>")
    return {
        "train": train.id,
        "ready": ready.id,
        "holdout": holdout.id,
        "run": run_ids[0],
        "v1": v1.id,
        "evaluation": records[1].id,
        "deployment": deployments[0].id,
    }


def test_every_new_page_renders(api: TestClient, seeded: dict[str, str]) -> None:
    pages = {
        "/projects/SCREEN/datasets": ["cancer", "holdout", "v2", "Upload a dataset version"],
        f"/datasets/versions/{seeded['train']}": [
            "mean_radius",
            "Completeness",
            "✓ pass",
            "direct identifier",
            "20 evaluation rows also appear in the training data",
            "logreg-c0.1",
            "Run leakage check",
            f"/lineage/dataset-versions/{seeded['train']}",
        ],
        f"/datasets/versions/{seeded['train']}/readiness": ["✗ NOT READY", "leakage: 20"],
        f"/datasets/versions/{seeded['ready']}/readiness": ["✓ READY", "granted"],
        "/projects/SCREEN/models": ["screening", "@champion → v1", "v1"],
        "/models/screening": [
            "● production",
            "rolled back: recall dropped on live traffic",
            "◑ canary 10%",
            "Champion v1",
            "Challenger v2",
            "Stage history",
        ],
        "/projects/SCREEN/delivery": [
            "Deployment frequency",
            "Change-failure rate",
            "<svg",
            "↶ rolled back",
            "Latency spike &lt;p95&gt;",
            "Resolve",
        ],
        "/projects/SCREEN/delivery?days=30": ["last 30 days"],
        f"/lineage/dataset-versions/{seeded['train']}": [
            '<svg class="lineage"',
            "logreg-c0.1",
            "screening v1",
            "screening v2",
            "used as train",
            "deployed as",
        ],
        f"/lineage/deployments/{seeded['deployment']}": ["cancer v1", "produced"],
        f"/runs/{seeded['run']}": [
            'id="run-datasets"',
            "cancer v1",
            "holdout v1",
            "20 evaluation rows also appear in the training data",
        ],
        f"/evaluations/{seeded['evaluation']}": [
            "Confusion matrix",
            "tumour size",
            "roc_auc",
            "95% interval",
        ],
    }
    for path, expected in pages.items():
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        for text in expected:
            assert text in response.text, (path, text)
        assert '<link rel="stylesheet" href="/static/style.css">' in response.text
        body = response.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in body and "https://" not in body, f"{path} links elsewhere"
        assert "Screening <model>" not in response.text  # escaped everywhere


def test_project_tabs_link_the_new_pages(api: TestClient, seeded: dict[str, str]) -> None:
    html = api.get("/projects/SCREEN").text
    for path in ("datasets", "models", "delivery"):
        assert f'href="/projects/SCREEN/{path}"' in html


def test_model_version_links_redirect_to_the_model(api: TestClient, seeded: dict[str, str]) -> None:
    response = api.get(f"/model-versions/{seeded['v1']}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/models/screening#v1"


def test_lineage_diagram_links_every_box(api: TestClient, seeded: dict[str, str]) -> None:
    html = api.get(f"/lineage/dataset-versions/{seeded['train']}").text
    svg = html[html.index('<svg class="lineage"') : html.index("</svg>", html.index("lineage"))]
    assert f'href="/datasets/versions/{seeded["train"]}"' in svg
    assert f'href="/runs/{seeded["run"]}"' in svg
    assert f'href="/model-versions/{seeded["v1"]}"' in svg
    assert 'href="/lineage/deployments/dep_' in svg
    assert svg.count('class="node"') == html.count("<tr data-kind=")  # table has them all


def test_readiness_exports(api: TestClient, seeded: dict[str, str]) -> None:
    md = api.get(f"/datasets/versions/{seeded['train']}/readiness.md")
    assert md.status_code == 200
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert 'filename="cancer-v1-readiness.md"' in md.headers["content-disposition"]
    assert "**Verdict: NOT READY**" in md.text
    assert "1. leakage: 20 evaluation rows also appear in the training data" in md.text
    assert "| Owner | ada |" in md.text
    assert "| pass | mean_radius: min 5, max 40 |" in md.text
    assert "&lt;" not in md.text and "&#39;" not in md.text  # Markdown, not HTML-escaped

    html = api.get(f"/datasets/versions/{seeded['ready']}/readiness.html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    disposition = html.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="cancer-v2-readiness.html";')
    assert html.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert "✓ READY" in html.text and "<style>" in html.text
    assert "/static/" not in html.text and "<link" not in html.text and "<script" not in html.text
    assert "None: this version is ready for use." in html.text

    holdout = api.get(f"/datasets/versions/{seeded['holdout']}/readiness.html").text
    assert "✗ NOT READY" in holdout
    for issue in ("no owner recorded", "no licence recorded", "no data source named"):
        assert issue in holdout
    holdout_md = api.get(f"/datasets/versions/{seeded['holdout']}/readiness.md").text
    assert "no owner recorded" in holdout_md and "**Verdict: NOT READY**" in holdout_md


def test_markdown_cells_escape_pipes(api: TestClient, client: Client) -> None:
    client.create_project("PIPE", "Pipes")
    df = pd.DataFrame({"a|b": [1, 2, 3], "c": ["x", "y", "z"]})
    meta = {"owner": "data | team <ops>", "licence": "MIT"}
    version = client.register_dataset("PIPE", "pipes", df, meta=meta).version
    md = api.get(f"/datasets/versions/{version.id}/readiness.md").text
    assert "| Owner | data \\| team \\<ops> |" in md
    assert "| a\\|b | integer |" in md
    html = api.get(f"/datasets/versions/{version.id}/readiness.html").text
    assert "data | team &lt;ops&gt;" in html


# --- the upload form ---------------------------------------------------------------------


UPLOAD_META = {
    "owner": "Clinical data",
    "licence": "CC-BY-4.0",
    "source": "sklearn",
    "legal_basis": "consent",
    "residency": "EU",
    "retention_until": "2030-12-31",
    "personal_data": "patient_id: direct_identifier\nmean_radius:sensitive, quasi_identifier",
}


def test_upload_form_registers_and_recognises_identical_content(
    api: TestClient, client: Client, frame: pd.DataFrame
) -> None:
    client.create_project("UP", "Upload")
    content = csv_bytes(frame)
    response = api.post(
        "/projects/UP/datasets",
        data=UPLOAD_META,
        files={"file": ("breast_cancer.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    assert target.startswith("/datasets/versions/dsv_")
    version = client.get_dataset_version(target.rsplit("/", 1)[1])
    assert version.dataset == "breast_cancer" and version.rows == len(frame)
    assert (
        version.meta.owner == "Clinical data" and str(version.meta.retention_until) == "2030-12-31"
    )
    assert version.meta.personal_data == {
        "patient_id": ("direct_identifier",),
        "mean_radius": ("sensitive", "quasi_identifier"),
    }
    again = api.post(
        "/projects/UP/datasets",
        data={"name": "breast_cancer"},
        files={"file": ("copy.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert again.headers["location"] == f"{target}?notice=identical"
    page = api.get(again.headers["location"]).text
    assert "identical to this version" in page
    assert len(client._request("GET", "/api/v1/projects/UP/datasets/breast_cancer/versions")) == 1
    assert not list((api.app.state.loopwise.artifact_tmp).iterdir())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fields", "file", "expected"),
    [
        ({}, None, ["File: choose a CSV or Parquet file"]),
        ({}, ("notes.txt", b"hello"), ["File: notes.txt is not a .csv or .parquet file"]),
        ({}, ("data.dvc", b"outs: []"), ["File: register .dvc files with the SDK"]),
        ({}, ("bad.parquet", b"not parquet"), ["cannot read bad.parquet as parquet"]),
        ({"retention_until": "soon"}, None, ["Retention until: 'soon' is not a date"]),
        ({"personal_data": "patient_id"}, None, ["Personal data, line 1: write column:flag"]),
        ({"personal_data": "a:secret"}, None, ["Personal data, line 1: 'secret' is not a flag"]),
        ({"owner": "x" * 501}, None, ["Owner: String should have at most 500 characters"]),
        ({"name": "n" * 201}, ("a.csv", b"a,b\n1,2\n"), ["Dataset name: at most 200"]),
        (
            {"personal_data": "nope:sensitive"},
            ("a.csv", b"a,b\n1,2\n"),
            ["personal-data flags name unknown columns: ['nope'] (choose the file again)"],
        ),
    ],
)
def test_upload_form_errors_rerender_with_400(
    api: TestClient,
    client: Client,
    fields: dict[str, str],
    file: tuple[str, bytes] | None,
    expected: list[str],
) -> None:
    client.create_project("UP", "Upload")
    files = {"file": file} if file else {"file": ("", b"", "application/octet-stream")}
    response = api.post("/projects/UP/datasets", data={"name": "d", **fields}, files=files)
    assert response.status_code == 400, response.text
    found = alerts(response.text)
    for message in expected:
        assert any(message in m for m in found), (message, found)
    assert 'id="upload-dataset" open' in response.text
    assert client._request("GET", "/api/v1/projects/UP/datasets") == []


def test_upload_without_multipart_is_a_400(api: TestClient, client: Client) -> None:
    client.create_project("UP", "Upload")
    response = api.post("/projects/UP/datasets", data={"name": "d"})
    assert response.status_code == 400
    assert "File: choose a CSV or Parquet file" in alerts(response.text)


# --- the leakage form --------------------------------------------------------------------


def test_leakage_form(api: TestClient, seeded: dict[str, str]) -> None:
    url = f"/datasets/versions/{seeded['ready']}/leakage"
    ok = api.post(
        url,
        data={"other": seeded["holdout"], "direction": "train", "label": "target"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"].endswith("#leakage")
    page = api.get(f"/datasets/versions/{seeded['ready']}").text
    assert page.count("<strong>this version</strong>") == 1
    cases = [
        ({"other": "", "direction": "eval"}, "Compare with: choose another dataset version"),
        ({"other": seeded["holdout"], "direction": "up"}, "This version is: choose training"),
        ({"other": seeded["holdout"], "direction": "eval", "label": "nope"}, "Label column"),
        ({"other": seeded["holdout"], "direction": "eval", "id_columns": "x, y"}, "Id columns"),
        ({"other": "dsv_missing", "direction": "eval"}, "Compare with: no such dataset version"),
        ({"other": seeded["ready"], "direction": "eval"}, "compare two different versions"),
    ]
    for form, message in cases:
        response = api.post(url, data=form)
        assert response.status_code == 400, form
        assert any(message in m for m in alerts(response.text)), (message, alerts(response.text))
        assert 'id="leakage-form" open' in response.text


# --- models ------------------------------------------------------------------------------


def test_model_forms_walk_a_version_to_production_and_back(api: TestClient, client: Client) -> None:
    client.create_project("FLOW", "Flow")
    runs = []
    for recall in (0.81, 0.86):
        with client.start_run("FLOW") as run:
            run.log_metric("recall", recall)
        runs.append(run.id)
    created = api.post("/projects/FLOW/models", data={"name": "flow model"}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/models/flow%20model"
    base = "/models/flow%20model"
    for run_id in runs:
        made = api.post(f"{base}/versions", data={"run_id": run_id}, follow_redirects=False)
        assert made.status_code == 303
    for version in (1, 2):
        steps = [{"stage": "staging"}, {"stage": "canary", "traffic_share": "0.5"}]
        steps.append({"stage": "production", "reason": "canary healthy"})
        for form in steps:
            moved = api.post(f"{base}/versions/{version}/stage", data=form, follow_redirects=False)
            assert moved.status_code == 303, (version, form, alerts(moved.text))
            assert moved.headers["location"] == f"{base}#v{version}"
    assert client.get_model("flow model").production_version == 2
    page = api.get(base).text
    assert "Roll back to v1" in page
    back = api.post(f"{base}/rollback", data={"reason": "bad recall"}, follow_redirects=False)
    assert back.status_code == 303
    model = client.get_model("flow model")
    assert model.production_version == 1
    aliased = api.post(f"{base}/aliases", data={"alias": "champion", "version": "1"})
    assert aliased.status_code == 200
    assert client.get_model("flow model").aliases == {"champion": 1}
    assert "No comparison yet" in aliased.text


def test_model_form_errors(api: TestClient, client: Client) -> None:
    client.create_project("FLOW", "Flow")
    with client.start_run("FLOW") as done:
        done.log_metric("recall", 0.9)
    running = client.create_run("FLOW")
    client.create_model("FLOW", "m")
    client.create_model_version("m", run_id=running.id)
    client.create_model_version("m", run_id=done.id)
    client.move_model_version("m", 1, "staging")

    bad_names = [("", "Name: required"), ("bad/name", "invalid model name")]
    for name, message in bad_names:
        response = api.post("/projects/FLOW/models", data={"name": name})
        assert response.status_code == 400, name
        assert any(message in m for m in alerts(response.text)), alerts(response.text)
    taken = api.post("/projects/FLOW/models", data={"name": "m"})
    assert taken.status_code == 409 and "already exists" in alerts(taken.text)[0]

    cases = [
        ("versions", {"run_id": ""}, 400, "Source run: choose the run"),
        ("versions", {"run_id": "run_missing"}, 400, "Source run: no run 'run_missing'"),
        ("versions/1/stage", {"stage": "party"}, 400, "Stage: Input should be"),
        ("versions/1/stage", {"stage": "canary"}, 400, "v1 → canary: a canary needs a traffic"),
        ("versions/1/stage", {"stage": "canary", "traffic_share": "2"}, 400, "Traffic share:"),
        ("versions/1/stage", {"stage": "canary", "traffic_share": "x"}, 400, "Traffic share:"),
        ("versions/1/stage", {"stage": "production"}, 409, "source run finished: run"),
        ("versions/2/stage", {"stage": "production"}, 409, "cannot go from none to production"),
        ("aliases", {"alias": "", "version": "1"}, 400, "Alias: required"),
        ("aliases", {"alias": "9lives", "version": "1"}, 400, "invalid alias"),
        ("aliases", {"alias": "ok", "version": "7"}, 400, "Version: model 'm' has no version 7"),
        ("aliases", {"alias": "ok", "version": "seven"}, 400, "Version: choose a version"),
        ("rollback", {"reason": ""}, 400, "Reason: required"),
        ("rollback", {"reason": "why"}, 409, "has no version in production"),
    ]
    for path, form, status, message in cases:
        response = api.post(f"/models/m/{path}", data=form)
        assert response.status_code == status, (path, form, response.status_code)
        assert any(message in m for m in alerts(response.text)), (message, alerts(response.text))
    assert api.get("/models/m").text.count("◐ staging") >= 1  # nothing moved
    refused = api.post("/models/m/versions/1/stage", data={"stage": "production"})
    assert "✗ source run finished" in refused.text  # the failing check is on the page


# --- delivery ----------------------------------------------------------------------------


def test_incident_forms(api: TestClient, client: Client) -> None:
    client.create_project("OPS", "Ops")
    opened = api.post(
        "/projects/OPS/incidents",
        data={"title": "Scores all zero", "severity": "sev1", "notes": "since 09:00"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page = api.get("/projects/OPS/delivery").text
    assert "Scores all zero" in page and "▲ sev1" in page
    incident_id = re.search(r'data-incident="(inc_[^"]+)"', page).group(1)  # type: ignore[union-attr]
    resolved = api.post(
        f"/incidents/{incident_id}/resolve",
        data={"notes": "fixed", "project": "OPS"},
        follow_redirects=False,
    )
    assert resolved.status_code == 303
    again = api.post(f"/incidents/{incident_id}/resolve", data={"project": "OPS"})
    assert again.status_code == 409 and alerts(again.text) == ["incident already resolved"]
    for form, message in [
        ({"title": ""}, "Title: required"),
        ({"title": "t", "severity": "sev9"}, "Severity: choose sev1 to sev4"),
        ({"title": "t", "deployment_id": "dep_nope"}, "deployment 'dep_nope' not found"),
    ]:
        response = api.post("/projects/OPS/incidents", data=form)
        assert response.status_code == 400, form
        assert any(message in m for m in alerts(response.text)), alerts(response.text)
        assert 'id="new-incident" open' in response.text
    assert api.get("/projects/OPS/delivery?days=3").status_code == 400


def test_missing_things_are_404_pages(api: TestClient) -> None:
    for path in (
        "/projects/NOPE/datasets",
        "/projects/NOPE/models",
        "/projects/NOPE/delivery",
        "/datasets/versions/dsv_x",
        "/datasets/versions/dsv_x/readiness",
        "/datasets/versions/dsv_x/readiness.md",
        "/datasets/versions/dsv_x/readiness.html",
        "/models/nope",
        "/model-versions/mv_x",
        "/lineage/dataset-versions/dsv_x",
        "/lineage/deployments/dep_x",
        "/evaluations/ev_x",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.text and 'class="topbar"' in response.text


def test_cross_site_posts_are_refused(api: TestClient, client: Client) -> None:
    client.create_project("OPS", "Ops")
    evil = {"origin": "https://evil.example"}
    assert api.post("/projects/OPS/models", data={"name": "x"}, headers=evil).status_code == 403
    upload = api.post("/projects/OPS/datasets", files={"file": ("a.csv", b"a\n1\n")}, headers=evil)
    assert upload.status_code == 403
    assert client._request("GET", "/api/v1/projects/OPS/datasets") == []


# --- roles (auth mode) -------------------------------------------------------------------


@pytest.fixture
def auth_api(auth_app: FastAPI, frame: pd.DataFrame) -> Iterator[TestClient]:
    """FRAUD with a model in production (v1) and staging (v2); victor is a viewer, carol a
    contributor."""
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        alice = accounts.create_user(
            session, state.clock, "alice", password=PASSWORD, is_admin=True
        )
        accounts.create_user(session, state.clock, "victor", password=PASSWORD)
        accounts.create_user(session, state.clock, "carol", password=PASSWORD)
        _token, secret = accounts.create_token(session, state.clock, alice.id, "sdk")
    with state.context(Actor(alice.id, alice.username, is_admin=True), write=True) as ctx:
        project = projects.create_project(ctx, ProjectCreate(key="FRAUD", name="Card fraud"))
        accounts.set_member(ctx, project.id, "victor", Role.VIEWER)
        accounts.set_member(ctx, project.id, "carol", Role.CONTRIBUTOR)
    with TestClient(auth_app, raise_server_exceptions=False) as http:
        http.headers["authorization"] = f"Bearer {secret}"
        sdk = Client(http=http)  # not closed: it shares the TestClient
        version = sdk.register_dataset("FRAUD", "tx", frame.head(50)).version
        with sdk.start_run("FRAUD") as run:
            run.use_dataset(version, "train")
        sdk.create_model("FRAUD", "fraud")
        sdk.create_model_version("fraud", run_id=run.id)
        sdk.move_model_version("fraud", 1, "staging")
        sdk.move_model_version("fraud", 1, "production")
        sdk.create_model_version("fraud", run_id=run.id)
        sdk.move_model_version("fraud", 2, "staging")
        del http.headers["authorization"]
        http.cookies.clear()
        yield http


def login(http: TestClient, username: str) -> None:
    response = http.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def test_roles_on_delivery_pages(auth_api: TestClient) -> None:
    login(auth_api, "victor")
    datasets = auth_api.get("/projects/FRAUD/datasets").text
    assert 'id="upload-dataset"' not in datasets and "needs the contributor role" in datasets
    models = auth_api.get("/projects/FRAUD/models").text
    assert 'id="new-model"' not in models
    model = auth_api.get("/models/fraud").text
    assert "Promote to production" not in model and 'id="rollback"' not in model
    assert 'id="new-version"' not in model
    assert "Resolve" not in auth_api.get("/projects/FRAUD/delivery").text
    version_id = re.search(r"/datasets/versions/(dsv_\w+)", datasets).group(1)  # type: ignore[union-attr]
    assert 'id="leakage-form"' not in auth_api.get(f"/datasets/versions/{version_id}").text
    forbidden = [
        ("/projects/FRAUD/models", {"name": ""}),  # the role is checked before the form
        ("/models/fraud/versions", {"run_id": ""}),
        ("/models/fraud/versions/2/stage", {"stage": "production"}),
        ("/models/fraud/aliases", {"alias": "x", "version": "1"}),
        ("/models/fraud/rollback", {"reason": "r"}),
        ("/projects/FRAUD/incidents", {"title": "t"}),
        (f"/datasets/versions/{version_id}/leakage", {"other": ""}),
    ]
    for path, form in forbidden:
        response = auth_api.post(path, data=form)
        assert response.status_code == 403, path
        assert "Not allowed" in response.text and "victor is viewer" in response.text
    upload = auth_api.post(
        "/projects/FRAUD/datasets", data={"name": ""}, files={"file": ("a.csv", b"a\n1\n")}
    )
    assert upload.status_code == 403

    login(auth_api, "carol")
    model = auth_api.get("/models/fraud").text
    assert 'id="new-version"' in model and "Move to staging" not in model  # v2 is staging
    assert "Promote to production" not in model and "need the maintainer role" in model
    refused = auth_api.post("/models/fraud/versions/2/stage", data={"stage": "production"})
    assert refused.status_code == 403 and "carol is contributor" in refused.text
    archived = auth_api.post(
        "/models/fraud/versions/2/stage", data={"stage": "archived"}, follow_redirects=False
    )
    assert archived.status_code == 303
    assert auth_api.post("/models/fraud/rollback", data={"reason": "r"}).status_code == 403
