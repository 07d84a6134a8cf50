"""Routes tools expect of an MLflow server beyond the client's own calls: ``/health`` and
``/version`` (probes, load balancers, benchmark tools) and the sampled metric histories
MLflow 3's UI draws its charts from (``metrics/get-history-bulk-interval``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.mlflow_compat import openapi as doc
from loopwise.mlflow_compat import wire
from loopwise.mlflow_compat.api import API, ok
from loopwise.tracking import series
from loopwise.web.deps import CallerDep

router = APIRouter(tags=["mlflow"])

# The MLflow release whose protocol this door speaks (the client version tested with):
# what MLflow's own server answers at /version.
MLFLOW_VERSION = "3.17.2"
MAX_RUNS_PER_REQUEST = 100  # MLflow's MAX_RUNS_GET_METRIC_HISTORY_BULK
MAX_RESULTS_PER_RUN = 2500  # MLflow's MAX_RESULTS_PER_RUN


@router.get("/health", response_class=PlainTextResponse, include_in_schema=False)
async def health() -> PlainTextResponse:
    """As MLflow's server: 200 "OK" (no sign-in: probes carry no token)."""
    return PlainTextResponse("OK")


@router.get("/version", response_class=PlainTextResponse, include_in_schema=False)
async def version() -> PlainTextResponse:
    """As MLflow's server: the MLflow version as plain text."""
    return PlainTextResponse(MLFLOW_VERSION)


def _step(params: dict[str, Any], name: str) -> int | None:
    raw = params.get(name)
    return None if raw is None or raw == "" else wire.integer(raw, name)


@router.get(
    f"{API}/metrics/get-history-bulk-interval",
    openapi_extra=doc.describe(query=doc.MlflowBulkIntervalQuery, reply=doc.MlflowBulkIntervalPage),
)
async def get_history_bulk_interval(request: Request, caller: CallerDep) -> Response:
    """Each run's history of one metric, sampled to at most ``max_results`` points per run
    (first and last kept), optionally within ``[start_step, end_step]``."""
    params = wire.query(request)
    run_ids = [str(v) for v in request.query_params.getlist("run_ids")]
    if not run_ids:
        raise InvalidInput("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > MAX_RUNS_PER_REQUEST:
        raise InvalidInput(
            "GetMetricHistoryBulkInterval request must specify at most "
            f"{MAX_RUNS_PER_REQUEST} run_ids. Received {len(run_ids)} run_ids."
        )
    key = wire.text(params, "metric_key", limit=250)
    wanted = wire.integer(params.get("max_results") or MAX_RESULTS_PER_RUN, "max_results")
    if not 1 <= wanted <= MAX_RESULTS_PER_RUN:
        raise InvalidInput(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}.")
    start, end = _step(params, "start_step"), _step(params, "end_step")
    if (start is None) != (end is None):
        raise InvalidInput(
            "If either start step or end step are specified, both must be specified."
        )
    steps = None if start is None or end is None else (start, end)
    if steps is not None and steps[0] > steps[1]:
        raise InvalidInput(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )
    ids = [wire.run_id(r) for r in run_ids]

    def work(ctx: Context) -> dict[str, Any]:
        metrics: list[dict[str, Any]] = []
        for rid in ids:
            rows = series.sampled(ctx, rid, key, wanted, steps)
            mlflow_id = wire.mlflow_run_id(rid)
            metrics += [{**m, "run_id": mlflow_id} for m in wire.history(key, rows)]
        return {"metrics": metrics}

    return ok(await wire.call(caller, work, write=False))
