"""Mergeable column profiles, computed where the data lives, and drift between profiles.

A profile keeps, per column: the non-null count and the nulls (NaN, None and infinities
count as nulls). A numeric column adds exact min, max, mean and sum of squared deviations
(merged with Chan's formula, so the reference std that normalises Wasserstein is exact),
exact value counts while the column has at most ``DISCRETE`` distinct values, and a KLL
quantile sketch (Apache DataSketches, ``k`` = ``KLL_K``). A categorical column keeps
exact category counts (keys kept as str, int, float or bool; anything else as its str()).
``merge`` of two profiles is the profile of the two datasets together: exactly for counts,
extremes and moments, and within the KLL guarantee for the sketch.

Error bound of sketch-based statistics (see docs/monitoring.md). Let ``e`` be a sketch's
normalised rank error: with k = 400 DataSketches gives 0.68% (the 99th percentile of the
largest error over all ranks, measured) for ranks and 0.86% for bin masses (PMF); a sketch
that has not started compacting (n below ~k) is exact, ``e`` = 0. Then, against the exact
statistic on the same rows, at that confidence:

- KS: ``|D_sketch - D| <= e_ref + e_cur`` (each empirical CDF is off by at most its e);
- normalised Wasserstein: ``|W_sketch - W| <= (e_ref * range_ref + e_cur * range_cur) /
  max(std_ref, 0.001)``, because W1 is a metric and W1(sketch, data) = integral of
  |F_sketch - F| over [min, max] <= e * (max - min); ranges and std are exact;
- PSI and binned Jensen-Shannon: each bin share is boxed by the PMF error plus the mass
  (estimated from the sketches, widened by their errors) that lies between the sketch's
  decile edge and where the exact decile can be; both statistics are sums of a jointly
  convex function of (share_ref, share_cur) per bin, so the interval over the boxes is
  exact: the maximum at a corner, the minimum above the tangent plane.

Every ``DriftResult`` from ``profile_drift`` carries that bound as ``sketch_error`` (0.0
when the statistic came from exact counts). Category tests (chi-square, z) need counts:
they run on categorical columns and numeric columns with few distinct values, and are
refused on a continuous column's sketch.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasketches import kll_doubles_sketch

from loopwise.core.errors import InvalidInput
from loopwise.numeric.drift import (
    BINS,
    DISCRETE,
    FLOOR,
    STD_FLOOR,
    ColumnKind,
    DriftResult,
    DriftTest,
    category_counts,
    category_statistic,
    check_choice,
    column_drift,
    default_test,
    default_threshold,
    distinct_up_to,
    finite_values,
    is_drifted,
    js_distance,
    psi,
    sort_keys,
    wasserstein,
)

KLL_K = 400  # 0.68% rank error, ~10 KB a column once compacting (about 1,200 items kept)
FORMAT = "loopwise.profile"
VERSION = 1
SKETCH_TESTS = frozenset({DriftTest.KS, DriftTest.WASSERSTEIN, DriftTest.JS, DriftTest.PSI})
EXACT_KS_ROWS = 10_000  # ks_2samp's exact p-value below this; the asymptotic one above

Key = str | int | float | bool


@dataclass
class ColumnProfile:
    """One column of a profile. ``counts``: exact category counts (categorical), or exact
    value counts while a numeric column has at most ``DISCRETE`` distinct values (else
    None). ``sketch``, ``minimum``, ``maximum``, ``mean``, ``m2`` (sum of squared
    deviations from the mean): numeric columns only."""

    kind: ColumnKind
    count: int
    nulls: int
    counts: dict[Key, int] | None = None
    sketch: kll_doubles_sketch | None = None
    minimum: float | None = None
    maximum: float | None = None
    mean: float = 0.0
    m2: float = 0.0

    @property
    def std(self) -> float:
        """Population standard deviation (ddof 0, as NumPy's and Evidently's)."""
        return math.sqrt(self.m2 / self.count) if self.count else 0.0


@dataclass
class Profile:
    rows: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)


# -- building and merging ---------------------------------------------------------------------


def _key(value: Any) -> Key:
    item = value.item() if isinstance(value, np.generic) else value
    return item if isinstance(item, str | int | float | bool) else str(item)


def _numeric_profile(column: str, values: np.ndarray, k: int) -> ColumnProfile:
    x = finite_values(column, values)
    profile = ColumnProfile(ColumnKind.NUMERIC, count=len(x), nulls=len(values) - len(x))
    profile.sketch = kll_doubles_sketch(k)
    if len(x) == 0:
        profile.counts = {}
        return profile
    # DataSketches takes only writable arrays; pandas 3 hands out read-only ones
    profile.sketch.update(x if x.flags.writeable else x.copy())
    profile.minimum, profile.maximum = float(x.min()), float(x.max())
    profile.mean = float(x.mean())
    profile.m2 = float(np.sum((x - profile.mean) ** 2))
    distinct = distinct_up_to(x, DISCRETE)
    if distinct is not None:
        counts = np.bincount(np.searchsorted(distinct, x), minlength=len(distinct))
        profile.counts = {float(v): int(c) for v, c in zip(distinct, counts, strict=True)}
    return profile


def _categorical_profile(values: np.ndarray) -> ColumnProfile:
    keys, counts = category_counts(values)
    merged: dict[Key, int] = {}
    for key, c in zip(keys, counts, strict=True):
        merged[_key(key)] = merged.get(_key(key), 0) + int(c)
    count = int(counts.sum())
    return ColumnProfile(
        ColumnKind.CATEGORICAL, count=count, nulls=len(values) - count, counts=merged
    )


def profile_columns(
    columns: Mapping[str, np.ndarray], kinds: Mapping[str, ColumnKind], k: int = KLL_K
) -> Profile:
    """Profile equal-length 1-D columns; ``kinds`` names the kind of every column."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise InvalidInput("columns of a profile must have the same length")
    missing = sorted(set(columns) - set(kinds))
    if missing:
        raise InvalidInput(f"no kind given for column {missing[0]!r}")
    profile = Profile(rows=lengths.pop() if lengths else 0)
    for name, values in columns.items():
        kind = ColumnKind(kinds[name])
        if kind is ColumnKind.NUMERIC:
            profile.columns[name] = _numeric_profile(name, np.asarray(values), k)
        else:
            profile.columns[name] = _categorical_profile(values)
    return profile


