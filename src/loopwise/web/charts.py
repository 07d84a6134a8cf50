"""What every server-drawn SVG chart shares: the chart value a template shows, its size,
tick placement and labels, and the scale from data to pixels. The charts themselves live
with their slices (tracking.charts, planning.charts, registry.charts): no JavaScript, no
external assets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup

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


def plural(count: int, word: str) -> str:
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
    ticks: list[float] = []
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


class Scale:
    """Maps data values to pixels; halves values first so huge ranges do not overflow."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.start, self.end = low, start, end
        self.span = high / 2 - low / 2

    def __call__(self, value: float) -> float:
        if self.span <= 0:
            return (self.start + self.end) / 2
        return self.start + (value / 2 - self.low / 2) / self.span * (self.end - self.start)


def padded(low: float, high: float) -> tuple[float, float]:
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high / 2 - low / 2) * 0.1  # 5% of the range on each side
    lo, hi = low - pad, high + pad
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return low, high
    return lo, hi
