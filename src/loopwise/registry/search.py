"""Searching registered models and model versions (MLflow's registry filter grammar).

    filter  := clause ("AND" clause)*
    clause  := field op value | field ["NOT"] "IN" "(" value ("," value)* ")"
    field   := name | run_id | source_path | version_number | tags.<key>
               (``tag.`` also accepted; a key may be `quoted`, "quoted" or bare-dotted)
    op      := = | != | LIKE | ILIKE            (version_number: = != < <= > >=)
    order   := field ["ASC" | "DESC"]          field: name, version_number,
               creation_timestamp (or timestamp), last_updated_timestamp

LIKE and ILIKE use SQL wildcards (``%`` any run, ``_`` one character); LIKE is case
sensitive, ILIKE not. ``tags.k != 'v'`` also matches what has no tag ``k``: that is how an
MLflow 3 client leaves prompts out (``tag.`mlflow.prompt.is_prompt` != 'true'``). Models
take name and tags; versions take every field, and their tags are the version's. A run id
may be given with or without the ``run_`` prefix (MLflow clients give it without).

Pages: ``max_results`` (models 1 to 1,000, versions 1 to 200,000, MLflow's limits) with
an opaque ``page_token``; the default order is name (models), name then newest version
first (versions). Parsing and matching are pure; ``search_models`` and
``search_versions`` read through ``registry.service``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.core.limits import MAX_FILTER_CLAUSES, MAX_FILTER_VALUES
from loopwise.registry import catalog, service
from loopwise.registry.models import ModelVersion, RegisteredModel
from loopwise.tracking.search import decode_token, encode_token

MAX_MODELS = 1_000
MAX_VERSIONS = 200_000
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>[-+]?\d+)(?![\w.])
      | '(?P<sq>(?:[^'\\]|\\.)*)'
      | "(?P<dq>(?:[^"\\]|\\.)*)"
      | `(?P<bq>[^`]*)`
      | (?P<op>!=|>=|<=|=|>|<|\(|\)|,|\.)
      | (?P<word>[A-Za-z_][\w\-:/]*)
    )""",
    re.VERBOSE,
)
_FIELDS = {"name", "run_id", "source_path", "version_number"}
_NUMERIC = {"=", "!=", ">", ">=", "<", "<="}
_TEXT = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
_ORDER = {
    "name": "name",
    "version_number": "version_number",
    "creation_timestamp": "creation_timestamp",
    "timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}

Value = str | int | tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    field: str  # name, run_id, source_path, version_number, or "tag"
    key: str  # the tag key ("" for the other fields)
    op: str
    value: Value


@dataclass(frozen=True)
class Order:
    field: str
    descending: bool


@dataclass(frozen=True)
class ModelPage:
    models: tuple[RegisteredModel, ...]
    next_page_token: str | None


@dataclass(frozen=True)
class VersionPage:
    versions: tuple[ModelVersion, ...]
    next_page_token: str | None


# --- parsing ---------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidInput(f"Invalid filter string near {text[pos : pos + 20]!r}.")
        pos = m.end()
        kind = next(k for k in ("num", "sq", "dq", "bq", "op", "word") if m.group(k) is not None)
        value = m.group(kind)
        if kind in ("sq", "dq"):
            value = value.replace("\\'", "'").replace('\\"', '"')
        out.append((kind, value))
        if len(out) > 12 * MAX_FILTER_CLAUSES + 2 * MAX_FILTER_VALUES:
            raise InvalidInput("the filter is too long")
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens, self.i = _tokens(text), 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise InvalidInput("Invalid filter string: it ends too early.")
        self.i += 1
        return tok

    def is_(self, kind: str, *texts: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == kind and tok[1].upper() in texts:
            self.i += 1
            return True
        return False

    def field(self) -> tuple[str, str]:
        kind, text = self.take()
        if kind == "word" and text.lower() in ("tags", "tag") and self.is_("op", "."):
            kind, key = self.take()
            if kind not in ("word", "bq", "dq", "sq"):
                raise InvalidInput(f"Invalid filter string: expected a tag key, got {key!r}.")
            while kind == "word" and self.is_("op", "."):
                key += "." + self.take()[1]
            return "tag", key
        if kind == "word" and text.lower() in _FIELDS:
            return text.lower(), ""
        known = ", ".join(sorted(_FIELDS | {"tags.<key>"}))
        raise InvalidInput(f"Invalid filter string: unknown field {text!r}; known: {known}.")

    def value(self) -> str | int:
        kind, text = self.take()
        if kind == "num":
            return int(text)
        if kind in ("sq", "dq"):
            return text
        raise InvalidInput(f"Invalid filter string: expected a quoted value, got {text!r}.")

    def values(self) -> tuple[str, ...]:
        if not self.is_("op", "("):
            raise InvalidInput("Invalid filter string: IN needs a parenthesised list.")
        out = [str(self.value())]
        while self.is_("op", ","):
            out.append(str(self.value()))
        if not self.is_("op", ")"):
            raise InvalidInput("Invalid filter string: unclosed IN list.")
        return tuple(out)

    def clause(self) -> Clause:
        field, key = self.field()
        if self.is_("word", "NOT"):
            if not self.is_("word", "IN"):
                raise InvalidInput("Invalid filter string: expected IN after NOT.")
            return _checked(Clause(field, key, "NOT IN", self.values()))
        if self.is_("word", "IN"):
            return _checked(Clause(field, key, "IN", self.values()))
        for word in ("LIKE", "ILIKE"):
            if self.is_("word", word):
                return _checked(Clause(field, key, word, self.value()))
        kind, op = self.take()
        if kind != "op" or op not in _NUMERIC:
            raise InvalidInput(f"Invalid filter string: expected a comparison, got {op!r}.")
        return _checked(Clause(field, key, op, self.value()))


def _checked(c: Clause) -> Clause:
    if c.field == "version_number":
        if c.op not in _NUMERIC and c.op not in ("IN", "NOT IN"):
            raise InvalidInput("version_number compares with = != < <= > >= or IN.")
        if not isinstance(c.value, int | tuple):
            raise InvalidInput("version_number compares with a whole number.")
        return c
    if c.op not in _TEXT:
        raise InvalidInput(f"{c.field if c.field != 'tag' else 'a tag'} takes = != LIKE ILIKE IN.")
    return Clause(c.field, c.key, c.op, c.value if isinstance(c.value, tuple) else str(c.value))


def parse_filter(text: str | None) -> list[Clause]:
    if not text or not text.strip():
        return []
    parser = _Parser(text)
    clauses = [parser.clause()]
    while (tok := parser.peek()) is not None:
        if not parser.is_("word", "AND"):
            raise InvalidInput(f"Invalid filter string: expected AND, got {tok[1]!r}.")
        clauses.append(parser.clause())
        if len(clauses) > MAX_FILTER_CLAUSES:
            raise InvalidInput(f"a filter holds at most {MAX_FILTER_CLAUSES} clauses")
    return clauses


def parse_order(items: Sequence[str], allowed: Sequence[str]) -> list[Order]:
    out = []
    for item in items:
        words = item.split()
        field = _ORDER.get(words[0].lower()) if words else None
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if (
            field is None
            or field not in allowed
            or len(words) > 2
            or direction not in ("ASC", "DESC")
        ):
            raise InvalidInput(
                f"Invalid order_by clause {item!r}: use one of {', '.join(allowed)} "
                "with ASC or DESC."
            )
        out.append(Order(field, direction == "DESC"))
    return out


# --- matching (pure) -------------------------------------------------------------------


def _like(pattern: str, text: str, *, fold: bool) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE if fold else 0)) is not None


