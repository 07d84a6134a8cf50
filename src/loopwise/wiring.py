"""Connects slices that must react to each other, without import cycles between them."""

from __future__ import annotations

from loopwise.core.events import EventBus
from loopwise.planning import hypotheses
from loopwise.tracking.models import RunEvidenceChanged


def default_bus() -> EventBus:
    bus = EventBus()
    bus.subscribe(RunEvidenceChanged, hypotheses.on_run_evidence_changed)
    return bus
