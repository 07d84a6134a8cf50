"""Arguments, options and styles the planning commands share."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from loopwise.planning.hypotheses.models import Verdict

DATE = ["%Y-%m-%d"]
ItemArg = Annotated[str, typer.Argument(help="Work item key, e.g. CHURN-12.")]
ItemKeysArg = Annotated[list[str], typer.Argument(help="Work item keys, e.g. CHURN-3 CHURN-4.")]
# Bounds are checked by the forecast schemas (planning.flow.schemas), as for the API.
SeedOption = Annotated[int | None, typer.Option(help="Random seed, for a repeatable forecast.")]
TrialsOption = Annotated[int, typer.Option(help="Monte Carlo trials (100 to 200,000).")]
WindowOption = Annotated[
    int, typer.Option(help="Days of throughput history the forecast samples (7 to 3,650).")
]


VERDICT_STYLE = {Verdict.SUPPORTED: "green", Verdict.REFUTED: "red", Verdict.OPEN: "yellow"}


def day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
