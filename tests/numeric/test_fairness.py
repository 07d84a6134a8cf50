"""The fairness audit against Fairlearn 0.15 (MetricFrame and its disparity functions) to
1e-9 where the definitions match; the minimum group size where they do not on purpose;
the bootstrap against the row bootstrap it stands for and its coverage; properties."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, precision_score

from loopwise.core.errors import InvalidInput
from loopwise.numeric.fairness import FairnessAudit, audit, measure_catalogue

TOL = 1e-9
SEEDS = (0, 1, 2)

RATES: dict[str, Callable[..., Any]] = {
    "count": count,
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "precision": precision_score,
}
# our single-rate measures and the MetricFrame column they spread
SPREADS = {
    "demographic_parity": "selection_rate",
    "equal_opportunity": "true_positive_rate",
    "predictive_equality": "false_positive_rate",
    "predictive_parity": "precision",
    "accuracy": "accuracy",
}
# Fairlearn's named disparity functions
NAMED: dict[str, Callable[..., float]] = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equalized_odds_ratio": equalized_odds_ratio,
    "equal_opportunity_difference": equal_opportunity_difference,
    "equal_opportunity_ratio": equal_opportunity_ratio,
}


def generated(seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Two features whose groups differ in base rate, selection and error rates; every
    intersection keeps well over 30 rows, positives, negatives and predicted positives."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["F", "M"], dtype=object), n)
    race = rng.choice(np.array(["A", "B", "C"], dtype=object), n, p=[0.5, 0.3, 0.2])
    if seed % 2:  # numbers as values, too
        race = np.select([race == "A", race == "B"], [10, 20], 30)
    effect = rng.normal(0, 0.3, 3)[np.unique(race, return_inverse=True)[1]]
    g = np.clip((sex == "M") + effect, -1, 2)
    y = (rng.random(n) < 0.3 + 0.1 * g).astype(int)
    pred = (rng.random(n) < np.where(y == 1, 0.55 + 0.15 * g, 0.15 + 0.1 * g)).astype(int)
    return y, pred, {"sex": sex, "race": race}


@cache
def case(seed: int) -> tuple[FairnessAudit, dict[str, MetricFrame], dict[str, Any]]:
    """Our audit, and Fairlearn's MetricFrame per grouping with its sensitive features."""
    y, p, sens = generated(seed)
    ours = audit(y, p, sens, bootstrap=0)
    features: dict[str, Any] = {
        "sex": pd.Series(sens["sex"], name="sex"),
        "race": pd.Series(sens["race"], name="race"),
        "sex & race": pd.DataFrame(sens),
    }
    frames = {
        k: MetricFrame(metrics=RATES, y_true=y, y_pred=p, sensitive_features=f)
        for k, f in features.items()
    }
    return ours, frames, features


def key(values: tuple[tuple[str, str], ...], index: pd.Index) -> Any:
    """Fairlearn's by_group index entry for our group values (matched as text)."""
    text = tuple(v for _, v in values)
    for entry in index:
        entry_text = tuple(str(e) for e in (entry if isinstance(entry, tuple) else (entry,)))
        if entry_text == text:
            return entry
    raise AssertionError(f"{text} not in {list(index)}")


