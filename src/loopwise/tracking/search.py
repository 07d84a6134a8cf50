"""The run filter grammar (MLflow's ``search_runs`` syntax) and its translation to SQL.

    filter  := clause ("AND" clause)*
    clause  := ident op value | ident ("IN" | "NOT IN") "(" value ("," value)* ")"
    ident   := [metrics|params|tags|attributes "."] key   (key may be `quoted` or "quoted")
    op      := = | != | > | >= | < | <= | LIKE | ILIKE
    order   := ident ["ASC" | "DESC"]

Metrics compare numerically against each run's latest value; params and tags compare
as strings; attributes are status, run_name, run_id, start_time, end_time and user_id.
Metric filters read the latest-value summary table, never the full history.

Limits (core.limits, the same through every door): at most MAX_FILTER_CLAUSES clauses,
MAX_FILTER_VALUES values in all IN lists together, MAX_ORDER_KEYS sort keys. Each clause
is one subquery and each sort key one join, so these bound the statement's size; the
server's statement timeout bounds its time.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, select, true
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import SQLCoreOperations

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import (
    INT64_MAX,
    MAX_FILTER_CLAUSES,
    MAX_FILTER_VALUES,
    MAX_ORDER_KEYS,
)
from loopwise.tracking.tables import LatestMetricRow, ParamRow, RunRow, TagRow

# Each number splits its digits one way only (``\d+\.?\d*`` could split a run of n digits
# n ways and retried each when the lookahead failed: 16,000 digits then a letter took 4 s).
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
      | '(?P<sq>(?:[^'\\]|\\.)*)'
      | "(?P<dq>(?:[^"\\]|\\.)*)"
      | `(?P<bq>[^`]*)`
      | (?P<op>!=|>=|<=|=|>|<|\(|\)|,|\.)
      | (?P<word>[A-Za-z_][\w\-:/]*)
    )""",
    re.VERBOSE,
)
# Tokenizing stops past this many tokens instead of reading megabytes of filter first. A
# clause is 5 tokens plus 2 per dot in a bare dotted key and 2 per IN value: filters
# within the limits stay far below it.
_MAX_TOKENS = 50 * MAX_FILTER_CLAUSES + 2 * MAX_FILTER_VALUES
_TOO_LONG = (
    f"the filter is too long: a filter holds at most {MAX_FILTER_CLAUSES} clauses joined "
    f"by AND, and {MAX_FILTER_VALUES:,} values in IN lists altogether"
)
_ENTITIES = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
_ATTRIBUTES = {"status", "run_name", "run_id", "start_time", "end_time", "user_id", "run_uuid"}
_NUMERIC_OPS = {"=", "!=", ">", ">=", "<", "<="}
_STRING_OPS = {"=", "!=", "LIKE", "ILIKE"}
STATUS_TO_MLFLOW = {
    "running": "RUNNING",
    "finished": "FINISHED",
    "failed": "FAILED",
    "killed": "KILLED",
}
USER_TAG = "mlflow.user"


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, op, word, ident
    text: str


# A number or a quoted string; IN and NOT IN take a tuple of strings.
FilterValue = float | str | tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    entity: str  # metric, param, tag, attribute
    key: str
    op: str
    value: FilterValue


