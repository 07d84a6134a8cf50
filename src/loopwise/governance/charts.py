"""Feature importances as a server-drawn horizontal bar chart (inline SVG): one bar per
feature, most important at the top, with a whisker of ± one standard deviation. Every
piece of user text goes through ``escape``."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from loopwise.governance.models import FeatureImportance
from loopwise.web.charts import Scale, nice_ticks, tick_label

WIDTH = 720
LABEL_W = 210  # room for the feature names, left of the plot
RIGHT, TOP, BOTTOM = 64, 10, 36
ROW_H = 20
LABEL_CHARS = 30


def _clip(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def importance_bars(
    features: Sequence[FeatureImportance], *, measure: str, width: int = WIDTH
) -> Markup:
    """Bars in the given order (rank them first); the axis spans zero and every whisker,
    so a negative importance (the feature's shuffle helped the score) shows left of zero."""
    height = TOP + max(len(features), 1) * ROW_H + BOTTOM
    label = f"{measure} of {len(features)} features, largest first"
    svg = [
        f'<svg class="chart importances" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    left, right, bottom = LABEL_W, width - RIGHT, height - BOTTOM
    svg.append(
        f'<rect class="plot" x="{left}" y="{TOP}" width="{right - left}" height="{bottom - TOP}"/>'
    )
    low = min([0.0, *(f.mean - f.std for f in features)])
    high = max([0.0, *(f.mean + f.std for f in features)])
    if high == low:
        high = low + 1.0
    ticks = nice_ticks(low, high, 5)
    if ticks:
        low, high = min(low, ticks[0]), max(high, ticks[-1])
    x_of = Scale(low, high, left, right)
    for tick in ticks:
        x = x_of(tick)
        svg.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 15}" text-anchor="middle">'
            f"{escape(tick_label(tick))}</text>"
        )
    zero = x_of(0.0)
    for i, f in enumerate(features):
        y = TOP + i * ROW_H
        middle = y + ROW_H / 2
        x1, x2 = sorted((zero, x_of(f.mean)))
        lo, hi = x_of(f.mean - f.std), x_of(f.mean + f.std)
        tip = f"{f.feature}: {f.mean:.4g} ± {f.std:.4g}"
        svg.append(
            f'<g class="feature"><title>{escape(tip)}</title>'
            f'<text class="tick" x="{left - 6}" y="{middle + 4:.1f}" text-anchor="end">'
            f"{escape(_clip(f.feature))}</text>"
            f'<rect class="bar{" negative" if f.mean < 0 else ""}" x="{x1:.1f}" '
            f'y="{y + 3:.1f}" width="{max(x2 - x1, 0.5):.1f}" height="{ROW_H - 6}"/>'
        )
        if f.std > 0:
            svg.append(
                f'<path class="whisker" d="M{lo:.1f},{middle:.1f} H{hi:.1f} '
                f"M{lo:.1f},{middle - 4:.1f} V{middle + 4:.1f} "
                f'M{hi:.1f},{middle - 4:.1f} V{middle + 4:.1f}"/>'
            )
        svg.append(
            f'<text class="value" x="{max(hi, x2) + 4:.1f}" y="{middle + 4:.1f}">'
            f"{escape(f'{f.mean:.3g}')}</text></g>"
        )
    svg.append(
        f'<line class="axis" x1="{zero:.1f}" x2="{zero:.1f}" y1="{TOP}" y2="{bottom}"/>'
        f'<text class="axis-label" x="{right}" y="{height - 4}" text-anchor="end">'
        f"{escape(measure)} (whiskers: ± 1 sd)</text></svg>"
    )
    return Markup("".join(svg))
