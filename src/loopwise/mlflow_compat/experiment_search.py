"""MLflow's ``search_experiments`` grammar over the experiments a caller may see: pure.

Filters are clauses joined by ``AND``: ``name`` (``=``, ``!=``, ``LIKE``, ``ILIKE``),
``tags.<key>`` (the same, plus ``IS NULL`` / ``IS NOT NULL``), ``experiment_id`` (``=``,
``!=``, ``IN (...)``, ``NOT IN (...)``) and ``creation_time`` / ``last_update_time``
(``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` with whole milliseconds). Order keys are
``name``, ``experiment_id``, ``creation_time`` and ``last_update_time``, each ``ASC`` or
``DESC``; MLflow's default is ``creation_time DESC, experiment_id ASC``, and
``experiment_id`` always breaks ties.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loopwise.core.errors import InvalidInput
from loopwise.tracking.experiments import ExperimentInfo

ATTRIBUTES = ("name", "experiment_id", "creation_time", "last_update_time")
NUMERIC = ("creation_time", "last_update_time")
DEFAULT_ORDER = ("creation_time DESC", "experiment_id ASC")

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<list>\((?:[^()'"]|'[^']*'|"[^"]*")*\))
    | (?P<op>!=|>=|<=|=|>|<)
    | (?P<word>`[^`]+`|[A-Za-z_][\w.\-]*(?:\.`[^`]+`|\."[^"]+")?|-?\d+(?:\.\d+)?)
    )""",
    re.X,
)
_KEYWORDS = {"AND", "LIKE", "ILIKE", "NOT", "IN", "IS", "NULL"}


