"""REST endpoints for RACI."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning.raci import service as raci
from loopwise.planning.raci.models import RaciEntry
from loopwise.planning.raci.schemas import RaciSet
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["raci"])


@router.get("/projects/{key}/raci")
def list_raci(key: str, caller: CallerDep) -> list[RaciEntry]:
    with caller.read() as ctx:
        return raci.list_raci(ctx, key)


@router.put("/projects/{key}/raci")
def set_raci(key: str, body: RaciSet, caller: CallerDep) -> list[RaciEntry]:
    with caller.write() as ctx:
        return raci.set_raci(ctx, key, body.deliverable, body.people)
