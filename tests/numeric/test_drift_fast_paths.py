"""The fast paths of the drift tests: W1 by bins (``numeric.wasserstein``) and from value
counts, Jensen-Shannon in NumPy, Arrow columns read without pandas (``numeric.arrow``).
Each is checked against SciPy or against the NumPy/pandas path on the same data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from scipy.spatial import distance

from loopwise.core.errors import InvalidInput
from loopwise.numeric import arrow
from loopwise.numeric.drift import (
    BINNED_FROM,
    ColumnKind,
    DriftTest,
    column_drift,
    js_distance,
    wasserstein,
)
from loopwise.numeric.wasserstein import binned_w1

NUM, CAT = ColumnKind.NUMERIC, ColumnKind.CATEGORICAL
N = 15_000  # per side: above BINNED_FROM together


def samples(case: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if case == "same":
        return rng.normal(size=N), rng.normal(size=N)
    if case == "shifted, unequal sizes":
        return rng.normal(size=N), rng.normal(0.3, 1.2, size=N + 777)
    if case == "lognormal":
        return rng.lognormal(0, 0.8, N), rng.lognormal(0.02, 0.8, N - 5)
    if case == "offset":  # far from zero, small spread: rounding must stay relative
        return 1.7e9 + rng.normal(0, 50, N), 1.7e9 + rng.normal(1, 50, N)
    if case == "ties":
        return np.round(rng.normal(size=N), 1), np.round(rng.normal(0.1, 1, N), 1)
    if case == "one value on one side":
        return np.full(N, 0.5), rng.uniform(0, 1, N)
    raise AssertionError(case)


CASES = ["same", "shifted, unequal sizes", "lognormal", "offset", "ties", "one value on one side"]


@pytest.mark.parametrize("case", CASES)
def test_binned_wasserstein_is_scipys(case: str) -> None:
    u, v = samples(case, np.random.default_rng(CASES.index(case)))
    assert len(u) + len(v) >= BINNED_FROM
    expected = stats.wasserstein_distance(u, v)
    tolerance = 1e-12 * max(1.0, float(np.max(np.abs(np.r_[u, v]))))  # ulps of the values
    assert wasserstein(u, v) == pytest.approx(expected, rel=1e-12, abs=tolerance)
    binned = binned_w1(u, v)
    if case in ("same", "shifted, unequal sizes", "offset"):
        assert binned is not None  # the binned path itself ran
    if binned is not None:
        assert binned == pytest.approx(expected, rel=1e-12, abs=tolerance)


def test_binned_wasserstein_leaves_far_outliers_to_the_sort() -> None:
    rng = np.random.default_rng(7)
    u, v = np.r_[rng.normal(size=N), 1e12], rng.normal(size=N)
    assert binned_w1(u, v) is None  # nearly every value in the first bin
    assert wasserstein(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-12)


def test_wasserstein_of_a_column_with_few_values_comes_from_counts() -> None:
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 12, 3000).astype(float)
    cur = rng.integers(1, 12, 2500).astype(float)
    r = column_drift("x", ref, cur, NUM)
    assert r.test is DriftTest.WASSERSTEIN
    assert r.statistic == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref))


def test_js_distance_is_scipys_with_empty_categories() -> None:
    rng = np.random.default_rng(5)
    p = rng.random(9) * (rng.random(9) > 0.3)
    q = rng.random(9) * (rng.random(9) > 0.3)
    p[0], q[0] = 0.0, 0.0  # a category empty on both sides
    p[1], q[2] = 1.0, 1.0
    assert js_distance(p, q) == pytest.approx(float(distance.jensenshannon(p, q)), rel=1e-12)


def chunked(values: list[object] | np.ndarray, cut: int) -> pa.ChunkedArray:
    array = pa.array(values, from_pandas=True)
    return pa.chunked_array([array.slice(0, cut), array.slice(cut)])


def test_numeric_arrow_columns_give_the_numpy_result() -> None:
    rng = np.random.default_rng(11)
    ref, cur = rng.normal(size=5000), rng.normal(0.2, 1, 4000)
    ref[rng.random(5000) < 0.05] = np.nan  # NaN in NumPy, nulls in Arrow
    cur[:3] = np.inf
    expected = column_drift("x", ref, cur, NUM)
    got = column_drift("x", chunked(ref, 1234), chunked(cur, 17), NUM)
    assert got == expected
    assert arrow.floats(chunked(ref, 1234)).tolist() == pytest.approx(ref.tolist(), nan_ok=True)


def test_arrow_floats_read_slices_booleans_and_refuse_text() -> None:
    base = pa.array([1.5, None, 3.0, 4.0, None, 6.0])
    sliced = base.slice(1, 4)  # an offset into the buffers, with nulls
    assert arrow.floats(sliced).tolist() == pytest.approx([np.nan, 3.0, 4.0, np.nan], nan_ok=True)
    assert arrow.floats(pa.array([True, False, None])).tolist() == pytest.approx(
        [1.0, 0.0, np.nan], nan_ok=True
    )
    assert arrow.floats(pa.array([], pa.float64())).shape == (0,)
    with pytest.raises(InvalidInput, match="not numeric"):
        arrow.floats(pa.array(["a", "b"]), "plan")


def test_categorical_arrow_columns_give_the_pandas_result() -> None:
    rng = np.random.default_rng(13)
    labels = np.array(["a", "b", "c", "d", None], dtype=object)
    ref = labels[rng.choice(5, 3000, p=[0.4, 0.3, 0.2, 0.05, 0.05])]
    cur = labels[rng.choice(5, 2000, p=[0.25, 0.3, 0.2, 0.2, 0.05])]
    expected = column_drift("plan", ref, cur, CAT)
    assert column_drift("plan", chunked(ref, 100), chunked(cur, 999), CAT) == expected
    # dictionary-encoded, each chunk with its own dictionary (as Parquet row groups give)
    encoded = pa.chunked_array(
        [pa.array(ref[:1000]).dictionary_encode(), pa.array(ref[1000:]).dictionary_encode()]
    )
    assert column_drift("plan", encoded, pa.array(cur).dictionary_encode(), CAT) == expected


def test_categorical_arrow_floats_drop_nan_and_infinities_like_pandas() -> None:
    values = np.array([1.0, 2.0, np.nan, np.inf, 2.0, -np.inf, 3.0, 1.0])
    keys, counts = arrow.value_counts(pa.array(values))
    codes, uniques = pd.factorize(values[np.isfinite(values)])
    assert dict(zip(keys.tolist(), counts.tolist(), strict=True)) == {
        float(u): int(np.sum(codes == i)) for i, u in enumerate(uniques)
    }


def test_default_drift_from_parquet_imports_neither_pandas_nor_scipy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=30000)
    x[::50] = np.nan
    table = pa.table({"x": x, "s": np.array(["a", "b", "c"] * 10000, dtype=object)})
    pq.write_table(table, tmp_path / "t.parquet")
    # ParquetFile.read, as the drift bench reads: pq.read_table goes through
    # pyarrow.dataset, which imports pandas itself
    script = (
        "import sys, pyarrow.parquet as pq\n"
        "from loopwise.numeric.drift import ColumnKind, column_drift\n"
        f"t = pq.ParquetFile({str(tmp_path / 't.parquet')!r}, read_dictionary=['s']).read()\n"
        "x, s = t.column('x'), t.column('s')\n"
        "column_drift('x', x, x.slice(5), ColumnKind.NUMERIC)\n"
        "column_drift('s', s, s.slice(7), ColumnKind.CATEGORICAL)\n"
        "print(sorted(m for m in ('pandas', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
