"""Run charts drawn from database-side buckets (``tracking.series.Chart``) as inline SVG.

- ``bucket_chart``: one metric of one run. Exact series draw as a line through every
  point; downsampled ones as a min-max band (so a one-step spike stays visible) with a
  mid line through each bucket's centre.
- ``overlay_chart``: one metric of several runs, each in its own colour (and dash
  pattern past ten runs), the legend left to the template.
- ``parallel_coordinates``: one vertical axis per numeric param plus one metric, a
  polyline per run coloured by that metric.

NaN points never reach the buckets (the database skips them; the chart counts them);
infinite values are clipped to the plot edge. Both are noted under the chart. Every piece
of user text goes through ``escape``; charts carry a ``<title>`` and an ``aria-label``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from loopwise.tracking.series import Bucket
from loopwise.tracking.series import Chart as Series
from loopwise.web.charts import HEIGHT, WIDTH, Chart, Scale, nice_ticks, padded, plural, tick_label

LEFT, RIGHT, TOP, BOTTOM = 60, 16, 14, 42
MARKERS_BELOW = 60
# Okabe-Ito and Tableau hues, ordered so neighbours differ in lightness as well as hue.
PALETTE = (
    "#2f5fb3",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#8a6d00",
    "#56b4e9",
    "#b42318",
    "#6b3fa0",
    "#59636e",
    "#1a7f37",
)
DASHES = ("", "7 4", "2 3")


@dataclass(frozen=True)
class Style:
    """How one run is drawn in overlays: a colour and, past ten runs, a dash pattern."""

    colour: str
    dash: str = ""


def run_style(index: int) -> Style:
    return Style(PALETTE[index % len(PALETTE)], DASHES[(index // len(PALETTE)) % len(DASHES)])


def _finite(buckets: Sequence[Bucket]) -> list[float]:
    return [v for b in buckets for v in (b.min, b.max) if math.isfinite(v)]


def _by_index(series: Series) -> bool:
    """Exact series logged many times at one step are drawn by point number."""
    b = series.buckets
    return series.exact and len(b) > 1 and b[0].step_min == b[-1].step_max


def _xs(series: Series) -> list[float]:
    if _by_index(series):
        return [float(i) for i in range(len(series.buckets))]
    return [(b.step_min + b.step_max) / 2 for b in series.buckets]


def _x_range(series: Series, xs: Sequence[float]) -> tuple[float, float]:
    """The x axis spans every step drawn, not just the bucket centres."""
    if _by_index(series):
        return xs[0], xs[-1]
    return float(series.buckets[0].step_min), float(series.buckets[-1].step_max)


def _infinity_notes(series: Series) -> list[str]:
    if series.exact:
        pos = sum(1 for b in series.buckets if b.max == math.inf)
        neg = sum(1 for b in series.buckets if b.min == -math.inf)
        if not pos and not neg:
            return []
        parts = [f"{pos:,} at +∞" if pos else "", f"{neg:,} at −∞" if neg else ""]
        return [
            f"{plural(pos + neg, 'infinite point')} clipped to the plot edge "
            f"({', '.join(p for p in parts if p)})"
        ]
    hit = sum(1 for b in series.buckets if math.isinf(b.min) or math.isinf(b.max))
    if not hit:
        return []
    return [f"{plural(hit, 'bucket')} with infinite values clipped to the plot edge"]


def _pts(coords: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)


@dataclass
class _Frame:
    """Plot area, scales and the SVG parts drawn so far (grid, ticks, axes)."""

    width: int
    height: int
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    x_label: str
    parts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.left, self.right = LEFT, self.width - RIGHT
        self.top, self.bottom = TOP, self.height - BOTTOM
        self.sx = Scale(self.x_lo, self.x_hi, self.left, self.right)
        self.sy = Scale(self.y_lo, self.y_hi, self.bottom, self.top)

    def y(self, value: float) -> float:
        return self.sy(min(max(value, self.y_lo), self.y_hi))  # infinities on the edge

    def open(self, label: str, aria: str, cls: str = "chart") -> None:
        w, h = self.width, self.height
        self.parts += [
            f'<svg class="{cls}" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(aria)}" '
            f'xmlns="http://www.w3.org/2000/svg">',
            f"<title>{escape(label)}</title>",
            f'<rect class="plot" x="{self.left}" y="{self.top}" '
            f'width="{self.right - self.left}" height="{self.bottom - self.top}"/>',
        ]
        for tick in nice_ticks(self.y_lo, self.y_hi, 5):
            y = self.sy(tick)
            self.parts.append(
                f'<line class="grid" x1="{self.left}" x2="{self.right}" y1="{y:.1f}" '
                f'y2="{y:.1f}"/><text class="tick" x="{self.left - 6}" y="{y + 4:.1f}" '
                f'text-anchor="end">{escape(tick_label(tick))}</text>'
            )
        for tick in nice_ticks(self.x_lo, self.x_hi, 6, integer=True) or [self.x_lo]:
            x = self.sx(tick)
            self.parts.append(
                f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{self.bottom}" '
                f'y2="{self.bottom + 4}"/><text class="tick" x="{x:.1f}" '
                f'y="{self.bottom + 17}" text-anchor="middle">'
                f"{escape(tick_label(tick, integer=True))}</text>"
            )
        self.parts.append(
            f'<line class="axis" x1="{self.left}" x2="{self.right}" y1="{self.bottom}" '
            f'y2="{self.bottom}"/><line class="axis" x1="{self.left}" x2="{self.left}" '
            f'y1="{self.top}" y2="{self.bottom}"/><text class="axis-label" x="{self.right}" '
            f'y="{self.height - 6}" text-anchor="end">{self.x_label}</text>'
        )

    def series(self, series: Series, xs: Sequence[float], style: Style | None = None) -> None:
        """Draw one series: a line through exact points, or band plus mid line."""
        # Colours come from the stylesheet (the overlay sets --run on each run's group):
        # CSS rules would override presentation attributes anyway.
        dash = f' stroke-dasharray="{style.dash}"' if style and style.dash else ""
        buckets = series.buckets
        sx = self.sx
        if series.exact:
            coords = [(sx(x), self.y(b.min)) for x, b in zip(xs, buckets, strict=True)]
            if len(coords) == 1:
                x, y = coords[0]
                self.parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>')
            else:
                self.parts.append(f'<polyline class="line"{dash} points="{_pts(coords)}"/>')
                if style is None and len(coords) <= MARKERS_BELOW:
                    self.parts.extend(
                        f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>'
                        for x, y in coords
                    )
            clipped = [c for c, b in zip(coords, buckets, strict=True) if math.isinf(b.min)]
            self.parts.extend(
                f'<circle class="clipped" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>infinite '
                f"value, clipped</title></circle>"
                for x, y in clipped[:MARKERS_BELOW]
            )
            return
        upper = [(sx(x), self.y(b.max)) for x, b in zip(xs, buckets, strict=True)]
        lower = [(sx(x), self.y(b.min)) for x, b in zip(xs, buckets, strict=True)]
        if len(upper) == 1:  # every point at one step: a vertical min-max line
            (x, top), (_x, bottom) = upper[0], lower[0]
            upper, lower = [(x - 1.5, top), (x + 1.5, top)], [(x - 1.5, bottom), (x + 1.5, bottom)]
        mid = [(x, (a + b) / 2) for (x, a), (_x, b) in zip(upper, lower, strict=True)]
        self.parts.append(
            f'<polygon class="range" points="{_pts(upper + lower[::-1])}"/>'
            f'<polyline class="line mid"{dash} points="{_pts(mid)}"/>'
        )

    def close(self) -> Markup:
        return Markup("".join([*self.parts, "</svg>"]))


def bucket_chart(
    series: Series,
    *,
    last: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """One run's metric chart from its buckets (``last``: the run's latest value)."""
    by_index = _by_index(series)
    x_label = "point #" if by_index else "step"
    notes: list[str] = []
    if series.nan_count:
        notes.append(f"{plural(series.nan_count, 'NaN point')} skipped")
    notes += _infinity_notes(series)
    finite = _finite(series.buckets)
    if not finite:
        notes.append("no finite values to draw" if series.total else "no points logged")
        return Chart(series.key, None, series.total, 0, None, None, last, x_label, tuple(notes))
    if not series.exact:
        drawn = series.total - series.nan_count
        notes.append(
            f"{drawn:,} points drawn as {plural(len(series.buckets), 'bucket')} "
            "(min and max kept per bucket)"
        )
    y_min, y_max = min(finite), max(finite)
    xs = _xs(series)
    frame = _Frame(width, height, *_x_range(series, xs), *padded(y_min, y_max), x_label)
    kind = "line chart" if series.exact else "min-max band chart"
    frame.open(
        series.key,
        f"{series.key}: {kind} of {series.total - series.nan_count:,} points by {x_label}",
    )
    frame.series(series, xs)
    return Chart(
        key=series.key,
        svg=frame.close(),
        total=series.total,
        drawn=len(series.buckets),
        minimum=y_min,
        maximum=y_max,
        last=last,
        x_label=x_label,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class Line:
    """One run in an overlay chart."""

    run_id: str
    label: str
    style: Style
    series: Series


@dataclass(frozen=True)
class Overlay:
    key: str
    svg: Markup | None
    lines: tuple[Line, ...]
    notes: tuple[str, ...] = ()


def overlay_chart(
    key: str, lines: Sequence[Line], *, width: int = WIDTH, height: int = HEIGHT
) -> Overlay:
    """One metric of several runs on shared axes, drawn in list order."""
    notes: list[str] = []
    drawable = []
    for line in lines:
        s = line.series
        if s.nan_count:
            notes.append(f"{line.label}: {plural(s.nan_count, 'NaN point')} skipped")
        notes += [f"{line.label}: {n}" for n in _infinity_notes(s)]
        if _finite(s.buckets):
            drawable.append(line)
        else:
            notes.append(f"{line.label}: no finite values to draw")
    if any(not line.series.exact for line in drawable):
        notes.append("long series drawn as min-max bands with a mid line")
    if not drawable:
        return Overlay(key, None, tuple(lines), tuple(notes))
    by_index = all(_by_index(line.series) for line in drawable)
    xs = {line.run_id: _xs(line.series) for line in drawable}
    finite = [v for line in drawable for v in _finite(line.series.buckets)]
    ranges = [_x_range(line.series, xs[line.run_id]) for line in drawable]
    x_lo, x_hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    frame = _Frame(
        width, height, x_lo, x_hi, *padded(min(finite), max(finite)),
        "point #" if by_index else "step",
    )  # fmt: skip
    frame.open(key, f"{key}: {len(drawable)} runs overlaid")
    for line in drawable:
        frame.parts.append(
            f'<g class="run" data-run="{escape(line.run_id)}" style="--run:{line.style.colour}">'
            f"<title>{escape(line.label)}</title>"
        )
        frame.series(line.series, xs[line.run_id], line.style)
        frame.parts.append("</g>")
    return Overlay(key, frame.close(), tuple(lines), tuple(notes))


# --- parallel coordinates --------------------------------------------------------------

PC_WIDTH, PC_HEIGHT = 1000, 380
PC_LEFT, PC_RIGHT, PC_TOP, PC_BOTTOM = 50, 190, 54, 30
# A sequential ramp (low -> high), readable on white at both ends.
RAMP = ((0.0, (68, 1, 84)), (0.35, (49, 104, 142)), (0.65, (53, 183, 121)), (1.0, (222, 170, 0)))
MISSING = "#b3bac1"


def ramp(t: float) -> str:
    """The ramp's colour at ``t`` in [0, 1], as #rrggbb."""
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in zip(RAMP, RAMP[1:], strict=False):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            rgb = (round(a + (b - a) * f) for a, b in zip(c0, c1, strict=True))
            return "#" + "".join(f"{v:02x}" for v in rgb)
    return "#" + "".join(f"{v:02x}" for v in RAMP[-1][1])  # pragma: no cover


