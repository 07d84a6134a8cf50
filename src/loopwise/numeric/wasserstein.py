"""Exact W1 between two large unweighted samples without sorting them whole.

W1 is the integral of |D| with D = F_u - F_v, the difference of the empirical CDFs. Cut
[min, max] into equal-width bins. Within a bin D moves by +1/n at each u value and -1/m
at each v value, starting from D_before (the counts of the bins below), so it stays in
[D_before - v_count/m, D_before + u_count/n]. Where that interval does not straddle zero
(most bins, whenever D is not near zero there), D keeps one sign in the bin and
|integral of D| = integral of |D|; the integral of D over [e, e + w) needs only the
bin's counts and the sums of (x - e) of its values:

    D_before * w + (u_count * w - sum_u(x - e)) / n - (v_count * w - sum_v(x - e)) / m

The bins where the interval straddles zero (D may change sign) become the segments of
the next level, cut again into finer bins with their values only, each starting from
its own D; after a few levels (or when few values are left) the values still in
straddling bins are sorted and integrated step by step, as the sorted algorithm does
everywhere. The result equals the sorted algorithm's up to rounding (tests compare with
``scipy.stats.wasserstein_distance``). Cost: a few linear passes and bincounts over a
shrinking share of the values, instead of sorting both samples whole.
"""

from __future__ import annotations

import numpy as np

PER_BIN = 16  # values (both sides together) a bin at the first level
PER_SUB_BIN = 4  # at the next levels
LEVELS = 4  # levels of bins before the values left are sorted
SORT_BELOW = 4096  # values left: sort them rather than cut again
SHRINK = 0.75  # a level that leaves more than this share of its values: sort the rest


