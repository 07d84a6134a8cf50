"""Run charts from database buckets: bands keep spikes, overlays, parallel coordinates
(tracking.charts, pure); and the buckets themselves (tracking.series) checked against a
brute-force bucketing on both databases."""

from __future__ import annotations

import math
import random
import re

import pytest

from loopwise.tracking import charts as run_charts
from loopwise.tracking import series
from loopwise.tracking import service as tracking
from loopwise.tracking.charts import (
    Axis,
    Line,
    bucket_chart,
    numeric_values,
    overlay_chart,
    parallel_coordinates,
    ramp,
    run_style,
)
from loopwise.tracking.schemas import RunCreate
from loopwise.tracking.series import Bucket
from loopwise.tracking.series import Chart as Series
from use_cases import UseCases


def exact(values: list[float], steps: list[int] | None = None, nans: int = 0) -> Series:
    steps = steps if steps is not None else list(range(len(values)))
    buckets = [Bucket(s, s, v, v, 1) for s, v in zip(steps, values, strict=True)]
    return Series("m", len(values) + nans, nans, True, buckets)


def banded(buckets: list[tuple[int, int, float, float]], total: int, nans: int = 0) -> Series:
    return Series("m", total, nans, False, [Bucket(a, b, lo, hi, 1) for a, b, lo, hi in buckets])


def points(svg: str, tag: str, cls: str) -> list[tuple[float, float]]:
    match = re.search(rf'<{tag} class="{cls}"[^>]* points="([^"]*)"', svg)
    assert match, svg[:400]
    return [tuple(map(float, p.split(","))) for p in match.group(1).split()]  # type: ignore[misc]


def test_exact_series_is_a_line_with_markers() -> None:
    chart = bucket_chart(exact([3.0, 2.0, 1.5, 1.2]), last=1.2)
    assert chart.svg is not None and chart.notes == () and chart.drawn == 4
    svg = str(chart.svg)
    assert len(points(svg, "polyline", "line")) == 4 and svg.count('class="point"') == 4
    assert "<polygon" not in svg and ">step</text>" in svg
    assert chart.minimum == 1.2 and chart.maximum == 3.0 and chart.last == 1.2


def test_downsampled_series_draws_a_band_that_keeps_a_one_bucket_spike() -> None:
    buckets = [(i * 1000, i * 1000 + 999, 0.9, 1.1) for i in range(1000)]
    buckets[417] = (417_000, 417_999, 0.95, 50.0)  # one spike in one bucket
    chart = bucket_chart(banded(buckets, 1_000_000))
    svg = str(chart.svg)
    band = points(svg, "polygon", "range")
    mid = points(svg, "polyline", "line mid")
    assert len(band) == 2000 and len(mid) == 1000
    top = min(y for _x, y in band)
    assert top == pytest.approx(run_charts.TOP, abs=20)  # the spike reaches the top
    assert min(y for _x, y in mid) > top  # the mid line goes half way
    assert any("1,000,000 points drawn as 1,000 buckets" in n for n in chart.notes)
    assert chart.drawn == 1000 and chart.maximum == 50.0


def test_nan_and_infinities_are_noted() -> None:
    chart = bucket_chart(exact([0.4, 0.55, 0.61, math.inf, -math.inf], nans=2))
    assert "2 NaN points skipped" in chart.notes
    assert any("2 infinite points clipped" in n and "+∞" in n and "−∞" in n for n in chart.notes)
    assert str(chart.svg).count('class="clipped"') == 2
    band = bucket_chart(banded([(0, 9, 0.0, math.inf), (10, 19, 1.0, 2.0)], 5000, nans=3))
    assert "3 NaN points skipped" in band.notes
    assert "1 bucket with infinite values clipped to the plot edge" in band.notes


def test_nothing_to_draw() -> None:
    empty = bucket_chart(Series("m", 0, 0, True, []))
    assert empty.svg is None and empty.notes == ("no points logged",)
    only_nan = bucket_chart(Series("m", 3, 3, True, []))
    assert only_nan.svg is None and "no finite values to draw" in only_nan.notes


def test_one_step_logged_many_times() -> None:
    by_index = bucket_chart(exact([0.5, 0.6, 0.7], steps=[4, 4, 4]))
    assert by_index.x_label == "point #"
    one_bucket = bucket_chart(banded([(7, 7, 0.1, 0.9)], 5000))
    assert one_bucket.svg is not None and "<polygon" in str(one_bucket.svg)


