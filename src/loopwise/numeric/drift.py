"""Drift between a reference sample and a current sample of one column, and of a dataset.

The default test follows Evidently's table (``default_test``; the reference size and the
unique values are counted after dropping NaN and infinities, unique values over both
samples together), so a verdict here can be compared with Evidently's:

==========================  ==============  =============  ===================  ==========
reference rows              column          unique values  test                 drift when
==========================  ==============  =============  ===================  ==========
<= 1000                     numeric         > 5            KS (``ks_2samp``)    p <= 0.05
<= 1000                     numeric         3-5            chi-square           p < 0.05
<= 1000                     any             <= 2           two-proportion z     p < 0.05
<= 1000                     categorical     > 2            chi-square           p < 0.05
> 1000                      numeric         > 5            normalised W1        >= 0.1
> 1000                      numeric         <= 5           Jensen-Shannon       >= 0.1
> 1000                      categorical     any            Jensen-Shannon       >= 0.1
==========================  ==============  =============  ===================  ==========

Where Loopwise computes something else than Evidently, on purpose:

- chi-square is the two-sample test of homogeneity (``scipy.stats.chi2_contingency`` on the
  2 x K table of reference and current counts, without Yates' correction, so on two
  categories it equals the z-test). Evidently's is a goodness-of-fit test that takes the
  reference shares as exact: it flags ~42% of same-distribution samples at alpha 0.05 and
  gives p = 0 for a category the reference has not seen; the two-sample test does neither.
- PSI bins a numeric column on the reference's deciles (``BINS`` = 10 bins, edges by the
  ``inverted_cdf`` quantile, bins closed on the right), not on Sturges bins of both
  samples together, and counts a share below ``FLOOR`` = 1e-4 (an empty bin) as 1e-4:
  ``PSI = sum((p_cur - p_ref) * ln(p_cur / p_ref))``.
- Jensen-Shannon on a numeric column with more than ``DISCRETE`` distinct values uses the
  same reference-decile bins (Evidently: Sturges bins); with ``DISCRETE`` or fewer distinct
  values (over both samples), every test that needs categories uses the values themselves.

Statistics: KS is ``scipy.stats.ks_2samp``; normalised Wasserstein is
``W1(reference, current) / max(std(reference), 0.001)`` (population std; W1 by bins on
large samples, ``numeric.wasserstein``); Jensen-Shannon is what
``scipy.spatial.distance.jensenshannon`` computes, with the natural log on the category
or bin shares; the z-test compares the share of the first category (in sorted order, as
Evidently does) with the pooled two-proportion z statistic, two-sided. SciPy is
imported only by the tests that need it (KS, chi-square, z): the default tests on large
samples (Wasserstein, Jensen-Shannon) run on NumPy alone, and on Arrow columns without
pandas (``numeric.arrow``).

NaN and infinities are dropped before any test (callers count them as nulls; an Arrow
null is one). A sample left empty is refused with ``InvalidInput``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from loopwise.core.errors import InvalidInput
from loopwise.numeric import arrow
from loopwise.numeric.wasserstein import binned_w1

if TYPE_CHECKING:
    import pyarrow as pa

SMALL_REFERENCE = 1000  # Evidently: reference rows up to this use the p-value tests
BINS = 10  # reference-quantile bins for PSI and binned Jensen-Shannon
FLOOR = 1e-4  # a bin share below this (an empty bin) counts as this in PSI
STD_FLOOR = 0.001  # the Wasserstein normaliser is max(std(reference), STD_FLOOR)
DISCRETE = 20  # a numeric column with at most this many distinct values is tested by value
P_VALUE_THRESHOLD = 0.05
BINNED_FROM = 20_000  # values on both sides together: W1 by bins (numeric.wasserstein)
DISTANCE_THRESHOLD = 0.1


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class DriftTest(StrEnum):
    KS = "ks"
    CHI2 = "chi2"
    Z = "z"
    WASSERSTEIN = "wasserstein"
    JS = "jensenshannon"
    PSI = "psi"
    DOMAIN_CLASSIFIER = "domain_classifier"  # multivariate: ROC AUC telling current from reference


P_VALUE_TESTS = frozenset({DriftTest.KS, DriftTest.CHI2, DriftTest.Z})
NUMERIC_ONLY = frozenset({DriftTest.KS, DriftTest.WASSERSTEIN, DriftTest.DOMAIN_CLASSIFIER})
DOMAIN_ROWS = 50_000  # per side: a larger sample is subsampled (seeded) for the classifier
DOMAIN_FOLDS = 5


@dataclass(frozen=True)
class DriftResult:
    """One column's verdict. ``statistic``: KS D, chi-square, z, normalised W1, JS distance
    or PSI; ``p_value`` only for the p-value tests (KS, chi2, z). ``sketch_error``: how far
    the statistic may be from the exact one on the same data when it was computed from
    profiles (at the KLL sketch's 99% confidence; 0.0 when computed exactly)."""

    column: str
    kind: ColumnKind
    test: DriftTest
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    sketch_error: float = 0.0


@dataclass(frozen=True)
class DatasetDrift:
    columns: int
    drifted_columns: int
    share: float  # drifted_columns / columns (0.0 with no columns)
    threshold: float  # the dataset drifts when share >= threshold (Evidently: 0.5)
    drifted: bool


def default_test(
    kind: ColumnKind, reference_rows: int, unique_values: int
) -> tuple[DriftTest, float]:
    """Evidently's default test and threshold for a column (the table in the module doc).

    ``reference_rows`` counts finite reference values; ``unique_values`` counts distinct
    finite values over the reference and the current sample together.
    """
    if reference_rows <= SMALL_REFERENCE:
        if unique_values <= 2:
            return DriftTest.Z, P_VALUE_THRESHOLD
        if kind is ColumnKind.CATEGORICAL or unique_values <= 5:
            return DriftTest.CHI2, P_VALUE_THRESHOLD
        return DriftTest.KS, P_VALUE_THRESHOLD
    if kind is ColumnKind.NUMERIC and unique_values > 5:
        return DriftTest.WASSERSTEIN, DISTANCE_THRESHOLD
    return DriftTest.JS, DISTANCE_THRESHOLD


def default_threshold(test: DriftTest) -> float:
    return P_VALUE_THRESHOLD if test in P_VALUE_TESTS else DISTANCE_THRESHOLD


def is_drifted(test: DriftTest, statistic: float, p_value: float | None, threshold: float) -> bool:
    """Evidently's comparisons: KS drifts at p <= threshold, chi2 and z at p < threshold,
    the distances at statistic >= threshold."""
    if test is DriftTest.KS:
        return p_value is not None and p_value <= threshold
    if test in P_VALUE_TESTS:
        return p_value is not None and p_value < threshold
    return statistic >= threshold


def check_choice(column: str, kind: ColumnKind, test: DriftTest, threshold: float) -> None:
    """Refuse a test that cannot apply to the column, or a threshold out of its range."""
    if test is DriftTest.DOMAIN_CLASSIFIER:
        raise InvalidInput(f"column {column!r}: the domain classifier tests whole datasets")
    if kind is ColumnKind.CATEGORICAL and test in NUMERIC_ONLY:
        raise InvalidInput(f"column {column!r}: {test.value} needs a numeric column")
    if not np.isfinite(threshold) or threshold < 0:
        raise InvalidInput(f"column {column!r}: the threshold must be a finite number >= 0")
    if test in P_VALUE_TESTS and not 0 < threshold < 1:
        raise InvalidInput(f"column {column!r}: a p-value threshold must lie between 0 and 1")


# -- cleaning -------------------------------------------------------------------------------


def finite_values(column: str, values: np.ndarray | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The finite values of a numeric column as float64 (NaN, infinities and, from an
    Arrow array, nulls dropped)."""
    if arrow.is_arrow(values):
        values = arrow.floats(values, column)
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"column {column!r}: numeric values expected") from None
    if x.ndim != 1:
        raise InvalidInput(f"column {column!r}: a one-dimensional array expected")
    keep = np.isfinite(x)
    return x if keep.all() else x[keep]


def category_counts(
    values: np.ndarray | pa.Array | pa.ChunkedArray,
) -> tuple[np.ndarray, np.ndarray]:
    """(keys, counts) of a categorical array: nulls (None, NaN, infinities) left out.

    Takes a NumPy array, an Arrow array (counted by Arrow: ``pyarrow.compute.value_counts``,
    dictionary-encoded or plain, without making a Python object per row or importing
    pandas), or anything else ``pandas.factorize`` takes (a Series, a pandas array)."""
    if getattr(values, "ndim", 1) != 1:
        raise InvalidInput("categorical values: a one-dimensional array expected")
    if arrow.is_arrow(values):
        return arrow.value_counts(values)
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = np.asarray(uniques, dtype=object)
    counts = np.bincount(codes[codes >= 0], minlength=len(keys))
    finite = np.array([not (isinstance(k, float) and not np.isfinite(k)) for k in keys], dtype=bool)
    if not finite.all():  # +-inf are not categories: count them as nulls
        keys, counts = keys[finite], counts[finite]
    return keys, counts


def aligned_counts(
    ref_keys: np.ndarray | Sequence[Any],
    ref_counts: np.ndarray,
    cur_keys: np.ndarray | Sequence[Any],
    cur_counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current counts over the union of the keys, in ``sort_keys`` order."""
    index: dict[Any, int] = {}
    for key in (*ref_keys, *cur_keys):
        index.setdefault(key, len(index))
    ref = np.zeros(len(index), dtype=np.int64)
    cur = np.zeros(len(index), dtype=np.int64)
    np.add.at(ref, [index[k] for k in ref_keys], ref_counts)
    np.add.at(cur, [index[k] for k in cur_keys], cur_counts)
    order = sort_keys(list(index))
    return ref[order], cur[order]


def sort_keys(keys: Sequence[Any]) -> list[int]:
    """The order of category keys: sorted when they compare (Evidently's order), else by
    type name and text."""
    try:
        return sorted(range(len(keys)), key=lambda i: keys[i])
    except TypeError:
        return sorted(range(len(keys)), key=lambda i: (type(keys[i]).__name__, str(keys[i])))


def distinct_up_to(x: np.ndarray, cap: int) -> np.ndarray | None:
    """The distinct values of ``x`` when there are at most ``cap``, else None (fast for
    continuous data: a small prefix decides)."""
    if len(distinct(x[:4096])) > cap:
        return None
    u = distinct(x)
    return u if len(u) <= cap else None


def distinct(x: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a float array without NaN: ``np.unique``'s answer,
    without its first call importing ``numpy.ma`` (~9 ms)."""
    s = np.sort(x)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


# -- statistics on counts, shares and samples -----------------------------------------------


def chi2_two_sample(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity on the 2 x K table (no Yates correction)."""
    table = np.vstack([ref_counts, cur_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    from scipy import stats

    res = stats.chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


def z_two_proportions(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Pooled two-proportion z-test on the share of the first category, two-sided."""
    n1, n2 = float(ref_counts.sum()), float(cur_counts.sum())
    p1, p2 = ref_counts[0] / n1, cur_counts[0] / n2
    pooled = (ref_counts[0] + cur_counts[0]) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 0.0, 1.0
    z = float((p1 - p2) / np.sqrt(var))
    from scipy import stats

    return z, float(2 * stats.norm.sf(abs(z)))


def js_distance(ref_shares: np.ndarray, cur_shares: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) of two share vectors: what
    ``scipy.spatial.distance.jensenshannon`` computes, in NumPy (SciPy is not imported
    for the default tests)."""
    p = np.asarray(ref_shares, dtype=np.float64)
    q = np.asarray(cur_shares, dtype=np.float64)
    p, q = p / np.sum(p), q / np.sum(q)
    m = (p + q) / 2.0
    return float(np.sqrt((np.sum(_rel_entr(p, m)) + np.sum(_rel_entr(q, m))) / 2.0))


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``scipy.special.rel_entr`` where y >= x / 2 > 0 or x = 0 (y is the mean of x and
    another share): x * log(x / y), 0 where x is 0."""
    out = np.zeros_like(x)
    pos = x > 0
    out[pos] = x[pos] * np.log(x[pos] / y[pos])
    return out


def psi(ref_shares: np.ndarray, cur_shares: np.ndarray) -> float:
    """Population stability index; shares below FLOOR (empty bins) count as FLOOR."""
    p = np.maximum(np.asarray(ref_shares, dtype=np.float64), FLOOR)
    q = np.maximum(np.asarray(cur_shares, dtype=np.float64), FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def wasserstein(
    u: np.ndarray,
    v: np.ndarray,
    u_weights: np.ndarray | None = None,
    v_weights: np.ndarray | None = None,
) -> float:
    """W1 between two (weighted) samples: the integral of |F_u - F_v| over the merged
    support. Equal to ``scipy.stats.wasserstein_distance`` but ~10x faster on large
    samples: each side is sorted once and the two sorted runs are merged in linear time;
    from ``BINNED_FROM`` unweighted values on, without sorting them whole
    (``numeric.wasserstein``: 2-3x less time again)."""
    weighted = u_weights is not None or v_weights is not None
    if not weighted and len(u) + len(v) >= BINNED_FROM and len(u) and len(v):
        binned = binned_w1(u, v)
        if binned is not None:
            return binned
    if not weighted and len(u) == len(v):  # equal sizes: the mean gap of the sorted samples
        return float(np.mean(np.abs(np.sort(u) - np.sort(v))))
    if weighted:
        ou, ov = np.argsort(u, kind="stable"), np.argsort(v, kind="stable")
        su, sv = u[ou], v[ov]
    else:
        su, sv = np.sort(u), np.sort(v)
    both = np.concatenate([su, sv])
    order = np.argsort(both, kind="stable")  # timsort: merges the two runs
    from_u = order < len(su)
    if not weighted:
        cu = np.cumsum(from_u)[:-1]
        cv = np.arange(1, len(both)) - cu
        gap = np.abs(cu / len(su) - cv / len(sv))
    else:
        wu = np.ones(len(u)) if u_weights is None else np.asarray(u_weights, dtype=np.float64)
        wv = np.ones(len(v)) if v_weights is None else np.asarray(v_weights, dtype=np.float64)
        step = np.concatenate([wu[ou] / wu.sum(), -wv[ov] / wv.sum()])[order]
        gap = np.abs(np.cumsum(step)[:-1])
    return float(np.dot(gap, np.diff(both[order])))


def counted_wasserstein(values: np.ndarray, u_counts: np.ndarray, v_counts: np.ndarray) -> float:
    """W1 of two samples given as counts over the same sorted distinct ``values``: the
    sum of |F_u - F_v| after each value times the gap to the next one."""
    gap = np.abs(np.cumsum(u_counts) / u_counts.sum() - np.cumsum(v_counts) / v_counts.sum())
    return float(np.dot(gap[:-1], np.diff(values)))


def normalised_wasserstein(reference: np.ndarray, current: np.ndarray) -> float:
    """Evidently's ``wasserstein``: W1 / max(std(reference), 0.001)."""
    return wasserstein(reference, current) / max(float(np.std(reference)), STD_FLOOR)


def decile_edges(reference: np.ndarray) -> np.ndarray:
    """The distinct reference quantiles at 1/BINS .. (BINS-1)/BINS (``inverted_cdf``)."""
    qs = np.arange(1, BINS) / BINS
    return distinct(np.quantile(reference, qs, method="inverted_cdf"))


def bin_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the bins (-inf, e1], (e1, e2], ..., (e_last, inf)."""
    return np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)


def category_statistic(
    test: DriftTest, ref_counts: np.ndarray, cur_counts: np.ndarray
) -> tuple[float, float | None]:
    """(statistic, p-value) of a category test on aligned count vectors (keys in
    ``sort_keys`` order: the z-test takes the first)."""
    if test is DriftTest.CHI2:
        return chi2_two_sample(ref_counts, cur_counts)
    if test is DriftTest.Z:
        return z_two_proportions(ref_counts, cur_counts)
    ref_shares, cur_shares = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    if test is DriftTest.JS:
        return js_distance(ref_shares, cur_shares), None
    if test is DriftTest.PSI:
        return psi(ref_shares, cur_shares), None
    raise InvalidInput(f"{test.value} is not a test on categories")


# -- the column and the dataset -------------------------------------------------------------


def column_drift(
    column: str,
    reference: np.ndarray | pa.Array | pa.ChunkedArray,
    current: np.ndarray | pa.Array | pa.ChunkedArray,
    kind: ColumnKind,
    test: DriftTest | None = None,
    threshold: float | None = None,
) -> DriftResult:
    """Drift of one column between ``reference`` and ``current``: 1-D NumPy arrays, or
    Arrow arrays (read and counted by Arrow, no Python object per row: the fastest way
    from Parquet, ``numeric.arrow``); a categorical column may also come as a pandas
    Series or array.

    ``test`` None picks ``default_test``; ``threshold`` None takes the test's default
    (0.05 for p-values, 0.1 for distances). Raises ``InvalidInput`` for an empty sample
    (after dropping NaN/inf), non-numeric values in a numeric column, or a numeric-only
    test (KS, Wasserstein) on a categorical column.
    """
    values: np.ndarray | None = None  # numeric: the distinct values when few
    if kind is ColumnKind.NUMERIC:
        ref, cur = finite_values(column, reference), finite_values(column, current)
        n_ref, n_cur = len(ref), len(cur)
        if n_ref and n_cur and len(distinct(ref[:4096])) <= DISCRETE:  # else continuous:
            values = distinct_up_to(np.concatenate([ref, cur]), DISCRETE)  # no copy needed
        unique = DISCRETE + 1 if values is None else len(values)
    else:
        ref_keys, ref_n = category_counts(reference)
        cur_keys, cur_n = category_counts(current)
        ref_counts, cur_counts = aligned_counts(ref_keys, ref_n, cur_keys, cur_n)
        n_ref, n_cur = int(ref_counts.sum()), int(cur_counts.sum())
        unique = len(ref_counts)
    if n_ref == 0 or n_cur == 0:
        side = "reference" if n_ref == 0 else "current sample"
        raise InvalidInput(f"column {column!r}: the {side} has no finite values")
    chosen, default = (
        default_test(kind, n_ref, unique) if test is None else (test, default_threshold(test))
    )
    limit = default if threshold is None else float(threshold)
    check_choice(column, kind, chosen, limit)

    p_value: float | None = None
    if kind is ColumnKind.CATEGORICAL:
        statistic, p_value = category_statistic(chosen, ref_counts, cur_counts)
    elif chosen is DriftTest.KS:
        from scipy import stats

        res = stats.ks_2samp(ref, cur)
        statistic, p_value = float(res.statistic), float(res.pvalue)
    elif values is not None:  # few distinct values: the values are the categories
        ref_counts = np.bincount(np.searchsorted(values, ref), minlength=len(values))
        cur_counts = np.bincount(np.searchsorted(values, cur), minlength=len(values))
        if chosen is DriftTest.WASSERSTEIN:
            norm = max(float(np.std(ref)), STD_FLOOR)
            statistic = counted_wasserstein(values, ref_counts, cur_counts) / norm
        else:
            statistic, p_value = category_statistic(chosen, ref_counts, cur_counts)
    elif chosen is DriftTest.WASSERSTEIN:
        statistic = normalised_wasserstein(ref, cur)
    else:  # reference-decile bins
        edges = decile_edges(ref)
        statistic, p_value = category_statistic(
            chosen, bin_counts(ref, edges), bin_counts(cur, edges)
        )
    return DriftResult(
        column=column,
        kind=kind,
        test=chosen,
        statistic=statistic,
        p_value=p_value,
        threshold=limit,
        drifted=is_drifted(chosen, statistic, p_value, limit),
    )


def dataset_drift(results: Sequence[DriftResult], share: float = 0.5) -> DatasetDrift:
    """The dataset drifts when the share of drifted columns is at least ``share``
    (Evidently's rule, default 0.5). No columns: no drift."""
    if not 0 < share <= 1:
        raise InvalidInput("the drift share must lie in (0, 1]")
    columns = len(results)
    drifted_columns = sum(1 for r in results if r.drifted)
    observed = drifted_columns / columns if columns else 0.0
    return DatasetDrift(
        columns=columns,
        drifted_columns=drifted_columns,
        share=observed,
        threshold=share,
        drifted=columns > 0 and observed >= share,
    )


def domain_classifier_drift(
    reference: np.ndarray, current: np.ndarray, threshold: float = 0.55, seed: int = 0
) -> DriftResult:
    """Multivariate drift: how well a classifier tells current rows from reference rows.

    ``reference`` and ``current`` are 2-D numeric arrays with the same columns. The
    statistic is the ROC AUC of scikit-learn's ``HistGradientBoostingClassifier`` (NaN
    handled natively; infinities count as NaN) under stratified ``DOMAIN_FOLDS``-fold
    cross-validation, on the out-of-fold scores of all rows; 0.5 means the two samples
    cannot be told apart. Drift when AUC >= ``threshold`` (0.55 by default; NannyML alerts
    outside 0.45-0.65 relative to its reference chunks). Each side is subsampled to
    ``DOMAIN_ROWS`` rows (seeded) to bound the time. ``column`` is ``"__dataset__"``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    sides = []
    for name, values in (("reference", reference), ("current sample", current)):
        try:
            x = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInput(f"domain classifier: the {name} must be numeric") from None
        if x.ndim != 2:
            raise InvalidInput(f"domain classifier: the {name} must be a 2-D array")
        if len(x) < DOMAIN_FOLDS:
            raise InvalidInput(f"domain classifier: the {name} needs at least {DOMAIN_FOLDS} rows")
        x[~np.isfinite(x)] = np.nan
        sides.append(x)
    if sides[0].shape[1] != sides[1].shape[1] or sides[0].shape[1] == 0:
        raise InvalidInput("domain classifier: both samples need the same columns (at least one)")
    if not 0 < threshold < 1:
        raise InvalidInput("domain classifier: the AUC threshold must lie between 0 and 1")
    rng = np.random.default_rng(seed)
    sides = [
        x[np.sort(rng.choice(len(x), DOMAIN_ROWS, replace=False))] if len(x) > DOMAIN_ROWS else x
        for x in sides
    ]
    features = np.vstack(sides)
    target = np.r_[np.zeros(len(sides[0])), np.ones(len(sides[1]))]
    model = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    folds = StratifiedKFold(DOMAIN_FOLDS, shuffle=True, random_state=seed)
    # one OpenMP thread: on a busy 2-core machine the default spin-waiting threads made a
    # 10k-row run take 28 s instead of 1 s
    with threadpool_limits(limits=1, user_api="openmp"):
        scores = cross_val_predict(model, features, target, cv=folds, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(target, scores))
    return DriftResult(
        column="__dataset__",
        kind=ColumnKind.NUMERIC,
        test=DriftTest.DOMAIN_CLASSIFIER,
        statistic=auc,
        p_value=None,
        threshold=float(threshold),
        drifted=auc >= threshold,
    )
