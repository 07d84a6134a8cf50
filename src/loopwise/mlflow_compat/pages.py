"""Where the MLflow UI links the client prints land. The home page's script
(``web/static/mlflow-links.js``) turns ``/#/experiments/N/runs/ID`` and
``/#/models/NAME/versions/V`` into Loopwise pages itself; an experiment needs its project,
which only the server knows: ``/mlflow/experiments/N`` redirects to its runs."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from loopwise.core.limits import INT64_MAX
from loopwise.tracking import experiments
from loopwise.web.pages import PageCaller, redirect

router = APIRouter(include_in_schema=False)


@router.get("/mlflow/experiments/{number}")
def experiment_link(number: int, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        info = experiments.by_number(ctx, number if 0 <= number <= INT64_MAX else -1)
    return redirect(f"/projects/{info.project_key}/runs?experiment={quote(info.id, safe='')}")