def _compare(op: str, have: str | int, want: Value) -> bool:
    if op in ("IN", "NOT IN"):
        assert isinstance(want, tuple)
        return (str(have) in want) is (op == "IN")
    if op == "LIKE":
        return _like(str(want), str(have), fold=False)
    if op == "ILIKE":
        return _like(str(want), str(have), fold=True)
    if isinstance(have, int) and isinstance(want, int):
        return {
            "=": have == want,
            "!=": have != want,
            ">": have > want,
            ">=": have >= want,
            "<": have < want,
            "<=": have <= want,
        }[op]
    return (str(have) == str(want)) is (op == "=")


def _run(value: Value) -> Value:
    def one(v: str) -> str:
        return v if v.startswith("run_") else f"run_{v}"

    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(str(value))


def matches(
    clauses: Sequence[Clause], fields: Mapping[str, str | int | None], tags: Mapping[str, str]
) -> bool:
    """Whether an object with these ``fields`` and ``tags`` passes every clause."""
    for c in clauses:
        if c.field == "tag":
            if c.key not in tags:
                if c.op != "!=":
                    return False
                continue
            have: str | int | None = tags[c.key]
        else:
            if c.field not in fields:
                raise InvalidInput(f"Invalid filter string: {c.field} does not apply here.")
            have = fields[c.field]
        want = _run(c.value) if c.field == "run_id" else c.value
        if have is None or not _compare(c.op, have, want):
            return False
    return True


