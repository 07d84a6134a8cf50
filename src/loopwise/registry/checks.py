"""Promotion checks that ship with the registry (declared in registry.SLICE); other slices
declare theirs the same way."""

from __future__ import annotations

from loopwise.core.context import Context
from loopwise.core.errors import NotFound
from loopwise.registry.models import CheckResult, ModelVersion
from loopwise.tracking import service as tracking
from loopwise.tracking.models import RunStatus


def source_run_finished(ctx: Context, version: ModelVersion) -> CheckResult:
    """A version built from a run may only reach production once that run finished."""
    name = "source run finished"
    if version.run_id is None:
        return CheckResult(name, True, "no source run recorded")
    try:
        run = tracking.get_run(ctx, version.run_id)
    except NotFound:
        return CheckResult(name, False, f"source run {version.run_id} no longer exists")
    ok = run.status is RunStatus.FINISHED
    return CheckResult(name, ok, f"run {run.name} is {run.status.value}")
