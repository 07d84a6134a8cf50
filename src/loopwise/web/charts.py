"""Metric charts as inline SVG, built on the server: no JavaScript, no external assets.

``metric_chart`` turns one metric series into a line chart with axes and a few tick
labels. Long series are downsampled to at most ``max_points`` drawn points by cutting the
x range into buckets and keeping each bucket's lowest and highest point, so a one-step
spike in a million points still shows. NaN points are skipped; infinities are drawn at
the edge of the plot (clipped). Both are counted in ``Chart.notes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from loopwise.tracking.models import MetricPoint

WIDTH = 560
HEIGHT = 250
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 14, 42
MAX_POINTS = 1000
MARKERS_BELOW = 60  # draw a dot per point when there are this few


@dataclass(frozen=True)
class Chart:
    """One metric's chart, ready for a template (``svg`` is safe markup or None)."""

    key: str
    svg: Markup | None
    total: int
    drawn: int
    minimum: float | None
    maximum: float | None
    last: float | None
    x_label: str
    notes: tuple[str, ...] = field(default=())


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """About ``count`` round tick values within [low, high] (steps of 1, 2 or 5 x 10^n)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        return []
    if high == low:
        return [low]
    raw = (high / 2 - low / 2) * 2 / max(count - 1, 1)
    if not math.isfinite(raw) or raw <= 0:
        return [low, high]
    magnitude = 10 ** math.floor(math.log10(raw))
    normal = raw / magnitude  # in [1, 10): round to the nearest of 1, 2, 5, 10
    step = magnitude * (1 if normal < 1.5 else 2 if normal < 3 else 5 if normal < 7 else 10)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value = first + len(ticks) * step
    return ticks


def tick_label(value: float, *, integer: bool = False) -> str:
    if integer and abs(value) < 1e15:
        number = int(round(value))
        return f"{number / 1e6:g}M" if abs(number) >= 1_000_000 else f"{number:,}"
    return f"{value:.4g}"


def downsample(xs: Sequence[float], ys: Sequence[float], max_points: int) -> list[int]:
    """Indexes of the points to draw: all of them, or each x-bucket's min and max.

    ``xs`` must be sorted. At most ``max_points`` indexes come back, in x order.
    """
    n = len(xs)
    if n <= max_points:
        return list(range(n))
    buckets = max(1, max_points // 2)
    x0, span = xs[0], xs[-1] - xs[0]
    keep: list[int] = []
    current = -1
    low = high = 0
    for i in range(n):
        bucket = (
            min(buckets - 1, int((xs[i] - x0) / span * buckets)) if span > 0 else i * buckets // n
        )
        if bucket != current:
            if current >= 0:
                keep.extend(sorted({low, high}))
            current, low, high = bucket, i, i
        else:
            if ys[i] < ys[low]:
                low = i
            if ys[i] > ys[high]:
                high = i
    keep.extend(sorted({low, high}))
    return keep


class _Scale:
    """Maps data values to pixels; halves values first so huge ranges do not overflow."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.start, self.end = low, start, end
        self.span = high / 2 - low / 2

    def __call__(self, value: float) -> float:
        if self.span <= 0:
            return (self.start + self.end) / 2
        return self.start + (value / 2 - self.low / 2) / self.span * (self.end - self.start)


def _padded(low: float, high: float) -> tuple[float, float]:
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high / 2 - low / 2) * 0.1  # 5% of the range on each side
    lo, hi = low - pad, high + pad
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return low, high
    return lo, hi


