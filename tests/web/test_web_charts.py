"""The server-side SVG charts: downsampling keeps spikes, NaN and infinities are noted."""

from __future__ import annotations

import math
import re

import pytest

from loopwise.tracking.models import MetricPoint
from loopwise.web.charts import downsample, metric_chart, nice_ticks, tick_label


def series(values: list[float], steps: list[int] | None = None) -> list[MetricPoint]:
    steps = steps if steps is not None else list(range(len(values)))
    return [
        MetricPoint("m", v, s, 1_000 + i)
        for i, (v, s) in enumerate(zip(values, steps, strict=True))
    ]


def polyline(svg: str) -> list[tuple[float, float]]:
    match = re.search(r'<polyline class="line" points="([^"]*)"', svg)
    assert match, svg[:300]
    return [tuple(map(float, p.split(","))) for p in match.group(1).split()]  # type: ignore[misc]


def test_short_series_draws_every_point_with_axes() -> None:
    chart = metric_chart("loss", series([3.0, 2.0, 1.5, 1.2]))
    assert chart.svg is not None and chart.drawn == 4 and chart.notes == ()
    assert chart.minimum == 1.2 and chart.maximum == 3.0 and chart.last == 1.2
    svg = str(chart.svg)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert len(polyline(svg)) == 4
    assert svg.count('class="tick"') >= 4  # labels on both axes
    assert ">step</text>" in svg


def test_long_series_is_downsampled_and_keeps_the_spike() -> None:
    n = 1_000_000
    values = [1.0 + (i % 7) * 0.001 for i in range(n)]
    values[123_457] = 50.0  # one spike
    values[654_321] = -20.0  # one dip
    chart = metric_chart("loss", series(values), max_points=1000)
    assert chart.svg is not None
    points = polyline(str(chart.svg))
    assert len(points) <= 1000 and chart.drawn == len(points)
    ys = [y for _x, y in points]
    top, bottom = min(ys), max(ys)  # SVG y grows downwards
    assert top == pytest.approx(14, abs=20) and bottom == pytest.approx(208, abs=20)
    assert chart.maximum == 50.0 and chart.minimum == -20.0
    assert any("1,000,000 points drawn as" in note for note in chart.notes)
    xs = [x for x, _y in points]
    assert xs == sorted(xs)


def test_downsample_keeps_bucket_min_and_max_in_order() -> None:
    xs = [float(i) for i in range(10_000)]
    ys = [0.0] * 10_000
    ys[5000], ys[5001] = 9.0, -9.0
    keep = downsample(xs, ys, 100)
    assert len(keep) <= 100 and keep == sorted(keep)
    assert 5000 in keep and 5001 in keep
    assert downsample(xs[:50], ys[:50], 100) == list(range(50))


def test_nan_points_are_skipped_and_counted() -> None:
    chart = metric_chart("acc", series([0.1, math.nan, 0.3, math.nan, 0.5]))
    assert chart.svg is not None and chart.drawn == 3
    assert "2 NaN points skipped" in chart.notes


def test_infinities_are_clipped_to_the_edge_and_noted() -> None:
    chart = metric_chart("loss", series([1.0, math.inf, 2.0, -math.inf, 3.0]))
    assert chart.svg is not None and chart.drawn == 5
    assert chart.minimum == 1.0 and chart.maximum == 3.0
    assert any("2 infinite points clipped" in n and "+∞" in n and "−∞" in n for n in chart.notes)
    points = polyline(str(chart.svg))
    assert points[1][1] == pytest.approx(14)  # +inf on the top edge
    assert points[3][1] == pytest.approx(250 - 42)  # -inf on the bottom edge
    assert str(chart.svg).count('class="clipped"') == 2


def test_nothing_drawable() -> None:
    empty = metric_chart("m", [])
    assert empty.svg is None and empty.notes == ("no points logged",)
    only_nan = metric_chart("m", series([math.nan, math.inf]))
    assert only_nan.svg is None and "no finite values to draw" in only_nan.notes


def test_single_point_and_repeated_step() -> None:
    one = metric_chart("auc", series([0.91]))
    assert one.svg is not None and "<circle" in str(one.svg) and "<polyline" not in str(one.svg)
    same_step = metric_chart("auc", series([0.5, 0.6, 0.7], steps=[0, 0, 0]))
    assert same_step.x_label == "point #" and same_step.drawn == 3


def test_huge_values_do_not_overflow() -> None:
    chart = metric_chart("m", series([-1.7e308, 0.0, 1.7e308]))
    assert chart.svg is not None
    assert all(math.isfinite(x) and math.isfinite(y) for x, y in polyline(str(chart.svg)))


def test_metric_key_is_escaped() -> None:
    chart = metric_chart('<b>"x"</b>', series([1.0, 2.0]))
    assert "<b>" not in str(chart.svg) and "&lt;b&gt;" in str(chart.svg)


def test_nice_ticks() -> None:
    assert nice_ticks(0, 1, 5) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(0, 2999, 6, integer=True) == [0, 500, 1000, 1500, 2000, 2500]
    assert nice_ticks(3, 3) == [3]
    assert all(t == int(t) for t in nice_ticks(0, 3, 6, integer=True))
    assert tick_label(2_500_000, integer=True) == "2.5M"
    assert tick_label(1500, integer=True) == "1,500"
