"""Mergeable uniform row samples: what the multivariate (domain-classifier) drift check
trains on, kept per window in bounded space.

A ``RowSample`` holds at most ``k`` rows of some columns and the number of rows it stands
for. ``sample_rows`` draws a uniform sample without replacement from rows at hand (a chunk
of a batch); ``merge`` combines two samples of disjoint row sets into a uniform sample of
their union: the number of rows taken from the first side is drawn from the
hypergeometric distribution (``rows_a`` and ``rows_b`` rows, ``m`` drawn), so each side
counts in proportion to the rows it stands for, then that many rows are drawn uniformly
from each side's sample. When each side is a uniform sample of ``min(k, rows)`` of its
rows, the result is a uniform sample of ``min(k, rows_a + rows_b)`` rows of the union, as
if drawn from all the rows at once. Everything is driven by the ``numpy`` generator the
caller passes (seeded: the same inputs give the same sample).

Columns are NumPy arrays: numeric ones float64 (NaN missing), categorical ones object
arrays of text (None missing), as ``monitoring.arrays`` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopwise.core.errors import InvalidInput
from loopwise.numeric.drift import ColumnKind

FORMAT = "loopwise.sample"
VERSION = 1
SAMPLE_ROWS = 2_000  # default bound of a sample
TOP_CATEGORIES = 50  # categories of the reference coded one by one; the rest share a code


@dataclass(frozen=True)
class RowSample:
    rows: int  # the rows the sample stands for
    columns: dict[str, np.ndarray]  # equal lengths: the sampled rows

    @property
    def size(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def _kind(values: np.ndarray) -> ColumnKind:
    return ColumnKind.CATEGORICAL if values.dtype == object else ColumnKind.NUMERIC


def _missing(kind: ColumnKind, n: int) -> np.ndarray:
    if kind is ColumnKind.NUMERIC:
        return np.full(n, np.nan)
    return np.full(n, None, dtype=object)


def sample_rows(columns: Mapping[str, np.ndarray], k: int, rng: np.random.Generator) -> RowSample:
    """A uniform sample of at most ``k`` of the rows at hand (without replacement)."""
    n = len(next(iter(columns.values()))) if columns else 0
    if n <= k:
        return RowSample(n, {name: np.asarray(v).copy() for name, v in columns.items()})
    index = np.sort(rng.choice(n, k, replace=False))
    return RowSample(n, {name: np.asarray(v)[index] for name, v in columns.items()})


def merge(a: RowSample, b: RowSample, k: int, rng: np.random.Generator) -> RowSample:
    """A uniform sample of at most ``k`` rows of the union of ``a``'s and ``b``'s rows.
    A column only one side has is missing (NaN, None) in the other side's rows."""
    if b.rows == 0:
        return a
    if a.rows == 0:
        return b
    m = min(k, a.rows + b.rows)
    x = int(rng.hypergeometric(a.rows, b.rows, m))
    x = min(x, a.size)  # both sides hold min(k, rows) rows: the clips never bite then
    y = min(m - x, b.size)
    take_a = np.sort(rng.choice(a.size, x, replace=False))
    take_b = np.sort(rng.choice(b.size, y, replace=False))
    names = list(dict.fromkeys([*a.columns, *b.columns]))
    out: dict[str, np.ndarray] = {}
    for name in names:
        kind = _kind(a.columns[name] if name in a.columns else b.columns[name])
        left = a.columns[name][take_a] if name in a.columns else _missing(kind, x)
        right = b.columns[name][take_b] if name in b.columns else _missing(kind, y)
        out[name] = (
            np.concatenate([left, right])
            if kind is ColumnKind.NUMERIC
            else np.array([*left.tolist(), *right.tolist()], dtype=object)
        )
    return RowSample(a.rows + b.rows, out)


def merge_all(samples: list[RowSample], k: int, rng: np.random.Generator) -> RowSample | None:
    merged: RowSample | None = None
    for s in samples:
        merged = s if merged is None else merge(merged, s, k, rng)
    return merged


# --- storing ----------------------------------------------------------------------------


def sample_to_dict(sample: RowSample) -> dict[str, Any]:
    """A versioned, JSON-safe document (NaN written as null)."""
    columns: dict[str, Any] = {}
    for name, values in sample.columns.items():
        kind = _kind(values)
        if kind is ColumnKind.NUMERIC:
            listed = [None if v != v else v for v in values.astype(float).tolist()]
        else:
            listed = [None if v is None else str(v) for v in values.tolist()]
        columns[name] = {"kind": kind.value, "values": listed}
    return {"format": FORMAT, "version": VERSION, "rows": sample.rows, "columns": columns}


def sample_from_dict(doc: Mapping[str, Any]) -> RowSample:
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise InvalidInput(f"not a {FORMAT} document of version {VERSION}")
    columns: dict[str, np.ndarray] = {}
    for name, column in doc["columns"].items():
        values = column["values"]
        if ColumnKind(column["kind"]) is ColumnKind.NUMERIC:
            columns[name] = np.array([np.nan if v is None else v for v in values], dtype=float)
        else:
            columns[name] = np.array(values, dtype=object)
    sizes = {len(v) for v in columns.values()}
    if len(sizes) > 1:
        raise InvalidInput(f"{FORMAT}: columns of different lengths")
    return RowSample(int(doc["rows"]), columns)


# --- what the classifier reads ----------------------------------------------------------


def _codes(reference: np.ndarray, top: int) -> dict[str, int]:
    """The reference's ``top`` most frequent categories, coded 0.. by frequency (ties by
    name)."""
    present = [v for v in reference.tolist() if v is not None]
    counts: dict[str, int] = {}
    for v in present:
        counts[v] = counts.get(v, 0) + 1
    ranked = sorted(counts, key=lambda v: (-counts[v], v))[:top]
    return {v: i for i, v in enumerate(ranked)}


def encode(
    reference: RowSample,
    current: RowSample,
    kinds: Mapping[str, ColumnKind],
    top: int = TOP_CATEGORIES,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Both samples as 2-D float arrays over the columns of ``kinds`` both hold.

    Numeric columns as they are; a categorical column as ordinal codes of the reference
    sample's ``top`` most frequent categories (0 for the most frequent), every other
    category (rarer, or unseen in the reference) as ``top``, missing as NaN. Gradient
    boosted trees split on codes, so a category whose share changed is found."""
    names = [n for n in kinds if n in reference.columns and n in current.columns]
    ref_cols, cur_cols = [], []
    for name in names:
        ref, cur = reference.columns[name], current.columns[name]
        if kinds[name] is ColumnKind.NUMERIC:
            ref_cols.append(ref.astype(float))
            cur_cols.append(cur.astype(float))
            continue
        codes = _codes(ref, top)

        def coded(values: np.ndarray, codes: dict[str, int] = codes) -> np.ndarray:
            return np.array(
                [np.nan if v is None else codes.get(v, top) for v in values.tolist()], dtype=float
            )

        ref_cols.append(coded(ref))
        cur_cols.append(coded(cur))
    if not names:
        return np.empty((reference.size, 0)), np.empty((current.size, 0)), names
    return np.column_stack(ref_cols), np.column_stack(cur_cols), names
