"""Mergeable row samples (numeric.sample): bounded, uniform over the union whatever the
chunking and the order of merges, deterministic for a seed, stored and read back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from loopwise.core.errors import InvalidInput
from loopwise.numeric import sample
from loopwise.numeric.drift import ColumnKind


def _chunks(sizes: list[int]) -> list[dict[str, np.ndarray]]:
    """Rows numbered 0..N-1 (column ``i``) cut into chunks of the given sizes."""
    out, at = [], 0
    for size in sizes:
        out.append({"i": np.arange(at, at + size, dtype=float)})
        at += size
    return out


def _sequential(sizes: list[int], k: int, rng: np.random.Generator) -> sample.RowSample:
    merged = sample.RowSample(0, {})
    for chunk in _chunks(sizes):
        merged = sample.merge(merged, sample.sample_rows(chunk, k, rng), k, rng)
    return merged


def _tree(sizes: list[int], k: int, rng: np.random.Generator) -> sample.RowSample:
    """Chunks sampled, then merged pairwise (as batches of one window are)."""
    level = [sample.sample_rows(c, k, rng) for c in _chunks(sizes)]
    while len(level) > 1:
        level = [
            sample.merge(level[j], level[j + 1], k, rng) if j + 1 < len(level) else level[j]
            for j in range(0, len(level), 2)
        ]
    return level[0]


@pytest.mark.parametrize("shape", [_sequential, _tree])
def test_the_merged_sample_is_uniform_over_all_rows(shape) -> None:  # noqa: ANN001
    # unequal chunks: one large, many small, some smaller than k
    sizes = [3000, 5, 40, 700, 1, 1200, 30, 2500, 64, 460]
    n, k, trials = sum(sizes), 50, 2000
    rng = np.random.default_rng(7)
    hits = np.zeros(n)
    for _ in range(trials):
        drawn = shape(sizes, k, rng)
        rows = drawn.columns["i"].astype(int)
        assert drawn.rows == n and drawn.size == k  # bounded, and full
        assert len(set(rows.tolist())) == k  # without replacement
        hits[rows] += 1
    # rows grouped by the chunk they came in: each chunk's share of the draws is its share
    # of the rows (chi-square goodness of fit, seeded)
    edges = np.cumsum([0, *sizes])
    observed = np.array([hits[a:b].sum() for a, b in zip(edges[:-1], edges[1:], strict=True)])
    expected = np.array(sizes) * trials * k / n
    assert stats.chisquare(observed, expected).pvalue > 0.001
    # and within the rows: 20 equal bins of row numbers
    bins = np.array_split(hits, 20)
    assert (
        stats.chisquare([b.sum() for b in bins], [len(b) * trials * k / n for b in bins]).pvalue
        > 0.001
    )


def test_a_sample_is_bounded_and_small_inputs_are_kept_whole() -> None:
    rng = np.random.default_rng(0)
    small = sample.sample_rows({"x": np.arange(30.0)}, 2000, rng)
    assert small.size == 30 and small.rows == 30
    merged = _sequential([65_536] * 5, sample.SAMPLE_ROWS, rng)
    assert merged.size == sample.SAMPLE_ROWS and merged.rows == 5 * 65_536


def test_the_same_seed_gives_the_same_sample() -> None:
    one = _sequential([500, 800, 90], 100, np.random.default_rng(3))
    two = _sequential([500, 800, 90], 100, np.random.default_rng(3))
    np.testing.assert_array_equal(one.columns["i"], two.columns["i"])


def test_a_sample_is_stored_and_read_back() -> None:
    rng = np.random.default_rng(1)
    columns = {
        "x": np.array([1.5, np.nan, 3.0]),
        "plan": np.array(["basic", None, "pro"], dtype=object),
    }
    drawn = sample.sample_rows(columns, 10, rng)
    back = sample.sample_from_dict(sample.sample_to_dict(drawn))
    assert back.rows == 3
    np.testing.assert_array_equal(back.columns["x"], columns["x"])
    assert back.columns["plan"].tolist() == ["basic", None, "pro"]
    with pytest.raises(InvalidInput):
        sample.sample_from_dict({"format": "other"})


def test_a_column_one_side_lacks_is_missing_in_its_rows() -> None:
    rng = np.random.default_rng(2)
    a = sample.sample_rows({"x": np.ones(5)}, 10, rng)
    b = sample.sample_rows({"x": np.zeros(5), "c": np.array(["u"] * 5, dtype=object)}, 10, rng)
    both = sample.merge(a, b, 10, rng)
    assert both.size == 10
    rows = list(zip(both.columns["x"].tolist(), both.columns["c"].tolist(), strict=True))
    assert sorted(rows, key=str) == [(0.0, "u")] * 5 + [(1.0, None)] * 5


def test_categories_are_coded_by_the_reference_frequency() -> None:
    ref = sample.RowSample(
        6, {"plan": np.array(["b", "a", "b", "c", None, "b"], dtype=object), "x": np.arange(6.0)}
    )
    cur = sample.RowSample(3, {"plan": np.array(["a", "zzz", None], dtype=object), "x": np.ones(3)})
    kinds = {"x": ColumnKind.NUMERIC, "plan": ColumnKind.CATEGORICAL}
    r, c, names = sample.encode(ref, cur, kinds, top=2)
    assert names == ["x", "plan"]
    # b (3 times) is 0, a (once, before c by name) is 1, anything else is top = 2
    np.testing.assert_array_equal(r[:, 1], [0, 1, 0, 2, np.nan, 0])
    np.testing.assert_array_equal(c[:, 1], [1, 2, np.nan])
