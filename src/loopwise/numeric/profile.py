"""Dataset profiling and quality in one streaming pass over Arrow record batches.

Large files are never loaded whole: counts, missing values, min/max/mean/std and
expectation violations are exact and accumulated batch by batch; quantiles come from a
uniform reservoir sample (exact while the data fits in it); distinct counts and top
categories are exact up to ``DISTINCT_CAP`` distinct values per column.

Quality dimensions (each 0..1, ``None`` when nothing measures it):
- completeness: share of non-missing cells;
- uniqueness: share of rows that are not exact duplicates of an earlier row;
- validity: share of checked cells passing type, range, allowed-value, not-null and
  uniqueness expectations;
- consistency: share of rows passing cross-column rules (``a <= b``);
- timeliness: 1 when the newest value of the freshness column is within ``max_age_days``
  of the check time, falling linearly to 0 at twice that age.
The quality index is 100 x the mean of the measured dimensions.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # heavy imports happen inside the functions that need them
    import pandas as pd
    import pyarrow as pa

DISTINCT_CAP = 100_000
RESERVOIR = 50_000
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
TOP = 10
_RULE = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(<=|>=|<|>|==|!=)\s*([A-Za-z_][\w]*)\s*$")
_OPS = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
KINDS = ("integer", "float", "boolean", "datetime", "string")


class ProfileError(ValueError):
    """The data or an expectation cannot be read."""


def kind_of(arrow_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_temporal(arrow_type):
        return "datetime"
    return "string"


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str
    count: int
    missing: int
    missing_share: float
    distinct: int
    distinct_exact: bool
    minimum: Any = None
    maximum: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] = field(default_factory=dict)
    top: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ExpectationResult:
    expectation: dict[str, Any]
    passed: bool
    checked: int
    failed: int
    detail: str


@dataclass(frozen=True)
class Analysis:
    rows: int
    schema: tuple[tuple[str, str], ...]  # (column, kind)
    columns: tuple[ColumnProfile, ...]
    duplicate_rows: int
    expectations: tuple[ExpectationResult, ...]
    dimensions: dict[str, float | None]
    quality_index: float | None
    row_hashes: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.array([]))


class _Column:
    def __init__(self, name: str, kind: str, rng: np.random.Generator) -> None:
        self.name, self.kind, self.rng = name, kind, rng
        self.count = self.missing = 0
        self.values: Counter[Any] = Counter()
        self.capped = False
        self.min: Any = None
        self.max: Any = None
        self.total = self.total_sq = 0.0
        self.numeric_seen = 0
        self.sample = np.empty(0, dtype=float)

    def add(self, series: pd.Series) -> None:
        n = len(series)
        nulls = int(series.isna().sum())
        self.count += n
        self.missing += nulls
        present = series.dropna()
        if present.empty:
            return
        if not self.capped:
            keyed = present.astype(str) if self.kind == "datetime" else present
            self.values.update(keyed.value_counts(sort=False).to_dict())
            if len(self.values) > DISTINCT_CAP:
                self.capped = True
        if self.kind in ("integer", "float", "datetime"):
            lo, hi = present.min(), present.max()
            self.min = lo if self.min is None else min(self.min, lo)
            self.max = hi if self.max is None else max(self.max, hi)
        if self.kind in ("integer", "float"):
            arr = present.to_numpy(dtype=float)
            finite = arr[np.isfinite(arr)]
            self.total += float(finite.sum())
            self.total_sq += float((finite**2).sum())
            self._reservoir(finite)

    def _reservoir(self, arr: np.ndarray) -> None:
        """Algorithm R, vectorised over a batch: each value seen so far has the same
        chance to be in the sample."""
        room = RESERVOIR - len(self.sample)
        if room > 0:
            self.sample = np.concatenate([self.sample, arr[:room]])
        rest = arr[max(room, 0) :]
        seen = self.numeric_seen + max(min(room, len(arr)), 0)
        if len(rest):
            positions = np.arange(seen + 1, seen + len(rest) + 1)
            slots = (self.rng.random(len(rest)) * positions).astype(np.int64)
            keep = slots < RESERVOIR
            self.sample[slots[keep]] = rest[keep]
        self.numeric_seen += len(arr)

    def profile(self) -> ColumnProfile:
        mean = std = None
        quantiles: dict[str, float] = {}
        if self.kind in ("integer", "float") and self.numeric_seen:
            mean = self.total / self.numeric_seen
            var = max(self.total_sq / self.numeric_seen - mean**2, 0.0)
            std = (
                math.sqrt(var * self.numeric_seen / (self.numeric_seen - 1))
                if self.numeric_seen > 1
                else 0.0
            )
            qs = np.quantile(self.sample, QUANTILES)
            quantiles = {f"p{int(q * 100)}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}
        top: tuple[tuple[str, int], ...] = ()
        if self.kind in ("string", "boolean") and not self.capped:
            top = tuple((str(v), c) for v, c in self.values.most_common(TOP))
        return ColumnProfile(
            name=self.name,
            kind=self.kind,
            count=self.count,
            missing=self.missing,
            missing_share=self.missing / self.count if self.count else 0.0,
            distinct=len(self.values),
            distinct_exact=not self.capped,
            minimum=_plain(self.min),
            maximum=_plain(self.max),
            mean=mean,
            std=std,
            quantiles=quantiles,
            top=top,
        )

    @property
    def present(self) -> int:
        return self.count - self.missing


def _plain(value: Any) -> Any:
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Expectations:
    """Validity/consistency/timeliness accounting for declared expectations."""

    def __init__(self, expectations: Sequence[dict[str, Any]], schema: dict[str, str]) -> None:
        self.items = list(expectations)
        self.failed = [0] * len(self.items)
        self.checked = [0] * len(self.items)
        self.notes = [""] * len(self.items)
        for i, e in enumerate(self.items):
            validate_expectation(e, schema)
            if "type" in e and schema[e["column"]] != e["type"]:
                self.notes[i] = f"{e['column']} is {schema[e['column']]}, expected {e['type']}"

    def add(self, frame: pd.DataFrame) -> None:
        import pandas as pd

        n = len(frame)
        for i, e in enumerate(self.items):
            if "rule" in e:
                rule = _RULE.match(e["rule"])
                assert rule is not None  # validate_expectation checked it in __init__
                left, op, right = rule.groups()
                mask = frame[left].notna() & frame[right].notna()
                ok = _OPS[op](frame.loc[mask, left], frame.loc[mask, right])
                self.checked[i] += int(mask.sum())
                self.failed[i] += int((~ok).sum())
                continue
            col = frame[e["column"]]
            if "type" in e:
                self.checked[i] += n
                self.failed[i] += n if self.notes[i] else 0
            if e.get("not_null"):
                self.checked[i] += n
                self.failed[i] += int(col.isna().sum())
            present = col.dropna()
            if "min" in e or "max" in e:
                self.checked[i] += len(present)
                bad = pd.Series(False, index=present.index)
                if "min" in e:
                    bad |= present < e["min"]
                if "max" in e:
                    bad |= present > e["max"]
                self.failed[i] += int(bad.sum())
            if "allowed" in e:
                self.checked[i] += len(present)
                self.failed[i] += int(
                    (~present.astype(str).isin([str(a) for a in e["allowed"]])).sum()
                )
            if "pattern" in e:
                self.checked[i] += len(present)
                self.failed[i] += int((~present.astype(str).str.fullmatch(e["pattern"])).sum())

    def finish(
        self, columns: dict[str, _Column], now: datetime
    ) -> tuple[list[ExpectationResult], float | None, float | None, float | None]:
        results = []
        valid_checked = valid_failed = cons_checked = cons_failed = 0
        timeliness: float | None = None
        for i, e in enumerate(self.items):
            checked, failed, note = self.checked[i], self.failed[i], self.notes[i]
            if e.get("unique"):
                col = columns[e["column"]]
                if col.capped:
                    note = "more distinct values than can be counted exactly; not checked"
                else:
                    dupes = col.present - len(col.values)
                    checked, failed = col.present, dupes
                    note = note or (f"{dupes} duplicate values" if dupes else "")
            if "max_age_days" in e:
                newest = columns[e["column"]].max
                if newest is None:
                    timeliness, note = 0.0, "no timestamps"
                    checked, failed = 1, 1
                else:
                    import pandas as pd

                    ts = pd.Timestamp(newest)
                    ts = ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)
                    age = (pd.Timestamp(now) - ts).total_seconds() / 86400
                    limit = float(e["max_age_days"])
                    timeliness = float(min(1.0, max(0.0, 2 - age / limit))) if limit > 0 else 0.0
                    checked, failed = 1, int(age > limit)
                    note = f"newest value is {age:.1f} days old (limit {limit:g})"
            elif "rule" in e:
                cons_checked += checked
                cons_failed += failed
            else:
                valid_checked += checked
                valid_failed += failed
            if failed and not note:
                note = f"{failed} of {checked} failed"
            results.append(ExpectationResult(dict(e), failed == 0, checked, failed, note))
        validity = 1 - valid_failed / valid_checked if valid_checked else None
        consistency = 1 - cons_failed / cons_checked if cons_checked else None
        return results, validity, consistency, timeliness


def validate_expectation(e: dict[str, Any], schema: dict[str, str] | None = None) -> None:
    """Raise ProfileError unless ``e`` is a well-formed expectation. With a ``schema``
    (column -> kind) the columns it names must exist too."""
    if "rule" in e:
        m = _RULE.match(str(e["rule"]))
        if not m or len(e) != 1:
            raise ProfileError(f"rule {e.get('rule')!r} must look like 'column_a <= column_b'")
        for col in (m.group(1), m.group(3)):
            if schema is not None and col not in schema:
                raise ProfileError(f"rule {e['rule']!r} names unknown column {col!r}")
        return
    col = e.get("column")
    if not isinstance(col, str) or (schema is not None and col not in schema):
        raise ProfileError(f"expectation names unknown column {col!r}")
    known = {
        "column",
        "type",
        "min",
        "max",
        "allowed",
        "unique",
        "not_null",
        "pattern",
        "max_age_days",
    }
    unknown = set(e) - known
    if unknown or len(e) < 2:
        raise ProfileError(
            f"expectation on {col!r} needs one of {sorted(known - {'column'})}"
            + (f"; unknown keys {sorted(unknown)}" if unknown else "")
        )
    if "type" in e and e["type"] not in KINDS:
        raise ProfileError(f"type must be one of {KINDS}")
    if "pattern" in e:
        try:
            re.compile(str(e["pattern"]))
        except re.error as exc:
            raise ProfileError(
                f"pattern {e['pattern']!r} is not a regular expression: {exc}"
            ) from exc


def analyze(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    *,
    expectations: Sequence[dict[str, Any]] = (),
    now: datetime | None = None,
    seed: int = 0,
) -> Analysis:
    """Profile, duplicate rows, expectations and quality from one pass over ``batches``."""
    import pandas as pd

    kinds = {f.name: kind_of(f.type) for f in schema}
    if len(kinds) != len(schema):
        raise ProfileError("column names must be unique")
    rng = np.random.default_rng(seed)
    cols = {name: _Column(name, kind, rng) for name, kind in kinds.items()}
    checks = _Expectations(expectations, kinds)
    hashes: list[np.ndarray] = []
    rows = 0
    for batch in batches:
        frame = batch.to_pandas()
        rows += len(frame)
        for name in frame.columns:
            cols[name].add(frame[name])
        checks.add(frame)
        hashes.append(pd.util.hash_pandas_object(frame, index=False).to_numpy())
    row_hashes = np.concatenate(hashes) if hashes else np.array([], dtype=np.uint64)
    duplicates = int(len(row_hashes) - len(np.unique(row_hashes)))
    results, validity, consistency, timeliness = checks.finish(cols, now or datetime.now(UTC))
    cells = rows * len(cols)
    missing = sum(c.missing for c in cols.values())
    dims: dict[str, float | None] = {
        "completeness": 1 - missing / cells if cells else None,
        "uniqueness": 1 - duplicates / rows if rows else None,
        "validity": validity,
        "consistency": consistency,
        "timeliness": timeliness,
    }
    measured = [v for v in dims.values() if v is not None]
    return Analysis(
        rows=rows,
        schema=tuple(kinds.items()),
        columns=tuple(c.profile() for c in cols.values()),
        duplicate_rows=duplicates,
        expectations=tuple(results),
        dimensions=dims,
        quality_index=100 * sum(measured) / len(measured) if measured else None,
        row_hashes=row_hashes,
    )