def binned_w1(u: np.ndarray, v: np.ndarray) -> float | None:
    """W1 of two non-empty finite float64 samples, within rounding of the sorted
    algorithm (a few ulps of max - min); None when binning does not pay (a span that
    overflows, most values in a few bins: ties, far outliers): the caller sorts."""
    n, m = len(u), len(v)
    lo = min(float(u.min()), float(v.min()))
    hi = max(float(u.max()), float(v.max()))
    if lo == hi:
        return 0.0
    if not np.isfinite(hi - lo):
        return None
    seg_lo, seg_hi, seg_d = np.array([lo]), np.array([hi]), np.array([0.0])
    gu, gv = np.zeros(n, dtype=np.intp), np.zeros(m, dtype=np.intp)
    k = max((n + m) // PER_BIN, 2)
    total = 0.0
    for level in range(LEVELS):
        if len(u) + len(v) <= SORT_BELOW:
            break
        cut = _cut(seg_lo, seg_hi, k)
        if cut is None:
            if level == 0:
                return None
            break
        lower, upper = cut
        (bu, pu), (bv, pv) = _bin_of(u, gu, seg_lo, seg_hi, k), _bin_of(v, gv, seg_lo, seg_hi, k)
        bins = len(lower)
        w = upper - lower
        cu, cv = np.bincount(bu, minlength=bins), np.bincount(bv, minlength=bins)
        tu = np.bincount(bu, weights=pu, minlength=bins) * w  # sums of (x - lower)
        tv = np.bincount(bv, weights=pv, minlength=bins) * w
        del pu, pv
        below_u, below_v = np.cumsum(cu) - cu, np.cumsum(cv) - cv
        if len(seg_lo) == 1:
            before = seg_d[0] + (below_u / n - below_v / m)
        else:
            seg = np.arange(bins) // k
            first = seg * k  # the first bin of each bin's segment
            before = seg_d[seg] + (below_u - below_u[first]) / n - (below_v - below_v[first]) / m
        straddles = (before - cv / m < 0) & (before + cu / n > 0)
        one = ~straddles
        integral = before[one] * w[one]
        integral += (cu[one] * w[one] - tu[one]) / n
        integral -= (cv[one] * w[one] - tv[one]) / m
        total += float(np.sum(np.abs(integral)))
        if not straddles.any():
            return total
        # the straddling bins are the next level's segments, with their values only
        keep_u, keep_v = straddles[bu], straddles[bv]
        left = int(keep_u.sum()) + int(keep_v.sum())
        if left > SHRINK * (len(u) + len(v)) and level == 0:
            return None  # ties or far outliers: sorting the samples whole is cheaper
        renumber = np.cumsum(straddles) - 1
        u, gu = u[keep_u], renumber[bu[keep_u]]
        v, gv = v[keep_v], renumber[bv[keep_v]]
        seg_lo, seg_hi, seg_d = lower[straddles], upper[straddles], before[straddles]
        if left > SHRINK * len(bu) + SHRINK * len(bv):
            break  # cutting again would not pay
        k = int(np.clip(left // (len(seg_lo) * PER_SUB_BIN), 2, 64))
    return total + _sorted(u, gu, v, gv, seg_lo, seg_hi, seg_d, n, m)


def _cut(seg_lo: np.ndarray, seg_hi: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Lower and upper edges of ``k`` equal bins in each segment (segment s's bins are
    s*k .. s*k + k - 1; the last ends at the segment's end); None when a segment is too
    narrow to cut (ties)."""
    width = (seg_hi - seg_lo) / k
    lower = (seg_lo[:, None] + np.arange(k) * width[:, None]).ravel()
    upper = np.empty_like(lower)
    upper[:-1] = lower[1:]
    upper[k - 1 :: k] = seg_hi
    if not np.all(upper > lower):
        return None
    return lower, upper


def _bin_of(
    x: np.ndarray, g: np.ndarray, seg_lo: np.ndarray, seg_hi: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The bin of each value within its segment ``g``, and where the value lies in it
    (in bin widths, 0 to 1): with p = (x - lo) * k / (hi - lo), the bin is k * g +
    floor(p) (clipped to the segment) and the offset p - floor(p). Monotone in x (every
    step rounds monotonically), so each bin holds a range of values; a value within
    rounding of an edge may fall on its other side, which moves the integral by a few
    ulps of the range times 1/n."""
    if len(seg_lo) == 1:  # the first level: one segment, scalars
        p = x - float(seg_lo[0])
        p *= k / (float(seg_hi[0]) - float(seg_lo[0]))
    else:
        p = x - seg_lo[g]
        p *= (k / (seg_hi - seg_lo))[g]
    j = p.astype(np.intp)
    np.clip(j, 0, k - 1, out=j)
    p -= j
    if len(seg_lo) > 1:
        j += g * k
    return j, p


def _sorted(
    u: np.ndarray,
    gu: np.ndarray,
    v: np.ndarray,
    gv: np.ndarray,
    seg_lo: np.ndarray,
    seg_hi: np.ndarray,
    seg_d: np.ndarray,
    n: int,
    m: int,
) -> float:
    """The integral of |D| over the segments left, from their values sorted and merged:
    D after each value times the gap to the next value (or the segment's end), and D at
    the segment's start up to its first value."""
    if len(u) + len(v) == 0:
        return 0.0
    # a segment is a range of values, so sorting the values and sorting their segment
    # numbers gives the same order
    su, sv = np.sort(u), np.sort(v)
    both = np.concatenate([su, sv])
    order = np.argsort(both, kind="stable")  # timsort: merges the two sorted runs
    points = both[order]
    segs = np.concatenate([np.sort(gu), np.sort(gv)])[order]
    count_u = np.bincount(gu, minlength=len(seg_lo))
    count_v = np.bincount(gv, minlength=len(seg_lo))
    start_u, start_v = np.cumsum(count_u) - count_u, np.cumsum(count_v) - count_v
    run_u = np.cumsum(order < len(su))
    run_v = np.arange(1, len(points) + 1) - run_u
    d = seg_d[segs] + (run_u - start_u[segs]) / n - (run_v - start_v[segs]) / m
    same = np.zeros(len(points), dtype=bool)
    same[:-1] = segs[1:] == segs[:-1]
    following = np.where(same, np.r_[points[1:], 0.0], seg_hi[segs])
    total = float(np.dot(np.abs(d), following - points))
    first = np.ones(len(points), dtype=bool)
    first[1:] = ~same[:-1]
    fs = segs[first]
    return total + float(np.dot(np.abs(seg_d[fs]), points[first] - seg_lo[fs]))