def _copy(sketch: kll_doubles_sketch) -> kll_doubles_sketch:
    return kll_doubles_sketch.deserialize(sketch.serialize())


def _merge_column(name: str, a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    if a.kind is not b.kind:
        raise InvalidInput(
            f"column {name!r} is {a.kind.value} in one profile, {b.kind.value} in the other"
        )
    counts: dict[Key, int] | None = None
    if a.counts is not None and b.counts is not None:
        counts = dict(a.counts)
        for key, c in b.counts.items():
            counts[key] = counts.get(key, 0) + c
        if a.kind is ColumnKind.NUMERIC and len(counts) > DISCRETE:
            counts = None
    out = ColumnProfile(a.kind, count=a.count + b.count, nulls=a.nulls + b.nulls, counts=counts)
    if a.kind is ColumnKind.CATEGORICAL:
        return out
    if a.sketch is not None and b.sketch is not None:
        out.sketch = _copy(a.sketch)
        out.sketch.merge(b.sketch)
    extremes = [p for p in (a, b) if p.count]
    if extremes:
        out.minimum = min(p.minimum for p in extremes if p.minimum is not None)
        out.maximum = max(p.maximum for p in extremes if p.maximum is not None)
    if out.count:  # Chan, Golub and LeVeque's pairwise update
        delta = b.mean - a.mean
        out.mean = a.mean + delta * b.count / out.count
        out.m2 = a.m2 + b.m2 + delta * delta * a.count * b.count / out.count
    return out


def merge(a: Profile, b: Profile) -> Profile:
    """The profile of both datasets together. Both must have the same columns and kinds."""
    if set(a.columns) != set(b.columns):
        odd = sorted(set(a.columns) ^ set(b.columns))[0]
        raise InvalidInput(f"column {odd!r} is in one profile only")
    return Profile(
        rows=a.rows + b.rows,
        columns={
            name: _merge_column(name, col, b.columns[name]) for name, col in a.columns.items()
        },
    )


# -- the wire format --------------------------------------------------------------------------


def profile_to_dict(p: Profile) -> dict[str, Any]:
    """A JSON-safe dict: ``{"format", "version", "rows", "columns": {name: {...}}}``; the
    sketch is base64 of DataSketches' own serialisation; counts are [key, count] pairs so
    a key keeps its JSON type."""
    columns: dict[str, Any] = {}
    for name, c in p.columns.items():
        entry: dict[str, Any] = {"kind": c.kind.value, "count": c.count, "nulls": c.nulls}
        entry["counts"] = None if c.counts is None else [[k, n] for k, n in c.counts.items()]
        if c.kind is ColumnKind.NUMERIC:
            sketch = None if c.sketch is None else base64.b64encode(c.sketch.serialize()).decode()
            entry |= {"min": c.minimum, "max": c.maximum, "mean": c.mean, "m2": c.m2, "kll": sketch}
        columns[name] = entry
    return {"format": FORMAT, "version": VERSION, "rows": p.rows, "columns": columns}


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"profile: {what} must be a whole number >= 0")
    return value


