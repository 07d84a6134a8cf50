"""The helpers every server-drawn chart shares (web.charts); the charts themselves are
tested in their slices' folders (tracking, planning, registry)."""

from __future__ import annotations

import math

import pytest

from loopwise.web.charts import Scale, nice_ticks, padded, plural, tick_label


def test_nice_ticks() -> None:
    assert nice_ticks(0, 1, 5) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(0, 2999, 6, integer=True) == [0, 500, 1000, 1500, 2000, 2500]
    assert nice_ticks(3, 3) == [3]
    assert all(t == int(t) for t in nice_ticks(0, 3, 6, integer=True))
    assert tick_label(2_500_000, integer=True) == "2.5M"
    assert tick_label(1500, integer=True) == "1,500"


def test_scale_maps_the_range_and_survives_huge_values() -> None:
    scale = Scale(0.0, 10.0, 100.0, 200.0)
    assert (scale(0.0), scale(5.0), scale(10.0)) == (100.0, 150.0, 200.0)
    huge = Scale(-1.7e308, 1.7e308, 0.0, 500.0)
    assert math.isfinite(huge(1.7e308)) and huge(0.0) == pytest.approx(250.0)
    assert Scale(3.0, 3.0, 0.0, 10.0)(3.0) == 5.0  # an empty range sits in the middle


def test_padded_ranges() -> None:
    assert padded(0.0, 10.0) == pytest.approx((-0.5, 10.5))  # 5% of the range each side
    assert padded(2.0, 2.0) == pytest.approx((1.8, 2.2))
    assert padded(-1.7e308, 1.7e308) == (-1.7e308, 1.7e308)  # padding would overflow
    assert (plural(1, "run"), plural(1200, "run")) == ("1 run", "1,200 runs")
