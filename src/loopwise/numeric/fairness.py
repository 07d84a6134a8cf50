"""Fairness audit of a binary classifier: per-group rates, between-group measures, the
four-fifths rule and bootstrap intervals, from predictions, labels and sensitive features.

**Groups.** Each sensitive feature splits the rows into groups (``sex=F``); with more than
one feature and ``intersections=True`` the observed combinations of all of them form the
intersectional groups (``sex=F & race=B``). A *grouping* is one such split: each feature
on its own, and the intersection.

**Per group** (and for all rows): the confusion cells TN, FP, FN, TP, the count, and

    selection rate = (TP + FP) / count          accuracy  = (TP + TN) / count
    TPR = TP / (TP + FN)    FNR = FN / (TP + FN)    FPR = FP / (FP + TN)
    precision = TP / (TP + FP)

A rate whose denominator is 0 is undefined and reported as None, never as 0 (Fairlearn,
through scikit-learn's normalised confusion matrix, reports 0).

**Between groups**, over the groups of one grouping, Fairlearn's ``between_groups``
definitions: a *difference* is the largest minus the smallest group rate, a *ratio* the
smallest over the largest (so 0 <= ratio <= 1 and difference >= 0). Demographic parity
uses the selection rate, equal opportunity the TPR, predictive equality the FPR,
predictive parity the precision, accuracy parity the accuracy; the equalized-odds
difference is the larger of the TPR and FPR differences and its ratio the smaller of the
two ratios (undefined unless both are defined). A ratio whose largest rate is 0 is
undefined (0/0). ``measure_catalogue()`` lists every measure by its stable name.
The **four-fifths rule** passes when the lowest selection rate is at least 4/5 of the
highest (compared exactly, in integers); it cannot be judged when the ratio is undefined.

**Minimum group size** (the one deliberate departure from Fairlearn, which compares every
group: a group of 2 people can drive its ratios to 0). A group rate takes part in a
between-group measure only when its denominator is at least ``min_group_size``: a group
with fewer rows is left out of every measure; a group with enough rows but fewer positive
labels than that is left out of the TPR-based measures (equal opportunity, equalized odds),
fewer negative labels out of the FPR-based ones, fewer predicted positives out of
predictive parity. Every such exclusion is one line in ``warnings``; the per-group
metrics still list every group. A measure needs at least two groups that take part.

**The headline measures** (``FairnessAudit.measures``, what a gate reads as
``fairness.demographic_parity_ratio``) are the worst over the groupings: the largest
difference and the smallest ratio, naming the grouping they come from. Without exclusions
the intersection is always the worst (a feature's group rate is a weighted mean of its
intersections' rates); with exclusions a single feature can be worse.

**Bootstrap** (percentile intervals, ``bootstrap`` replicates, seeded). The reference
scheme is the plain row bootstrap, Fairlearn's: draw n rows with replacement, recompute.
Every quantity here depends on the rows only through the counts of the cells
(intersectional group x true label x prediction), and the cell counts of a row resample
are multinomial(n, cell counts / n): the multiplicities of the n rows are
multinomial(n, 1/n each), and summing a multinomial's categories gives a multinomial over
the sums. So each replicate draws one multinomial vector over the (at most a few thousand)
cells and recounts that small table; its distribution is the row bootstrap's exactly, and
its cost does not grow with n. Which groups take part is decided once, on the data; in a
replicate a rate whose denominator falls to 0 is left out. An interval is given when the
measure is defined in at least half of the replicates (else None, with a warning). The
intervals are for the measure as defined: a difference is a maximum minus a minimum, so
when groups are truly equal its sampling distribution sits above 0 and its interval does
not cover 0; read it as "how large the gap may be", not as a test of parity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from loopwise.core.errors import InvalidInput

MAX_GROUPS = 1_000  # distinct values of one sensitive feature (bin a continuous one first)
MAX_CELLS = 10_000  # observed combinations of all the sensitive features
_CHUNK = 4_000_000  # replicate x cell counts held in memory at once (32 MB of int64)

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Mask = NDArray[np.bool_]

# the confusion cells, indexed 2 * y_true + y_pred
TN, FP, FN, TP = 0, 1, 2, 3
ALL = (TN, FP, FN, TP)

# rate -> (numerator cells, denominator cells, what the denominator counts)
_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...], str]] = {
    "selection_rate": ((FP, TP), ALL, "rows"),
    "accuracy": ((TN, TP), ALL, "rows"),
    "true_positive_rate": ((TP,), (FN, TP), "positive labels"),
    "false_positive_rate": ((FP,), (TN, FP), "negative labels"),
    "false_negative_rate": ((FN,), (FN, TP), "positive labels"),
    "precision": ((TP,), (FP, TP), "predicted positives"),
}

Kind = Literal["difference", "ratio", "rule"]


@dataclass(frozen=True)
class MeasureInfo:
    """One between-group measure: its stable name, what it compares, how to read it."""

    name: str
    kind: Kind  # difference: 0 is parity, lower is fairer; ratio: 1 is parity, higher is fairer
    rates: tuple[str, ...]
    description: str


_SR, _TPR, _FPR = ("selection_rate",), ("true_positive_rate",), ("false_positive_rate",)
# (stem, rates, what is compared) -> a difference and a ratio each
_FAMILIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("demographic_parity", _SR, "selection rate (share predicted positive)"),
    ("equalized_odds", _TPR + _FPR, "the {} of the true- and false-positive-rate {}"),
    ("equal_opportunity", _TPR, "true positive rate (recall)"),
    ("predictive_equality", _FPR, "false positive rate"),
    ("predictive_parity", ("precision",), "precision (share of predicted positives right)"),
    ("accuracy", ("accuracy",), "accuracy"),
)


def _describe(kind: str, what: str) -> str:
    if "{}" in what:  # equalized odds
        worse = ("larger", "differences") if kind == "difference" else ("smaller", "ratios")
        return what.format(*worse)
    ends = "largest minus smallest" if kind == "difference" else "smallest over largest"
    return f"{ends} {what} between groups"


_CATALOGUE: tuple[MeasureInfo, ...] = tuple(
    MeasureInfo(f"{stem}_{kind}", kind, rates, _describe(kind, what))
    for stem, rates, what in _FAMILIES
    for kind in ("difference", "ratio")
) + (
    MeasureInfo(
        "four_fifths_rule",
        "rule",
        _SR,
        "passes when the lowest selection rate is at least 4/5 of the highest",
    ),
)
_MEASURES = tuple(m for m in _CATALOGUE if m.kind != "rule")
_FOUR_FIFTHS = "four_fifths_rule"
# the rates whose spread the measures use, and which measures each one feeds
_USED = ("selection_rate", "accuracy", "true_positive_rate", "false_positive_rate", "precision")
_FED = {
    rate: tuple(sorted({m.name.rsplit("_", 1)[0] for m in _MEASURES if rate in m.rates}))
    for rate in _USED
}


def measure_catalogue() -> tuple[MeasureInfo, ...]:
    """Every between-group measure (and the four-fifths rule) with a one-line description,
    in a stable order: the choices offered when a person picks the primary measure."""
    return _CATALOGUE


@dataclass(frozen=True)
class GroupMetrics:
    """One group's confusion cells and rates; a rate is None where its denominator is 0."""

    name: str  # "sex=F", "sex=F & race=B", or "all rows"
    grouping: str  # "sex", "sex & race"; "" for all rows
    values: tuple[tuple[str, str], ...]  # ((feature, value as text), ...)
    count: int
    true_negatives: int
    false_positives: int
    false_negatives: int
    true_positives: int
    selection_rate: float
    accuracy: float
    true_positive_rate: float | None
    false_positive_rate: float | None
    false_negative_rate: float | None
    precision: float | None
    compared: bool  # count >= min_group_size: it takes part in the between-group measures