@dataclass(frozen=True)
class Axis:
    key: str
    values: Mapping[str, float]  # run id -> value (missing runs have none)
    is_metric: bool = False

    @property
    def log(self) -> bool:
        """Log scale for positive values spanning two or more decades (learning rates)."""
        vs = list(self.values.values())
        return bool(vs) and min(vs) > 0 and max(vs) / min(vs) >= 100

    def position(self, value: float) -> float:
        """0 (bottom) .. 1 (top) on this axis."""
        vs = list(self.values.values())
        lo, hi = min(vs), max(vs)
        if self.log:
            lo, hi, value = math.log10(lo), math.log10(hi), math.log10(value)
        if hi == lo:
            return 0.5
        return (value / 2 - lo / 2) / (hi / 2 - lo / 2)


def numeric_values(values: Mapping[str, str]) -> dict[str, float] | None:
    """Run id -> float when every given value is a finite number, else None."""
    out = {}
    for run_id, text in values.items():
        try:
            number = float(text)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        out[run_id] = number
    return out


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _spread(ys: list[float], gap: float, top: float, bottom: float) -> list[float]:
    """Move label positions apart by at least ``gap``, keeping their order and range."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [0.0] * len(ys)
    previous = top - gap
    for i in order:
        placed[i] = max(ys[i], previous + gap)
        previous = placed[i]
    overflow = previous - bottom
    if overflow > 0:  # shift the bottom of the stack up, as far as the top allows
        for i in reversed(order):
            limit = top + gap * order.index(i)
            placed[i] = max(placed[i] - overflow, limit)
    return placed


def parallel_coordinates(
    axes: Sequence[Axis], runs: Sequence[tuple[str, str]], *, metric: Axis
) -> Markup:
    """Axes left to right (the metric last), one polyline per ``(run id, name)``.

    Lines take the metric's colour ramp (grey when the run has no value for it); a run
    missing a param breaks its line at that axis.
    """
    every = [*axes, metric]
    width, height = PC_WIDTH, PC_HEIGHT
    left, right = PC_LEFT, width - PC_RIGHT
    top, bottom = PC_TOP, height - PC_BOTTOM
    step = (right - left) / max(len(every) - 1, 1)
    xs = [left + i * step for i in range(len(every))] if len(every) > 1 else [(left + right) / 2]

    def y_of(axis: Axis, value: float) -> float:
        return bottom - axis.position(value) * (bottom - top)

    parts = [
        f'<svg class="chart parallel" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(f"Parallel coordinates: {len(axes)} params against {metric.key}")}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(f'Params against {metric.key}')}</title>",
        '<defs><linearGradient id="pc-ramp" x1="0" y1="1" x2="0" y2="0">',
        *(f'<stop offset="{t}" stop-color="{ramp(t)}"/>' for t, _c in RAMP),
        "</linearGradient></defs>",
    ]
    for axis, x in zip(every, xs, strict=True):
        cls = "pc-axis metric" if axis.is_metric else "pc-axis"
        parts.append(
            f'<g class="{cls}" data-axis="{escape(axis.key)}">'
            f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}"/>'
            f'<text class="pc-label" x="{x:.1f}" y="{top - 26}" text-anchor="middle">'
            f"<title>{escape(axis.key)}</title>{escape(_short(axis.key))}</text>"
        )
        vs = list(axis.values.values())
        if vs:
            lo, hi = min(vs), max(vs)
            scale = " (log)" if axis.log else ""
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{top - 10}" text-anchor="middle">'
                f"{escape(tick_label(hi))}{scale}</text>"
            )
            if hi != lo:
                parts.append(
                    f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
                    f"{escape(tick_label(lo))}</text>"
                )
        parts.append("</g>")
    mvals = list(metric.values.values())
    m_lo, m_hi = (min(mvals), max(mvals)) if mvals else (0.0, 0.0)
    label_ys: list[float] = []
    labelled: list[tuple[str, str, str]] = []
    for run_id, name in runs:
        value = metric.values.get(run_id)
        colour = MISSING if value is None else ramp(metric.position(value) if m_hi > m_lo else 0.5)
        segments: list[list[tuple[float, float]]] = [[]]
        for axis, x in zip(every, xs, strict=True):
            v = axis.values.get(run_id)
            if v is None:
                segments.append([])
            else:
                segments[-1].append((x, y_of(axis, v)))
        path = " ".join(
            "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in seg) for seg in segments if seg
        )
        dots = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6"/>' for seg in segments for x, y in seg
        )
        described = ", ".join(
            f"{a.key}={tick_label(a.values[run_id])}" for a in every if run_id in a.values
        )
        missing = "" if value is not None else " missing"
        parts.append(
            f'<g class="pc-run{missing}" data-run="{escape(run_id)}" stroke="{colour}" '
            f'fill="{colour}"><title>{escape(name)}: {escape(described)}</title>'
            f'<path d="{path}"/>{dots}</g>'
        )
        if value is not None:
            label_ys.append(y_of(metric, value))
            labelled.append((run_id, name, colour))
    for (_run_id, name, colour), y in zip(
        labelled, _spread(label_ys, 13, top, bottom), strict=True
    ):
        parts.append(
            f'<text class="pc-name" x="{xs[-1] + 10:.1f}" y="{y + 4:.1f}" fill="{colour}">'
            f"{escape(_short(name, 22))}</text>"
        )
    # the colour key for the metric
    key_x = width - 26
    parts.append(
        f'<rect class="pc-key" x="{key_x}" y="{top}" width="12" height="{bottom - top}" '
        f'fill="url(#pc-ramp)"/>'
        f'<text class="tick" x="{key_x + 6}" y="{top - 10}" text-anchor="middle">'
        f"{escape(tick_label(m_hi))}</text>"
        f'<text class="tick" x="{key_x + 6}" y="{bottom + 16}" text-anchor="middle">'
        f"{escape(tick_label(m_lo))}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))
