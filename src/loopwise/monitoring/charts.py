"""Monitor charts as inline SVG, built on the server (no JavaScript, no assets): a check's
value per window against its threshold, drawn as a dashed line (a step line when the
threshold changed), windows that breached marked in red; several series share a chart
(realised next to estimated performance). Built on ``web.charts``' ticks and scales;
every piece of user text goes through ``escape``; the page shows the numbers in tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from loopwise.web.charts import Scale, nice_ticks, padded, tick_label

WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 14, 40
MAX_X_LABELS = 5
MARKERS_BELOW = 80


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[datetime, float | None]]
    css: str = "s0"  # colour class: s0 (accent), s1 (orange)


@dataclass(frozen=True)
class TimeChart:
    """One chart, ready for a template."""

    title: str
    svg: Markup | None  # None: nothing to draw yet
    legend: tuple[tuple[str, str], ...]  # (name, css class)
    last: float | None
    threshold: float | None  # the latest threshold
    breached: int  # windows over the line
    windows: int


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _x_label(moment: datetime, hourly: bool) -> str:
    return f"{moment:%b} {moment.day} {moment:%H:%M}" if hourly else f"{moment:%b} {moment.day}"


def time_chart(
    title: str,
    series: Sequence[Series],
    thresholds: Sequence[tuple[datetime, float | None]] = (),
    *,
    breached: Sequence[datetime] = (),
    hourly: bool = False,
    unit: str = "",
    zero: bool = True,
) -> TimeChart:
    """A line per series over the windows, the threshold as a dashed line, breached
    windows as red rings. ``thresholds``: the threshold in force at each window.
    ``zero``: the y axis starts at 0 when no value is negative (shares, statistics,
    latencies); off for values that live far from 0 (performance)."""
    moments = sorted({m for s in series for m, _ in s.points} | {m for m, _ in thresholds})
    values = [v for s in series for _, v in s.points]
    limits = [t for _, t in thresholds]
    found = _finite([*values, *limits])
    latest_threshold = next((t for _, t in reversed(thresholds) if t is not None), None)
    last = (
        next((v for _, v in reversed(series[0].points) if v is not None), None) if series else None
    )
    legend = tuple((s.name, s.css) for s in series)
    if not moments or not _finite(values):
        return TimeChart(title, None, legend, last, latest_threshold, 0, len(moments))
    low, high = padded(min(found), max(found))
    if min(found) >= 0 and (low < 0 or zero):
        low = 0.0
    ticks = nice_ticks(low, high, 5)
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    ys = Scale(low, high, bottom, top)
    first, final = moments[0].timestamp(), moments[-1].timestamp()
    xs = Scale(first, final, left + 8, right - 8)

    def x_of(moment: datetime) -> float:
        return xs(moment.timestamp()) if final > first else (left + right) / 2

    label = f"{title}: {len(moments)} windows"
    if latest_threshold is not None:
        label += f", threshold {tick_label(latest_threshold)}{unit}"
    svg = [
        f'<svg class="chart monitor-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<rect class="plot" x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"/>',
    ]
    for tick in ticks:
        y = ys(tick)
        svg.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(tick_label(tick))}</text>"
        )
    every = max(1, -(-len(moments) // MAX_X_LABELS))
    for i, moment in enumerate(moments):
        if (len(moments) - 1 - i) % every == 0:
            x = x_of(moment)
            # labels at the plot's ends lean inwards, so none is cut off
            anchor = "end" if x > right - 40 else "start" if x < left + 40 else "middle"
            svg.append(
                f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" '
                f'text-anchor="{anchor}">{escape(_x_label(moment, hourly))}</text>'
            )
    svg.append(
        f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>'
        f'<text class="axis-label" x="{right}" y="{HEIGHT - 4}" text-anchor="end">'
        "window start (UTC)</text>"
    )
    # the threshold: a step line through each window's value, extended to the plot edges
    steps = [(m, t) for m, t in thresholds if t is not None and math.isfinite(t)]
    if steps:
        path = [f"M{left},{ys(steps[0][1]):.1f}"]
        for moment, t in steps[1:]:
            path.append(f"H{x_of(moment):.1f} V{ys(t):.1f}")
        path.append(f"H{right}")
        svg.append(
            f'<path class="threshold" d="{" ".join(path)}"><title>threshold</title></path>'
            f'<text class="threshold-label" x="{right - 4}" y="{ys(steps[-1][1]) - 5:.1f}" '
            f'text-anchor="end">threshold {escape(tick_label(steps[-1][1]))}{escape(unit)}'
            "</text>"
        )
    for s in series:
        drawn = [(m, v) for m, v in s.points if v is not None and math.isfinite(v)]
        if not drawn:
            continue
        coords = " ".join(f"{x_of(m):.1f},{ys(v):.1f}" for m, v in drawn)
        svg.append(f'<g class="series {s.css}"><polyline class="line" points="{coords}"/>')
        if len(drawn) <= MARKERS_BELOW:
            for m, v in drawn:
                svg.append(
                    f'<circle class="point" cx="{x_of(m):.1f}" cy="{ys(v):.1f}" r="2.6">'
                    f"<title>{escape(s.name)} {m:%Y-%m-%d %H:%M}: "
                    f"{escape(tick_label(v))}{escape(unit)}</title></circle>"
                )
        svg.append("</g>")
    marks = set(breached)
    first_series = dict(series[0].points) if series else {}
    for m in sorted(marks):
        hit = first_series.get(m)
        if hit is not None and math.isfinite(hit):
            svg.append(
                f'<circle class="breach" cx="{x_of(m):.1f}" cy="{ys(hit):.1f}" r="4.2">'
                f"<title>breached {m:%Y-%m-%d %H:%M}</title></circle>"
            )
    svg.append("</svg>")
    return TimeChart(
        title, Markup("".join(svg)), legend, last, latest_threshold, len(marks), len(moments)
    )