@pytest.mark.parametrize("seed", SEEDS)
def test_every_group_metric_is_metricframes(seed: int) -> None:
    ours, frames, _ = case(seed)
    assert ours.warnings == ()
    for grouping, frame in frames.items():
        by_group = frame.by_group
        mine = [g for g in ours.groups if g.grouping == grouping]
        assert len(mine) == len(by_group)
        for g in mine:
            row = by_group.loc[key(g.values, by_group.index)]
            for rate in RATES:
                assert getattr(g, rate) == pytest.approx(row[rate], abs=TOL), (g.name, rate)
    overall = frames["sex"].overall
    for rate in RATES:
        assert getattr(ours.overall, rate) == pytest.approx(overall[rate], abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_between_group_measures_are_fairlearns(seed: int) -> None:
    ours, frames, features = case(seed)
    y, p, _ = generated(seed)
    worst: dict[str, list[float]] = {}
    for grouping, frame in frames.items():
        comparison = next(c for c in ours.comparisons if c.grouping == grouping)
        theirs = {
            name: float(fn(y, p, sensitive_features=features[grouping]))
            for name, fn in NAMED.items()
        }
        difference, ratio = frame.difference(), frame.ratio()
        for stem, rate in SPREADS.items():
            theirs[f"{stem}_difference"] = float(difference[rate])
            theirs[f"{stem}_ratio"] = float(ratio[rate])
        assert set(theirs) == {m.name for m in comparison.measures}
        for name, value in theirs.items():
            assert comparison.measure(name).value == pytest.approx(value, abs=TOL), name
            worst.setdefault(name, []).append(value)
        selection = frame.by_group["selection_rate"]
        assert comparison.four_fifths_rule == (selection.min() >= 0.8 * selection.max())
    for name, values in worst.items():  # the headline is the worst over the groupings
        pick = max(values) if name.endswith("difference") else min(values)
        assert ours.measure(name).value == pytest.approx(pick, abs=TOL)
        assert ours.measure(name).grouping == "sex & race"  # nothing excluded: the finest


def test_the_ends_are_named() -> None:
    ours, frames, _ = case(0)
    dp = ours.measure("demographic_parity_ratio")
    rates = {g.name: g.selection_rate for g in ours.groups if g.grouping == "sex & race"}
    assert dp.lowest == min(rates, key=rates.__getitem__)
    assert dp.highest == max(rates, key=rates.__getitem__)
    assert dp.groups == len(rates) == 6
    assert dp.value == pytest.approx(rates[dp.lowest] / rates[dp.highest])


# ---------------------------------------------------------------------------- small groups


def tiny_group_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    g = np.array(["A"] * 500 + ["B"] * 500 + ["C"] * 2, dtype=object)
    y = (rng.random(len(g)) < 0.4).astype(int)
    p = (rng.random(len(g)) < np.where(g == "A", 0.3, 0.4)).astype(int)
    p[g == "C"] = 0  # nobody in the tiny group selected
    return y, p, g


def test_a_group_of_two_does_not_drive_the_ratio_to_zero() -> None:
    y, p, g = tiny_group_data()
    assert demographic_parity_ratio(y, p, sensitive_features=g) == 0  # Fairlearn keeps it
    result = audit(y, p, {"g": g}, bootstrap=200)
    dp = result.measure("demographic_parity_ratio")
    rate = {x: p[g == x].mean() for x in "AB"}
    assert dp.value == pytest.approx(rate["A"] / rate["B"], abs=TOL)
    assert dp.low is not None and dp.low > 0
    (comparison,) = result.comparisons
    assert comparison.groups == ("g=A", "g=B") and comparison.excluded == ("g=C",)
    assert any("'g=C' has 2 rows" in w and "minimum group size 30" in w for w in result.warnings)
    tiny = result.group("g=C")
    assert (tiny.count, tiny.selection_rate, tiny.compared) == (2, 0.0, False)
    assert result.four_fifths_rule is bool(rate["A"] >= 0.8 * rate["B"])
    # with no minimum the tiny group counts, as in Fairlearn
    everyone = audit(y, p, {"g": g}, min_group_size=1, bootstrap=0)
    assert everyone.measure("demographic_parity_ratio").value == 0
    assert everyone.measure("demographic_parity_ratio").lowest == "g=C"


def test_few_positives_leave_a_group_out_of_the_tpr_measures_only() -> None:
    rng = np.random.default_rng(3)
    g = np.repeat(np.array(["A", "B", "C"], dtype=object), 400)
    y = (rng.random(len(g)) < 0.4).astype(int)
    y[g == "C"] = 0
    y[np.flatnonzero(g == "C")[:5]] = 1  # 5 positive labels
    p = (rng.random(len(g)) < 0.4).astype(int)
    result = audit(y, p, {"g": g}, bootstrap=0)
    assert result.measure("equal_opportunity_ratio").groups == 2
    assert result.measure("equalized_odds_difference").groups in (2, 3)
    assert result.measure("demographic_parity_ratio").groups == 3
    assert result.measure("predictive_equality_ratio").groups == 3
    (line,) = result.warnings
    assert "'g=C' has 5 positive labels" in line and "equal_opportunity" in line
    tpr = {x: p[(g == x) & (y == 1)].mean() for x in "AB"}
    expected = min(tpr.values()) / max(tpr.values())
    assert result.measure("equal_opportunity_ratio").value == pytest.approx(expected)


def test_undefined_rates_are_none_not_zero() -> None:
    g = np.repeat(np.array(["A", "B"], dtype=object), 50)
    y = np.r_[np.zeros(50, int), np.tile([0, 1], 25)]  # no positive labels in A
    p = np.r_[np.zeros(50, int), np.tile([1, 0], 25)]  # nobody selected in A
    result = audit(y, p, {"g": g}, bootstrap=0, min_group_size=1)
    a = result.group("g=A")
    assert a.true_positive_rate is None and a.false_negative_rate is None
    assert a.precision is None and a.selection_rate == 0
    # Fairlearn reports 0 where the rate is undefined
    assert true_positive_rate(y[:50], p[:50]) == 0
    assert result.measure("equal_opportunity_difference").value is None
    assert result.measure("equalized_odds_ratio").value is None
    assert result.measure("demographic_parity_ratio").value == 0
    assert result.measure("predictive_equality_ratio").value == 0  # FPR 0 in A, 0.5 in B


def test_the_four_fifths_rule_is_exact_at_the_boundary() -> None:
    g = np.repeat(np.array(["A", "B"], dtype=object), 100)
    y = np.zeros(200, int)
    for selected_a, passes in ((40, True), (39, False)):
        p = np.r_[np.arange(100) < selected_a, np.arange(100) < 50].astype(int)
        assert audit(y, p, {"g": g}, bootstrap=0).four_fifths_rule is passes
    assert audit(y, np.zeros(200, int), {"g": g}, bootstrap=0).four_fifths_rule is None
    # 20/30 against 50/60 is exactly 4/5, below 0.8 in floating point
    g = np.repeat(np.array(["A", "B"], dtype=object), [30, 60])
    p = np.r_[np.arange(30) < 20, np.arange(60) < 50].astype(int)
    exact = audit(np.zeros(90, int), p, {"g": g}, bootstrap=0)
    assert exact.four_fifths_rule is True
    assert exact.measure("demographic_parity_ratio").value == pytest.approx(0.8)
    assert demographic_parity_ratio(np.zeros(90, int), p, sensitive_features=g) < 0.8


def test_equalized_odds_needs_both_parts_where_fairlearn_looks_at_the_order() -> None:
    g = np.repeat(np.array(["A", "B"], dtype=object), 50)
    y = np.tile([0, 1], 50)
    hit = np.r_[np.arange(50) % 4 == 1, np.arange(50) % 2 == 1].astype(int)
    no_false_positives = hit * y  # every FPR is 0: the FPR ratio is 0/0
    no_true_positives = np.r_[np.arange(50) % 4 == 0, np.arange(50) % 2 == 0] * (1 - y)
    for p, fairlearn_defined in ((no_false_positives, True), (no_true_positives, False)):
        theirs = equalized_odds_ratio(y, p, sensitive_features=g)
        assert np.isnan(theirs) is not fairlearn_defined  # Python min over [TPR, FPR]
        ours = audit(y, p, {"g": g}, bootstrap=0, min_group_size=1)
        assert ours.measure("equalized_odds_ratio").value is None


# ---------------------------------------------------------------------------- bootstrap


def test_the_cell_bootstrap_is_the_row_bootstrap() -> None:
    """Recounting multinomial cells draws from the same distribution as resampling rows:
    the replicate quantiles agree with an explicit row bootstrap to Monte-Carlo error."""
    y, p, sens = generated(5, n=1500)
    ours = audit(y, p, sens, bootstrap=4000, seed=1, intersections=False)
    cell = np.unique(sens["sex"], return_inverse=True)[1]
    rng = np.random.default_rng(2)
    rows = rng.integers(0, len(y), size=(4000, len(y)))
    k = 2 * cell[rows] + p[rows]  # (replicate, row) -> group x prediction
    counts = np.stack([(k == c).sum(axis=1) for c in range(4)], axis=1)
    rates = counts[:, [1, 3]] / (counts[:, [0, 2]] + counts[:, [1, 3]])
    difference = np.abs(rates[:, 0] - rates[:, 1])
    low, high = np.quantile(difference, [0.025, 0.975])
    measure = next(c for c in ours.comparisons if c.grouping == "sex").measure(
        "demographic_parity_difference"
    )
    assert measure.low == pytest.approx(low, abs=0.006)
    assert measure.high == pytest.approx(high, abs=0.006)


def test_intervals_cover_the_true_value_at_about_the_nominal_rate() -> None:
    """Two groups whose true selection rates and true positive rates are known."""
    rng = np.random.default_rng(11)
    base, select_pos, select_neg = 0.4, np.array([0.5, 0.7]), np.array([0.2, 0.3])
    select = base * select_pos + (1 - base) * select_neg
    truth = {
        "demographic_parity_difference": select[1] - select[0],
        "demographic_parity_ratio": select[0] / select[1],
        "equal_opportunity_difference": select_pos[1] - select_pos[0],
    }
    hits = {name: 0 for name in truth}
    trials = 200
    for trial in range(trials):
        g = rng.integers(0, 2, 1500)
        y = (rng.random(1500) < base).astype(int)
        p = (rng.random(1500) < np.where(y == 1, select_pos[g], select_neg[g])).astype(int)
        result = audit(y, p, {"g": g}, bootstrap=400, seed=trial)
        for name, value in truth.items():
            m = result.measure(name)
            assert m.low is not None and m.high is not None
            hits[name] += m.low <= value <= m.high
    for name, hit in hits.items():
        assert 0.9 <= hit / trials <= 0.99, (name, hit)


def test_the_bootstrap_is_seeded() -> None:
    y, p, sens = generated(0, n=1000)
    a, b = audit(y, p, sens, bootstrap=100, seed=4), audit(y, p, sens, bootstrap=100, seed=4)
    assert a == b
    other = audit(y, p, sens, bootstrap=100, seed=5)
    assert other.measures != a.measures
    assert [m.value for m in other.measures] == [m.value for m in a.measures]
    assert all(m.low is None and m.high is None for m in audit(y, p, sens, bootstrap=0).measures)


# ---------------------------------------------------------------------------- properties

small = st.integers(0, 2**31 - 1)


def random_case(seed: int, n: int, levels: tuple[int, int]) -> tuple[Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < rng.uniform(0.05, 0.95)
    p = rng.random(n) < rng.uniform(0.05, 0.95)
    a = rng.integers(0, levels[0], n)
    b = np.array(["u", "v", "w", "x"], dtype=object)[rng.integers(0, levels[1], n)]
    return y, p, {"a": a, "b": b}


@given(small, st.integers(1, 300), st.tuples(st.integers(1, 4), st.integers(1, 4)))
@settings(max_examples=60, deadline=None)
def test_measures_stay_in_range_and_equalized_odds_is_the_worse(
    seed: int, n: int, levels: tuple[int, int]
) -> None:
    y, p, sens = random_case(seed, n, levels)
    result = audit(y, p, sens, min_group_size=1 + seed % 20, bootstrap=30, seed=seed)
    for c in result.comparisons:
        for m in c.measures:
            for v in (m.value, m.low, m.high):
                assert v is None or 0 <= v <= 1  # rates lie in [0, 1], so do their spreads
            if m.low is not None and m.high is not None:
                assert m.low <= m.high
        eo_d, eo_r = c.measure("equalized_odds_difference"), c.measure("equalized_odds_ratio")
        parts = ("equal_opportunity", "predictive_equality")
        for eo, kind, worse in ((eo_d, "difference", max), (eo_r, "ratio", min)):
            both = [c.measure(f"{s}_{kind}").value for s in parts]
            if None in both:
                assert eo.value is None  # equalized odds needs both rates compared
            else:
                assert eo.value == worse(both)
        dp = c.measure("demographic_parity_ratio").value
        if c.four_fifths_rule is not None and dp is not None:
            assert c.four_fifths_rule is (dp >= 0.8) or abs(dp - 0.8) < 1e-12
    for g in (result.overall, *result.groups):
        rates = (g.selection_rate, g.accuracy, g.true_positive_rate, g.precision)
        assert all(r is None or 0 <= r <= 1 for r in rates)
        assert g.true_negatives + g.false_positives + g.false_negatives + g.true_positives == (
            g.count
        )


@given(small, st.integers(2, 300), st.tuples(st.integers(1, 4), st.integers(1, 4)))
@settings(max_examples=40, deadline=None)
def test_row_order_changes_nothing(seed: int, n: int, levels: tuple[int, int]) -> None:
    y, p, sens = random_case(seed, n, levels)
    order = np.random.default_rng(seed + 1).permutation(n)
    shuffled = {k: v[order] for k, v in sens.items()}
    a = audit(y, p, sens, min_group_size=5, bootstrap=25, seed=3)
    b = audit(y[order], p[order], shuffled, min_group_size=5, bootstrap=25, seed=3)
    assert a == b


@given(small, st.integers(2, 300), st.tuples(st.integers(1, 4), st.integers(1, 4)))
@settings(max_examples=40, deadline=None)
def test_with_no_minimum_the_intersection_is_the_worst(
    seed: int, n: int, levels: tuple[int, int]
) -> None:
    """A feature's group rate is a weighted mean of its intersections' rates."""
    y, p, sens = random_case(seed, n, levels)
    result = audit(y, p, sens, min_group_size=1, bootstrap=0)
    if len(result.comparisons) < 3:
        return
    *features, crossed = result.comparisons
    for c in features:
        for m in c.measures:
            other = crossed.measure(m.name).value
            if m.value is None or other is None:
                continue
            if m.name.endswith("difference"):
                assert other >= m.value - 1e-12
            else:
                assert other <= m.value + 1e-12


# ---------------------------------------------------------------------------- shapes


def test_the_catalogue_names_every_measure_once() -> None:
    names = [m.name for m in measure_catalogue()]
    assert len(set(names)) == len(names)
    assert set(NAMED) <= set(names) and "four_fifths_rule" in names
    assert all(
        m.description and m.kind in ("difference", "ratio", "rule") for m in measure_catalogue()
    )
    ours, _, _ = case(0)
    assert list(ours.values()) == names
    assert ours.values()["four_fifths_rule"] is ours.four_fifths_rule
    assert [m.name for m in ours.measures] == names[:-1]


def test_groupings_follow_the_features_and_the_intersections_switch() -> None:
    y, p, sens = generated(0, n=600)
    both = audit(y, p, sens, bootstrap=0)
    assert [c.grouping for c in both.comparisons] == ["sex", "race", "sex & race"]
    assert both.group("sex=F & race=B").values == (("sex", "F"), ("race", "B"))
    apart = audit(y, p, sens, bootstrap=0, intersections=False)
    assert [c.grouping for c in apart.comparisons] == ["sex", "race"]
    assert all(" & " not in g.name for g in apart.groups)
    one = audit(y, p, {"sex": sens["sex"]}, bootstrap=0)
    assert [c.grouping for c in one.comparisons] == ["sex"]
    assert [g.name for g in one.groups] == ["sex=F", "sex=M"]


def test_pandas_inputs_and_booleans_are_accepted() -> None:
    y, p, sens = generated(0, n=600)
    plain = audit(y, p, sens, bootstrap=20)
    frame = pd.DataFrame({"sex": sens["sex"], "race": sens["race"]}, index=np.arange(600) * 3)
    typed = audit(
        pd.Series(y.astype(bool)),
        p.astype(bool),
        {"sex": frame["sex"].astype("category"), "race": frame["race"]},
        bootstrap=20,
    )
    assert typed == plain


@pytest.mark.parametrize(
    ("y", "p", "sens", "options", "reason"),
    [
        ([0, 1, 1], [0, 1], {"g": [1, 1, 2]}, {}, "y_true has 3 rows but y_pred has 2"),
        ([0, 2], [0, 1], {"g": [1, 2]}, {}, "y_true must be binary (0 or 1); found"),
        ([0, 1], [0.5, 1], {"g": [1, 2]}, {}, "y_pred must be binary"),
        (["no", "yes"], [0, 1], {"g": [1, 2]}, {}, "y_true must be binary (0 or 1), not"),
        ([0, np.nan], [0, 1], {"g": [1, 2]}, {}, "y_true must be binary"),
        ([], [], {"g": []}, {}, "empty: nothing to audit"),
        ([[0, 1]], [[0, 1]], {"g": [1, 2]}, {}, "one-dimensional"),
        ([0, 1], [0, 1], {}, {}, "at least one sensitive feature"),
        ([0, 1], [0, 1], {"g": [1]}, {}, "'g' has 1 values for 2 rows"),
        ([0, 1], [0, 1], {"g": ["a", None]}, {}, "'g' is missing at 1 rows"),
        ([0, 1], [0, 1], {"": [1, 2]}, {}, "names must be non-empty"),
        ([0, 1], [0, 1], {"g": np.array([1, "1"], dtype=object)}, {}, "read the same"),
        ([0, 1], [0, 1], {"g": [1, 2]}, {"min_group_size": 0}, "min_group_size must be at least"),
        ([0, 1], [0, 1], {"g": [1, 2]}, {"bootstrap": -1}, "bootstrap must be 0"),
        ([0, 1], [0, 1], {"g": [1, 2]}, {"bootstrap": 1.5}, "bootstrap must be a whole"),
        ([0, 1], [0, 1], {"g": [1, 2]}, {"confidence": 1.0}, "confidence must lie"),
    ],
)
def test_bad_input_is_refused_in_one_line(
    y: Any, p: Any, sens: Any, options: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        audit(y, p, sens, **options)
    assert reason in caught.value.message and "\n" not in caught.value.message


def test_too_many_groups_are_refused() -> None:
    n = 20_000
    values = np.arange(n) % 1_500
    with pytest.raises(InvalidInput, match="1500 distinct values"):
        audit(np.zeros(n, int), np.zeros(n, int), {"id": values})
    a, b = np.arange(n) % 997, (np.arange(n) // 997) % 997
    with pytest.raises(InvalidInput, match="more than 10000 groups"):
        audit(np.zeros(n, int), np.zeros(n, int), {"a": a, "b": b})