@dataclass(frozen=True)
class Measure:
    """A between-group measure with its percentile bootstrap interval.

    ``value`` is None when fewer than two groups take part or the ratio is 0/0;
    ``low``/``high`` are None without a bootstrap or when too few replicates define it.
    ``lowest``/``highest`` name the groups at the two ends (for equalized odds, of the rate
    that decides it); ``groups`` counts the groups that took part."""

    name: str
    value: float | None
    low: float | None
    high: float | None
    grouping: str | None
    lowest: str | None
    highest: str | None
    groups: int


@dataclass(frozen=True)
class Comparison:
    """The between-group measures over one grouping (a feature, or the intersection)."""

    grouping: str
    features: tuple[str, ...]
    groups: tuple[str, ...]  # groups with at least min_group_size rows
    excluded: tuple[str, ...]  # groups with fewer: in no between-group measure
    measures: tuple[Measure, ...]
    four_fifths_rule: bool | None

    def measure(self, name: str) -> Measure:
        return _find(self.measures, name)


@dataclass(frozen=True)
class FairnessAudit:
    """The audit. ``measures`` are the headline values (the worst over ``comparisons``)."""

    rows: int
    features: tuple[str, ...]
    min_group_size: int
    bootstrap: int
    confidence: float
    seed: int
    overall: GroupMetrics
    groups: tuple[GroupMetrics, ...]
    comparisons: tuple[Comparison, ...]
    measures: tuple[Measure, ...]
    four_fifths_rule: bool | None
    warnings: tuple[str, ...]

    def measure(self, name: str) -> Measure:
        return _find(self.measures, name)

    def group(self, name: str) -> GroupMetrics:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def values(self) -> dict[str, float | bool | None]:
        """Headline values by stable name (``four_fifths_rule`` a bool), for gate criteria."""
        out: dict[str, float | bool | None] = {m.name: m.value for m in self.measures}
        out[_FOUR_FIFTHS] = self.four_fifths_rule
        return out


