"""REST endpoints for hypotheses and their evidence."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.models import Hypothesis
from loopwise.planning.hypotheses.schemas import HypothesisCreate, RunLink
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["hypotheses"])


@router.get("/projects/{key}/hypotheses")
def list_hypotheses(key: str, caller: CallerDep) -> list[Hypothesis]:
    with caller.read() as ctx:
        return hypotheses.list_hypotheses(ctx, key)


@router.post("/projects/{key}/hypotheses", status_code=201)
def create_hypothesis(key: str, body: HypothesisCreate, caller: CallerDep) -> Hypothesis:
    with caller.write() as ctx:
        return hypotheses.create_hypothesis(ctx, key, body)


@router.get("/hypotheses/{item_key}")
def get_hypothesis(item_key: str, caller: CallerDep) -> Hypothesis:
    with caller.read() as ctx:
        return hypotheses.get_hypothesis(ctx, item_key)


@router.post("/hypotheses/{item_key}/runs")
def link_run(item_key: str, body: RunLink, caller: CallerDep) -> Hypothesis:
    with caller.write() as ctx:
        return hypotheses.link_runs(ctx, item_key, [body.run_id])


@router.delete("/hypotheses/{item_key}/runs/{run_id}")
def unlink_run(item_key: str, run_id: str, caller: CallerDep) -> Hypothesis:
    with caller.write() as ctx:
        return hypotheses.unlink_run(ctx, item_key, run_id)
