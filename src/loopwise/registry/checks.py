"""Promotion checks that ship with the registry (declared in registry.SLICE); other slices
declare theirs the same way: ``check(ctx, version, stage) -> CheckResult | None``, None
when the check does not apply to that target stage."""

from __future__ import annotations

from loopwise.core.context import Context
from loopwise.core.errors import NotFound
from loopwise.registry.models import CheckResult, ModelVersion, Stage
from loopwise.tracking import service as tracking
from loopwise.tracking.models import RunStatus


def source_run_finished(ctx: Context, version: ModelVersion, stage: Stage) -> CheckResult | None:
    """A version may only reach production once the run it was built from finished; a
    version with no source run fails (nothing shows how it was made)."""
    if stage is not Stage.PRODUCTION:
        return None
    name = "source run finished"
    if version.run_id is None:
        return CheckResult(name, False, "no source run recorded")
    try:
        run = tracking.get_run(ctx, version.run_id)
    except NotFound:
        return CheckResult(name, False, f"source run {version.run_id} no longer exists")
    ok = run.status is RunStatus.FINISHED
    return CheckResult(name, ok, f"run {run.name} is {run.status.value}")
