"""The server-side flow and forecast SVGs: stacking, percentile lines, markers, escaping."""

from __future__ import annotations

import re
from datetime import date, timedelta

from loopwise.numeric.flow import CumulativeFlow
from loopwise.planning.board.models import DEFAULT_COLUMNS, Column, ColumnCategory
from loopwise.planning.flow import charts as flow_charts
from loopwise.planning.flow.service import AgingItem, ItemTimes
from loopwise.planning.items.models import ItemKind

DAY0 = date(2026, 1, 5)


def bands(svg: str) -> dict[str, list[tuple[float, float]]]:
    out = {}
    for status, d in re.findall(
        r'<path class="band" data-status="([^"]+)" fill="[^"]+" d="([^"]+)"', svg
    ):
        points = [tuple(map(float, p.split(","))) for p in d.strip("MZ ").split(" L")]
        out[status] = points  # type: ignore[assignment]
    return out


def test_cumulative_flow_stacks_finished_work_at_the_bottom() -> None:
    statuses = tuple(c.key for c in DEFAULT_COLUMNS)
    counts = ((3, 0, 0, 0, 0, 0), (2, 0, 1, 0, 0, 0), (1, 0, 1, 0, 1, 0))
    cfd = CumulativeFlow(tuple(DAY0 + timedelta(days=i) for i in range(3)), statuses, counts)
    chart = flow_charts.cumulative_flow(cfd, DEFAULT_COLUMNS)
    drawn = bands(str(chart.svg))
    assert set(drawn) == {"backlog", "in_progress", "done"}  # empty bands are not drawn
    # Last day: done occupies the bottom, backlog the top; all three stack to 3 items.
    top_of = {s: min(y for _x, y in pts) for s, pts in drawn.items()}
    assert top_of["backlog"] < top_of["in_progress"] < top_of["done"]
    assert [e.name for e in chart.legend] == [c.name for c in DEFAULT_COLUMNS]
    assert [e.count for e in chart.legend] == [1, 0, 1, 0, 1, 0]
    assert len({e.colour for e in chart.legend}) == 6  # every column its own colour
    assert 'aria-label="Cumulative flow from 2026-01-05 to 2026-01-07: 3 items' in str(chart.svg)


def test_cumulative_flow_samples_long_windows() -> None:
    n = 3650
    cfd = CumulativeFlow(
        tuple(DAY0 + timedelta(days=i) for i in range(n)),
        ("backlog",),
        tuple((i,) for i in range(n)),
    )
    chart = flow_charts.cumulative_flow(cfd, DEFAULT_COLUMNS[:1])
    (points,) = bands(str(chart.svg)).values()
    assert len(points) <= 2 * (flow_charts.MAX_CFD_POINTS + 1)


def test_empty_cumulative_flow_is_an_empty_plot() -> None:
    chart = flow_charts.cumulative_flow(CumulativeFlow((), ("backlog",), ()), DEFAULT_COLUMNS[:1])
    assert str(chart.svg).startswith("<svg") and "band" not in str(chart.svg)


def test_scatter_has_a_dot_per_item_and_labelled_percentile_lines() -> None:
    items = [
        ItemTimes(
            f"A-{i}", ItemKind.HYPOTHESIS if i == 0 else ItemKind.TASK, DAY0 + timedelta(i), i, i
        )
        for i in range(10)
    ]
    svg = str(
        flow_charts.cycle_time_scatter(
            items, {50: 4.5, 85: 7.6, 95: 8.5}, DAY0, DAY0 + timedelta(9)
        )
    )
    assert svg.count('<circle class="dot') == 10 and svg.count('class="dot hyp"') == 1
    lines = dict(re.findall(r'data-percentile="(\d+)" x1="[^"]+" x2="[^"]+" y1="([\d.]+)"', svg))
    assert set(lines) == {"50", "85", "95"}
    assert float(lines["95"]) < float(lines["85"]) < float(lines["50"])  # higher is further up
    labels = re.findall(r'<text class="pct-label p(\d+)" x="[^"]+" y="([\d.]+)">\1%: ([^<]+)<', svg)
    assert [(p, text) for p, _y, text in labels] == [
        ("95", "8.5 d"),
        ("85", "7.6 d"),
        ("50", "4.5 d"),
    ]
    ys = [float(y) for _p, y, _t in labels]
    assert all(b - a >= 13 for a, b in zip(ys, ys[1:], strict=False))  # labels never overlap


