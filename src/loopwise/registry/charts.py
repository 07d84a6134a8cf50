"""Delivery pictures as inline SVG, built on the server: the weekly deployments bar chart
and the lineage diagram (dataset versions -> runs -> model versions -> deployments).

Both return safe markup for templates; every piece of user text goes through ``escape``.
The lineage layout is a pure function (``layout``) so tests can check positions without
parsing SVG.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from loopwise.registry.lineage import Lineage, Node
from loopwise.web.charts import nice_ticks, tick_label

# --- weekly deployments ------------------------------------------------------------------

BAR_WIDTH, BAR_HEIGHT = 1080, 220
BAR_LEFT, BAR_RIGHT, BAR_TOP, BAR_BOTTOM = 40, 12, 14, 40
MAX_X_LABELS = 12


def weekly_bars(
    weeks: Sequence[tuple[date, int]], *, width: int = BAR_WIDTH, height: int = BAR_HEIGHT
) -> Markup:
    """A bar per week (the week's first day and its production deployments)."""
    total = sum(n for _, n in weeks)
    label = f"Production deployments per week: {total} in {len(weeks)} weeks"
    svg = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    left, right, top, bottom = BAR_LEFT, width - BAR_RIGHT, BAR_TOP, height - BAR_BOTTOM
    svg.append(
        f'<rect class="plot" x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"/>'
    )
    peak = max((n for _, n in weeks), default=0)
    high: float = max(peak, 1)
    ticks = nice_ticks(0, high, 4, integer=True)
    high = max(high, ticks[-1] if ticks else high)

    def y_of(value: float) -> float:
        return bottom - value / high * (bottom - top)

    for tick in ticks:
        y = y_of(tick)
        svg.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(tick_label(tick, integer=True))}</text>"
        )
    if weeks:
        slot = (right - left) / len(weeks)
        bar = max(slot * 0.7, 1.0)
        every = max(1, -(-len(weeks) // MAX_X_LABELS))  # ceil: at most MAX_X_LABELS labels
        for i, (start, count) in enumerate(weeks):
            x = left + i * slot + (slot - bar) / 2
            day = f"{start:%b} {start.day}"
            if count:
                y = y_of(count)
                svg.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                    f'height="{bottom - y:.1f}"><title>week of {start.isoformat()}: '
                    f"{count} deployment{'s' if count != 1 else ''}</title></rect>"
                    f'<text class="value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" '
                    f'text-anchor="middle">{count}</text>'
                )
            if (len(weeks) - 1 - i) % every == 0:  # the newest week is always labelled
                svg.append(
                    f'<text class="tick" x="{x + bar / 2:.1f}" y="{bottom + 16}" '
                    f'text-anchor="middle">{escape(day)}</text>'
                )
    svg.append(
        f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>'
        f'<text class="axis-label" x="{right}" y="{height - 6}" text-anchor="end">'
        "week starting</text></svg>"
    )
    return Markup("".join(svg))


# --- lineage -----------------------------------------------------------------------------

KINDS = ("dataset_version", "run", "model_version", "deployment")
KIND_TITLES = {
    "dataset_version": "Dataset versions",
    "run": "Runs",
    "model_version": "Model versions",
    "deployment": "Deployments",
}
KIND_NAMES = {
    "dataset_version": "dataset version",
    "run": "run",
    "model_version": "model version",
    "deployment": "deployment",
}
BOX_W, BOX_H = 196, 60
COL_GAP, ROW_GAP = 118, 22
MARGIN, HEAD = 12, 30
LABEL_CHARS = 26


@dataclass(frozen=True)
class Placed:
    """A node with its box's top-left corner."""

    node: Node
    column: int
    x: float
    y: float


def layout(lineage: Lineage) -> tuple[list[Placed], float, float]:
    """Columns by kind (empty kinds dropped), rows ordered to follow their sources.

    Returns the placed nodes, the width and the height of the drawing.
    """
    present = [k for k in KINDS if any(n.kind == k for n in lineage.nodes)]
    columns: list[list[Node]] = [[n for n in lineage.nodes if n.kind == k] for k in present]
    sources: dict[str, list[str]] = {}
    for e in lineage.edges:
        sources.setdefault(e.target, []).append(e.source)
    rank: dict[str, float] = {}
    for col in columns:
        # A node sits near the average row of the nodes it comes from (fewer crossings).
        def key(item: tuple[int, Node]) -> tuple[float, str, int]:
            index, node = item
            ranks = [rank[s] for s in sources.get(node.id, []) if s in rank]
            # Runs and versions with the same sources go by name; deployments keep time order.
            name = "" if node.kind == "deployment" else node.label
            return (sum(ranks) / len(ranks) if ranks else -1.0, name, index)

        ordered = [n for _, n in sorted(enumerate(col), key=key)]
        col[:] = ordered
        for i, n in enumerate(ordered):
            rank[n.id] = i
    tallest = max((len(c) for c in columns), default=0)
    height = HEAD + MARGIN + tallest * BOX_H + max(tallest - 1, 0) * ROW_GAP + MARGIN
    width = 2 * MARGIN + len(columns) * BOX_W + max(len(columns) - 1, 0) * COL_GAP
    placed = []
    for c, col in enumerate(columns):
        span = len(col) * BOX_H + (len(col) - 1) * ROW_GAP
        start = HEAD + MARGIN + (tallest * BOX_H + (tallest - 1) * ROW_GAP - span) / 2
        for r, node in enumerate(col):
            x = MARGIN + c * (BOX_W + COL_GAP)
            placed.append(Placed(node, c, x, start + r * (BOX_H + ROW_GAP)))
    return placed, float(width), float(height)


def _clip(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lineage_diagram(lineage: Lineage, href: Callable[[Node], str | None]) -> Markup:
    """The lineage as a left-to-right layered diagram; each box links to ``href(node)``."""
    placed, width, height = layout(lineage)
    where = {p.node.id: p for p in placed}
    label = (
        f"Lineage diagram: {len(lineage.nodes)} items and {len(lineage.edges)} links; "
        "the same information follows as a table"
    )
    svg = [
        f'<svg class="lineage" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        "<defs>"
        '<marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
    ]
    for p in placed:
        if p.y == min(q.y for q in placed if q.column == p.column):
            svg.append(
                f'<text class="column-head" x="{p.x:.0f}" y="{HEAD - 8}">'
                f"{escape(KIND_TITLES[p.node.kind])}</text>"
            )
    groups: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    for e in lineage.edges:
        a, b = where.get(e.source), where.get(e.target)
        if a is None or b is None:
            continue
        x1, y1 = a.x + BOX_W, a.y + BOX_H / 2
        x2, y2 = b.x - 2, b.y + BOX_H / 2
        bend = (x2 - x1) / 2
        svg.append(
            f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} '
            f'{x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" marker-end="url(#lineage-arrow)">'
            f"<title>{escape(e.relation)}</title></path>"
        )
        groups.setdefault((e.source, e.relation), []).append((x1, y1, x2, y2))
    # One label per fan of arrows from a box with the same relation, on its middle arrow.
    for (_source, relation), arrows in groups.items():
        arrows.sort(key=lambda xy: xy[3])
        x1, y1, x2, y2 = arrows[(len(arrows) - 1) // 2]
        text = relation if len(arrows) == 1 else f"{relation} ×{len(arrows)}"
        svg.append(
            f'<text class="relation" x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 5:.1f}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    for p in placed:
        n = p.node
        root = " root" if n.id == lineage.root else ""
        body = (
            f'<rect class="box {n.kind}{root}" x="{p.x:.1f}" y="{p.y:.1f}" '
            f'width="{BOX_W}" height="{BOX_H}" rx="6"/>'
            f'<text class="kind" x="{p.x + 10:.1f}" y="{p.y + 16:.1f}">'
            f"{escape(KIND_NAMES[n.kind])}</text>"
            f'<text class="label" x="{p.x + 10:.1f}" y="{p.y + 34:.1f}">'
            f"{escape(_clip(n.label))}</text>"
            f'<text class="detail" x="{p.x + 10:.1f}" y="{p.y + 51:.1f}">'
            f"{escape(_clip(n.detail, LABEL_CHARS + 4))}</text>"
        )
        title = f"<title>{escape(KIND_NAMES[n.kind])}: {escape(n.label)}"
        title += f" ({escape(n.detail)})</title>" if n.detail else "</title>"
        link = href(n)
        if link:
            svg.append(
                f'<a class="node" href="{escape(link)}" data-node="{escape(n.id)}">'
                f"{title}{body}</a>"
            )
        else:
            svg.append(f'<g class="node" data-node="{escape(n.id)}">{title}{body}</g>')
    svg.append("</svg>")
    return Markup("".join(svg))