def _finite(value: Any, what: str, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"profile: {what} must be a finite number")
    return float(value)


def _column_from_dict(name: str, d: Any) -> ColumnProfile:
    if not isinstance(d, Mapping):
        raise InvalidInput(f"profile: column {name!r} must be an object")
    try:
        kind = ColumnKind(str(d.get("kind")))
    except ValueError:
        raise InvalidInput(f"profile: column {name!r} has an unknown kind") from None
    col = ColumnProfile(
        kind, _count(d.get("count"), f"{name}.count"), _count(d.get("nulls"), f"{name}.nulls")
    )
    raw = d.get("counts")
    if raw is not None:
        if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == 2 for p in raw):
            raise InvalidInput(f"profile: {name}.counts must be a list of [key, count] pairs")
        col.counts = {}
        for key, n in raw:
            if (
                not isinstance(key, str | int | float | bool)
                or isinstance(key, float)
                and not math.isfinite(key)
            ):
                raise InvalidInput(
                    f"profile: {name}.counts has a key that is not a string or number"
                )
            col.counts[key] = col.counts.get(key, 0) + _count(n, f"{name}.counts")
        if sum(col.counts.values()) != col.count:
            raise InvalidInput(f"profile: {name}.counts do not add up to its count")
    elif kind is ColumnKind.CATEGORICAL:
        raise InvalidInput(f"profile: categorical column {name!r} needs its counts")
    if kind is ColumnKind.CATEGORICAL:
        return col
    col.minimum = _finite(d.get("min"), f"{name}.min", optional=not col.count)
    col.maximum = _finite(d.get("max"), f"{name}.max", optional=not col.count)
    col.mean = _finite(d.get("mean", 0.0), f"{name}.mean") or 0.0
    col.m2 = _finite(d.get("m2", 0.0), f"{name}.m2") or 0.0
    encoded = d.get("kll")
    if not isinstance(encoded, str):
        raise InvalidInput(f"profile: numeric column {name!r} needs its kll sketch")
    try:
        col.sketch = kll_doubles_sketch.deserialize(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError, IndexError, RuntimeError):
        raise InvalidInput(f"profile: the kll sketch of column {name!r} cannot be read") from None
    if col.sketch.n != col.count:
        raise InvalidInput(f"profile: the kll sketch of column {name!r} does not hold its count")
    if col.count and (col.minimum is None or col.maximum is None or col.minimum > col.maximum):
        raise InvalidInput(f"profile: column {name!r} needs min <= max")
    return col


def profile_from_dict(d: Mapping[str, Any]) -> Profile:
    """Read ``profile_to_dict``'s format back; ``InvalidInput`` with one line on bad input."""
    if not isinstance(d, Mapping) or d.get("format") != FORMAT:
        raise InvalidInput(f"profile: not a {FORMAT} document")
    if d.get("version") != VERSION:
        raise InvalidInput(
            f"profile: version {d.get('version')!r} is not supported (only {VERSION})"
        )
    rows = _count(d.get("rows"), "rows")
    columns = d.get("columns")
    if not isinstance(columns, Mapping):
        raise InvalidInput("profile: columns must be an object")
    profile = Profile(rows=rows)
    for name, entry in columns.items():
        col = _column_from_dict(str(name), entry)
        if col.count + col.nulls != rows:
            raise InvalidInput(f"profile: column {name!r} has count + nulls != rows")
        profile.columns[str(name)] = col
    return profile


# -- drift from profiles ----------------------------------------------------------------------


def _rank_error(sketch: kll_doubles_sketch, pmf: bool) -> float:
    return float(sketch.normalized_rank_error(pmf)) if sketch.is_estimation_mode() else 0.0


def _ks_statistic(u: np.ndarray, uw: np.ndarray, v: np.ndarray, vw: np.ndarray) -> float:
    """sup |F_u - F_v| of two weighted samples, at every point of the merged support."""
    both = np.concatenate([u, v])
    order = np.argsort(both, kind="stable")
    step = np.concatenate([uw / uw.sum(), -vw / vw.sum()])[order]
    gap = np.cumsum(step)
    last = np.r_[np.diff(both[order]) > 0, True]  # compare only after the last of tied values
    return float(np.max(np.abs(gap[last])))


