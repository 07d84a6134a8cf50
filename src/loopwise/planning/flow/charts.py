"""Flow and forecast pictures as inline SVG, built on the server (no JavaScript, no assets).

- ``cumulative_flow``: the stacked-area cumulative flow diagram, finished columns at the
  bottom and the backlog on top, with a legend for the template;
- ``cycle_time_scatter``: one dot per finished item (x: finish day, y: cycle time), with
  labelled horizontal lines at the 50th, 85th and 95th percentiles;
- ``throughput_bars``: items finished per week;
- ``aging_chart``: age of each started, unfinished item by column, the 85th-percentile
  cycle time as a line, items over it and hypotheses past their time-box marked;
- ``histogram``: a Monte Carlo outcome distribution with percentile markers and an
  optional target (a milestone's date).

Every piece of user text goes through ``escape``; charts carry a ``<title>`` and an
``aria-label`` and the pages show the same numbers in tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

from loopwise.numeric.flow import CumulativeFlow
from loopwise.planning.board.models import Column, ColumnCategory
from loopwise.planning.flow.service import AgingItem, ItemTimes
from loopwise.planning.items.models import ItemKind
from loopwise.web.charts import nice_ticks, plural, tick_label

WIDTH, HEIGHT = 720, 300
LEFT, TOP, BOTTOM = 48, 14, 42
RIGHT = 16
MAX_CFD_POINTS = 400  # days drawn per band; longer windows are sampled evenly
MAX_BINS = 80
LABELLED_DOTS = 40  # aging chart: item keys written next to the dots up to this many

# Band colours by column category; each category's columns take successive shades.
SHADES = {
    ColumnCategory.KILLED: ("#9aa1a9", "#b9bec4"),
    ColumnCategory.DONE: ("#2e8b57", "#5fb07f", "#8fcaa5"),
    ColumnCategory.STARTED: ("#2f5fb3", "#6f95d8", "#a3bde8", "#c9d8f2"),
    ColumnCategory.TODO: ("#d39b2a", "#e8c170", "#f3dca8", "#f7ead0"),
}


@dataclass(frozen=True)
class LegendEntry:
    name: str
    colour: str
    count: int  # items in the column on the last day


@dataclass(frozen=True)
class FlowChart:
    svg: Markup
    legend: tuple[LegendEntry, ...] = ()


def _open(width: int, height: int, cls: str, label: str) -> list[str]:
    return [
        f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]


def _plot(left: float, top: float, right: float, bottom: float) -> str:
    return (
        f'<rect class="plot" x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"/>'
    )


def _y_grid(
    svg: list[str], high: float, left: float, right: float, y_of: Callable[[float], float]
) -> None:
    for tick in nice_ticks(0, high, 5, integer=True):
        y = y_of(tick)
        svg.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(tick_label(tick, integer=True))}</text>"
        )


def _top(high: float) -> float:
    """A round upper bound for a y axis starting at 0."""
    ticks = nice_ticks(0, max(high, 1), 5, integer=True)
    return max(high, ticks[-1] if ticks else high, 1)


def _axes(svg: list[str], left: float, top: float, right: float, bottom: float) -> None:
    svg.append(
        f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>'
        f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/>'
    )


def day_label(day: date, *, with_year: bool = False) -> str:
    return f"{day:%b} {day.day}" + (f" {day.year}" if with_year else "")


def _date_ticks(first: date, last: date, most: int = 8) -> list[date]:
    span = (last - first).days
    for step in (1, 2, 7, 14, 28, 56, 91, 182, 365, 730):
        if span // step + 1 <= most:
            break
    return [first + timedelta(days=i) for i in range(0, span + 1, step)]


def _x_dates(
    svg: list[str], first: date, last: date, bottom: float, x_of: Callable[[date], float]
) -> None:
    with_year = (last - first).days > 300 or first.year != last.year
    for day in _date_ticks(first, last):
        x = x_of(day)
        svg.append(
            f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">'
            f"{escape(day_label(day, with_year=with_year))}</text>"
        )


def _date_scale(first: date, last: date, left: float, right: float) -> Callable[[date], float]:
    span = max((last - first).days, 1)

    def x_of(day: date) -> float:
        return left + (day - first).days / span * (right - left)

    return x_of


def _days(value: float) -> str:
    return f"{value:.1f} d" if value < 100 else f"{value:.0f} d"


# --- cumulative flow -----------------------------------------------------------------------


def band_colours(columns: Sequence[Column]) -> dict[str, str]:
    used: dict[ColumnCategory, int] = {}
    out = {}
    for c in columns:
        shades = SHADES[c.category]
        n = used.get(c.category, 0)
        out[c.key] = shades[n % len(shades)]
        used[c.category] = n + 1
    return out


def cumulative_flow(
    cfd: CumulativeFlow,
    columns: Sequence[Column],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> FlowChart:
    """Stacked areas: the first column of the workflow on top, the last at the bottom."""
    names = {c.key: c.name for c in columns}
    colours = band_colours(columns)
    order = list(range(len(cfd.statuses)))[::-1]  # bottom band first
    n_days = len(cfd.days)
    step = max(1, -(-n_days // MAX_CFD_POINTS))
    picked = list(range(0, n_days, step))
    if picked and picked[-1] != n_days - 1:
        picked.append(n_days - 1)
    last = cfd.counts[-1] if cfd.counts else ()
    legend = tuple(
        LegendEntry(names.get(s, s), colours.get(s, "#c0c6cc"), last[i] if last else 0)
        for i, s in enumerate(cfd.statuses)
    )
    total = sum(last) if last else 0
    label = (
        f"Cumulative flow from {cfd.days[0]} to {cfd.days[-1]}: {plural(total, 'item')} "
        "on the last day"
        if cfd.days
        else "Cumulative flow: no days"
    )
    svg = _open(width, height, "cfd", label)
    left, right, top, bottom = LEFT, width - RIGHT, TOP, height - BOTTOM
    svg.append(_plot(left, top, right, bottom))
    if not cfd.days:
        svg.append("</svg>")
        return FlowChart(Markup("".join(svg)), legend)
    high = _top(max((sum(row) for row in cfd.counts), default=0))

    def y_of(value: float) -> float:
        return bottom - value / high * (bottom - top)

    x_of = _date_scale(cfd.days[0], cfd.days[-1], left, right)
    _y_grid(svg, high, left, right, y_of)
    base = [0] * len(picked)
    for s in order:
        upper = [base[j] + cfd.counts[d][s] for j, d in enumerate(picked)]
        if any(upper[j] != base[j] for j in range(len(picked))):
            xs = [x_of(cfd.days[d]) for d in picked]
            if len(xs) == 1:  # one day: a thin rectangle rather than a zero-width area
                xs = [left, right]
                top_pts, low_pts = [upper[0]] * 2, [base[0]] * 2
            else:
                top_pts, low_pts = upper, base
            points = [f"{x:.1f},{y_of(v):.1f}" for x, v in zip(xs, top_pts, strict=True)]
            points += [
                f"{x:.1f},{y_of(v):.1f}"
                for x, v in zip(reversed(xs), reversed(low_pts), strict=True)
            ]
            name = names.get(cfd.statuses[s], cfd.statuses[s])
            svg.append(
                f'<path class="band" data-status="{escape(cfd.statuses[s])}" '
                f'fill="{colours.get(cfd.statuses[s], "#c0c6cc")}" '
                f'd="M{" L".join(points)} Z"><title>{escape(name)}: '
                f"{cfd.counts[-1][s]} on {cfd.days[-1]}</title></path>"
            )
        base = upper
    _axes(svg, left, top, right, bottom)
    _x_dates(svg, cfd.days[0], cfd.days[-1], bottom, x_of)
    svg.append(
        f'<text class="axis-label" x="{left + 4}" y="{top + 12}">items</text>'
        f'<text class="axis-label" x="{right}" y="{height - 6}" text-anchor="end">'
        "day</text></svg>"
    )
    return FlowChart(Markup("".join(svg)), legend)


# --- cycle time scatter ---------------------------------------------------------------------

PCT_RIGHT = 92  # room for the percentile labels right of the plot


def _spread(ys: list[float], gap: float, low: float, high: float) -> list[float]:
    """Move label positions (sorted top to bottom) apart by at least ``gap`` pixels."""
    out: list[float] = []
    for y in ys:
        out.append(max(y, out[-1] + gap) if out else max(y, low))
    overflow = out[-1] - high if out else 0
    if overflow > 0:
        out = [y - overflow for y in out]
    return out


def cycle_time_scatter(
    items: Sequence[ItemTimes],
    percentiles: Mapping[int, float],
    first: date,
    last: date,
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    label = f"Cycle time of {plural(len(items), 'finished item')} by finish day" + (
        "; " + ", ".join(f"{p}th percentile {_days(v)}" for p, v in sorted(percentiles.items()))
        if percentiles
        else ""
    )
    svg = _open(width, height, "scatter", label)
    left, right, top, bottom = LEFT, width - PCT_RIGHT, TOP, height - BOTTOM
    svg.append(_plot(left, top, right, bottom))
    high = _top(max([t.cycle_time for t in items] + list(percentiles.values()), default=1) * 1.1)

    def y_of(value: float) -> float:
        return bottom - value / high * (bottom - top)

    x_of = _date_scale(first, last, left, right)
    _y_grid(svg, high, left, right, y_of)
    for t in items:
        cls = "dot hyp" if t.kind is ItemKind.HYPOTHESIS else "dot"
        svg.append(
            f'<circle class="{cls}" cx="{x_of(t.finished_on):.1f}" cy="{y_of(t.cycle_time):.1f}"'
            f' r="4"><title>{escape(t.key)}: {_days(t.cycle_time)}, finished '
            f"{t.finished_on}</title></circle>"
        )
    ordered = sorted(percentiles.items(), key=lambda kv: -kv[1])  # top of the chart first
    label_ys = _spread([y_of(v) for _, v in ordered], 13, top + 4, bottom)
    for (p, value), ly in zip(ordered, label_ys, strict=True):
        y = y_of(value)
        svg.append(
            f'<line class="percentile p{p}" data-percentile="{p}" x1="{left}" x2="{right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="pct-label p{p}" x="{right + 6}" y="{ly + 4:.1f}">'
            f"{p}%: {escape(_days(value))}</text>"
        )
    _axes(svg, left, top, right, bottom)
    _x_dates(svg, first, last, bottom, x_of)
    svg.append(
        f'<text class="axis-label" x="{left + 4}" y="{top + 12}">cycle time (days)</text>'
        f'<text class="axis-label" x="{right}" y="{height - 6}" text-anchor="end">'
        "finished</text></svg>"
    )
    return Markup("".join(svg))


# --- weekly throughput ----------------------------------------------------------------------


def throughput_bars(
    weeks: Sequence[tuple[date, int]], *, width: int = WIDTH, height: int = 230
) -> Markup:
    total = sum(n for _, n in weeks)
    label = f"Items finished per week: {total} in {plural(len(weeks), 'week')}"
    svg = _open(width, height, "bars throughput", label)
    left, right, top, bottom = LEFT, width - RIGHT, TOP, height - BOTTOM
    svg.append(_plot(left, top, right, bottom))
    high = _top(max((n for _, n in weeks), default=0))

    def y_of(value: float) -> float:
        return bottom - value / high * (bottom - top)

    _y_grid(svg, high, left, right, y_of)
    if weeks:
        slot = (right - left) / len(weeks)
        bar = max(slot * 0.7, 1.0)
        every = max(1, -(-len(weeks) // 10))
        for i, (start, count) in enumerate(weeks):
            x = left + i * slot + (slot - bar) / 2
            if count:
                y = y_of(count)
                svg.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                    f'height="{bottom - y:.1f}"><title>week of {start}: '
                    f"{plural(count, 'item')}</title></rect>"
                )
                if len(weeks) <= 26:
                    svg.append(
                        f'<text class="value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" '
                        f'text-anchor="middle">{count}</text>'
                    )
            if i % every == 0:
                svg.append(
                    f'<text class="tick" x="{x + bar / 2:.1f}" y="{bottom + 16}" '
                    f'text-anchor="middle">{escape(day_label(start))}</text>'
                )
    _axes(svg, left, top, right, bottom)
    svg.append(
        f'<text class="axis-label" x="{right}" y="{height - 6}" text-anchor="end">'
        "week starting</text></svg>"
    )
    return Markup("".join(svg))


# --- aging work in progress -------------------------------------------------------------------


def aging_chart(
    aging: Sequence[AgingItem],
    columns: Sequence[Column],
    p85: float | None,
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    lanes = [c for c in columns if c.category is ColumnCategory.STARTED]
    lanes += [
        Column(s, s, ColumnCategory.STARTED)
        for s in dict.fromkeys(a.status for a in aging)
        if s not in {c.key for c in lanes}
    ]
    over = sum(a.over_p85 for a in aging)
    label = f"Age of {plural(len(aging), 'item')} in progress" + (
        f"; {over} older than the 85th percentile cycle time ({_days(p85)})"
        if p85 is not None
        else ""
    )
    svg = _open(width, height, "aging", label)
    left, right, top, bottom = LEFT, width - PCT_RIGHT, TOP, height - BOTTOM
    svg.append(_plot(left, top, right, bottom))
    high = _top(max([a.age_days for a in aging] + [p85 or 0], default=1) * 1.1)

    def y_of(value: float) -> float:
        return bottom - value / high * (bottom - top)

    _y_grid(svg, high, left, right, y_of)
    slot = (right - left) / max(len(lanes), 1)
    labelled = len(aging) <= LABELLED_DOTS
    placed: list[tuple[float, float, float, float]] = []  # label boxes drawn so far
    for i, lane in enumerate(lanes):
        centre = left + slot * (i + 0.5)
        if i:
            svg.append(
                f'<line class="lane" x1="{left + slot * i:.1f}" x2="{left + slot * i:.1f}" '
                f'y1="{top}" y2="{bottom}"/>'
            )
        svg.append(
            f'<text class="tick" x="{centre:.1f}" y="{bottom + 17}" text-anchor="middle">'
            f"{escape(lane.name)}</text>"
        )
        members = sorted((a for a in aging if a.status == lane.key), key=lambda a: -a.age_days)
        drawn: list[tuple[float, float]] = []
        for a in members:
            y = y_of(a.age_days)
            # Items of about the same age sit side by side: 0, +1, -1, +2, -2... steps.
            near = sum(1 for _x, dy in drawn if abs(dy - y) < 10)
            step = min(72.0, slot / 4) if labelled else min(14.0, slot / 8)
            x = centre + ((near + 1) // 2) * step * (1 if near % 2 else -1)
            drawn.append((x, y))
            cls = "dot over" if a.over_p85 else "dot"
            flags = [f"{_days(a.age_days)} old"]
            if a.over_p85:
                flags.append("older than the 85th percentile")
            if a.past_time_box:
                flags.append("past its time-box")
            title = f"<title>{escape(a.key)}: {escape(', '.join(flags))}</title>"
            if a.past_time_box:  # a diamond, so the flag does not rest on colour alone
                svg.append(
                    f'<path class="{cls} timebox" d="M{x:.1f},{y - 6:.1f} l6,6 l-6,6 l-6,-6 Z">'
                    f"{title}</path>"
                )
            else:
                svg.append(
                    f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="5">{title}</circle>'
                )
        if labelled:
            for a, (x, y) in zip(members, drawn, strict=True):
                box = _label_box(x, y, a.key, placed, drawn, centre + slot / 2)
                if box is not None:
                    placed.append(box)
                    svg.append(
                        f'<text class="dot-label" x="{box[0]:.1f}" y="{box[1] + 9:.1f}">'
                        f"{escape(a.key)}</text>"
                    )
    if p85 is not None:
        y = y_of(p85)
        svg.append(
            f'<line class="percentile p85" data-percentile="85" x1="{left}" x2="{right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="pct-label p85" x="{right + 6}" y="{y + 4:.1f}">'
            f"85%: {escape(_days(p85))}</text>"
        )
    _axes(svg, left, top, right, bottom)
    svg.append(f'<text class="axis-label" x="{left + 4}" y="{top + 12}">age (days)</text></svg>')
    return Markup("".join(svg))


def _label_box(
    x: float,
    y: float,
    text: str,
    placed: list[tuple[float, float, float, float]],
    dots: list[tuple[float, float]],
    limit: float,
) -> tuple[float, float, float, float] | None:
    """Where a dot's label fits (right of it, else left), clear of other labels and
    dots; None when it fits nowhere (the dot keeps its tooltip, the table has the key)."""
    width, height = len(text) * 6.2, 11.0
    for bx in (x + 9, x - 10 - width):
        box = (bx, y - 6, width, height)
        if bx + width > limit + 40:
            continue
        clear = all(
            box[0] + box[2] < px or px + pw < box[0] or box[1] + box[3] < py or py + ph < box[1]
            for px, py, pw, ph in placed
        ) and all(
            not (box[0] - 5 < dx < box[0] + box[2] + 5 and box[1] - 5 < dy < box[1] + box[3] + 5)
            for dx, dy in dots
        )
        if clear:
            return box
    return None


# --- forecast histograms ----------------------------------------------------------------------


def _binned(
    histogram: Sequence[tuple[int, int]],
) -> tuple[list[tuple[int, int, int]], int]:
    """(low, high, trials) bins covering the values, at most MAX_BINS of them."""
    if not histogram:
        return [], 1
    low, high = histogram[0][0], histogram[-1][0]
    width = max(1, -(-(high - low + 1) // MAX_BINS))
    bins: dict[int, int] = {}
    for value, count in histogram:
        start = low + (value - low) // width * width
        bins[start] = bins.get(start, 0) + count
    return [(s, s + width - 1, bins.get(s, 0)) for s in range(low, high + 1, width)], width


TAIL = 0.995  # histograms stop where this share of trials is reached (markers stay in)


def _without_tail(
    histogram: Sequence[tuple[int, int]], trials: int, keep: Sequence[int]
) -> list[tuple[int, int]]:
    """The histogram up to the value where TAIL of the trials are in, or the last of
    ``keep`` if that is further: a long thin tail would squeeze the bars that matter."""
    seen = 0
    for i, (value, count) in enumerate(histogram):
        seen += count
        if seen >= trials * TAIL and value >= max(keep, default=value):
            return list(histogram[: i + 1])
    return list(histogram)


def histogram(
    histogram: Sequence[tuple[int, int]],
    *,
    markers: Mapping[int, int],
    value_label: Callable[[int], str],
    what: str,
    target: int | None = None,
    target_label: str = "target",
    width: int = WIDTH,
    height: int = 260,
) -> Markup:
    """Bars of trials per outcome; vertical markers at the percentiles and the target.

    ``markers`` maps a percentile to its outcome value (days or items); ``value_label``
    writes an outcome for the axis (a date for "when", a count for "how many").
    """
    trials = sum(c for _, c in histogram)
    label = f"Distribution of {plural(trials, 'trial')}: {what}" + "".join(
        f"; P{p} {value_label(v)}" for p, v in sorted(markers.items())
    )
    svg = _open(width, height, "histogram", label)
    left, right, top, bottom = LEFT, width - RIGHT, TOP + 36, height - BOTTOM
    svg.append(_plot(left, top, right, bottom))
    kept = _without_tail(histogram, trials, [*markers.values(), *([target] if target else [])])
    if len(kept) < len(histogram):
        rest = sum(c for _, c in histogram) - sum(c for _, c in kept)
        label += f"; {rest / trials:.1%} of trials beyond {value_label(kept[-1][0])} not drawn"
        svg[:2] = _open(width, height, "histogram", label)
    bins, bin_width = _binned(kept)
    values = [v for v, _ in kept] + list(markers.values())
    if target is not None:
        values.append(target)
    if not bins:
        svg.append("</svg>")
        return Markup("".join(svg))
    # Each bin spans [start, start + width); half a bin of room on both sides.
    lo, hi = min(values) - bin_width / 2, max(values) + bin_width * 1.5
    peak = max(c for *_, c in bins)
    span = max(hi - lo, 1)

    def x_of(value: float) -> float:
        return left + (value - lo) / span * (right - left)

    def y_of(count: float) -> float:
        return bottom - count / peak * (bottom - top)

    for start, end, count in bins:
        if not count:
            continue
        x0, x1 = x_of(start), x_of(end + 1)
        pad = min(1.0, (x1 - x0) * 0.15)
        share = count / trials * 100
        text = value_label(start) if start == end else f"{value_label(start)}–{value_label(end)}"
        svg.append(
            f'<rect class="bar" x="{x0 + pad:.1f}" y="{y_of(count):.1f}" '
            f'width="{max(x1 - x0 - 2 * pad, 0.8):.1f}" height="{bottom - y_of(count):.1f}">'
            f"<title>{escape(text)}: {share:.1f}% of trials</title></rect>"
        )
    ticks = nice_ticks(min(values), max(values), 7, integer=True) or [min(values)]
    for tick in ticks:
        x = x_of(tick + 0.5)
        svg.append(
            f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">'
            f"{escape(value_label(int(tick)))}</text>"
        )
    for row, (p, value) in enumerate(sorted(markers.items())):
        x = x_of(value + 0.5)
        y_text = TOP + 10 + row * 12
        svg.append(
            f'<line class="percentile p{p}" data-percentile="{p}" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{y_text + 3}" y2="{bottom}"/>'
            f'<text class="pct-label p{p}" x="{x:.1f}" y="{y_text}" text-anchor="middle">'
            f"P{p} {escape(value_label(value))}</text>"
        )
    if target is not None:
        x = x_of(target + 0.5)
        svg.append(
            f'<line class="target" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{bottom}"/>'
            f'<text class="target-label" x="{x + 4:.1f}" y="{top + 8}">'
            f"{escape(target_label)}</text>"
        )
    _axes(svg, left, top, right, bottom)
    svg.append("</svg>")
    return Markup("".join(svg))
