"""REST endpoints for the risk register."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning.items.schemas import ItemKeys
from loopwise.planning.risks import service as risks
from loopwise.planning.risks.models import Risk
from loopwise.planning.risks.schemas import RiskCreate, RiskUpdate
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["risks"])


@router.get("/projects/{key}/risks")
def list_risks(key: str, caller: CallerDep, include_closed: bool = True) -> list[Risk]:
    with caller.read() as ctx:
        return risks.list_risks(ctx, key, include_closed=include_closed)


@router.get("/projects/{key}/risks/heat-map")
def heat_map(key: str, caller: CallerDep) -> risks.HeatMap:
    with caller.read() as ctx:
        return risks.heat_map(risks.list_risks(ctx, key, include_closed=False))


@router.post("/projects/{key}/risks", status_code=201)
def create_risk(key: str, body: RiskCreate, caller: CallerDep) -> Risk:
    with caller.write() as ctx:
        return risks.create_risk(ctx, key, body)


@router.get("/risks/{risk_key}")
def get_risk(risk_key: str, caller: CallerDep) -> Risk:
    with caller.read() as ctx:
        return risks.get_risk(ctx, risk_key)


@router.patch("/risks/{risk_key}")
def update_risk(risk_key: str, body: RiskUpdate, caller: CallerDep) -> Risk:
    with caller.write() as ctx:
        return risks.update_risk(ctx, risk_key, body)


@router.post("/risks/{risk_key}/items")
def link_risk_items(risk_key: str, body: ItemKeys, caller: CallerDep) -> Risk:
    with caller.write() as ctx:
        return risks.link_items(ctx, risk_key, body.items)
