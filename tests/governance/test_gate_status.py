"""The label a gate shows (governance.status): passed, waived, blocked, needs re-review,
expired, from the gate's record and the time."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from loopwise.core.clock import FrozenClock
from loopwise.core.context import Context
from loopwise.data import service as data
from loopwise.governance import service
from loopwise.governance.models import Gate
from loopwise.governance.status import GateLabel, sources, summarize
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry

Opener = Callable[..., AbstractContextManager[Context]]


def version_gate(write: Opener, tmp_path: Path, template: str) -> tuple[Gate, str]:
    frame = pd.DataFrame({"x": np.arange(40)})
    path = tmp_path / "rows.parquet"
    frame.to_parquet(path, index=False)
    with write() as ctx:
        projects.create_project(ctx, ProjectCreate(key="ST", name="Status"))
        registry.create_model(ctx, "ST", "m")
        registry.create_version(ctx, "m", source="s3://m/1")
        dv = data.register_path(ctx, "ST", "rows", path).version.id
        gate = next(g for g in service.version_gates(ctx, "m", 1) if g.template == template)
    return gate, dv


def sign(write: Opener, gate: Gate) -> Gate:
    with write() as ctx:
        for item in gate.definition.checklist:
            gate = service.attest(ctx, gate.id, item.key)
        return service.approve(ctx, gate.id)


def test_blocked_passed_then_re_review_on_a_new_subject_or_with_time(
    write: Opener, tmp_path: Path, clock: FrozenClock
) -> None:
    gate, dv = version_gate(write, tmp_path, "security_review")
    assert summarize(gate, clock.now()).label is GateLabel.BLOCKED
    gate = sign(write, gate)
    assert summarize(gate, clock.now()).label is GateLabel.PASSED
    with write() as ctx:
        moved = service.set_dataset_version(ctx, gate.id, dv)
    found = summarize(moved, clock.now())
    assert found.label is GateLabel.RE_REVIEW
    assert len(found.rereview) == 3  # two attestations and the approval
    assert any(line.startswith("local's approval as admin") for line in found.rereview)
    assert all(line.endswith("was given for another dataset version") for line in found.rereview)
    again = sign(write, moved)  # signed off again for the new subject
    assert summarize(again, clock.now()).label is GateLabel.PASSED
    clock.advance(timedelta(days=181))  # security_review sign-offs count 180 days
    later = summarize(service_gate(write, gate.id), clock.now())
    assert later.label is GateLabel.RE_REVIEW
    assert len(later.rereview) == 6  # both rounds: the first for another dataset version
    assert sum(line.endswith("is older than 180 days") for line in later.rereview) == 3


def service_gate(write: Opener, gate_id: str) -> Gate:
    with write() as ctx:
        return service.get_gate(ctx, gate_id)


def test_waived_until_the_waiver_expires(write: Opener, tmp_path: Path, clock: FrozenClock) -> None:
    gate, _ = version_gate(write, tmp_path, "post_market_monitoring")
    with write() as ctx:
        gate = service.waive(
            ctx, gate.id, "criterion:1", "monitor next week", clock.now() + timedelta(days=7)
        )
    gate = sign(write, gate)
    assert summarize(gate, clock.now()).label is GateLabel.WAIVED
    clock.advance(timedelta(days=8))
    found = summarize(service_gate(write, gate.id), clock.now())
    assert found.label is GateLabel.EXPIRED
    assert [w.reason for w in found.expired] == ["monitor next week"]


def test_sources_name_where_each_path_is_read() -> None:
    assert sources("fairness.demographic_parity_ratio >= 0.8 and data.rows > 10") == (
        "the newest fairness audit of this version",
        "the gate's dataset version, else the project's newest",
    )
    assert sources("exists charter.metric") == ("the project charter",)