def _find(measures: Sequence[Measure], name: str) -> Measure:
    for m in measures:
        if m.name == name:
            return m
    raise KeyError(name)


# ---------------------------------------------------------------------------- inputs


def _binary(values: ArrayLike, what: str) -> NDArray[np.int64]:
    a = np.asarray(values)
    if a.ndim != 1:
        raise InvalidInput(f"{what} must be a one-dimensional array")
    if a.dtype.kind not in "biuf":
        raise InvalidInput(f"{what} must be binary (0 or 1), not {a.dtype} values")
    bad = ~np.isin(a, (0, 1))
    if bad.any():
        raise InvalidInput(f"{what} must be binary (0 or 1); found {a[bad][0]!r}")
    return a.astype(np.int64)


def _factorize(name: str, values: ArrayLike, n: int) -> tuple[Ints, list[str]]:
    """Codes 0..k-1 of a feature's values (sorted where they sort) and their text."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("sensitive feature names must be non-empty text")
    data: Any = values
    if not isinstance(data, pd.Series | pd.Categorical | pd.Index):
        data = np.asarray(data)
        if data.ndim != 1:
            raise InvalidInput(f"sensitive feature '{name}' must be one-dimensional")
    if len(data) != n:
        raise InvalidInput(f"sensitive feature '{name}' has {len(data)} values for {n} rows")
    try:
        codes, uniques = pd.factorize(data, sort=True)
    except TypeError:  # values that do not sort against each other
        codes, uniques = pd.factorize(data, sort=False)
    missing = int((codes < 0).sum())
    if missing:
        raise InvalidInput(
            f"sensitive feature '{name}' is missing at {missing} rows; "
            "give them a named group (e.g. 'unknown') to audit them"
        )
    labels = [str(u) for u in uniques]
    if len(labels) > MAX_GROUPS:
        raise InvalidInput(
            f"sensitive feature '{name}' has {len(labels)} distinct values "
            f"(at most {MAX_GROUPS}); bin it first"
        )
    if len(set(labels)) < len(labels):
        raise InvalidInput(f"sensitive feature '{name}' has distinct values that read the same")
    return np.asarray(codes, dtype=np.int64), labels


def _check_options(min_group_size: int, bootstrap: int, confidence: float) -> None:
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer):
        raise InvalidInput("min_group_size must be a whole number")
    if min_group_size < 1:
        raise InvalidInput("min_group_size must be at least 1")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer):
        raise InvalidInput("bootstrap must be a whole number of replicates")
    if bootstrap < 0:
        raise InvalidInput("bootstrap must be 0 (no intervals) or more replicates")
    if not 0 < confidence < 1:
        raise InvalidInput("confidence must lie strictly between 0 and 1")


# ---------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class _Grouping:
    """How the cells add up to one grouping's groups."""

    name: str
    features: tuple[str, ...]
    names: tuple[str, ...]  # group names
    values: tuple[tuple[tuple[str, str], ...], ...]
    order: Ints  # cells sorted by group
    starts: Ints  # where each group's cells begin in that order
    identity: bool  # one group per cell (the intersection)

    def table(self, cells: Floats) -> Floats:
        """(R, cells, 4) counts -> (R, groups, 4) counts."""
        if self.identity:
            return cells
        out: Floats = np.add.reduceat(cells[:, self.order, :], self.starts, axis=1)
        return out


