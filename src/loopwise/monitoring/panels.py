"""Monitoring's sections of other slices' pages (declared in monitoring.SLICE): on a
hypothesis page, the model versions its runs led to and the retraining their monitors
filed."""

from __future__ import annotations

from typing import Any

from loopwise.core.context import Context
from loopwise.monitoring import service
from loopwise.web.pages import Panel


def hypothesis_panel(ctx: Context, hypothesis: Any) -> Panel | None:
    """``hypothesis`` is planning's Hypothesis; None when no version came of its runs."""
    run_ids = [e.run_id for e in hypothesis.evidence]
    versions, alerts = service.retraining_of_runs(ctx, hypothesis.item.project_key, run_ids)
    if not versions:
        return None
    items = sorted({a.item_key for a in alerts if a.item_key})
    return Panel(
        "monitoring/hypothesis_panel.html",
        {"versions": versions, "alerts": alerts, "items": items},
    )