def _sort_key(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value


def _page(found: list[Any], limit: int, token: object) -> tuple[tuple[Any, ...], str | None]:
    offset = decode_token(token)
    more = offset + limit < len(found)
    return tuple(found[offset : offset + limit]), encode_token(offset + limit) if more else None


def _limit(max_results: int | None, default: int, most: int) -> int:
    limit = default if max_results is None else max_results
    if not 1 <= limit <= most:
        raise InvalidInput(
            f"Invalid value {limit} for parameter 'max_results' supplied: it must be 1 to {most}."
        )
    return limit


# --- use cases -------------------------------------------------------------------------


def search_models(
    ctx: Context,
    filter_string: str | None = None,
    order_by: Sequence[str] = (),
    max_results: int | None = None,
    page_token: object = None,
) -> ModelPage:
    clauses = parse_filter(filter_string)
    orders = parse_order(order_by, ("name", "creation_timestamp", "last_updated_timestamp"))
    limit = _limit(max_results, 100, MAX_MODELS)
    models = service.list_models(ctx)  # by name
    tags = catalog.model_tags(ctx, [m.name for m in models]) if clauses else {}
    found = [m for m in models if matches(clauses, {"name": m.name}, tags.get(m.name, {}))]
    attr = {"creation_timestamp": "created_at", "last_updated_timestamp": "updated_at"}
    for order in reversed(orders):  # stable sorts: the first key sorts last
        field = attr.get(order.field, order.field)
        found.sort(key=lambda m: _sort_key(getattr(m, field)), reverse=order.descending)
    page, token = _page(found, limit, page_token)
    return ModelPage(page, token)


def search_versions(
    ctx: Context,
    filter_string: str | None = None,
    order_by: Sequence[str] = (),
    max_results: int | None = None,
    page_token: object = None,
) -> VersionPage:
    clauses = parse_filter(filter_string)
    orders = parse_order(
        order_by, ("name", "version_number", "creation_timestamp", "last_updated_timestamp")
    )
    limit = _limit(max_results, 10_000, MAX_VERSIONS)
    names = [c for c in clauses if c.field == "name"]
    versions = [
        v
        for m in service.list_models(ctx)
        if matches(names, {"name": m.name}, {})
        for v in service.list_versions(ctx, m.name)  # newest first
    ]
    tags = catalog.version_tags(ctx, [v.id for v in versions]) if clauses else {}

    def fields(v: ModelVersion) -> dict[str, str | int | None]:
        return {
            "name": v.model,
            "run_id": v.run_id,
            "source_path": v.source,
            "version_number": v.version,
        }

    found = [v for v in versions if matches(clauses, fields(v), tags.get(v.id, {}))]
    attr = {
        "name": "model",
        "version_number": "version",
        "creation_timestamp": "created_at",
        "last_updated_timestamp": "updated_at",
    }
    for order in reversed(orders):
        found.sort(key=lambda v: _sort_key(getattr(v, attr[order.field])), reverse=order.descending)
    page, token = _page(found, limit, page_token)
    return VersionPage(page, token)
