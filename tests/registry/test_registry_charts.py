"""The delivery pictures: the weekly deployments bar chart and the lineage layout."""

from __future__ import annotations

import re
from datetime import date, timedelta

from loopwise.registry.charts import BOX_H, BOX_W, layout, lineage_diagram, weekly_bars
from loopwise.registry.lineage import Edge, Lineage, Node


def weeks(counts: list[int]) -> list[tuple[date, int]]:
    monday = date(2025, 10, 6)
    return [(monday + timedelta(weeks=i), n) for i, n in enumerate(counts)]


def test_weekly_bars_draw_one_bar_per_week_with_a_count() -> None:
    svg = str(weekly_bars(weeks([0, 2, 0, 5, 1])))
    assert svg.startswith('<svg class="chart bars"') and svg.endswith("</svg>")
    assert svg.count('class="bar"') == 3  # empty weeks draw no bar
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[1] == max(heights) and heights[0] == 2 * heights[2]  # 2 vs 5 vs 1: scale
    assert "8 in 5 weeks" in svg  # the accessible label sums the weeks
    assert "week of 2025-10-13: 2 deployments" in svg
    assert ">Nov 3<" in svg  # the newest week is labelled


def test_weekly_bars_without_deployments_and_with_many_weeks() -> None:
    empty = str(weekly_bars(weeks([0] * 13)))
    assert 'class="bar"' not in empty and ">0<" in empty and ">1<" in empty
    many = str(weekly_bars(weeks([1] * 60)))
    labels = re.findall(r'class="tick" x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]+)<', many)
    assert len(labels) <= 12 and labels[-1] == "Nov 23"  # 2025-10-06 + 59 weeks
    assert str(weekly_bars([])).endswith("</svg>")


def graph() -> Lineage:
    nodes = (
        Node("dsv_1", "dataset_version", "cancer v1", "sha256:abc"),
        Node("run_b", "run", "run-b", "finished"),
        Node("run_a", "run", "run-a", "finished"),
        Node("mv_1", "model_version", "m v1", "production"),
        Node("mv_2", "model_version", "m v2", "archived"),
        Node("dep_2", "deployment", "production 100%", "rolled_back"),
        Node("dep_1", "deployment", "staging 100%", "replaced"),
        Node("dep_3", "deployment", "production 100%", "active"),
    )
    edges = (
        Edge("dsv_1", "run_b", "used as train"),
        Edge("dsv_1", "run_a", "used as train"),
        Edge("run_a", "mv_1", "produced"),
        Edge("run_b", "mv_2", "produced"),
        Edge("mv_2", "dep_2", "deployed as"),
        Edge("mv_1", "dep_1", "deployed as"),
        Edge("mv_1", "dep_3", "deployed as"),
    )
    return Lineage("dsv_1", nodes, edges)


def test_layout_puts_kinds_in_columns_and_follows_the_sources() -> None:
    placed, width, height = layout(graph())
    column = {p.node.id: p.column for p in placed}
    assert column == {
        "dsv_1": 0,
        "run_a": 1,
        "run_b": 1,
        "mv_1": 2,
        "mv_2": 2,
        "dep_1": 3,
        "dep_3": 3,
        "dep_2": 3,
    }
    y = {p.node.id: p.y for p in placed}
    assert y["run_a"] < y["run_b"]  # same source: by name
    assert y["mv_1"] < y["mv_2"]  # follows its run
    assert y["dep_1"] < y["dep_3"] < y["dep_2"]  # v1's deployments first, in service order
    for a in placed:  # no overlapping boxes, all inside the drawing
        assert a.x >= 0 and a.y >= 0
        assert a.x + BOX_W <= width and a.y + BOX_H <= height
        for b in placed:
            if a is not b and a.column == b.column:
                assert abs(a.y - b.y) >= BOX_H


def test_layout_drops_empty_columns() -> None:
    lone = Lineage("dsv_1", (Node("dsv_1", "dataset_version", "cancer v1"),), ())
    placed, width, _height = layout(lone)
    assert [p.column for p in placed] == [0] and width == BOX_W + 2 * 12


def test_lineage_diagram_links_boxes_and_escapes_text() -> None:
    g = graph()
    nasty = Lineage(
        g.root,
        (Node("dsv_1", "dataset_version", "<script>x</script>", 'a"b'), *g.nodes[1:]),
        g.edges,
    )
    svg = str(lineage_diagram(nasty, lambda n: None if n.kind == "run" else f"/go/{n.id}"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&#34;b" in svg
    assert svg.count('<a class="node"') == 6 and svg.count('<g class="node"') == 2
    assert 'href="/go/dep_3"' in svg
    assert svg.count('marker-end="url(#lineage-arrow)"') == len(g.edges)
    relations = re.findall(r'class="relation"[^>]*>([^<]+)<', svg)
    assert sorted(relations) == sorted(
        ["used as train ×2", "produced", "produced", "deployed as ×2", "deployed as"]
    )
    assert 'class="box dataset_version root"' in svg
    assert 'width="' in svg.split(">", 1)[0]  # a natural size: never blown up
