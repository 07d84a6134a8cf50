"""Connects slices that must react to each other, without import cycles between them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loopwise.core.events import EventBus
from loopwise.planning import hypotheses
from loopwise.registry.checks import BUILTIN_CHECKS
from loopwise.tracking.models import RunEvidenceChanged, RunOffered, RunTagged


def default_bus() -> EventBus:
    bus = EventBus()
    bus.subscribe(RunEvidenceChanged, hypotheses.on_run_evidence_changed)
    bus.subscribe(RunTagged, hypotheses.on_run_tagged)
    bus.subscribe(RunOffered, hypotheses.on_run_offered)
    return bus


def default_promotion_checks() -> tuple[Callable[..., Any], ...]:
    """Checks a model version must pass before production."""
    return BUILTIN_CHECKS
