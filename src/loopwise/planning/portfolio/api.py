"""REST endpoint for the portfolio across projects."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning.portfolio import service as portfolio
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["portfolio"])


@router.get("/portfolio")
def get_portfolio(caller: CallerDep) -> list[portfolio.ProjectSummary]:
    with caller.read() as ctx:
        return portfolio.portfolio(ctx)
