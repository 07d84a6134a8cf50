"""Server-rendered pages for tracking: the runs table and the run page with its charts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from loopwise.data import service as data
from loopwise.planning import service as planning
from loopwise.tracking import artifacts, service
from loopwise.tracking.models import RunStatus
from loopwise.web.charts import metric_chart
from loopwise.web.pages import PageCaller, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
MAX_METRIC_COLUMNS = 12
MAX_PARAMS_SHOWN = 6
MAX_CHARTS = 24


@router.get("/projects/{key}/runs")
def runs_page(
    key: str,
    request: Request,
    caller: PageCaller,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: RunStatus | None = None,
) -> Response:
    with caller.read() as ctx:
        project = planning.resolve_project(ctx, key)
        # One extra row tells whether a next page exists, without a count query.
        runs = service.list_runs(
            ctx, project.key, status=status, limit=PAGE_SIZE + 1, offset=offset
        )
        total = service.run_counts(ctx, [project.id])[project.id]
    has_next = len(runs) > PAGE_SIZE
    runs = runs[:PAGE_SIZE]
    metric_keys = sorted({k for r in runs for k in r.metrics})
    return render(
        request,
        "tracking/runs.html",
        {
            "nav": "projects",
            "project": project,
            "runs": runs,
            "total": total,
            "metric_keys": metric_keys[:MAX_METRIC_COLUMNS],
            "hidden_metrics": len(metric_keys) - MAX_METRIC_COLUMNS,
            "max_params": MAX_PARAMS_SHOWN,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "has_next": has_next,
            "status": status,
            "statuses": list(RunStatus),
            "now": caller.state.clock.now(),
        },
    )


@router.get("/runs/{run_id}")
def run_page(
    run_id: str,
    request: Request,
    caller: PageCaller,
    path: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    with caller.read() as ctx:
        run = service.get_run(ctx, run_id)
        project = planning.resolve_project(ctx, run.project_key)
        files = artifacts.list_artifacts(ctx, run.id, path)
        keys = list(run.metrics)[:MAX_CHARTS]
        charts = [metric_chart(k, service.metric_history(ctx, run.id, k)) for k in keys]
        datasets = data.datasets_of_runs(ctx, [run.id])  # get_run checked the access
        checks = {u.version_id: data.leakage_checks(ctx, u.version_id) for u in datasets}
        flags = {  # None: no leakage check has looked at this version
            v: sorted({f for c in found for f in c.report.flags}) if found else None
            for v, found in checks.items()
        }
    parent = path.rstrip("/").rpartition("/")[0] if path.strip("/") else None
    return render(
        request,
        "tracking/run.html",
        {
            "nav": "projects",
            "run": run,
            "project": project,
            "files": files,
            "path": path.strip("/"),
            "parent": parent,
            "charts": charts,
            "datasets": datasets,
            "leakage_flags": flags,
            "hidden_charts": len(run.metrics) - len(keys),
            "now": caller.state.clock.now(),
        },
    )