@dataclass(frozen=True)
class Order:
    entity: str
    key: str
    descending: bool


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        if len(out) > _MAX_TOKENS:
            raise InvalidInput(_TOO_LONG)
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidInput(f"cannot parse the filter near {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group("num") is not None:
            out.append(Token("num", m.group("num")))
        elif m.group("sq") is not None:
            out.append(Token("str", m.group("sq").replace("\\'", "'")))
        elif m.group("dq") is not None:
            out.append(Token("qstr", m.group("dq").replace('\\"', '"')))
        elif m.group("bq") is not None:
            out.append(Token("ident", m.group("bq")))
        elif m.group("op") is not None:
            out.append(Token("op", m.group("op")))
        else:
            out.append(Token("word", m.group("word")))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise InvalidInput("the filter ends too early")
        self.i += 1
        return tok

    def symbol(self, text: str) -> bool:
        tok = self.peek()
        if tok and tok.kind == "op" and tok.text == text:
            self.i += 1
            return True
        return False

    def word(self, *options: str) -> bool:
        tok = self.peek()
        if tok and tok.kind == "word" and tok.text.upper() in options:
            self.i += 1
            return True
        return False

    def identifier(self) -> tuple[str, str]:
        first = self.take()
        if first.kind not in ("word", "ident", "qstr"):
            raise InvalidInput(f"expected a name like metrics.accuracy, got {first.text!r}")
        nxt = self.peek()
        if first.kind == "word" and nxt is not None and nxt.text == "." and nxt.kind == "op":
            self.i += 1
            entity = _ENTITIES.get(first.text.lower())
            if entity is None:
                raise InvalidInput(
                    f"unknown entity {first.text!r}: use metrics., params., tags. or attributes."
                )
            key_tok = self.take()
            if key_tok.kind not in ("word", "ident", "qstr", "num"):
                raise InvalidInput(f"expected a key after {first.text}.")
            key = key_tok.text
            # dotted keys written bare: metrics.val.loss
            while (
                key_tok.kind == "word"
                and (p := self.peek()) is not None
                and p.kind == "op"
                and p.text == "."
            ):
                self.i += 1
                part = self.take()
                if part.kind not in ("word", "num"):
                    raise InvalidInput(
                        f"expected the rest of the key after {first.text}.{key}., got "
                        f"{part.text!r} (a key with other characters is quoted: `a.(b)`)"
                    )
                key += "." + part.text
            return entity, key
        return "attribute", first.text

    def value(self) -> float | str:
        tok = self.take()
        if tok.kind == "num":
            return float(tok.text)
        if tok.kind in ("str", "qstr"):
            return tok.text
        raise InvalidInput(f"expected a number or a quoted string, got {tok.text!r}")

    def string(self) -> str:
        tok = self.take()
        if tok.kind in ("str", "qstr"):
            return tok.text
        raise InvalidInput(f"IN lists hold quoted strings, got {tok.text!r}")

    def clause(self) -> Clause:
        entity, key = self.identifier()
        if self.word("NOT"):
            if not self.word("IN"):
                raise InvalidInput("expected IN after NOT")
            return Clause(entity, key, "NOT IN", self.values())
        if self.word("IN"):
            return Clause(entity, key, "IN", self.values())
        if self.word("LIKE"):
            return Clause(entity, key, "LIKE", self.value())
        if self.word("ILIKE"):
            return Clause(entity, key, "ILIKE", self.value())
        tok = self.take()
        if tok.kind != "op" or tok.text not in _NUMERIC_OPS:
            raise InvalidInput(f"expected a comparison after {key!r}, got {tok.text!r}")
        return Clause(entity, key, tok.text, self.value())

    def values(self) -> tuple[str, ...]:
        if not self.symbol("("):
            raise InvalidInput("IN needs a parenthesised list")
        if self.symbol(")"):
            raise InvalidInput("an IN list needs at least one value")
        out = [self.string()]
        while self.symbol(","):
            out.append(self.string())
        if not self.symbol(")"):
            raise InvalidInput("unclosed IN list: expected , or )")
        return tuple(out)


def parse_filter(text: str | None) -> list[Clause]:
    if not text or not text.strip():
        return []
    parser = _Parser(text)
    clauses = [parser.clause()]
    while (tok := parser.peek()) is not None:
        if not parser.word("AND"):
            raise InvalidInput(f"expected AND, got {tok.text!r}")
        if len(clauses) == MAX_FILTER_CLAUSES:
            raise InvalidInput(
                f"the filter has more than {MAX_FILTER_CLAUSES} clauses; "
                f"a filter holds at most {MAX_FILTER_CLAUSES}"
            )
        clauses.append(parser.clause())
    values = sum(len(c.value) for c in clauses if isinstance(c.value, tuple))
    if values > MAX_FILTER_VALUES:
        raise InvalidInput(
            f"the filter's IN lists hold {values:,} values; the limit is {MAX_FILTER_VALUES:,}"
        )
    for c in clauses:
        _check(c)
    return clauses


def _check(c: Clause) -> None:
    if c.entity == "metric":
        if c.op not in _NUMERIC_OPS or not isinstance(c.value, float):
            raise InvalidInput(f"metrics.{c.key} compares with numbers and = != > >= < <=")
    elif c.entity in ("param", "tag"):
        if c.op in ("IN", "NOT IN"):
            return
        if c.op not in _STRING_OPS or not isinstance(c.value, str):
            raise InvalidInput(f"{c.entity}s.{c.key} compares with a quoted string")
    else:
        if c.key not in _ATTRIBUTES:
            raise InvalidInput(f"unknown attribute {c.key!r}; known: {sorted(_ATTRIBUTES)}")
        if c.key in ("start_time", "end_time"):
            if c.op not in _NUMERIC_OPS or not isinstance(c.value, float):
                raise InvalidInput(f"{c.key} compares with a number of milliseconds")
            _millis(c.value)  # out-of-calendar times are a filter mistake, found here
        elif c.op not in ("IN", "NOT IN") and (
            c.op not in _STRING_OPS or not isinstance(c.value, str)
        ):
            raise InvalidInput(
                f"{c.key} compares with a quoted string and = != LIKE ILIKE IN or NOT IN"
            )


def parse_order(items: Sequence[str]) -> list[Order]:
    if len(items) > MAX_ORDER_KEYS:
        raise InvalidInput(
            f"{len(items)} sort keys given; a search sorts by at most {MAX_ORDER_KEYS}"
        )
    out = []
    for item in items:
        parser = _Parser(item)
        entity, key = parser.identifier()
        descending = False
        if parser.word("DESC"):
            descending = True
        else:
            parser.word("ASC")
        if parser.peek() is not None:
            raise InvalidInput(f"cannot order by {item!r}")
        if entity == "attribute" and key not in _ATTRIBUTES:
            raise InvalidInput(f"cannot order by attribute {key!r}")
        out.append(Order(entity, key, descending))
    return out


def _compare(
    column: SQLCoreOperations[Any], op: str, value: FilterValue | datetime
) -> ColumnElement[bool]:
    match op:
        case "=":
            return column == value
        case "!=":
            return column != value
        case ">":
            return column > value
        case ">=":
            return column >= value
        case "<":
            return column < value
        case "<=":
            return column <= value
        case "LIKE":
            return column.like(value)
        case "ILIKE":
            return func.lower(column).like(str(value).lower())
        case "IN":
            assert isinstance(value, tuple)  # the parser reads IN lists as tuples
            return column.in_(value)
        case "NOT IN":
            assert isinstance(value, tuple)
            return column.not_in(value)
    raise InvalidInput(f"unknown operator {op}")


def _millis(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidInput(
            f"a time is out of range: {value:g} is not milliseconds since 1970"
        ) from exc


# PostgreSQL turns each EXISTS into a semi-join and then plans the joins together: with
# 100 subquery clauses the planning alone took 1.4 s on an empty database (8 s on a busy
# machine), and 2,000 clauses ran for minutes. Past this many subqueries (PostgreSQL's own
# join_collapse_limit) each gets an ``OFFSET 0``, which keeps it a per-run subplan that
# probes the (run_id, key) index: planning stays linear (0.4 s for 100 clauses).
# Smaller filters keep the semi-joins. SQLite runs EXISTS as a subquery either way.
FENCE_AFTER = 8


def _exists(*where: ColumnElement[bool], fenced: bool) -> ColumnElement[bool]:
    subquery = select(literal(1)).where(*where)
    return exists(subquery.offset(0) if fenced else subquery)


def _is_subquery(c: Clause) -> bool:
    return c.entity in ("metric", "param", "tag") or c.key == "user_id"


def condition(c: Clause, *, fenced: bool = False) -> ColumnElement[bool]:
    if c.entity == "metric":
        return _exists(
            LatestMetricRow.run_id == RunRow.id,
            LatestMetricRow.key == c.key,
            LatestMetricRow.is_nan.is_(False),
            _compare(LatestMetricRow.value, c.op, c.value),
            fenced=fenced,
        )
    if c.entity in ("param", "tag"):
        table = ParamRow if c.entity == "param" else TagRow
        return _exists(
            table.run_id == RunRow.id,
            table.key == c.key,
            _compare(table.value, c.op, c.value),
            fenced=fenced,
        )
    match c.key:
        case "status":
            to_ours = {v: k for k, v in STATUS_TO_MLFLOW.items()}
            value = (
                tuple(to_ours.get(v.upper(), v.lower()) for v in c.value)
                if isinstance(c.value, tuple)
                else to_ours.get(str(c.value).upper(), str(c.value).lower())
            )
            return _compare(RunRow.status, c.op, value)
        case "run_name":
            return _compare(RunRow.name, c.op, c.value)
        case "run_id" | "run_uuid":

            def full(v: str) -> str:
                return v if v.startswith("run_") else f"run_{v}"

            value = (
                tuple(full(v) for v in c.value)
                if isinstance(c.value, tuple)
                else full(str(c.value))
            )
            return _compare(RunRow.id, c.op, value)
        case "start_time" | "end_time":
            assert isinstance(c.value, float)  # parse_filter's _check let only numbers by
            column = RunRow.start_time if c.key == "start_time" else RunRow.end_time
            return _compare(column, c.op, _millis(c.value))
        case "user_id":
            return _exists(
                TagRow.run_id == RunRow.id,
                TagRow.key == USER_TAG,
                _compare(TagRow.value, c.op, c.value),
                fenced=fenced,
            )
    raise InvalidInput(f"unknown attribute {c.key!r}")


def filtered(query: Select[Any], clauses: Sequence[Clause]) -> Select[Any]:
    fenced = sum(map(_is_subquery, clauses)) > FENCE_AFTER
    return query.where(and_(true(), *(condition(c, fenced=fenced) for c in clauses)))


def ordered(query: Select[Any], orders: Sequence[Order]) -> Select[Any]:
    """Order by ``orders`` (missing values last either way, as in MLflow), then start
    time desc, id. Appends to any ordering the query already has."""
    order_by: list[Any] = []
    for i, o in enumerate(orders):
        if o.entity == "attribute":
            attribute = {
                "status": RunRow.status,
                "run_name": RunRow.name,
                "run_id": RunRow.id,
                "run_uuid": RunRow.id,
                "start_time": RunRow.start_time,
                "end_time": RunRow.end_time,
            }.get(o.key)
            if attribute is None:
                raise InvalidInput(f"cannot order by attribute {o.key!r}")
            column: SQLCoreOperations[Any] = attribute
        else:
            table = {"metric": LatestMetricRow, "param": ParamRow, "tag": TagRow}[o.entity]
            alias = table.__table__.alias(f"order_{i}")  # Core: an ORM alias costs 0.4 ms
            query = query.outerjoin(alias, and_(alias.c.run_id == RunRow.id, alias.c.key == o.key))
            column = alias.c.value
        order_by += [column.is_(None), column.desc() if o.descending else column.asc()]
    return query.order_by(*order_by, RunRow.start_time.desc(), RunRow.id)


def having_metric(query: Select[Any], lead: Order, experiment_ids: Sequence[str]) -> Select[Any]:
    """Only runs that logged the ``lead`` metric, ordered by its latest value first. With
    the summary's (experiment, key, value) index the database walks an experiment's
    values in order and stops once the page is full, instead of sorting all its runs.

    The experiment condition is on the summary row itself (not only through ``runs``) so
    SQLite's planner sees the index range and drives the join from it. Loopwise never
    runs ``ANALYZE`` on SQLite: with statistics for a single large experiment the planner
    prefers scanning and sorting the runs (same result, ~50x slower at 50,000 runs)."""
    lead_row = LatestMetricRow.__table__.alias("lead")  # Core: an ORM alias costs 0.4 ms
    query = query.join(
        lead_row,
        and_(
            lead_row.c.run_id == RunRow.id,
            lead_row.c.experiment_id.in_(experiment_ids),
            lead_row.c.key == lead.key,
        ),
    )
    value = lead_row.c.value
    return query.order_by(value.desc() if lead.descending else value.asc())


def lacking_metric(query: Select[Any], lead: Order) -> Select[Any]:
    """Only runs that never logged the ``lead`` metric (they sort after the others)."""
    return query.where(
        ~exists().where(LatestMetricRow.run_id == RunRow.id, LatestMetricRow.key == lead.key)
    )


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: object) -> int:
    if not token:
        return 0
    if not isinstance(token, str):
        raise InvalidInput("invalid page token")
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    # OverflowError: {"offset": 1e400} is infinite; RecursionError: JSON nested deep
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
        raise InvalidInput("invalid page token") from exc
    if not 0 <= offset <= INT64_MAX:
        raise InvalidInput("invalid page token")
    return offset


__all__ = [
    "Clause",
    "Order",
    "decode_token",
    "encode_token",
    "filtered",
    "having_metric",
    "lacking_metric",
    "ordered",
    "parse_filter",
    "parse_order",
]