def _groupings(
    features: Sequence[str], labels: Sequence[list[str]], cell_codes: Ints, intersections: bool
) -> list[_Grouping]:
    """cell_codes: (cells, features) code of each cell on each feature."""
    out = []
    cells = len(cell_codes)
    for j, feature in enumerate(features):
        codes = cell_codes[:, j]
        present = np.unique(codes)  # values seen (all are: they come from the rows)
        order = np.argsort(codes, kind="stable").astype(np.int64)
        starts = np.searchsorted(codes[order], present).astype(np.int64)
        values = tuple(((feature, labels[j][c]),) for c in present)
        out.append(
            _Grouping(
                feature,
                (feature,),
                tuple(f"{feature}={v[0][1]}" for v in values),
                values,
                order,
                starts,
                identity=False,
            )
        )
    if intersections and len(features) > 1:
        crossed = tuple(
            tuple((f, labels[j][cell_codes[c, j]]) for j, f in enumerate(features))
            for c in range(cells)
        )
        out.append(
            _Grouping(
                " & ".join(features),
                tuple(features),
                tuple(" & ".join(f"{f}={v}" for f, v in vs) for vs in crossed),
                crossed,
                np.arange(cells, dtype=np.int64),
                np.arange(cells, dtype=np.int64),
                identity=True,
            )
        )
    return out


def _rate(table: Floats, rate: str) -> Floats:
    """(R, groups, 4) counts -> (R, groups) rate, NaN where the denominator is 0."""
    num_cells, den_cells, _ = _RATES[rate]
    num = table[..., list(num_cells)].sum(axis=-1)
    den = table[..., list(den_cells)].sum(axis=-1)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _denominator(table: Floats, rate: str) -> Floats:
    out: Floats = table[..., list(_RATES[rate][1])].sum(axis=-1)
    return out


@dataclass(frozen=True)
class _Spread:
    """A rate's spread over the groups that take part, per replicate (R,)."""

    difference: Floats
    ratio: Floats
    lowest: Ints  # group index (-1 where undefined)
    highest: Ints


