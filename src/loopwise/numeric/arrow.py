"""Arrow columns read for the drift tests without a Python object per row, and without
pandas: pyarrow's ``to_numpy`` (and ``numpy.asarray`` of an Arrow array) imports pandas,
about 40 MB of a process that may never need it.

``floats``: a numeric (or boolean) column as float64 with NaN for nulls, zero-copy when
it is one chunk of float64 without nulls. ``value_counts``: the distinct values of any
column with their counts, counted by Arrow (dictionary-encoded columns by their codes),
keys as Python values (str, int, float, bool) the way ``pandas.factorize`` gives them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from loopwise.core.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa


def is_arrow(values: Any) -> bool:
    """An Arrow array or chunked array (told without importing pyarrow)."""
    return type(values).__module__.startswith("pyarrow")


def floats(column: pa.Array | pa.ChunkedArray, name: str = "") -> np.ndarray:
    """``column`` as a 1-D float64 array, nulls as NaN. Refuses text with ``InvalidInput``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    try:
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if pa.types.is_boolean(array.type):
            array = pc.cast(array, pa.int8())
        array = pc.cast(array, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput(f"column {name!r} is not numeric: {exc}") from exc
    bitmap, data = array.buffers()[:2]
    if data is None or len(array) == 0:  # an empty array may have no data buffer
        return np.empty(0, dtype=np.float64)
    values = np.frombuffer(data, dtype=np.float64, count=len(array), offset=array.offset * 8)
    if array.null_count:  # NaN where the validity bitmap says null (a pyarrow scalar NaN
        # for fill_null would import pandas)
        bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
        valid = bits[array.offset : array.offset + len(array)].view(bool)
        values = np.where(valid, values, np.nan)
    return values


def value_counts(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, counts) of ``column``'s distinct values: keys an object array of Python
    values, nulls left out, and for a floating column NaN and infinities too."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_dictionary(column.type) and isinstance(column, pa.ChunkedArray):
        column = column.unify_dictionaries()  # value_counts needs one dictionary
    counted = pc.value_counts(column)
    keys, counts = counted.field("values"), counted.field("counts")
    if pa.types.is_dictionary(keys.type):
        keys = keys.dictionary_decode()
    keep = pc.is_valid(keys)
    if pa.types.is_floating(kind):
        keep = pc.and_(keep, pc.is_finite(keys))
    listed = keys.filter(keep).to_pylist()
    out = np.empty(len(listed), dtype=object)
    out[:] = listed
    return out, np.asarray(counts.filter(keep).to_pylist(), dtype=np.int64)
