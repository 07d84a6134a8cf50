"""What a forecast may be asked, validated the same way by the API (query strings), the
forecast page (its forms) and the CLI (its options)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from loopwise.core.types import QueryIn, Whole

DEFAULT_WINDOW_DAYS = 90
DATA_MULTIPLIER = 1.5
DEFAULT_TRIALS = 10_000
MAX_SEED = 2**64 - 1  # NumPy takes any non-negative whole number; a limit keeps it plain

Window = Annotated[
    int, Whole(7, 3650), Field(description="Days of throughput history the forecast samples.")
]
Trials = Annotated[int, Whole(100, 200_000), Field(description="Monte Carlo trials.")]
Seed = Annotated[
    int, Whole(0, MAX_SEED), Field(description="Random seed, for a repeatable answer.")
]
Scope = Annotated[int, Whole(0, 1_000_000)]
Weeks = Annotated[int, Whole(1, 52)]


class WhenIn(QueryIn):
    """When will N items (or N..M, or these keys, or all unfinished items) be done?"""

    items: Annotated[Scope | None, Field(description="Scope size.")] = None
    items_high: Annotated[Scope | None, Field(description="Upper end of a scope range.")] = None
    keys: Annotated[str | None, Field(description="Comma-separated item keys.")] = None
    window_days: Window = DEFAULT_WINDOW_DAYS
    trials: Trials = DEFAULT_TRIALS
    data_multiplier: Annotated[float, Field(ge=1, le=10)] = DATA_MULTIPLIER
    seed: Seed | None = None

    @field_validator("items_high")
    @classmethod
    def _a_range(cls, high: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("items")
        # "items" is missing from info.data when it was refused already: say nothing more
        if high is not None and low is None and "items" in info.data:
            raise ValueError("give the low end of the range in Items too")
        if high is not None and low is not None and high < low:
            raise ValueError("the high end of the range is below the low end")
        return high

    @property
    def scope(self) -> float | tuple[float, float] | None:
        if self.items is None:
            return None
        if self.items_high is not None and self.items_high != self.items:
            return (self.items, self.items_high)
        return self.items

    @property
    def item_keys(self) -> list[str] | None:
        if not self.keys:
            return None
        return [k.strip().upper() for k in self.keys.split(",") if k.strip()]


class ForecastIn(QueryIn):
    """The sampling options any forecast takes (a milestone's, for one)."""

    window_days: Window = DEFAULT_WINDOW_DAYS
    trials: Trials = DEFAULT_TRIALS
    seed: Seed | None = None


class HowManyIn(QueryIn):
    """How many items will be finished from today through ``by``?"""

    by: date
    window_days: Window = DEFAULT_WINDOW_DAYS
    trials: Trials = DEFAULT_TRIALS
    seed: Seed | None = None


class BacktestIn(QueryIn):
    """Hide the last weeks of history and see how often the forecast held."""

    horizon_weeks: Annotated[Weeks, Field(description="Weeks each window hides.")] = 2
    windows: Annotated[Weeks, Field(description="How many windows.")] = 8
    seed: Seed | None = None
