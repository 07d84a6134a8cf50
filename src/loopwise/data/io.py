"""Reading dataset files: streamed content hashes, Arrow batch readers, DVC files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from loopwise.core.errors import InvalidInput
from loopwise.data.models import DataFormat

if TYPE_CHECKING:  # pyarrow and pandas load on first use, not at import
    import pandas as pd
    import pyarrow as pa

CHUNK = 1 << 20
BATCH_ROWS = 65_536


def detect_format(path: Path) -> DataFormat:
    if path.is_dir():
        suffixes = {p.suffix.lower() for p in path.rglob("*") if p.is_file()}
        if suffixes & {".parquet", ".pq"}:
            return DataFormat.PARQUET
        if ".csv" in suffixes:
            return DataFormat.CSV
        raise InvalidInput(f"{path} holds no .csv or .parquet files")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return DataFormat.CSV
    if suffix in (".parquet", ".pq"):
        return DataFormat.PARQUET
    if suffix == ".dvc":
        return DataFormat.DVC
    raise InvalidInput(f"cannot tell the format of {path.name}: use .csv, .parquet or .dvc")


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(path: Path) -> tuple[str, int]:
    """SHA-256 of a file's bytes, read in 1 MiB chunks; for a folder, of its sorted
    (relative path, file hash) list. Returns ("sha256:<hex>", total bytes)."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist")
    if path.is_file():
        return f"sha256:{_file_hash(path)}", path.stat().st_size
    digest = hashlib.sha256()
    size = 0
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(f"{file.relative_to(path).as_posix()}\0{_file_hash(file)}\n".encode())
        size += file.stat().st_size
    return f"sha256:{digest.hexdigest()}", size


def batches(path: Path, fmt: DataFormat) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The schema and a stream of record batches; nothing is read whole."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    try:
        if path.is_dir():
            dataset = pads.dataset(path, format="parquet" if fmt is DataFormat.PARQUET else "csv")
            return dataset.schema, iter(dataset.to_batches(batch_size=BATCH_ROWS))
        if fmt is DataFormat.CSV:
            reader = pacsv.open_csv(path)
            return reader.schema, iter(reader)
        if fmt is DataFormat.PARQUET:
            # no pre_buffer: pyarrow would keep every column chunk read until the end
            pf = pq.ParquetFile(path, pre_buffer=False)
            return pf.schema_arrow, pf.iter_batches(batch_size=BATCH_ROWS)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"cannot read {path.name} as {fmt.value}: {exc}") from exc
    raise InvalidInput(f"{fmt.value} data cannot be read directly")


def read_frame(path: Path, fmt: DataFormat, limit: int) -> pd.DataFrame:
    """Up to ``limit`` rows as a DataFrame (leakage checks)."""
    import pyarrow as pa

    schema, stream = batches(path, fmt)
    parts, rows = [], 0
    for batch in stream:
        parts.append(batch)
        rows += batch.num_rows
        if rows >= limit:
            break
    table = pa.Table.from_batches(parts, schema=schema) if parts else schema.empty_table()
    frame: pd.DataFrame = table.to_pandas()  # pyarrow is untyped here
    return frame.head(limit)


def parse_dvc(text: str) -> tuple[str, int, str]:
    """(hash, size, path) of the single output of a .dvc file."""
    try:
        doc = yaml.safe_load(text)
        out = doc["outs"][0]
        digest = out.get("md5") or out.get("etag") or out.get("hash")
        if not digest:
            raise KeyError("md5")
        return f"md5:{str(digest).removesuffix('.dir')}", int(out.get("size", 0)), str(out["path"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise InvalidInput(f"not a DVC file with one output (outs[0].md5, path): {exc}") from exc