@dataclass(frozen=True)
class Clause:
    entity: str  # "attribute" or "tag"
    key: str
    op: str  # =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL
    value: Any = None  # str, int, or a tuple of str for IN


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    text = text.rstrip()
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None or m.end() == at:
            raise InvalidInput(f"Invalid clause(s) in filter string: {text[at:].strip()!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        at = m.end()
    return out


def _identifier(word: str) -> tuple[str, str]:
    head, dot, rest = word.partition(".")
    if not dot:
        entity, key = "attribute", _unquote(word)
    elif head in ("tag", "tags"):
        entity, key = "tag", _unquote(rest)
    elif head in ("attribute", "attributes"):
        entity, key = "attribute", _unquote(rest)
    else:
        raise InvalidInput(
            f"Invalid entity type '{head}'. Valid entity types are ('attribute', 'tag', 'tags')"
        )
    if entity == "attribute" and key not in ATTRIBUTES:
        raise InvalidInput(
            f"Invalid attribute key '{key}' specified. Valid keys are '{set(ATTRIBUTES)}'"
        )
    return entity, key


def parse_filter(text: str | None) -> list[Clause]:
    """The clauses of an experiment filter; InvalidInput with MLflow's wording."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    clauses: list[Clause] = []
    i = 0
    while i < len(tokens):
        if clauses:
            if tokens[i][1].upper() != "AND":
                raise InvalidInput(f"Invalid clause(s) in filter string: {tokens[i][1]}")
            i += 1
        if i >= len(tokens) or tokens[i][0] != "word" or tokens[i][1].upper() in _KEYWORDS:
            raise InvalidInput(f"Invalid filter string: {text!r}")
        entity, key = _identifier(tokens[i][1])
        i += 1
        words: list[str] = []
        while i < len(tokens) and tokens[i][0] == "word" and tokens[i][1].upper() in _KEYWORDS:
            if tokens[i][1].upper() == "AND":
                break
            words.append(tokens[i][1].upper())
            i += 1
        if not words and i < len(tokens) and tokens[i][0] == "op":
            words = [tokens[i][1]]
            i += 1
        op = " ".join(words)
        clauses.append(_clause(entity, key, op, tokens, i))
        if op not in ("IS NULL", "IS NOT NULL"):
            i += 1
    return clauses


def _clause(entity: str, key: str, op: str, tokens: list[tuple[str, str]], i: int) -> Clause:
    if op in ("IS NULL", "IS NOT NULL"):
        if entity != "tag":
            raise InvalidInput(f"Invalid comparator '{op}' for attribute '{key}'")
        return Clause(entity, key, op)
    if op not in ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"):
        raise InvalidInput(f"Invalid comparator '{op}' in filter string")
    if i >= len(tokens):
        raise InvalidInput(f"Missing value in the filter clause on '{key}'")
    kind, raw = tokens[i]
    if key == "experiment_id" and entity == "attribute":
        if op in ("IN", "NOT IN"):
            if kind != "list":
                raise InvalidInput(f"Invalid value for '{op}': a parenthesized list expected")
            items = [_unquote(v.strip()) for v in _split_list(raw[1:-1])]
            return Clause(entity, key, op, tuple(items))
        if op not in ("=", "!="):
            raise InvalidInput(f"Invalid comparator for experiment_id: {op}")
        return Clause(entity, key, op, _unquote(raw))
    if entity == "attribute" and key in NUMERIC:
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise InvalidInput(f"Invalid comparator for numeric attribute: {op}")
        if kind != "word" or not re.fullmatch(r"-?\d+", raw):
            raise InvalidInput(f"Invalid value for numeric attribute '{key}': {raw!r}")
        return Clause(entity, key, op, int(raw))
    if op not in ("=", "!=", "LIKE", "ILIKE"):
        raise InvalidInput(f"Invalid comparator for string attribute: {op}")
    if kind != "str":
        raise InvalidInput(f"Invalid value for '{key}': a quoted string expected, got {raw}")
    return Clause(entity, key, op, _unquote(raw))


def _split_list(inner: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"'[^']*'|\"[^\"]*\"|[^,\s]+", inner)]


def _like(pattern: str, flags: int = 0) -> re.Pattern[str]:
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.S | flags)


def _value(e: ExperimentInfo, clause: Clause) -> Any:
    if clause.entity == "tag":
        return e.tags.get(clause.key)
    if clause.key == "name":
        return e.mlflow_name
    if clause.key == "experiment_id":
        return str(e.number)
    return e.created_at_ms  # creation_time, last_update_time


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "IN": lambda a, b: a in b,
    "NOT IN": lambda a, b: a not in b,
    "LIKE": lambda a, b: _like(b).fullmatch(a) is not None,
    "ILIKE": lambda a, b: _like(b, re.I).fullmatch(a) is not None,
}


def matches(e: ExperimentInfo, clauses: Sequence[Clause]) -> bool:
    for clause in clauses:
        got = _value(e, clause)
        if clause.op == "IS NULL":
            ok = got is None
        elif clause.op == "IS NOT NULL":
            ok = got is not None
        else:
            ok = got is not None and _COMPARE[clause.op](got, clause.value)
        if not ok:
            return False
    return True


_ORDER = re.compile(r"^\s*(?:attributes?\.)?`?(?P<key>[\w]+)`?(?:\s+(?P<dir>ASC|DESC))?\s*$", re.I)


def parse_order(order_by: Sequence[str]) -> list[tuple[str, bool]]:
    """(attribute, ascending) pairs, with experiment_id appended as the tie-breaker."""
    out: list[tuple[str, bool]] = []
    for text in order_by or DEFAULT_ORDER:
        m = _ORDER.match(text)
        if m is None or m.group("key") not in ATTRIBUTES:
            raise InvalidInput(f"Invalid order_by clause '{text}'.")
        out.append((m.group("key"), (m.group("dir") or "ASC").upper() == "ASC"))
    if not any(key == "experiment_id" for key, _ in out):
        out.append(("experiment_id", True))
    return out


def _sort_value(e: ExperimentInfo, key: str) -> Any:
    if key == "name":
        return e.mlflow_name
    if key == "experiment_id":
        return e.number
    return e.created_at_ms


def search(
    found: Sequence[ExperimentInfo], filter_text: str | None, order_by: Sequence[str]
) -> list[ExperimentInfo]:
    """The experiments matching the filter, in the requested order."""
    clauses = parse_filter(filter_text)
    orders = parse_order(order_by)
    out = [e for e in found if matches(e, clauses)]
    for key, ascending in reversed(orders):  # stable sorts: the last key first
        out.sort(key=lambda e, k=key: _sort_value(e, k), reverse=not ascending)  # type: ignore[misc]
    return out
