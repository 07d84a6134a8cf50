"""Monte Carlo forecasts, cross-checked against exact distributions (SciPy) and an
independent, deliberately naive simulator."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from loopwise.numeric.forecast import (
    ForecastError,
    backtest,
    daily_throughput,
    forecast_how_many,
    forecast_when,
    simulate_counts,
    simulate_days,
)

START = date(2026, 3, 2)


def bernoulli_history(ones: int, zeros: int) -> np.ndarray:
    return np.array([1] * ones + [0] * zeros)


@given(st.integers(1, 5), st.integers(0, 300))
@settings(max_examples=40, deadline=None)
def test_constant_throughput_gives_a_deterministic_date(rate: int, scope: int) -> None:
    result = forecast_when(np.array([rate]), scope, START, trials=200)
    expected_days = -(-scope // rate)  # ceil
    assert set(result.days.values()) == {expected_days}
    assert result.dates[85] == START + timedelta(days=max(expected_days - 1, 0))


def test_constant_throughput_gives_a_deterministic_count() -> None:
    result = forecast_how_many(np.array([3, 3, 3]), 20, trials=500)
    assert result.counts == {50: 60, 85: 60, 95: 60}


@pytest.mark.parametrize(("ones", "zeros", "scope"), [(3, 7, 20), (1, 1, 50), (9, 1, 100)])
def test_days_follow_the_negative_binomial(ones: int, zeros: int, scope: int) -> None:
    """With 0/1 days of success probability p, the day the scope-th item finishes is
    scope + NegBinom(scope, p) failures."""
    p = ones / (ones + zeros)
    rng = np.random.default_rng(7)
    result = forecast_when(bernoulli_history(ones, zeros), scope, START, trials=40_000, rng=rng)
    for pct, days in result.days.items():
        exact = scope + stats.nbinom.ppf(pct / 100, scope, p)
        assert abs(days - exact) <= max(1, 0.02 * exact), (pct, days, exact)


@pytest.mark.parametrize(("ones", "zeros", "horizon"), [(3, 7, 30), (1, 1, 90), (1, 9, 200)])
def test_counts_follow_the_binomial_lower_tail(ones: int, zeros: int, horizon: int) -> None:
    p = ones / (ones + zeros)
    rng = np.random.default_rng(11)
    result = forecast_how_many(bernoulli_history(ones, zeros), horizon, trials=40_000, rng=rng)
    for pct, count in result.counts.items():
        exact = stats.binom.ppf(1 - pct / 100, horizon, p)  # "at least n" reads the lower tail
        assert abs(count - exact) <= 1, (pct, count, exact)


def naive_days(history: list[int], scope: float, trials: int, seed: int) -> list[int]:
    """An independent simulator: one trial at a time, one day at a time."""
    rnd = random.Random(seed)
    out = []
    for _ in range(trials):
        done, day = 0, 0
        while done < scope:
            done += rnd.choice(history)
            day += 1
        out.append(day)
    return out


def test_vectorised_simulation_matches_a_naive_one() -> None:
    history = [0, 0, 1, 2, 0, 3, 1, 0, 0, 5]
    fast = simulate_days(np.array(history), 60, trials=20_000, rng=np.random.default_rng(3))
    slow = naive_days(history, 60, 20_000, seed=4)
    for q in (0.5, 0.85, 0.95):
        a = np.quantile(fast, q, method="inverted_cdf")
        b = np.quantile(slow, q, method="inverted_cdf")
        assert abs(a - b) <= 2, (q, a, b)
    # and the whole distributions agree (two-sample KS; the bound is loose on purpose)
    assert stats.ks_2samp(fast, slow).pvalue > 1e-4


def test_long_scopes_with_early_finishers_stay_exact() -> None:
    """A heavy-tailed history makes some trials finish inside the fast pre-phase."""
    history = np.array([0] * 50 + [40])
    fast = simulate_days(history, 40, trials=20_000, rng=np.random.default_rng(5))
    slow = naive_days(list(history), 40, 20_000, seed=6)
    assert abs(np.median(fast) - np.median(slow)) <= 3
    assert fast.min() >= 1


def test_scope_range_spreads_the_dates() -> None:
    fixed = forecast_when(np.array([1]), 10, START, trials=2000)
    ranged = forecast_when(np.array([1]), (10, 20), START, trials=2000)
    assert fixed.days[95] == 10
    assert 10 <= ranged.days[50] <= 20 and ranged.days[95] >= 19


def test_probability_by_reads_the_histogram() -> None:
    result = forecast_when(bernoulli_history(1, 1), 10, START, trials=5000)
    assert result.probability_by(10_000) == 1.0
    assert result.probability_by(9) == 0.0
    assert 0.4 < result.probability_by(result.days[50]) <= 1.0


def test_daily_throughput_counts_zero_days() -> None:
    finished = [START, START, START + timedelta(days=3), START - timedelta(days=1)]
    counts = daily_throughput(finished, START, START + timedelta(days=4))
    assert counts.tolist() == [2, 0, 0, 1, 0]


@pytest.mark.parametrize("history", [np.array([], dtype=int), np.array([0, 0, 0])])
def test_no_throughput_is_a_clear_error(history: np.ndarray) -> None:
    with pytest.raises(ForecastError):
        forecast_when(history, 5, START)
    with pytest.raises(ForecastError):
        simulate_counts(history, 5)


def test_backtest_trusts_a_stationary_team() -> None:
    history = np.random.default_rng(21).poisson(1.2, 1200)
    result = backtest(history, 14, windows=40, rng=np.random.default_rng(22))
    assert len(result.windows) == 40
    assert 0.7 <= result.p85_rate <= 1.0
    assert result.hit_rate >= 0.7


def test_backtest_catches_a_team_that_stopped_delivering() -> None:
    rng = np.random.default_rng(31)
    history = np.concatenate([rng.poisson(2.0, 400), np.zeros(8 * 14, dtype=int)])
    result = backtest(history, 14, windows=8, rng=np.random.default_rng(32))
    assert result.hit_rate < 0.5
    assert all(w.actual == 0 for w in result.windows)


def test_backtest_needs_history() -> None:
    with pytest.raises(ForecastError):
        backtest(np.array([1, 0, 1]), 14)
