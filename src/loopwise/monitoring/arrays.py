"""Arrow columns as the NumPy arrays the profiles read: numeric columns as float64 with
NaN for missing values, categorical ones as text (object arrays, None for missing).

The reference and every batch go through these same conversions, so a category is
spelled the same on both sides (a boolean is "true"/"false" whether it came from
Parquet or CSV).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from loopwise.core.errors import InvalidInput
from loopwise.monitoring.models import ColumnSpec
from loopwise.numeric import arrow, sketch
from loopwise.numeric.drift import ColumnKind
from loopwise.numeric.sketch import Profile

if TYPE_CHECKING:
    import pyarrow as pa


def floats(column: pa.Array | pa.ChunkedArray, name: str = "") -> np.ndarray:
    """Numbers as float64, nulls as NaN (``numeric.arrow.floats``: zero-copy where it
    can, and without pyarrow's ``to_numpy``, which imports pandas)."""
    return arrow.floats(column, name)


def texts(column: pa.Array | pa.ChunkedArray, name: str = "") -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if pa.types.is_floating(column.type):
            # 1.0 and 1 are one category: whole floats are written without ".0"
            values = column.to_numpy(zero_copy_only=False)
            whole = np.isfinite(values) & (np.mod(values, 1) == 0)
            if whole[np.isfinite(values)].all():
                column = pc.cast(column, pa.int64(), safe=False)
        out: np.ndarray = pc.cast(column, pa.string()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput(f"column {name!r} cannot be read as text: {exc}") from exc
    return out


def as_kind(column: pa.Array | pa.ChunkedArray, kind: ColumnKind, name: str) -> np.ndarray:
    return floats(column, name) if kind is ColumnKind.NUMERIC else texts(column, name)


def empty(kind: ColumnKind) -> np.ndarray:
    return np.empty(0, dtype=float if kind is ColumnKind.NUMERIC else object)


def columns_of(batch: pa.RecordBatch, specs: Sequence[ColumnSpec]) -> dict[str, np.ndarray]:
    """The monitored columns present in ``batch``, converted by their kind."""
    names = set(batch.schema.names)
    return {s.name: as_kind(batch.column(s.name), s.kind, s.name) for s in specs if s.name in names}


def feature_columns(batch: pa.RecordBatch, specs: Sequence[ColumnSpec]) -> dict[str, np.ndarray]:
    """Every one of ``specs`` converted by its kind; a column the batch lacks is all
    missing (NaN, None): what a row sample keeps."""
    names = set(batch.schema.names)
    return {
        s.name: as_kind(batch.column(s.name), s.kind, s.name)
        if s.name in names
        else missing(s.kind, batch.num_rows)
        for s in specs
    }


def missing(kind: ColumnKind, n: int) -> np.ndarray:
    return np.full(n, np.nan) if kind is ColumnKind.NUMERIC else np.full(n, None, dtype=object)


def take(columns: dict[str, np.ndarray], index: Any) -> dict[str, np.ndarray]:
    return {name: values[index] for name, values in columns.items()}


def profile_of(batches: Iterable[pa.RecordBatch], specs: Sequence[ColumnSpec]) -> Profile:
    """The mergeable profile of record batches, column kinds as the monitor reads them:
    what the server folds each chunk of an upload into, and what the SDK sends instead of
    the rows (``numeric.sketch.profile_to_dict``)."""
    profile: Profile | None = None
    for batch in batches:
        names = set(batch.schema.names)
        present = [s for s in specs if s.name in names]
        part = sketch.profile_columns(columns_of(batch, present), {s.name: s.kind for s in present})
        profile = part if profile is None else sketch.merge(profile, part)
    if profile is None:
        return sketch.profile_columns(
            {s.name: empty(s.kind) for s in specs}, {s.name: s.kind for s in specs}
        )
    return profile
