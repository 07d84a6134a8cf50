"""Drift statistics, checked against SciPy and pandas computed independently on generated
data (never against typed-in numbers), plus properties and a false-alarm simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from scipy.spatial import distance

from loopwise.core.errors import InvalidInput
from loopwise.numeric.drift import (
    BINS,
    FLOOR,
    ColumnKind,
    DriftResult,
    DriftTest,
    column_drift,
    dataset_drift,
    default_test,
    wasserstein,
)

NUM, CAT = ColumnKind.NUMERIC, ColumnKind.CATEGORICAL


def shares_by_value(ref: pd.Series, cur: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(set(ref.dropna()) | set(cur.dropna()))
    r = ref.value_counts(normalize=True).reindex(keys, fill_value=0.0)
    c = cur.value_counts(normalize=True).reindex(keys, fill_value=0.0)
    return r.to_numpy(), c.to_numpy()


def decile_shares(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.unique(np.quantile(ref, np.arange(1, BINS) / BINS, method="inverted_cdf"))
    bins = [-np.inf, *edges, np.inf]
    r = pd.cut(pd.Series(ref), bins, right=True).value_counts(sort=False, normalize=True)
    c = pd.cut(pd.Series(cur), bins, right=True).value_counts(sort=False, normalize=True)
    return r.to_numpy(), c.to_numpy()


# -- the default table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "rows", "unique", "test", "threshold"),
    [
        (NUM, 1000, 6, DriftTest.KS, 0.05),
        (NUM, 1000, 5, DriftTest.CHI2, 0.05),
        (NUM, 1000, 3, DriftTest.CHI2, 0.05),
        (NUM, 1000, 2, DriftTest.Z, 0.05),
        (CAT, 10, 2, DriftTest.Z, 0.05),
        (CAT, 1000, 3, DriftTest.CHI2, 0.05),
        (CAT, 1000, 300, DriftTest.CHI2, 0.05),
        (NUM, 1001, 6, DriftTest.WASSERSTEIN, 0.1),
        (NUM, 1001, 5, DriftTest.JS, 0.1),
        (NUM, 10**6, 1, DriftTest.JS, 0.1),
        (CAT, 1001, 2, DriftTest.JS, 0.1),
        (CAT, 1001, 50, DriftTest.JS, 0.1),
    ],
)
def test_default_table_is_evidentlys(kind, rows, unique, test, threshold) -> None:  # type: ignore[no-untyped-def]
    assert default_test(kind, rows, unique) == (test, threshold)


def test_the_default_counts_finite_reference_rows_and_unique_values_over_both() -> None:
    rng = np.random.default_rng(0)
    ref = np.concatenate([rng.normal(size=1000), [np.nan] * 50, [np.inf] * 5])
    assert column_drift("x", ref, rng.normal(size=2000), NUM).test is DriftTest.KS
    # 2 values in the reference, a third only in the current sample: chi-square, not z
    ref2, cur2 = np.array([0.0, 1.0] * 200), np.array([0.0, 1.0, 2.0] * 100)
    assert column_drift("x", ref2, cur2, NUM).test is DriftTest.CHI2


# -- every statistic against SciPy ------------------------------------------------------------


def test_ks_is_scipys_on_the_finite_values() -> None:
    rng = np.random.default_rng(1)
    ref, cur = rng.normal(size=700), rng.normal(0.2, size=900)
    dirty_ref = np.concatenate([ref, [np.nan, np.inf, -np.inf]])
    r = column_drift("x", dirty_ref, cur, NUM)
    expected = stats.ks_2samp(ref, cur)
    assert r.test is DriftTest.KS
    assert r.statistic == pytest.approx(expected.statistic)
    assert r.p_value == pytest.approx(expected.pvalue)
    assert r.drifted == (expected.pvalue <= 0.05)


def test_chi2_is_scipys_contingency_test_on_the_crosstab() -> None:
    rng = np.random.default_rng(2)
    cats = np.array(list("abcdefgh"), dtype=object)
    ref = rng.choice(cats, size=600, p=np.full(8, 1 / 8))
    cur = rng.choice(cats[:7], size=400)  # one category absent, shares shifted
    r = column_drift("c", ref, cur, CAT)
    frame = pd.DataFrame(
        {"side": ["r"] * len(ref) + ["c"] * len(cur), "v": np.concatenate([ref, cur])}
    )
    expected = stats.chi2_contingency(pd.crosstab(frame.side, frame.v).to_numpy(), correction=False)
    assert r.test is DriftTest.CHI2
    assert r.statistic == pytest.approx(expected.statistic)
    assert r.p_value == pytest.approx(expected.pvalue)


def test_an_unseen_category_does_not_force_p_zero() -> None:
    rng = np.random.default_rng(3)
    cats = np.array(["a", "b", "c"], dtype=object)
    ref = rng.choice(cats, size=500)
    cur = np.concatenate([rng.choice(cats, size=499), np.array(["new"], dtype=object)])
    r = column_drift("c", ref, cur, CAT)
    assert r.test is DriftTest.CHI2 and r.p_value is not None
    assert r.p_value > 0.05 and not r.drifted


def test_z_is_the_square_root_of_the_two_by_two_chi_square() -> None:
    rng = np.random.default_rng(4)
    ref, cur = rng.binomial(1, 0.3, size=800), rng.binomial(1, 0.36, size=500)
    r = column_drift("b", ref, cur, NUM)
    table = np.array([np.bincount(ref, minlength=2), np.bincount(cur, minlength=2)])
    expected = stats.chi2_contingency(table, correction=False)
    assert r.test is DriftTest.Z and r.p_value is not None
    assert r.statistic**2 == pytest.approx(expected.statistic)
    assert r.p_value == pytest.approx(expected.pvalue)


@given(st.integers(0, 10_000), st.integers(2, 300), st.integers(2, 300))
@settings(max_examples=60, deadline=None)
def test_wasserstein_is_scipys(seed: int, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    u = np.round(rng.normal(size=n), 1)  # ties on purpose
    v = np.round(rng.gamma(2.0, size=m), 1)
    assert wasserstein(u, v) == pytest.approx(stats.wasserstein_distance(u, v), abs=1e-12)
    wu, wv = rng.random(n) + 0.01, rng.random(m) + 0.01
    assert wasserstein(u, v, wu, wv) == pytest.approx(
        stats.wasserstein_distance(u, v, wu, wv), rel=1e-9, abs=1e-12
    )


def test_normalised_wasserstein_divides_by_the_reference_std() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(3, 2, size=3000), rng.normal(3.4, 2, size=2000)
    r = column_drift("x", ref, cur, NUM)
    assert r.test is DriftTest.WASSERSTEIN and r.p_value is None
    assert r.statistic == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref))
    flat = column_drift(
        "x", np.full(2000, 1.0), np.linspace(0, 2, 2000), NUM, DriftTest.WASSERSTEIN
    )
    assert flat.statistic == pytest.approx(
        stats.wasserstein_distance(np.full(2000, 1.0), np.linspace(0, 2, 2000)) / 0.001
    )


def test_js_on_categories_is_scipys_on_the_shares() -> None:
    rng = np.random.default_rng(6)
    cats = np.array(["x", "y", "z", "w"], dtype=object)
    ref = rng.choice(cats, size=5000, p=[0.4, 0.3, 0.2, 0.1])
    cur = rng.choice(cats[:3], size=4000, p=[0.2, 0.3, 0.5])
    r = column_drift("c", ref, cur, CAT)
    p, q = shares_by_value(pd.Series(ref), pd.Series(cur))
    assert r.test is DriftTest.JS
    assert r.statistic == pytest.approx(distance.jensenshannon(p, q))
    assert r.drifted == (r.statistic >= 0.1)


def test_js_on_a_numeric_column_uses_reference_deciles() -> None:
    rng = np.random.default_rng(7)
    ref, cur = rng.normal(size=4000), rng.normal(0.3, 1.2, size=3000)
    r = column_drift("x", ref, cur, NUM, DriftTest.JS)
    assert r.statistic == pytest.approx(distance.jensenshannon(*decile_shares(ref, cur)))


def test_psi_is_the_symmetrised_relative_entropy_on_reference_deciles() -> None:
    rng = np.random.default_rng(8)
    ref, cur = rng.lognormal(size=5000), rng.lognormal(0.2, size=3000)
    r = column_drift("x", ref, cur, NUM, DriftTest.PSI)
    p, q = (np.maximum(s, FLOOR) for s in decile_shares(ref, cur))
    assert r.statistic == pytest.approx(
        float(np.sum(special.rel_entr(q, p) + special.rel_entr(p, q)))
    )


def test_psi_floors_an_empty_bin_and_uses_values_when_few() -> None:
    rng = np.random.default_rng(9)
    ref = rng.integers(0, 4, size=3000).astype(float)
    cur = rng.integers(0, 3, size=2000).astype(float)  # value 3 is missing: floored
    r = column_drift("x", ref, cur, NUM, DriftTest.PSI)
    p, q = (np.maximum(s, FLOOR) for s in shares_by_value(pd.Series(ref), pd.Series(cur)))
    assert r.statistic == pytest.approx(float(np.sum((q - p) * np.log(q / p))))


def test_a_numeric_column_with_few_values_is_tested_like_its_categories() -> None:
    rng = np.random.default_rng(10)
    ref, cur = rng.integers(0, 4, size=600), rng.integers(0, 4, size=500)
    as_num = column_drift("x", ref, cur, NUM)
    as_cat = column_drift("x", ref.astype(str).astype(object), cur.astype(str).astype(object), CAT)
    assert as_num.test is as_cat.test is DriftTest.CHI2
    assert as_num.statistic == pytest.approx(as_cat.statistic)
    assert as_num.p_value == pytest.approx(as_cat.p_value)


def test_nulls_and_infinities_are_dropped() -> None:
    rng = np.random.default_rng(11)
    ref, cur = rng.normal(size=2000), rng.normal(size=1500)
    noisy_cur = np.concatenate([cur, [np.nan] * 30, [np.inf, -np.inf]])
    assert column_drift("x", ref, noisy_cur, NUM) == column_drift("x", ref, cur, NUM)
    cats = rng.choice(np.array(["a", "b"], dtype=object), size=1500)
    with_nulls = np.concatenate([cats, np.array([None, np.nan], dtype=object)])
    assert column_drift("c", cats, with_nulls, CAT) == column_drift("c", cats, cats, CAT)
    floats = rng.integers(0, 3, size=800).astype(float)
    dirty = np.concatenate([floats, [np.inf, np.nan]])
    assert column_drift("f", floats, dirty, CAT) == column_drift("f", floats, floats, CAT)


def test_bad_input_is_refused_with_a_reason() -> None:
    x = np.arange(10.0)
    with pytest.raises(InvalidInput, match="no finite values"):
        column_drift("x", np.array([np.nan, np.inf]), x, NUM)
    with pytest.raises(InvalidInput, match="needs a numeric column"):
        column_drift("c", x, x, CAT, DriftTest.KS)
    with pytest.raises(InvalidInput, match="numeric values expected"):
        column_drift("x", np.array(["a", "b"], dtype=object), x, NUM)
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        column_drift("x", x, x, NUM, DriftTest.KS, 1.5)
    with pytest.raises(InvalidInput, match="drift share"):
        dataset_drift([], 0.0)


# -- properties -------------------------------------------------------------------------------


COLUMN_TESTS = [t for t in DriftTest if t is not DriftTest.DOMAIN_CLASSIFIER]


@given(st.integers(0, 10_000), st.integers(5, 3000), st.sampled_from(COLUMN_TESTS))
@settings(max_examples=80, deadline=None)
def test_identical_samples_never_drift(seed: int, n: int, test: DriftTest) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) if seed % 2 else rng.integers(0, 1 + seed % 7, size=n).astype(float)
    r = column_drift("x", x, x.copy(), NUM, test)
    assert not r.drifted
    assert r.statistic == pytest.approx(0.0, abs=1e-12)
    cats = rng.choice(np.array(list("abcdef"), dtype=object), size=n)
    if test not in (DriftTest.KS, DriftTest.WASSERSTEIN):
        assert not column_drift("c", cats, cats.copy(), CAT, test).drifted


@given(st.integers(0, 10_000))
@settings(max_examples=15, deadline=None)
def test_the_statistic_grows_with_a_location_shift(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref, base = rng.normal(size=2000), rng.normal(size=2000)
    shifts = [0.5, 1.0, 1.5, 2.0, 3.0]
    for test in (DriftTest.KS, DriftTest.WASSERSTEIN, DriftTest.JS, DriftTest.PSI):
        values = [column_drift("x", ref, base + s, NUM, test).statistic for s in shifts]
        assert all(b >= a for a, b in zip(values, values[1:], strict=False)), (test, values)
    p_values = [column_drift("x", ref, base + s, NUM, DriftTest.KS).p_value for s in shifts]
    assert all(b <= a for a, b in zip(p_values, p_values[1:], strict=False))  # type: ignore[operator]


def test_category_statistics_grow_as_mass_moves() -> None:
    ref = np.repeat(np.array(["a", "b", "c"], dtype=object), [400, 300, 300])
    previous = {t: -1.0 for t in (DriftTest.CHI2, DriftTest.Z, DriftTest.JS, DriftTest.PSI)}
    for moved in range(0, 300, 25):
        cur = np.repeat(np.array(["a", "b", "c"], dtype=object), [400 + moved, 300 - moved, 300])
        for test in previous:
            stat = abs(column_drift("c", ref, cur, CAT, test).statistic)
            assert stat >= previous[test] - 1e-12, (test, moved)
            previous[test] = stat


# -- false alarms -----------------------------------------------------------------------------

REPS = 2000  # rate 5%: standard error 0.49 points, so 3-7% is a +-4 standard error band


def false_alarm_rate(draw, kind: ColumnKind, test: DriftTest, seed: int) -> float:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    alarms = sum(column_drift("x", draw(rng), draw(rng), kind, test).drifted for _ in range(REPS))
    return alarms / REPS


def test_p_value_tests_raise_false_alarms_at_their_nominal_rate() -> None:
    cats = np.array(list("abcdefgh"), dtype=object)
    shares = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05])
    rates = {
        "ks": false_alarm_rate(lambda r: r.normal(size=200), NUM, DriftTest.KS, 100),
        "chi2": false_alarm_rate(
            lambda r: r.choice(cats, size=400, p=shares), CAT, DriftTest.CHI2, 101
        ),
        "z": false_alarm_rate(lambda r: r.binomial(1, 0.3, size=300), NUM, DriftTest.Z, 102),
    }
    assert all(0.03 <= rate <= 0.07 for rate in rates.values()), rates


# -- the dataset ------------------------------------------------------------------------------


def _result(drifted: bool) -> DriftResult:
    return DriftResult("c", NUM, DriftTest.KS, 0.5, 0.01 if drifted else 0.5, 0.05, drifted)


def test_dataset_drift_is_the_share_of_drifted_columns() -> None:
    half = dataset_drift([_result(True), _result(False)])
    assert (half.columns, half.drifted_columns, half.share, half.drifted) == (2, 1, 0.5, True)
    assert not dataset_drift([_result(True), _result(False), _result(False)]).drifted
    assert dataset_drift([_result(True)] * 3 + [_result(False)], share=0.75).drifted
    none = dataset_drift([])
    assert (none.columns, none.share, none.drifted) == (0, 0.0, False)


@given(st.integers(0, 10_000), st.integers(1, 400))
@settings(max_examples=30, deadline=None)
def test_wasserstein_on_equal_sizes_is_scipys(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    u, v = np.round(rng.normal(size=n), 1), np.round(rng.exponential(size=n), 1)
    assert wasserstein(u, v) == pytest.approx(stats.wasserstein_distance(u, v), abs=1e-12)


def test_categorical_columns_may_come_as_pandas_arrays() -> None:
    rng = np.random.default_rng(12)
    cats = np.array(["a", "b", "c", None], dtype=object)
    ref, cur = rng.choice(cats, size=3000), rng.choice(cats[1:], size=2000)
    want = column_drift("c", ref, cur, CAT)
    for convert in (pd.Series, lambda x: pd.Series(x, dtype="string[pyarrow]").array):
        assert column_drift("c", convert(ref), convert(cur), CAT) == want
