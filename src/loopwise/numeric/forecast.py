"""Monte Carlo forecasts from a team's own daily throughput.

Each trial draws daily throughput values, with replacement, from the history (zero days
included) and asks either "how many days until the remaining scope is done?" or "how
many items are done after D days?". Everything is vectorised over trials with NumPy.

Percentiles are read the way forecasts are used:
- *when*: ``P85 = d`` means an 85% chance to be done on or before day ``d`` (upper tail);
- *how many*: ``P85 = n`` means an 85% chance to finish at least ``n`` items (lower tail).
Both use the inverted-CDF quantile so that results are whole days and whole items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

PERCENTILES = (50, 85, 95)
DEFAULT_TRIALS = 10_000


class ForecastError(ValueError):
    """The history cannot support a forecast (empty, or no item ever finished)."""


@dataclass(frozen=True)
class WhenForecast:
    trials: int
    scope_low: float
    scope_high: float
    days: dict[int, int]  # percentile -> days from the start day
    dates: dict[int, date]
    histogram: tuple[tuple[int, int], ...]  # (days, trials finishing that day)

    def probability_by(self, day: int) -> float:
        """Share of trials done within ``day`` days."""
        done = sum(count for d, count in self.histogram if d <= day)
        return done / self.trials


@dataclass(frozen=True)
class HowManyForecast:
    trials: int
    days: int
    counts: dict[int, int]  # percentile -> at least this many items
    histogram: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class BacktestWindow:
    start: int  # index of the first hidden day
    actual: int
    low: int  # central 85% interval of the forecast count
    high: int
    p85: int  # at least this many with 85% probability

    @property
    def inside(self) -> bool:
        return self.low <= self.actual <= self.high


@dataclass(frozen=True)
class Backtest:
    horizon_days: int
    windows: tuple[BacktestWindow, ...]

    @property
    def hit_rate(self) -> float:
        """Share of windows whose actual count fell inside the central 85% interval."""
        return sum(w.inside for w in self.windows) / len(self.windows) if self.windows else 0.0

    @property
    def p85_rate(self) -> float:
        """Share of windows that finished at least the P85 count (ideal: about 0.85)."""
        return (
            sum(w.actual >= w.p85 for w in self.windows) / len(self.windows)
            if self.windows
            else 0.0
        )


def daily_throughput(finished_on: Sequence[date], first: date, last: date) -> NDArray[np.int64]:
    """Items finished per calendar day from ``first`` to ``last`` inclusive, zeros included."""
    if last < first:
        raise ForecastError("history window ends before it starts")
    n_days = (last - first).days + 1
    counts = np.zeros(n_days, dtype=np.int64)
    for day in finished_on:
        offset = (day - first).days
        if 0 <= offset < n_days:
            counts[offset] += 1
    return counts


def _check(history: NDArray[np.int64]) -> NDArray[np.int64]:
    history = np.asarray(history, dtype=np.int64)
    if history.ndim != 1 or history.size == 0:
        raise ForecastError("no throughput history: at least one day is needed")
    if (history < 0).any():
        raise ForecastError("throughput cannot be negative")
    if history.sum() == 0:
        raise ForecastError("no item finished in the history window: nothing to forecast from")
    return history


def _quantile(values: NDArray[np.int64], q: float) -> int:
    return int(np.quantile(values, q, method="inverted_cdf"))


def _histogram(values: NDArray[np.int64]) -> tuple[tuple[int, int], ...]:
    uniq, counts = np.unique(values, return_counts=True)
    return tuple((int(u), int(c)) for u, c in zip(uniq, counts, strict=True))


def _draw(
    history: NDArray[np.int16], rng: np.random.Generator, shape: tuple[int, int]
) -> NDArray[np.int16]:
    """Daily throughput drawn with replacement: integer indexes + take (much faster than
    ``Generator.choice`` on an array)."""
    return history[rng.integers(0, history.size, size=shape, dtype=np.int32)]


def simulate_days(
    history: NDArray[np.int64],
    scope: float | tuple[float, float],
    *,
    trials: int = DEFAULT_TRIALS,
    rng: np.random.Generator | None = None,
) -> NDArray[np.int64]:
    """Days needed per trial to finish ``scope`` items (a range draws uniformly per trial).

    Day 1 is the first simulated day; a scope of 0 needs 0 days. Exact: the fast path
    only skips work, never changes a trial's outcome.
    """
    checked = _check(history)
    if checked.max() > np.iinfo(np.int16).max:
        raise ForecastError("daily throughput above 32767 items is not supported")
    small = checked.astype(np.int16)
    rng = rng or np.random.default_rng()
    low, high = (scope, scope) if isinstance(scope, int | float) else scope
    if low < 0 or high < low:
        raise ForecastError("scope must be >= 0 and low <= high")
    targets = rng.uniform(low, high, trials) if high > low else np.full(trials, float(low))
    days = np.zeros(trials, dtype=np.int64)
    done = np.zeros(trials, dtype=np.float64)
    pending = np.flatnonzero(targets > 0)
    mean = float(checked.mean())
    elapsed = 0
    # Pre-phase: most trials cannot finish in the first ~60% of the expected time, so
    # only the sum of those days is needed (no running sum). Trials that did finish
    # are replayed from the same draws to find their exact day.
    lead = int(low / mean * 0.6)
    if lead > 0 and pending.size:
        draws = _draw(small, rng, (pending.size, lead))
        totals = draws.sum(axis=1, dtype=np.int64)
        early = totals >= targets[pending]
        if early.any():
            replay = np.cumsum(draws[early], axis=1, dtype=np.int64)
            first = (replay >= targets[pending[early], None]).argmax(axis=1)
            days[pending[early]] = first + 1
        done[pending] = totals
        pending = pending[~early]
        elapsed = lead
    while pending.size:
        remaining = float((targets[pending] - done[pending]).max())
        block = int(min(max(remaining / mean * 0.6, 16), 2048))
        draws = _draw(small, rng, (pending.size, block))
        running = done[pending, None] + np.cumsum(draws, axis=1, dtype=np.int64)
        reached = running >= targets[pending, None]
        finished = reached[:, -1]  # running sums only grow: the last column decides
        first = reached[finished].argmax(axis=1)
        days[pending[finished]] = elapsed + first + 1
        done[pending] = running[:, -1]
        pending = pending[~finished]
        elapsed += block
    return days


def simulate_counts(
    history: NDArray[np.int64],
    days: int,
    *,
    trials: int = DEFAULT_TRIALS,
    rng: np.random.Generator | None = None,
) -> NDArray[np.int64]:
    """Items finished per trial over ``days`` simulated days."""
    checked = _check(history)
    if days < 0:
        raise ForecastError("days must be >= 0")
    small = checked.astype(np.int16)
    rng = rng or np.random.default_rng()
    totals = np.zeros(trials, dtype=np.int64)
    for start in range(0, days, 1024):  # chunks bound memory on long horizons
        width = min(1024, days - start)
        totals += _draw(small, rng, (trials, width)).sum(axis=1, dtype=np.int64)
    return totals


def forecast_when(
    history: NDArray[np.int64],
    scope: float | tuple[float, float],
    start: date,
    *,
    trials: int = DEFAULT_TRIALS,
    rng: np.random.Generator | None = None,
) -> WhenForecast:
    """When will ``scope`` items be done, counting from ``start`` (day 1 = ``start``)."""
    days = simulate_days(history, scope, trials=trials, rng=rng)
    pct = {p: _quantile(days, p / 100) for p in PERCENTILES}
    low, high = (scope, scope) if isinstance(scope, int | float) else scope
    return WhenForecast(
        trials=trials,
        scope_low=float(low),
        scope_high=float(high),
        days=pct,
        dates={p: start + timedelta(days=max(d - 1, 0)) for p, d in pct.items()},
        histogram=_histogram(days),
    )


def forecast_how_many(
    history: NDArray[np.int64],
    days: int,
    *,
    trials: int = DEFAULT_TRIALS,
    rng: np.random.Generator | None = None,
) -> HowManyForecast:
    """How many items will be done in ``days`` days (lower-tail percentiles)."""
    counts = simulate_counts(history, days, trials=trials, rng=rng)
    pct = {p: _quantile(counts, 1 - p / 100) for p in PERCENTILES}
    return HowManyForecast(trials=trials, days=days, counts=pct, histogram=_histogram(counts))


def backtest(
    history: NDArray[np.int64],
    horizon_days: int,
    *,
    windows: int = 8,
    min_history_days: int = 14,
    trials: int = 2_000,
    rng: np.random.Generator | None = None,
) -> Backtest:
    """Hide the last ``horizon_days`` of several rolling windows, forecast, compare.

    Window *k* forecasts days ``[t, t + horizon)`` from everything before ``t``, with
    ``t`` stepping back one horizon at a time from the end of the history.
    """
    history = np.asarray(history, dtype=np.int64)
    if horizon_days < 1:
        raise ForecastError("horizon must be at least one day")
    rng = rng or np.random.default_rng()
    results = []
    for k in range(1, windows + 1):
        start = history.size - k * horizon_days
        if start < min_history_days:
            break
        past = history[:start]
        if past.sum() == 0:
            continue
        counts = simulate_counts(past, horizon_days, trials=trials, rng=rng)
        results.append(
            BacktestWindow(
                start=start,
                actual=int(history[start : start + horizon_days].sum()),
                low=_quantile(counts, 0.075),
                high=_quantile(counts, 0.925),
                p85=_quantile(counts, 0.15),
            )
        )
    if not results:
        raise ForecastError(
            f"not enough history to backtest a {horizon_days}-day horizon "
            f"(need more than {min_history_days + horizon_days} days with some throughput)"
        )
    return Backtest(horizon_days=horizon_days, windows=tuple(reversed(results)))
