"""Shared page plumbing: template filters and the list of slice page routers."""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter
from fastapi.templating import Jinja2Templates


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.4g}"


def configure(templates: Jinja2Templates) -> None:
    templates.env.filters["when"] = _when
    templates.env.filters["num"] = _num


def routers() -> list[APIRouter]:
    from loopwise.accounts import pages as accounts_pages
    from loopwise.planning import pages as planning_pages
    from loopwise.tracking import pages as tracking_pages

    return [accounts_pages.router, planning_pages.router, tracking_pages.router]