def _spread(rates: Floats, taking_part: Mask) -> _Spread:
    r = rates.shape[0]
    idx = np.flatnonzero(taking_part)
    if len(idx) < 2:
        nan, none = np.full(r, np.nan), np.full(r, -1, dtype=np.int64)
        return _Spread(nan, nan, none, none)
    x = rates[:, idx]
    defined = (~np.isnan(x)).sum(axis=1) >= 2
    lo_i = np.where(np.isnan(x), np.inf, x).argmin(axis=1)
    hi_i = np.where(np.isnan(x), -np.inf, x).argmax(axis=1)
    lo = np.take_along_axis(x, lo_i[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(x, hi_i[:, None], axis=1)[:, 0]
    difference = np.where(defined, hi - lo, np.nan)
    ratio = np.full(r, np.nan)
    np.divide(lo, hi, out=ratio, where=defined & (hi > 0))
    return _Spread(
        difference,
        ratio,
        np.where(defined, idx[lo_i], -1).astype(np.int64),
        np.where(defined, idx[hi_i], -1).astype(np.int64),
    )


@dataclass(frozen=True)
class _Values:
    """One measure over one grouping, per replicate."""

    value: Floats
    lowest: Ints
    highest: Ints
    groups: Ints  # how many groups took part (for equalized odds: in the deciding rate)


def _measures(table: Floats, taking_part: Mapping[str, Mask]) -> dict[str, _Values]:
    spreads = {rate: _spread(_rate(table, rate), taking_part[rate]) for rate in _USED}
    out: dict[str, _Values] = {}
    for m in _MEASURES:
        kind = "difference" if m.kind == "difference" else "ratio"
        if len(m.rates) == 1:
            s = spreads[m.rates[0]]
            taking = np.full(s.lowest.shape, int(taking_part[m.rates[0]].sum()))
            out[m.name] = _Values(getattr(s, kind), s.lowest, s.highest, taking)
            continue
        tpr, fpr = spreads[m.rates[0]], spreads[m.rates[1]]
        a, b = getattr(tpr, kind), getattr(fpr, kind)
        # equalized odds: the worse of the two (NaN if either is undefined)
        value = np.maximum(a, b) if kind == "difference" else np.minimum(a, b)
        tpr_decides = a >= b if kind == "difference" else a <= b
        out[m.name] = _Values(
            value,
            np.where(tpr_decides, tpr.lowest, fpr.lowest),
            np.where(tpr_decides, tpr.highest, fpr.highest),
            np.where(
                tpr_decides, int(taking_part[m.rates[0]].sum()), int(taking_part[m.rates[1]].sum())
            ),
        )
    return out


def _number(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _interval(samples: Floats, confidence: float) -> tuple[float | None, float | None]:
    finite = samples[np.isfinite(samples)]
    if len(samples) == 0 or 2 * len(finite) < len(samples):
        return None, None
    alpha = (1 - confidence) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return float(low), float(high)


def _group_metrics(
    name: str, grouping: str, values: tuple[tuple[str, str], ...], cells: Ints, min_size: int
) -> GroupMetrics:
    tn, fp, fn, tp = (int(c) for c in cells)
    count = tn + fp + fn + tp

    def ratio(a: int, b: int) -> float | None:
        return a / b if b > 0 else None

    return GroupMetrics(
        name=name,
        grouping=grouping,
        values=values,
        count=count,
        true_negatives=tn,
        false_positives=fp,
        false_negatives=fn,
        true_positives=tp,
        selection_rate=(fp + tp) / count,
        accuracy=(tn + tp) / count,
        true_positive_rate=ratio(tp, tp + fn),
        false_positive_rate=ratio(fp, fp + tn),
        false_negative_rate=ratio(fn, tp + fn),
        precision=ratio(tp, tp + fp),
        compared=count >= min_size,
    )


def _four_fifths(table: Ints, taking_part: Mask) -> bool | None:
    """Lowest selection rate >= 4/5 of the highest, in exact integer arithmetic."""
    idx = np.flatnonzero(taking_part)
    if len(idx) < 2:
        return None
    selected = [int(table[i, FP] + table[i, TP]) for i in idx]
    counts = [int(table[i].sum()) for i in idx]
    rates = [s / c for s, c in zip(selected, counts, strict=True)]
    lo, hi = int(np.argmin(rates)), int(np.argmax(rates))
    if selected[hi] == 0:
        return None  # nobody selected in any group: the ratio is 0/0
    return 5 * selected[lo] * counts[hi] >= 4 * selected[hi] * counts[lo]


def _exclusions(g: _Grouping, table: Ints, min_size: int) -> list[str]:
    lines = []
    for i, name in enumerate(g.names):
        count = int(table[i].sum())
        if count < min_size:
            lines.append(
                f"'{name}' has {count} rows, fewer than the minimum group size {min_size}: "
                f"left out of every between-group measure over '{g.name}'"
            )
            continue
        for rate in ("true_positive_rate", "false_positive_rate", "precision"):
            den = int(table[i, list(_RATES[rate][1])].sum())
            if den < min_size:
                lines.append(
                    f"'{name}' has {den} {_RATES[rate][2]} (fewer than {min_size}): its "
                    f"{rate.replace('_', ' ')} is left out of "
                    f"{', '.join(_FED[rate])} over '{g.name}'"
                )
    return lines


# ---------------------------------------------------------------------------- the audit


def audit(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    sensitive: Mapping[str, ArrayLike],
    *,
    min_group_size: int = 30,
    intersections: bool = True,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> FairnessAudit:
    """Audit binary predictions for group fairness (see the module docstring for every
    definition, the minimum-group-size rule and the bootstrap scheme).

    ``y_true`` and ``y_pred`` hold 0 and 1 (or booleans); ``sensitive`` maps each feature's
    name to its value per row (text, numbers, a pandas Series or Categorical; no missing
    values). Raises ``InvalidInput`` with a one-line reason for anything else.
    """
    _check_options(min_group_size, bootstrap, confidence)
    y = _binary(y_true, "y_true")
    p = _binary(y_pred, "y_pred")
    n = len(y)
    if len(p) != n:
        raise InvalidInput(f"y_true has {n} rows but y_pred has {len(p)}")
    if n == 0:
        raise InvalidInput("y_true and y_pred are empty: nothing to audit")
    if not sensitive:
        raise InvalidInput("give at least one sensitive feature")
    features = tuple(sensitive)
    labels, cell_codes, counts = _cells(features, sensitive, y, p)
    groupings = _groupings(features, labels, cell_codes, intersections)
    tables = [g.table(counts[None].astype(np.float64))[0].astype(np.int64) for g in groupings]
    taking_part = [
        {rate: _denominator(t.astype(np.float64), rate) >= min_group_size for rate in _USED}
        for t in tables
    ]
    samples = _replicates(counts, groupings, taking_part, bootstrap, seed)

    warnings: list[str] = []
    comparisons = []
    for g, table, part, replicates in zip(groupings, tables, taking_part, samples, strict=True):
        comparison, lines = _comparison(g, table, part, replicates, min_group_size, confidence)
        comparisons.append(comparison)
        warnings += lines
    headline = [
        _headline(m, comparisons, [s[m.name] for s in samples], bootstrap, confidence)
        for m in _MEASURES
    ]
    verdicts = [c.four_fifths_rule for c in comparisons if c.four_fifths_rule is not None]
    groups = tuple(
        _group_metrics(name, g.name, vals, table[i], min_group_size)
        for g, table in zip(groupings, tables, strict=True)
        for i, (name, vals) in enumerate(zip(g.names, g.values, strict=True))
    )
    return FairnessAudit(
        rows=n,
        features=features,
        min_group_size=int(min_group_size),
        bootstrap=int(bootstrap),
        confidence=float(confidence),
        seed=seed,
        overall=_group_metrics("all rows", "", (), counts.sum(axis=0), min_group_size),
        groups=groups,
        comparisons=tuple(comparisons),
        measures=tuple(headline),
        four_fifths_rule=all(verdicts) if verdicts else None,
        warnings=tuple(warnings),
    )


def _cells(
    features: Sequence[str], sensitive: Mapping[str, ArrayLike], y: Ints, p: Ints
) -> tuple[list[list[str]], Ints, Ints]:
    """The cells: one per observed combination of the features' values, in sorted order.
    Returns each feature's value labels, each cell's code on each feature (cells x
    features) and the confusion counts per cell (cells x 4)."""
    n = len(y)
    coded = [_factorize(f, sensitive[f], n) for f in features]
    combined = coded[0][0]
    for codes, labels in coded[1:]:
        combined, _ = pd.factorize(combined * len(labels) + codes, sort=True)
        if combined.max() >= MAX_CELLS:
            raise InvalidInput(
                f"the sensitive features make more than {MAX_CELLS} groups together; "
                "audit fewer features or bin them"
            )
    cell = np.asarray(combined, dtype=np.int64)
    n_cells = int(cell.max()) + 1
    cell_codes = np.zeros((n_cells, len(features)), dtype=np.int64)
    for j, (codes, _) in enumerate(coded):
        cell_codes[cell, j] = codes
    counts = np.bincount(cell * 4 + 2 * y + p, minlength=n_cells * 4).reshape(n_cells, 4)
    return [labels for _, labels in coded], cell_codes, counts.astype(np.int64)


def _replicates(
    counts: Ints,
    groupings: Sequence[_Grouping],
    taking_part: Sequence[Mapping[str, Mask]],
    bootstrap: int,
    seed: int,
) -> list[dict[str, Floats]]:
    """Each grouping's measures in each bootstrap replicate: the cell counts of a row
    resample are multinomial(n, counts / n) (see the module docstring)."""
    chunks: list[dict[str, list[Floats]]] = [{m.name: [] for m in _MEASURES} for _ in groupings]
    if bootstrap:
        n, (n_cells, _) = int(counts.sum()), counts.shape
        rng = np.random.default_rng(seed)
        shares = counts.ravel() / n
        size = max(1, _CHUNK // shares.size)
        for start in range(0, bootstrap, size):
            draws = rng.multinomial(n, shares, size=min(size, bootstrap - start))
            replicate = draws.reshape(-1, n_cells, 4).astype(np.float64)
            for g, part, out in zip(groupings, taking_part, chunks, strict=True):
                for name, v in _measures(g.table(replicate), part).items():
                    out[name].append(v.value)
    return [{k: np.concatenate(v) if v else np.empty(0) for k, v in out.items()} for out in chunks]


def _comparison(
    g: _Grouping,
    table: Ints,
    taking_part: Mapping[str, Mask],
    replicates: Mapping[str, Floats],
    min_size: int,
    confidence: float,
) -> tuple[Comparison, list[str]]:
    warnings = _exclusions(g, table, min_size)
    compared = taking_part["selection_rate"]
    if compared.sum() < 2:
        warnings.append(
            f"over '{g.name}' fewer than two groups have {min_size} rows or more: "
            "no between-group measures"
        )
    measures = []
    for name, v in _measures(table[None].astype(np.float64), taking_part).items():
        value = _number(v.value[0])
        low, high = _interval(replicates[name], confidence)
        if value is not None and len(replicates[name]) and low is None:
            warnings.append(
                f"{name} over '{g.name}': no interval, undefined in more than half "
                "of the bootstrap replicates"
            )
        lo_i, hi_i = int(v.lowest[0]), int(v.highest[0])
        measures.append(
            Measure(
                name=name,
                value=value,
                low=low,
                high=high,
                grouping=g.name,
                lowest=g.names[lo_i] if value is not None and lo_i >= 0 else None,
                highest=g.names[hi_i] if value is not None and hi_i >= 0 else None,
                groups=int(v.groups[0]),
            )
        )
    comparison = Comparison(
        grouping=g.name,
        features=g.features,
        groups=tuple(nm for nm, ok in zip(g.names, compared, strict=True) if ok),
        excluded=tuple(nm for nm, ok in zip(g.names, compared, strict=True) if not ok),
        measures=tuple(measures),
        four_fifths_rule=_four_fifths(table, compared),
    )
    return comparison, warnings


def _headline(
    info: MeasureInfo,
    comparisons: Sequence[Comparison],
    samples: Sequence[Floats],
    bootstrap: int,
    confidence: float,
) -> Measure:
    """The worst value over the groupings; its interval is that of the worst per replicate."""
    own = [c.measure(info.name) for c in comparisons]
    defined = [m for m in own if m.value is not None]
    if not defined:
        return Measure(info.name, None, None, None, None, None, None, 0)
    worse = max if info.kind == "difference" else min
    pick = worse(defined, key=lambda m: m.value if m.value is not None else np.nan)
    low = high = None
    if bootstrap:
        reduce = np.fmax if info.kind == "difference" else np.fmin
        low, high = _interval(reduce.reduce(np.vstack(samples), axis=0), confidence)
    return Measure(
        info.name, pick.value, low, high, pick.grouping, pick.lowest, pick.highest, pick.groups
    )


__all__: Sequence[str] = (
    "Comparison",
    "FairnessAudit",
    "GroupMetrics",
    "Measure",
    "MeasureInfo",
    "audit",
    "measure_catalogue",
)