def test_overlay_draws_each_run_in_its_colour() -> None:
    lines = [
        Line("run_a", "alpha", run_style(0), exact([1.0, 0.5, 0.25])),
        Line("run_b", "<beta>", run_style(1), banded([(0, 9, 0.2, 0.9), (10, 19, 0.1, 0.3)], 4000)),
        Line("run_c", "gamma", run_style(2), Series("m", 2, 2, True, [])),
    ]
    overlay = overlay_chart("loss", lines)
    svg = str(overlay.svg)
    assert svg.count('<g class="run"') == 2  # gamma has nothing finite
    assert f'style="--run:{run_style(0).colour}"' in svg
    assert f'style="--run:{run_style(1).colour}"' in svg
    assert "&lt;beta&gt;" in svg and "<beta>" not in svg
    assert "gamma: 2 NaN points skipped" in overlay.notes
    assert "gamma: no finite values to draw" in overlay.notes
    assert len(overlay.lines) == 3


def test_run_styles_are_distinct_for_twenty_runs() -> None:
    styles = {(s.colour, s.dash) for s in map(run_style, range(20))}
    assert len(styles) == 20


def test_parallel_coordinates() -> None:
    runs = [("r1", "one"), ("r2", "two"), ("r3", "three")]
    axes = [
        Axis("lr", {"r1": 0.1, "r2": 0.01, "r3": 0.0001}),  # four decades: log scale
        Axis("depth", {"r1": 6.0, "r3": 3.0}),  # r2 lacks it: its line breaks
    ]
    metric = Axis("auc", {"r1": 0.9, "r2": 0.8}, is_metric=True)  # r3: no value, grey
    svg = str(parallel_coordinates(axes, runs, metric=metric))
    assert svg.count('class="pc-axis') == 3 and 'data-axis="auc"' in svg
    assert "(log)" in svg and axes[0].log and not axes[1].log
    assert svg.count('<g class="pc-run') == 3
    r2 = re.search(r'data-run="r2"[^>]*>.*?<path d="([^"]*)"', svg)
    assert r2 and r2.group(1).count("M") == 2  # lr, then a gap at depth, then auc
    assert f'stroke="{ramp(1.0)}"' in svg and f'stroke="{ramp(0.0)}"' in svg
    assert f'stroke="{run_charts.MISSING}"' in svg
    assert svg.count('class="pc-name"') == 2


def test_numeric_values_and_ramp() -> None:
    assert numeric_values({"a": "0.1", "b": "3"}) == {"a": 0.1, "b": 3.0}
    assert numeric_values({"a": "0.1", "b": "adam"}) is None
    assert numeric_values({"a": "nan"}) is None
    assert ramp(0.0) == "#440154" and ramp(1.0) == "#deaa00" and ramp(7) == ramp(1.0)


# --- the buckets the run page draws, checked against brute force -----------------------


def brute_force(steps: list[int], values: list[float], points: int) -> list[Bucket]:
    lo, hi = min(steps), max(steps)
    span = hi - lo + 1
    groups: dict[int, list[tuple[int, float]]] = {}
    for s, v in zip(steps, values, strict=True):
        if not math.isnan(v):
            groups.setdefault((s - lo) * points // span, []).append((s, v))
    out = []
    for _, group in sorted(groups.items()):
        ss, vs = [s for s, _ in group], [v for _, v in group]
        out.append(Bucket(min(ss), max(ss), min(vs), max(vs), len(group)))
    return out


@pytest.mark.store
@pytest.mark.parametrize("seed", [1, 2])
def test_chart_buckets_match_brute_force(do: UseCases, project: str, seed: int) -> None:
    rng = random.Random(seed)
    steps = sorted(rng.sample(range(-5_000, 2**40), 3_000)) + [2**40] * 5  # gaps, repeats
    values = [rng.gauss(0, 1) for _ in steps]
    for i in rng.sample(range(len(values)), 40):
        values[i] = math.nan
    values[100], values[2000] = math.inf, -math.inf
    run = do(tracking.create_run, project, RunCreate())
    do(tracking.log_columns, run.id, "x", steps, values)
    got = do.read(series.chart, run.id, "x", points=97)
    assert got.total == 3_005 and got.nan_count == 40 and not got.exact
    assert got.buckets == brute_force(steps, values, 97)