def test_close_percentiles_keep_their_labels_apart() -> None:
    items = [ItemTimes("A-1", ItemKind.TASK, DAY0, 2.0, 2.0)]
    svg = str(flow_charts.cycle_time_scatter(items, {50: 2.0, 85: 2.0, 95: 2.01}, DAY0, DAY0))
    ys = sorted(float(y) for y in re.findall(r'class="pct-label p\d+" x="[^"]+" y="([\d.]+)"', svg))
    assert len(ys) == 3 and all(b - a >= 13 for a, b in zip(ys, ys[1:], strict=False))


def test_throughput_bars() -> None:
    weeks = [(DAY0 + timedelta(weeks=i), n) for i, n in enumerate([2, 0, 5])]
    svg = str(flow_charts.throughput_bars(weeks))
    assert svg.count('<rect class="bar"') == 2  # no bar for a zero week
    assert (
        "week of 2026-01-19: 5 items" in svg
        and 'aria-label="Items finished per week: 7 in 3 weeks"' in svg
    )


def test_aging_chart_flags_and_lanes() -> None:
    columns = [
        Column("todo", "To do", ColumnCategory.TODO),
        Column("doing", "Doing <now>", ColumnCategory.STARTED),
        Column("done", "Done", ColumnCategory.DONE),
    ]
    aging = [
        AgingItem("A-1", ItemKind.TASK, "doing", 9.0, over_p85=True, past_time_box=False),
        AgingItem("A-2", ItemKind.HYPOTHESIS, "doing", 9.0, over_p85=True, past_time_box=True),
        AgingItem("A-3", ItemKind.TASK, "doing", 1.0, over_p85=False, past_time_box=False),
    ]
    svg = str(flow_charts.aging_chart(aging, columns, 4.0))
    assert "Doing &lt;now&gt;" in svg and "To do" not in svg  # started columns only, escaped
    assert svg.count('class="dot over"') == 1 and svg.count('class="dot over timebox"') == 1
    assert 'data-percentile="85"' in svg and "85%: 4.0 d" in svg
    assert "A-2: 9.0 d old, older than the 85th percentile, past its time-box" in svg
    circle = re.search(r'<circle class="dot over" cx="([\d.]+)"', svg)
    diamond = re.search(r'<path class="dot over timebox" d="M([\d.]+),', svg)
    assert circle and diamond and circle.group(1) != diamond.group(1)  # same age: side by side


def test_histogram_marks_percentiles_and_target_and_cuts_the_tail() -> None:
    histogram = [(d, 1000) for d in range(1, 10)] + [(300, 1)]
    svg = str(
        flow_charts.histogram(
            histogram,
            markers={50: 5, 85: 8, 95: 9},
            value_label=lambda d: f"day {d}",
            what="days",
            target=7,
            target_label="target <Mar 1>",
        )
    )
    assert svg.count("data-percentile=") == 3 and ">P85 day 8<" in svg
    assert '<line class="target"' in svg and "target &lt;Mar 1&gt;" in svg
    assert "day 300" not in svg.split("<title>", 2)[2]  # the one far trial is not drawn
    assert "0.0% of trials beyond day 9 not drawn" in svg
    assert svg.count('<rect class="bar"') == 9


def test_histogram_bins_wide_ranges() -> None:
    histogram = [(d, 10) for d in range(0, 1000)]
    svg = str(flow_charts.histogram(histogram, markers={50: 500}, value_label=str, what="items"))
    assert svg.count('<rect class="bar"') <= flow_charts.MAX_BINS
