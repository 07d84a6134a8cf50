"""The portfolio page: every project at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.planning.portfolio import service as portfolio
from loopwise.web.pages import (
    PageCaller,
    render,
)

router = APIRouter(include_in_schema=False)


@router.get("/portfolio")
def portfolio_page(request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        rows = portfolio.portfolio(ctx)
    return render(
        request,
        "planning/portfolio.html",
        {"nav": "portfolio", "rows": rows, "today": caller.state.clock.now().date()},
    )
