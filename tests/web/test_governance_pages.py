"""Governance pages without a browser: the gates of a project, one gate, the model page's
gates panel, a version's fairness audits and the audit log render; each form's refusal
shows the page again with the message (400, 403 for separation of duties and roles)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import chain, export
from loopwise.core.clock import FrozenClock
from loopwise.core.context import Actor
from loopwise.core.settings import Settings
from loopwise.data import service as data
from loopwise.governance import service, trail_pages
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry

PASSWORD = "correct horse battery"
TEST_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")


def alerts(html: str) -> list[str]:
    block = re.search(r'<div class="errors" role="alert">(.*?)</div>', html, re.S)
    found = re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []
    return [m.replace("&#39;", "'").replace("&amp;", "&") for m in found]


def scored(tmp_path: Path, n: int = 300) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "label": rng.integers(0, 2, n),
            "pred": rng.integers(0, 2, n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    path = tmp_path / "scored.parquet"
    frame.to_parquet(path, index=False)
    return path, frame


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Local mode with the default gates on (the shared fixtures turn them off)."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        verdict_refresh_seconds=0,
        allowed_hosts=TEST_HOSTS,
    )


@pytest.fixture
def gov(app: FastAPI, tmp_path: Path) -> Iterator[tuple[TestClient, str, pd.DataFrame]]:
    """GOV with churn v1 (its default gates) and a scored dataset version."""
    state = app.state.loopwise
    path, frame = scored(tmp_path)
    with state.context(state.ensure_local_actor(), write=True) as ctx:
        projects.create_project(ctx, ProjectCreate(key="GOV", name="Governed"))
        registry.create_model(ctx, "GOV", "churn")
        registry.create_version(ctx, "churn", source="s3://m/1")
        dv = data.register_path(ctx, "GOV", "scored", path).version.id
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http, dv, frame


def gate_id(app: FastAPI, template: str) -> str:
    state = app.state.loopwise
    with state.context(state.ensure_local_actor(), write=False) as ctx:
        return next(g.id for g in service.list_gates(ctx, "GOV") if g.template == template)


def test_pages_render(gov: tuple[TestClient, str, pd.DataFrame], app: FastAPI) -> None:
    http, _, _ = gov
    page = http.get("/projects/GOV/gates")
    assert page.status_code == 200
    assert 'href="/projects/GOV/gates" class="current"' in page.text  # the project tab
    assert "Intake and risk classification" in page.text and "churn v1" in page.text
    assert "no recorded fairness.demographic_parity_ratio" in page.text
    assert "EU AI Act Art. 72" in page.text
    bias = http.get(f"/gates/{gate_id(app, 'bias_audit')}")
    assert bias.status_code == 200
    assert 'data-gate-status="blocked"' in bias.text
    assert "the newest fairness audit of this version" in bias.text  # the criterion's source
    assert 'action="/gates/' in bias.text and "Attest" in bias.text
    model = http.get("/models/churn").text
    assert 'id="version-gates"' in model and "Bias audit" in model
    audits = http.get("/models/churn/versions/1/audits")
    assert audits.status_code == 200 and "Run a fairness audit" in audits.text
    trail = http.get("/audit")  # the local user is a workspace admin
    assert trail.status_code == 200 and 'data-chain="ok"' in trail.text
    assert "project.create" in trail.text or "project" in trail.text


def test_attest_refused_shows_the_gate_again(
    gov: tuple[TestClient, str, pd.DataFrame], app: FastAPI
) -> None:
    http, _, _ = gov
    gid = gate_id(app, "bias_audit")
    response = http.post(f"/gates/{gid}/attest", data={"item": "nope"})
    assert response.status_code == 400
    assert alerts(response.text) == [
        f"gate {gid} has no checklist item 'nope'; items: measure_choice"
    ]
    response = http.post(f"/gates/{gid}/attest", data={"item": ""})
    assert response.status_code == 400 and alerts(response.text) == ["Checklist item: required"]


def test_reject_needs_a_reason(gov: tuple[TestClient, str, pd.DataFrame], app: FastAPI) -> None:
    http, _, _ = gov
    gid = gate_id(app, "ethics_checkpoint")
    response = http.post(f"/gates/{gid}/reject", data={"note": " "})
    assert response.status_code == 400
    assert alerts(response.text) == ["a rejection needs a reason (--note)"]
    approved = http.post(f"/gates/{gid}/approve", data={"note": "ok"}, follow_redirects=False)
    assert approved.status_code == 303 and approved.headers["location"] == f"/gates/{gid}#approvals"


def test_waiver_in_the_past_is_refused(
    gov: tuple[TestClient, str, pd.DataFrame], app: FastAPI, clock: FrozenClock
) -> None:
    http, _, _ = gov
    gid = gate_id(app, "post_market_monitoring")
    yesterday = (clock.now() - timedelta(days=1)).date().isoformat()
    form = {"target": "criterion:1", "reason": "monitor next week", "expires_at": yesterday}
    response = http.post(f"/gates/{gid}/waivers", data=form)
    assert response.status_code == 400
    assert alerts(response.text) == ["a waiver's expiry must be in the future"]
    response = http.post(f"/gates/{gid}/waivers", data={**form, "expires_at": ""})
    assert response.status_code == 400 and alerts(response.text) == ["Expires: required"]
    week = (clock.now() + timedelta(days=7)).date().isoformat()
    ok = http.post(f"/gates/{gid}/waivers", data={**form, "expires_at": week})
    assert ok.status_code == 200 and "monitor next week" in ok.text  # followed the 303


def test_audit_form_runs_and_refuses(gov: tuple[TestClient, str, pd.DataFrame]) -> None:
    http, dv, frame = gov
    form = {
        "dataset_version_id": dv,
        "label_col": "label",
        "prediction_col": "nope",
        "sensitive_cols": "sex",
        "bootstrap": "200",
        "min_group_size": "30",
    }
    refused = http.post("/models/churn/versions/1/audits", data=form)
    assert refused.status_code == 400 and "nope" in alerts(refused.text)[0]
    bad = http.post("/models/churn/versions/1/audits", data={**form, "bootstrap": "x"})
    assert bad.status_code == 400
    assert alerts(bad.text) == ["Bootstrap replicates: must be a whole number"]
    page = http.post("/models/churn/versions/1/audits", data={**form, "prediction_col": "pred"})
    assert page.status_code == 200
    # The per-group selection rates shown are Fairlearn's.
    rates = MetricFrame(
        metrics=selection_rate,
        y_true=frame["label"],
        y_pred=frame["pred"],
        sensitive_features=frame["sex"],
    ).by_group
    for group, rate in rates.items():
        row = re.search(rf'<tr data-group="sex={group}">(.*?)</tr>', page.text, re.S)
        assert row is not None
        cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
        assert float(cells[1]) == pytest.approx(rate, abs=5e-5)
    assert "200 bootstrap replicates" in page.text and "sha256:" in page.text


def test_audit_log_filters_pages_and_exports(
    gov: tuple[TestClient, str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, _, _ = gov
    monkeypatch.setattr(trail_pages, "PAGE", 2)
    first = http.get("/audit")
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', first.text)]
    assert len(seqs) == 2 and seqs[0] > seqs[1]  # newest first
    older = re.search(r'id="older" href="([^"]+)"', first.text)
    assert older is not None
    second = http.get(older.group(1).replace("&amp;", "&"))
    assert [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', second.text)] == [
        seqs[1] - 1,
        seqs[1] - 2,
    ]
    unknown = http.get("/audit", params={"actor": "nobody"})
    assert unknown.status_code == 400 and alerts(unknown.text) == ["Actor: no user 'nobody'"]
    local = http.get("/audit", params={"actor": "local"})
    assert local.status_code == 200 and 'data-seq="' in local.text
    download = http.get("/audit/export")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    found = chain.verify(export.read_lines(download.text.splitlines()))
    assert found.ok and found.checked >= 1


def test_audit_log_is_for_workspace_admins(auth_app: FastAPI) -> None:
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        root = accounts.create_user(session, state.clock, "root", password=PASSWORD, is_admin=True)
        accounts.create_user(session, state.clock, "ana", password=PASSWORD)
    with state.context(Actor(root.id, root.username, is_admin=True), write=True) as ctx:
        project = projects.create_project(ctx, ProjectCreate(key="GOV", name="Governed"))
        accounts.set_member(ctx, project.id, "ana", Role.MAINTAINER)
    with TestClient(auth_app, raise_server_exceptions=False) as http:
        http.post("/login", data={"username": "ana", "password": PASSWORD})
        refused = http.get("/audit")
        assert refused.status_code == 403
        assert "Only a workspace admin may read the audit trail" in refused.text
        assert 'href="/audit"' not in http.get("/projects/GOV").text  # not in the nav
        adopt = http.post("/projects/GOV/gates/adopt")  # project admins only
        assert adopt.status_code == 403 and "ana is maintainer" in adopt.text