def metric_chart(
    key: str,
    points: Sequence[MetricPoint],
    *,
    max_points: int = MAX_POINTS,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Build the chart of one metric series (points ordered by step, as stored)."""
    total = len(points)
    distinct_steps = len({p.step for p in points})
    by_index = total > 1 and distinct_steps == 1
    x_label = "point #" if by_index else "step"
    nan_count = sum(1 for p in points if math.isnan(p.value))
    usable = [
        (float(i) if by_index else float(p.step), p.value)
        for i, p in enumerate(points)
        if not math.isnan(p.value)
    ]
    finite = [y for _x, y in usable if math.isfinite(y)]
    pos_inf = sum(1 for _x, y in usable if y == math.inf)
    neg_inf = sum(1 for _x, y in usable if y == -math.inf)
    notes: list[str] = []
    if nan_count:
        notes.append(f"{_plural(nan_count, 'NaN point')} skipped")
    if pos_inf or neg_inf:
        parts = [f"{pos_inf:,} at +∞" if pos_inf else "", f"{neg_inf:,} at −∞" if neg_inf else ""]
        notes.append(
            f"{_plural(pos_inf + neg_inf, 'infinite point')} clipped to the plot edge "
            f"({', '.join(p for p in parts if p)})"
        )
    last = points[-1].value if points else None
    if not finite:
        notes.append("no finite values to draw" if total else "no points logged")
        return Chart(key, None, total, 0, None, None, last, x_label, tuple(notes))

    y_min, y_max = min(finite), max(finite)
    lo, hi = _padded(y_min, y_max)
    ys = [min(max(y, lo), hi) for _x, y in usable]  # infinities sit on the edge
    xs = [x for x, _y in usable]
    keep = downsample(xs, ys, max_points)
    if len(keep) < len(usable):
        notes.append(f"{len(usable):,} points drawn as {len(keep):,} (min and max kept per bucket)")

    plot_left, plot_right = LEFT, width - RIGHT
    plot_top, plot_bottom = TOP, height - BOTTOM
    sx = _Scale(xs[0], xs[-1], plot_left, plot_right)
    sy = _Scale(lo, hi, plot_bottom, plot_top)
    coords = [(sx(xs[i]), sy(ys[i])) for i in keep]

    label = escape(key)
    svg: list[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{label}: line chart of {len(usable):,} points by {x_label}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{label}</title>",
        f'<rect class="plot" x="{plot_left}" y="{plot_top}" '
        f'width="{plot_right - plot_left}" height="{plot_bottom - plot_top}"/>',
    ]
    for tick in nice_ticks(lo, hi, 5):
        y = sy(tick)
        svg.append(
            f'<line class="grid" x1="{plot_left}" x2="{plot_right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{plot_left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(tick_label(tick))}</text>"
        )
    x_ticks = nice_ticks(xs[0], xs[-1], 6, integer=True) or [xs[0]]
    for tick in x_ticks:
        x = sx(tick)
        svg.append(
            f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{plot_bottom}" '
            f'y2="{plot_bottom + 4}"/>'
            f'<text class="tick" x="{x:.1f}" y="{plot_bottom + 17}" text-anchor="middle">'
            f"{escape(tick_label(tick, integer=True))}</text>"
        )
    svg.append(
        f'<line class="axis" x1="{plot_left}" x2="{plot_right}" '
        f'y1="{plot_bottom}" y2="{plot_bottom}"/>'
        f'<line class="axis" x1="{plot_left}" x2="{plot_left}" '
        f'y1="{plot_top}" y2="{plot_bottom}"/>'
        f'<text class="axis-label" x="{plot_right}" y="{height - 6}" text-anchor="end">'
        f"{x_label}</text>"
    )
    if len(coords) == 1:
        x, y = coords[0]
        svg.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>')
    else:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        svg.append(f'<polyline class="line" points="{path}"/>')
        if len(coords) <= MARKERS_BELOW:
            svg.extend(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>' for x, y in coords
            )
    clipped = [(x, y) for i, (x, y) in zip(keep, coords, strict=True) if math.isinf(usable[i][1])]
    svg.extend(
        f'<circle class="clipped" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>infinite value, '
        f"clipped</title></circle>"
        for x, y in clipped[:MARKERS_BELOW]
    )
    svg.append("</svg>")
    return Chart(
        key=key,
        svg=Markup("".join(svg)),
        total=total,
        drawn=len(coords),
        minimum=y_min,
        maximum=y_max,
        last=last,
        x_label=x_label,
        notes=tuple(notes),
    )
