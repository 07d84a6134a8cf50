"""Gates at the service level: default gates, enforcement of promotions and phase
changes, sign-offs, waivers, separation of duties, the ethics blocker, evidence."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.clock import FrozenClock
from loopwise.core.context import Actor, Context
from loopwise.core.errors import Conflict, InvalidInput, PermissionDenied
from loopwise.data import service as data
from loopwise.governance import audits, service
from loopwise.governance.criteria import MISSING
from loopwise.governance.evidence import Record
from loopwise.governance.models import Gate, GateStatus
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.planning.items import service as items
from loopwise.projects import service as projects
from loopwise.projects.models import Phase
from loopwise.projects.schemas import CharterIn, ProjectCreate, SuccessMetricIn
from loopwise.registry import service as registry
from loopwise.registry.models import Stage

KEY = "GOV"
Opener = Callable[..., AbstractContextManager[Context]]  # the write fixtures (conftest)
CHARTER = CharterIn(success_metric=SuccessMetricIn(key="recall", threshold=0.5))


def scored(tmp_path: Path, n: int = 400, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "label": rng.integers(0, 2, n),
            "pred": rng.integers(0, 2, n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    path = tmp_path / f"scored-{seed}.parquet"
    frame.to_parquet(path, index=False)
    return path


def setup_project(write: Opener, tmp_path: Path, user: Actor | None = None) -> tuple[str, str]:
    """A project with a model version (no run) and a scored dataset version."""
    with write(user) as ctx:
        projects.create_project(ctx, ProjectCreate(key=KEY, name="Gov", charter=CHARTER))
        registry.create_model(ctx, KEY, "churn")
        registry.create_version(ctx, "churn", source="s3://m/1")
        dv = data.register_path(ctx, KEY, "scored", scored(tmp_path)).version.id
    return "churn", dv


def by_template(gates: list[Gate]) -> dict[str, Gate]:
    return {g.template: g for g in gates}


def sign_off(write: Opener, gate: Gate, user: Actor | None = None) -> Gate:
    with write(user) as ctx:
        for item in gate.definition.checklist:
            gate = service.attest(ctx, gate.id, item.key)
        return service.approve(ctx, gate.id, "looks right")


def test_a_new_project_gets_the_default_gates_and_versions_get_theirs(
    write: Opener, tmp_path: Path
) -> None:
    setup_project(write, tmp_path)
    with write() as ctx:
        gates = service.list_gates(ctx, KEY)
    phase = [g for g in gates if g.model is None]
    assert [(g.template, g.phase) for g in phase] == [
        ("intake", "business_understanding"),
        ("data_readiness", "data_preparation"),
    ]
    version = by_template([g for g in gates if g.model == "churn"])
    assert sorted(version) == [
        "bias_audit",
        "ethics_checkpoint",
        "post_market_monitoring",
        "privacy_review",
        "production_readiness",
        "security_review",
    ]
    assert all(g.template_version == 1 and g.definition.clauses for g in gates)
    assert "EU AI Act Art. 72" in version["post_market_monitoring"].definition.clauses
    assert {g.review.status for g in gates} == {GateStatus.PENDING, GateStatus.FAILED}


def test_canary_is_refused_until_its_gates_pass(write: Opener, tmp_path: Path) -> None:
    model, dv = setup_project(write, tmp_path)
    with write() as ctx, pytest.raises(Conflict) as refused:
        registry.transition(ctx, model, 1, Stage.CANARY, traffic_share=0.1)
    message = str(refused.value)
    assert "v1 cannot go to canary yet: gates passed: Bias audit pending" in message
    assert "no recorded fairness.demographic_parity_ratio" in message
    assert "Security review" not in message  # guards production, not canary
    with write() as ctx:
        record = audits.run_audit(
            ctx, model, 1, dv, "label", "pred", ["sex"], justification="selection matters"
        )
        gates = by_template(service.version_gates(ctx, model, 1))
    assert record.dataset_hash.startswith("sha256:") and record.rows == 400
    with write() as ctx:
        (entry,) = [
            e for e in audit.entries(ctx.session) if e.object == f"fairness_audit:{record.id}"
        ]
    assert entry.action == "fairness.audit" and entry.outcome == "ok"
    for name in ("bias_audit", "privacy_review", "ethics_checkpoint"):
        gate = sign_off(write, gates[name])
    assert gate.review.status is GateStatus.PASSED, gate.review.missing
    with write() as ctx:
        bias = service.get_gate(ctx, gates["bias_audit"].id)
        assert bias.review.status is GateStatus.PASSED, bias.review.missing
        moved = registry.transition(ctx, model, 1, Stage.CANARY, traffic_share=0.1)
        report = registry.promotion_report(ctx, model, 1, Stage.PRODUCTION)
    assert moved.stage is Stage.CANARY
    failing = {r.name: r.detail for r in report if not r.passed}
    assert failing["source run finished"] == "no source run recorded"
    assert "Security review pending" in failing["gates passed"]


def test_a_waiver_passes_a_requirement_until_it_expires(
    write: Opener, tmp_path: Path, clock: FrozenClock
) -> None:
    model, _ = setup_project(write, tmp_path)
    with write() as ctx:
        gate = by_template(service.version_gates(ctx, model, 1))["post_market_monitoring"]
        with pytest.raises(InvalidInput, match="no requirement 'criterion:9'"):
            service.waive(ctx, gate.id, "criterion:9", "x", clock.now() + timedelta(days=1))
        gate = service.waive(
            ctx, gate.id, "criterion:1", "monitor lands next week", clock.now() + timedelta(days=7)
        )
    gate = sign_off(write, gate)
    assert gate.review.status is GateStatus.PASSED
    with write() as ctx:  # the waiver and the sign-offs are in the audit chain
        trail = [e for e in audit.entries(ctx.session) if e.object == f"gate:{gate.id}"]
        assert {"gate.waive", "gate.attest", "gate.approve"} <= {e.action for e in trail}
        assert "monitor lands next week" not in repr(trail)  # only the payload's digest
        assert audit.verify(ctx.session).ok
    clock.advance(timedelta(days=8))
    with write() as ctx:
        gate = service.get_gate(ctx, gate.id)
    assert gate.review.status is GateStatus.FAILED  # monitoring.monitors = 0 < 1 again
    clock.advance(timedelta(days=400))  # and the sign-offs are older than a year
    with write() as ctx:
        assert "needs an attestation" in " ".join(service.get_gate(ctx, gate.id).review.missing)


def test_phase_change_needs_the_exit_gate_or_an_admin_override(
    write: Opener, tmp_path: Path
) -> None:
    setup_project(write, tmp_path)
    with write() as ctx, pytest.raises(Conflict) as refused:
        projects.change_phase(ctx, KEY, Phase.DATA_UNDERSTANDING)
    assert "GOV cannot move from Business understanding to Data understanding yet" in str(
        refused.value
    )
    assert "Intake and risk classification (exit of Business understanding)" in str(refused.value)
    with write() as ctx, pytest.raises(InvalidInput, match="needs a reason"):
        projects.change_phase(ctx, KEY, Phase.DATA_UNDERSTANDING, override=True)
    with write() as ctx:
        intake = by_template(service.list_gates(ctx, KEY))["intake"]
    sign_off(write, intake)
    with write() as ctx:
        projects.change_phase(ctx, KEY, Phase.DATA_PREPARATION, reason="charter signed")
        with pytest.raises(Conflict, match="Data readiness"):
            projects.change_phase(ctx, KEY, Phase.MODELING)
    with write() as ctx:
        projects.change_phase(
            ctx, KEY, Phase.MODELING, reason="quality work runs in parallel", override=True
        )
        projects.change_phase(ctx, KEY, Phase.DATA_PREPARATION)  # back: no exit gate
        history = projects.phase_history(ctx, KEY)
    assert [(h.from_phase, h.to_phase, h.override, h.reason) for h in history] == [
        (Phase.BUSINESS_UNDERSTANDING, Phase.DATA_PREPARATION, False, "charter signed"),
        (Phase.DATA_PREPARATION, Phase.MODELING, True, "quality work runs in parallel"),
        (Phase.MODELING, Phase.DATA_PREPARATION, False, ""),
    ]
    assert history[1].actor == "local" and "Data readiness" in history[1].unmet[0]


def test_a_rejected_ethics_checkpoint_opens_one_critical_blocker(
    write: Opener, tmp_path: Path
) -> None:
    model, dv = setup_project(write, tmp_path)
    with write() as ctx:
        ethics = by_template(service.version_gates(ctx, model, 1))["ethics_checkpoint"]
        with pytest.raises(InvalidInput, match="needs a reason"):
            service.reject(ctx, ethics.id, "")
        ethics = service.reject(ctx, ethics.id, "appeal path missing")
        again = service.reject(ctx, ethics.id, "still missing")
        board = items.list_items(ctx, KEY)
    assert ethics.review.status is GateStatus.FAILED
    assert again.blocker_item == ethics.blocker_item == board[0].key
    assert len(board) == 1 and set(board[0].labels) == {"blocker", "critical", "governance"}
    assert board[0].title == "Ethics checkpoint failed: churn v1"
    # naming another dataset version re-opens the review: old sign-offs stop counting
    with write() as ctx:
        moved = service.set_dataset_version(ctx, ethics.id, dv)
    assert moved.review.status is GateStatus.PENDING


def test_separation_of_duties_and_roles_in_auth_mode(
    auth_write: Opener, users: dict[str, Actor], tmp_path: Path
) -> None:
    root, ana, max_, ada = users["root"], users["ana"], users["max"], users["ada"]
    with auth_write(root) as ctx:
        project = projects.create_project(ctx, ProjectCreate(key=KEY, name="Gov"))
        for who, role in ((ana, Role.MAINTAINER), (max_, Role.MAINTAINER), (ada, Role.ADMIN)):
            accounts.set_member(ctx, project.id, who.username, role)
        registry.create_model(ctx, KEY, "churn")
    with auth_write(ana) as ctx:
        registry.create_version(ctx, "churn", source="s3://m/1")
        security = by_template(service.version_gates(ctx, "churn", 1))["security_review"]
        with pytest.raises(PermissionDenied, match="separation of duties"):
            service.approve(ctx, security.id)
    with auth_write(max_) as ctx:
        assert service.approve(ctx, security.id).review.missing == (
            "checklist Threat model reviewed: needs an attestation by a maintainer",
            "checklist Access to the model and its data limited: needs an attestation by a "
            "maintainer",
        )
        ethics = by_template(service.version_gates(ctx, "churn", 1))["ethics_checkpoint"]
        with pytest.raises(PermissionDenied, match="approved by a admin"):
            service.approve(ctx, ethics.id)
        with pytest.raises(PermissionDenied):
            service.waive(ctx, ethics.id, "approval:1", "x", ctx.clock.now() + timedelta(days=1))
        with pytest.raises(PermissionDenied):
            projects.change_phase(ctx, KEY, Phase.MODELING, reason="r", override=True)
    with auth_write(ada) as ctx:
        assert "approved by ada" in service.approve(ctx, ethics.id).review.requirements[-1].detail


def test_evidence_paths_read_the_record(write: Opener, tmp_path: Path) -> None:
    setup_project(write, tmp_path)
    with write() as ctx:
        project = projects.resolve_project(ctx, KEY)
        version = registry.get_version(ctx, "churn", 1)
        hypotheses.create_hypothesis(
            ctx,
            KEY,
            HypothesisCreate(title="t", statement="s", metric_key="recall", threshold=0.5),
        )
        record = Record(ctx, project, version.id, None)
        found = {
            p: record.lookup(p)
            for p in (
                "charter.threshold",
                "charter.metric",
                "charter.success_metric_met",
                "data.rows",
                "data.personal",
                "hypothesis.GOV-1",
                "monitoring.monitors",
                "eval.recall",
                "nothing.here",
            )
        }
    assert found == {
        "charter.threshold": 0.5,
        "charter.metric": "recall",
        "charter.success_metric_met": found["charter.success_metric_met"],
        "data.rows": 400,
        "data.personal": False,
        "hypothesis.GOV-1": "open",
        "monitoring.monitors": 0,
        "eval.recall": found["eval.recall"],
        "nothing.here": found["nothing.here"],
    }
    assert found["eval.recall"] is MISSING and found["charter.success_metric_met"] is MISSING
    assert found["nothing.here"] is MISSING