def _box_interval(
    fn: Any, grad: Any, p: np.ndarray, q: np.ndarray, dp: np.ndarray, dq: np.ndarray, lo: float
) -> tuple[float, float]:
    """Range of sum_i fn(p_i, q_i) over the boxes p_i +- dp_i, q_i +- dq_i (clipped to
    [lo, 1]) for a jointly convex fn: the maximum at a corner, the minimum no lower than
    the tangent plane at (p, q) (nor 0, both functions being >= 0)."""
    p_lo, p_hi = np.clip(p - dp, lo, 1), np.clip(p + dp, lo, 1)
    q_lo, q_hi = np.clip(q - dq, lo, 1), np.clip(q + dq, lo, 1)
    corners = [fn(a, b) for a in (p_lo, p_hi) for b in (q_lo, q_hi)]
    upper = np.max(corners, axis=0)
    gp, gq = grad(p, q)
    with np.errstate(invalid="ignore"):
        tangent = fn(p, q) - np.abs(gp) * dp - np.abs(gq) * dq
    lower = np.maximum(np.nan_to_num(tangent, nan=0.0, neginf=0.0), 0.0)
    return float(lower.sum()), float(upper.sum())


def _psi_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.asarray((q - p) * np.log(q / p))


def _psi_grad(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.log(p / q) + 1 - q / p, np.log(q / p) + 1 - p / q


def _jsd_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    from scipy import special  # here: importing SciPy costs ~70 MB, most checks need none

    m = (p + q) / 2
    return np.asarray((special.rel_entr(p, m) + special.rel_entr(q, m)) / 2)


def _jsd_grad(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(2 * p / (p + q)) / 2, np.log(2 * q / (p + q)) / 2


def sketch_edges(sketch: kll_doubles_sketch) -> np.ndarray:
    """The reference sketch's deciles (inclusive ranks: ``inverted_cdf``), distinct."""
    return np.unique(sketch.get_quantiles(list(np.arange(1, BINS) / BINS), True))


def _binned(test: DriftTest, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
    """(statistic, bound) of PSI or Jensen-Shannon on the reference sketch's deciles. The
    bound is against the exact statistic of the same rows on the same bins: each bin mass
    is within the sketch's PMF error."""
    assert ref.sketch is not None and cur.sketch is not None
    edges = sketch_edges(ref.sketch)
    p = np.asarray(ref.sketch.get_pmf(list(edges), True))
    q = np.asarray(cur.sketch.get_pmf(list(edges), True))
    stat = psi(p, q) if test is DriftTest.PSI else js_distance(p, q)
    dp = np.full(len(p), _rank_error(ref.sketch, True))
    dq = np.full(len(q), _rank_error(cur.sketch, True))
    if not dp.any() and not dq.any():
        return stat, 0.0
    if test is DriftTest.PSI:
        pf, qf = np.maximum(p, FLOOR), np.maximum(q, FLOOR)
        lo, hi = _box_interval(_psi_terms, _psi_grad, pf, qf, dp, dq, FLOOR)
    else:
        lo, hi = _box_interval(_jsd_terms, _jsd_grad, p, q, dp, dq, 0.0)
        lo, hi = math.sqrt(lo), math.sqrt(hi)
    return stat, max(stat - lo, hi - stat)


def ks_p_value(d: float, n1: int, n2: int) -> float:
    """Two-sided KS p-value as ``ks_2samp(method="asymp")`` computes it:
    ``kstwo.sf(D, round(n1 n2 / (n1 + n2)))``."""
    from scipy import stats

    en = float(n1) * float(n2) / (float(n1) + float(n2))
    return float(stats.kstwo.sf(d, np.round(en)))


def _points(col: ColumnProfile) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(values, weights, rank error, pmf error) of a numeric column: exact value counts
    when the profile has them, else the sketch's retained items."""
    if col.counts is not None:
        values = np.array(list(col.counts), dtype=np.float64)
        return values, np.array(list(col.counts.values()), dtype=np.float64), 0.0, 0.0
    assert col.sketch is not None
    pairs = np.array(list(col.sketch), dtype=np.float64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1], _rank_error(col.sketch, False), _rank_error(col.sketch, True)


def _numeric_drift(
    test: DriftTest, ref: ColumnProfile, cur: ColumnProfile
) -> tuple[float, float | None, float]:
    """(statistic, p-value, bound) of KS, Wasserstein, PSI or JS on numeric profiles."""
    if test in (DriftTest.JS, DriftTest.PSI):
        stat, bound = _binned(test, ref, cur)
        return stat, None, bound
    u, uw, er, _ = _points(ref)
    v, vw, ec, _ = _points(cur)
    if test is DriftTest.KS:
        d = _ks_statistic(u, uw, v, vw)
        return d, ks_p_value(d, ref.count, cur.count), er + ec
    assert ref.minimum is not None and ref.maximum is not None
    assert cur.minimum is not None and cur.maximum is not None
    norm = max(ref.std, STD_FLOOR)
    bound = (er * (ref.maximum - ref.minimum) + ec * (cur.maximum - cur.minimum)) / norm
    return wasserstein(u, v, uw, vw) / norm, None, bound


def _exact_values(col: ColumnProfile) -> np.ndarray | None:
    """The exact values behind a numeric column when the profile still holds them all."""
    if col.counts is not None:
        keys = np.array(list(col.counts), dtype=np.float64)
        return np.repeat(keys, list(col.counts.values()))
    if col.sketch is not None and not col.sketch.is_estimation_mode():
        return np.array([item for item, _ in col.sketch], dtype=np.float64)
    return None


def _aligned(ref: Mapping[Key, int], cur: Mapping[Key, int]) -> tuple[np.ndarray, np.ndarray]:
    keys = list({**dict.fromkeys(ref), **dict.fromkeys(cur)})
    order = [keys[i] for i in sort_keys(keys)]
    return (
        np.array([ref.get(k, 0) for k in order], dtype=np.int64),
        np.array([cur.get(k, 0) for k in order], dtype=np.int64),
    )


def column_profile_drift(
    column: str,
    ref: ColumnProfile,
    cur: ColumnProfile,
    test: DriftTest | None = None,
    threshold: float | None = None,
) -> DriftResult:
    """``column_drift`` from two column profiles (same defaults and rules)."""
    if ref.kind is not cur.kind:
        raise InvalidInput(
            f"column {column!r} is {ref.kind.value} in the reference, {cur.kind.value} now"
        )
    if ref.count == 0 or cur.count == 0:
        side = "reference" if ref.count == 0 else "current sample"
        raise InvalidInput(f"column {column!r}: the {side} has no finite values")
    both_counted = ref.counts is not None and cur.counts is not None
    unique = len({**(ref.counts or {}), **(cur.counts or {})}) if both_counted else DISCRETE + 1
    chosen, default = (
        default_test(ref.kind, ref.count, unique)
        if test is None
        else (test, default_threshold(test))
    )
    limit = default if threshold is None else float(threshold)
    check_choice(column, ref.kind, chosen, limit)

    if ref.kind is ColumnKind.NUMERIC and ref.count <= EXACT_KS_ROWS and cur.count <= EXACT_KS_ROWS:
        exact_ref, exact_cur = _exact_values(ref), _exact_values(cur)
        if exact_ref is not None and exact_cur is not None:  # same path, same numbers as raw data
            return column_drift(column, exact_ref, exact_cur, ref.kind, chosen, limit)
    bound = 0.0
    numeric_test = chosen in (DriftTest.KS, DriftTest.WASSERSTEIN)
    if both_counted and not numeric_test:
        assert ref.counts is not None and cur.counts is not None
        statistic, p_value = category_statistic(chosen, *_aligned(ref.counts, cur.counts))
    elif chosen not in SKETCH_TESTS:
        raise InvalidInput(
            f"column {column!r}: {chosen.value} needs counts; on a continuous column's profile "
            "use ks, wasserstein, jensenshannon or psi"
        )
    else:
        statistic, p_value, bound = _numeric_drift(chosen, ref, cur)
    return DriftResult(
        column=column,
        kind=ref.kind,
        test=chosen,
        statistic=statistic,
        p_value=p_value,
        threshold=limit,
        drifted=is_drifted(chosen, statistic, p_value, limit),
        sketch_error=bound,
    )


def profile_drift(
    reference: Profile,
    current: Profile,
    overrides: Mapping[str, tuple[DriftTest | None, float | None]] | None = None,
) -> list[DriftResult]:
    """Drift of every reference column from two profiles, in the reference's column order.
    ``overrides`` maps a column to (test, threshold); None in either keeps the default."""
    missing = [name for name in reference.columns if name not in current.columns]
    if missing:
        raise InvalidInput(f"column {missing[0]!r} is not in the current profile")
    chosen = overrides or {}
    unknown = sorted(set(chosen) - set(reference.columns))
    if unknown:
        raise InvalidInput(f"an override names column {unknown[0]!r}, which the reference lacks")
    return [
        column_profile_drift(name, col, current.columns[name], *chosen.get(name, (None, None)))
        for name, col in reference.columns.items()
    ]
