"""Gate criteria: a small expression language over recorded evidence.

A criterion is text such as ``fairness.demographic_parity_ratio >= 0.8 and hypothesis
CHURN-3 supported``. ``parse`` reads it into frozen dataclasses (never ``eval``),
``evaluate`` judges it against the evidence a caller looks up, and ``to_text`` prints it
back in a canonical form that parses to the same tree. docs/governance.md ("Gate
criteria") is the reference; the grammar, in EBNF::

    criterion  = or_expr ;
    or_expr    = and_expr , { "or" , and_expr } ;
    and_expr   = not_expr , { "and" , not_expr } ;
    not_expr   = "not" , not_expr | atom ;
    atom       = "(" , or_expr , ")" | hypothesis | exists | comparison ;
    hypothesis = "hypothesis" , item_key , state ;
    state      = "supported" | "refuted" | "inconclusive" | "open" ;
    exists     = "exists" , path ;
    comparison = operand , op , operand ;
    op         = ">=" | ">" | "<=" | "<" | "==" | "!=" ;
    operand    = path | number | string | "true" | "false" ;
    path       = segment , { "." , segment } ;          (no spaces around the dots)
    segment    = name | "`" , quoted , { quoted } , "`" ;
    quoted     = ? any character but "`", "." and control characters ? ;
    name       = ( letter | "_" ) , { word } , { "-" , word , { word } } ;
    word       = letter | digit | "_" ;
    item_key   = letter , { letter | digit } , "-" , digit , { digit } ;  (CHURN-3)
    number     = [ "+" | "-" ] , mantissa , [ ( "e" | "E" ) , [ "+" | "-" ] , digits ] ;
    mantissa   = digits , [ "." , [ digits ] ] | "." , digits ;
    string     = "'" , { ? any character but ' and \\ ? | "\\" , ? any character ? } , "'"
               | '"' , { ? the same, with " for ' ? } , '"' ;

Keywords (``and or not true false hypothesis exists``) are read in any case; a path of
one segment that spells a keyword is written in backticks. Evaluation is three-valued
(Kleene): a path with no recorded value makes its leaf **missing**, neither passed nor
failed, and ``and``/``or``/``not`` carry it as unknown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Literal, NoReturn

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import MAX_CRITERION_DEPTH, MAX_CRITERION_TEXT

# --- the tree ----------------------------------------------------------------------------


class Op(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="
    NE = "!="


ORDERING = frozenset({Op.GE, Op.GT, Op.LE, Op.LT})
# The relation that holds when a comparison fails (so a failure reads "0.74 < 0.8").
_NEGATED = {Op.GE: Op.LT, Op.GT: Op.LE, Op.LE: Op.GT, Op.LT: Op.GE, Op.EQ: Op.NE, Op.NE: Op.EQ}


class HypothesisState(StrEnum):
    SUPPORTED = "supported"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"
    OPEN = "open"


@dataclass(frozen=True)
class Path:
    """A dotted evidence path; ``text`` is what the evidence lookup is asked for."""

    text: str


# Three literal classes rather than one holding ``float | str | bool``: ``True == 1.0`` in
# Python, so one class would make ``x == true`` and ``x == 1`` equal trees.
@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Boolean:
    value: bool


Constant = Number | Text | Boolean
Operand = Path | Number | Text | Boolean


@dataclass(frozen=True)
class Comparison:
    left: Operand
    op: Op
    right: Operand


@dataclass(frozen=True)
class HypothesisIs:
    key: str  # an item key, normalised: CHURN-3
    state: HypothesisState


@dataclass(frozen=True)
class Exists:
    path: Path


@dataclass(frozen=True)
class Not:
    term: Expr


@dataclass(frozen=True)
class And:
    terms: tuple[Expr, ...]  # two or more


@dataclass(frozen=True)
class Or:
    terms: tuple[Expr, ...]  # two or more


Expr = Comparison | HypothesisIs | Exists | Not | And | Or
Leaf = Comparison | HypothesisIs | Exists

# --- evidence and outcomes ---------------------------------------------------------------


class _Missing(Enum):
    MISSING = "missing"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING
Missing = Literal[_Missing.MISSING]
Value = float | int | str | bool
Evidence = Callable[[str], Value | Missing]


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    MISSING = "missing"


@dataclass(frozen=True)
class LeafResult:
    criterion: str  # the leaf in canonical text
    status: Status
    explanation: str  # "fairness.demographic_parity_ratio = 0.74 < 0.8"
    missing: tuple[str, ...] = ()  # its paths with no recorded value


@dataclass(frozen=True)
class Outcome:
    status: Status
    leaves: tuple[LeafResult, ...]  # every leaf, in reading order, each judged once

    @property
    def missing(self) -> tuple[str, ...]:
        """The paths with no recorded value, each once, in reading order."""
        return tuple(dict.fromkeys(p for leaf in self.leaves for p in leaf.missing))

    @property
    def failures(self) -> tuple[LeafResult, ...]:
        return tuple(leaf for leaf in self.leaves if leaf.status is Status.FAILED)


def hypothesis_path(key: str) -> str:
    """The evidence path a ``hypothesis KEY state`` leaf looks up (its state as text)."""
    return f"hypothesis.{key}"


# --- tokens --------------------------------------------------------------------------------

KEYWORDS = frozenset({"and", "or", "not", "true", "false", "hypothesis", "exists"})
_BARE = r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"
_QUOTED = r"`[^`.\x00-\x1f\x7f]+`"
_SEGMENT = f"(?:{_BARE}|{_QUOTED})"
# Each alternative reads its text one way only (no nested repetition that could split a
# run of characters many ways), so a failed match costs time linear in what it looked at.
_TOKEN = re.compile(
    rf"""
      (?P<ws>\s+)
    | (?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.`])
    | '(?P<sq>(?:[^'\\]|\\.)*)'
    | "(?P<dq>(?:[^"\\]|\\.)*)"
    | (?P<op>>=|<=|==|!=|>|<|\(|\))
    | (?P<path>{_SEGMENT}(?:\.{_SEGMENT})*)
    """,
    re.VERBOSE | re.DOTALL | re.ASCII,
)
_BARE_RE = re.compile(_BARE)
_SEGMENT_RE = re.compile(_SEGMENT)
_ITEM_KEY = re.compile(r"([A-Za-z][A-Za-z0-9]*)-([0-9]{1,18})")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class _Token:
    kind: str  # num, str, op, path, kw, end
    text: str  # as written (kw: lower case)
    pos: int  # offset in the criterion
    value: float | str = ""  # num: the float; str: the unescaped text; path: the joined path


def _place(text: str, pos: int) -> str:
    """'column 12' (from 1), or 'line 2, column 3' in a criterion of several lines."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"column {column}" if line == 1 else f"line {line}, column {column}"


def _where(text: str, pos: int) -> str:
    return "at the end" if pos >= len(text) else f"at {_place(text, pos)}"


def _fail(text: str, pos: int, problem: str) -> NoReturn:
    raise InvalidInput(f"criterion {_where(text, pos)}: {problem}")


def _shown(token: _Token) -> str:
    return "the end" if token.kind == "end" else repr(_clip(token.text, 24))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _unquote_path(path_text: str) -> str:
    return ".".join(m.group(0).strip("`") for m in _SEGMENT_RE.finditer(path_text))


def _tokens(text: str) -> Iterator[_Token]:
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            _refuse_character(text, pos)
        start, pos = pos, m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        raw = m.group(0)
        if kind == "num":
            number = float(raw)
            if math.isinf(number):
                _fail(text, start, f"the number {_clip(raw, 24)!r} is out of range")
            yield _Token("num", raw, start, number)
        elif kind in ("sq", "dq"):
            yield _Token("str", raw, start, _UNESCAPE.sub(r"\1", m.group(kind)))
        elif kind == "op":
            yield _Token("op", raw, start)
        elif raw.lower() in KEYWORDS:  # one bare segment spelling a keyword
            yield _Token("kw", raw.lower(), start)
        else:
            yield _Token("path", raw, start, _unquote_path(raw))
    yield _Token("end", "", len(text))


def _refuse_character(text: str, pos: int) -> NoReturn:
    char = text[pos]
    if char in "'\"":
        _fail(text, pos, f"the string opened here has no closing {char}")
    if char == "`":
        _fail(
            text,
            pos,
            "the quoted name opened here has no closing ` (a quoted name holds no '.', "
            "'`' or control characters)",
        )
    if char == "=":
        _fail(text, pos, "use == to test equality")
    if char == "!":
        _fail(text, pos, "use != for 'not equal', or the word not")
    if char.isdigit() or char in "+-.":
        _fail(text, pos, f"cannot read a number or name from {_clip(text[pos:], 24)!r}")
    _fail(text, pos, f"unexpected character {char!r}")


# --- the parser ----------------------------------------------------------------------------


def parse(text: str) -> Expr:
    """Read a criterion into its tree; a malformed one is refused with ``InvalidInput``
    naming the problem and its column."""
    if len(text) > MAX_CRITERION_TEXT:
        raise InvalidInput(f"criterion: longer than {MAX_CRITERION_TEXT:,} characters")
    parser = _Parser(text)
    if parser.peek.kind == "end":
        raise InvalidInput("criterion: it is empty")
    expr = parser.or_expr(0)
    end = parser.peek
    if end.kind != "end":
        if end.kind == "op" and end.text == ")":
            _fail(text, end.pos, "this ) closes nothing")
        _fail(text, end.pos, f"expected and, or, or the end, found {_shown(end)}")
    return expr


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.stream = _tokens(text)
        self.peek = next(self.stream)

    def take(self) -> _Token:
        token = self.peek
        if token.kind != "end":
            self.peek = next(self.stream)
        return token

    def keyword(self, word: str) -> bool:
        if self.peek.kind == "kw" and self.peek.text == word:
            self.take()
            return True
        return False

    def deeper(self, depth: int, token: _Token) -> int:
        if depth >= MAX_CRITERION_DEPTH:
            _fail(
                self.text,
                token.pos,
                f"parentheses and not nest deeper than {MAX_CRITERION_DEPTH} levels",
            )
        return depth + 1

    def or_expr(self, depth: int) -> Expr:
        terms = [self.and_expr(depth)]
        while self.keyword("or"):
            terms.append(self.and_expr(depth))
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def and_expr(self, depth: int) -> Expr:
        terms = [self.not_expr(depth)]
        while self.keyword("and"):
            terms.append(self.not_expr(depth))
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def not_expr(self, depth: int) -> Expr:
        token = self.peek
        if self.keyword("not"):
            return Not(self.not_expr(self.deeper(depth, token)))
        return self.atom(depth)

    def atom(self, depth: int) -> Expr:
        token = self.peek
        if token.kind == "op" and token.text == "(":
            self.take()
            inner = self.or_expr(self.deeper(depth, token))
            close = self.take()
            if close.kind != "op" or close.text != ")":
                _fail(
                    self.text,
                    close.pos,
                    f"expected ) to close the ( at {_place(self.text, token.pos)}, "
                    f"found {_shown(close)}",
                )
            return inner
        if self.keyword("hypothesis"):
            return self.hypothesis()
        if self.keyword("exists"):
            path = self.take()
            if path.kind != "path":
                _fail(self.text, path.pos, f"expected a path after exists, found {_shown(path)}")
            return Exists(Path(str(path.value)))
        return self.comparison()

    def hypothesis(self) -> HypothesisIs:
        key = self.take()
        m = _ITEM_KEY.fullmatch(key.text) if key.kind == "path" else None
        if m is None:
            _fail(
                self.text,
                key.pos,
                f"expected a hypothesis key like CHURN-3 after hypothesis, found {_shown(key)}",
            )
        state = self.take()
        states = ", ".join(s.value for s in HypothesisState)
        try:
            found = HypothesisState(state.text.lower()) if state.kind == "path" else None
        except ValueError:
            found = None
        if found is None:
            _fail(self.text, state.pos, f"expected one of {states}, found {_shown(state)}")
        return HypothesisIs(f"{m.group(1).upper()}-{int(m.group(2))}", found)

    def operand(self) -> Operand:
        token = self.take()
        if token.kind == "path":
            return Path(str(token.value))
        if token.kind == "num":
            return Number(float(token.value))
        if token.kind == "str":
            return Text(str(token.value))
        if token.kind == "kw" and token.text in ("true", "false"):
            return Boolean(token.text == "true")
        _fail(self.text, token.pos, f"expected a path, a number or a string, found {_shown(token)}")

    def comparison(self) -> Comparison:
        start = self.peek
        left = self.operand()
        token = self.take()
        if (
            token.kind == "num"
            and token.text.startswith(".")
            and token.pos == start.pos + len(start.text)
        ):
            _fail(
                self.text,
                token.pos,
                "a name in a path starts with a letter or _; write others in backticks "
                f"({_clip(start.text, 24)}.`{token.text[1:]}`)",
            )
        if token.kind != "op" or token.text in "()":
            hint = (
                f" (to test that it is recorded: exists {start.text})"
                if isinstance(left, Path)
                else ""
            )
            _fail(
                self.text,
                token.pos,
                f"expected a comparison (>=, >, <=, <, ==, !=) after {_clip(start.text, 24)!r}, "
                f"found {_shown(token)}{hint}",
            )
        op = Op(token.text)
        right = self.operand()
        problem = _literal_problem(left, op, right)
        if problem:
            _fail(self.text, token.pos, problem)
        after = self.peek
        if after.kind == "op" and after.text not in "()":
            _fail(self.text, after.pos, "comparisons do not chain: join them with and")
        return Comparison(left, op, right)


def _kind(operand: Constant) -> str:
    if isinstance(operand, Number):
        return "a number"
    return "text" if isinstance(operand, Text) else "true/false"


def _literal_problem(left: Operand, op: Op, right: Operand) -> str:
    """What is wrong with a comparison that the literals alone show, or ''."""
    literals = [x for x in (left, right) if not isinstance(x, Path)]
    if len(literals) == 2:
        a, b = literals
        if type(a) is not type(b):
            return f"cannot compare {_kind(a)} with {_kind(b)}"
        return "compares two constants: one side must be a path to evidence"
    if op in ORDERING and literals and not isinstance(literals[0], Number):
        return f"{_kind(literals[0])} is compared only with == or !="
    return ""


# --- printing ------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float: 90, 0.8, 1e+16, -2.5e-07."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _format_text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _format_path(path: str) -> str:
    segments = path.split(".")
    if len(segments) == 1 and path.lower() in KEYWORDS:
        return f"`{path}`"
    return ".".join(s if _BARE_RE.fullmatch(s) else f"`{s}`" for s in segments)


def _operand_text(operand: Operand) -> str:
    if isinstance(operand, Path):
        return _format_path(operand.text)
    if isinstance(operand, Number):
        return format_number(operand.value)
    if isinstance(operand, Text):
        return _format_text(operand.value)
    return "true" if operand.value else "false"


def to_text(expr: Expr) -> str:
    """The canonical text of a tree; ``parse(to_text(e)) == e`` for every tree ``parse``
    can return."""
    if isinstance(expr, Comparison):
        return f"{_operand_text(expr.left)} {expr.op.value} {_operand_text(expr.right)}"
    if isinstance(expr, HypothesisIs):
        return f"hypothesis {expr.key} {expr.state.value}"
    if isinstance(expr, Exists):
        return f"exists {_format_path(expr.path.text)}"
    if isinstance(expr, Not):
        return f"not {_nested(expr.term)}"
    joiner = " and " if isinstance(expr, And) else " or "
    return joiner.join(_nested(term) for term in expr.terms)


def _nested(expr: Expr) -> str:
    return f"({to_text(expr)})" if isinstance(expr, And | Or) else to_text(expr)


def paths(expr: Expr) -> tuple[str, ...]:
    """The evidence paths a criterion reads, each once, in reading order."""
    return tuple(dict.fromkeys(_leaf_paths_all(expr)))


def _leaf_paths_all(expr: Expr) -> Iterator[str]:
    if isinstance(expr, And | Or):
        for term in expr.terms:
            yield from _leaf_paths_all(term)
    elif isinstance(expr, Not):
        yield from _leaf_paths_all(expr.term)
    else:
        yield from _leaf_paths(expr)


def _leaf_paths(leaf: Leaf) -> tuple[str, ...]:
    if isinstance(leaf, Comparison):
        return tuple(x.text for x in (leaf.left, leaf.right) if isinstance(x, Path))
    if isinstance(leaf, HypothesisIs):
        return (hypothesis_path(leaf.key),)
    return (leaf.path.text,)


# --- evaluation ----------------------------------------------------------------------------


def evaluate(expr: Expr, evidence: Evidence) -> Outcome:
    """Judge a criterion against recorded evidence, three-valued.

    ``evidence(path)`` returns the recorded value or ``MISSING``; each path is asked once.
    Every leaf is judged (no short cut), so the outcome lists all that failed and all that
    is missing. ``and`` fails if any term fails, else is missing if any is, else passes;
    ``or`` passes if any term passes, else is missing if any is, else fails; ``not`` swaps
    passed and failed and keeps missing (Kleene's strong three-valued logic).
    """
    looked: dict[str, Value | Missing] = {}

    def lookup(path: str) -> Value | Missing:
        if path not in looked:
            looked[path] = evidence(path)
        return looked[path]

    leaves: list[LeafResult] = []
    status = _judge(expr, lookup, leaves)
    return Outcome(status, tuple(leaves))


def _judge(expr: Expr, lookup: Evidence, leaves: list[LeafResult]) -> Status:
    if isinstance(expr, Not):
        inner = _judge(expr.term, lookup, leaves)
        return {Status.PASSED: Status.FAILED, Status.FAILED: Status.PASSED}.get(inner, inner)
    if isinstance(expr, And | Or):
        found = {_judge(term, lookup, leaves) for term in expr.terms}
        decisive, other = (
            (Status.FAILED, Status.PASSED)
            if isinstance(expr, And)
            else (Status.PASSED, Status.FAILED)
        )
        if decisive in found:
            return decisive
        return Status.MISSING if Status.MISSING in found else other
    result = _judge_leaf(expr, lookup)
    leaves.append(result)
    return result.status


def _judge_leaf(leaf: Leaf, lookup: Evidence) -> LeafResult:
    criterion = to_text(leaf)
    if isinstance(leaf, Exists):
        value = lookup(leaf.path.text)
        name = _format_path(leaf.path.text)
        if value is MISSING:
            return LeafResult(criterion, Status.FAILED, f"{name} has no recorded value")
        return LeafResult(criterion, Status.PASSED, f"{name} is recorded (= {_show(value)})")
    if isinstance(leaf, HypothesisIs):
        return _judge_hypothesis(leaf, criterion, lookup)
    return _judge_comparison(leaf, criterion, lookup)


def _judge_hypothesis(leaf: HypothesisIs, criterion: str, lookup: Evidence) -> LeafResult:
    path = hypothesis_path(leaf.key)
    value = lookup(path)
    wanted = leaf.state.value
    if value is MISSING:
        text = f"hypothesis {leaf.key} has no recorded verdict"
        return LeafResult(criterion, Status.MISSING, text, (path,))
    state = value.lower() if isinstance(value, str) else _show(value)
    if state == wanted:
        return LeafResult(criterion, Status.PASSED, f"hypothesis {leaf.key} is {wanted}")
    return LeafResult(criterion, Status.FAILED, f"hypothesis {leaf.key} is {state}, not {wanted}")


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _describe(value: Value) -> str:
    if isinstance(value, bool):
        return "true/false"
    return "a number" if _is_number(value) else "text"


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**16 else format_number(_as_float(value))
    if isinstance(value, float):
        return format_number(value)
    return _format_text(_clip(value, 60))


def _judge_comparison(leaf: Comparison, criterion: str, lookup: Evidence) -> LeafResult:
    sides: list[tuple[str, Value]] = []  # (how the side reads, its value)
    missing: list[str] = []
    for operand in (leaf.left, leaf.right):
        if isinstance(operand, Path):
            value = lookup(operand.text)
            if value is MISSING:
                missing.append(operand.text)
                continue
            sides.append((f"{_format_path(operand.text)} = {_show(value)}", value))
        else:
            literal = operand.value
            sides.append((_operand_text(operand), literal))
    if missing:
        names = " and ".join(_format_path(p) for p in missing)
        verb = "has" if len(missing) == 1 else "have"
        return LeafResult(
            criterion,
            Status.MISSING,
            f"{names} {verb} no recorded value",
            tuple(dict.fromkeys(missing)),
        )
    (left_text, left), (right_text, right) = sides
    problem = _type_problem(left, leaf.op, right)
    if problem:
        return LeafResult(criterion, Status.FAILED, f"{left_text} and {right_text}: {problem}")
    holds = _holds(left, leaf.op, right)
    op = leaf.op if holds else _NEGATED[leaf.op]
    status = Status.PASSED if holds else Status.FAILED
    return LeafResult(criterion, status, f"{left_text} {op.value} {right_text}")


def _type_problem(left: Value, op: Op, right: Value) -> str:
    if _is_number(left) != _is_number(right) or isinstance(left, bool) != isinstance(right, bool):
        return f"cannot compare {_describe(left)} with {_describe(right)}"
    if _is_number(left):
        if any(isinstance(v, float) and math.isnan(v) for v in (left, right)):
            return "NaN is not a number to compare"
        return ""
    if op in ORDERING:
        return f"{_describe(left)} is compared only with == or !="
    return ""


def _holds(left: Value, op: Op, right: Value) -> bool:
    if op is Op.EQ:
        return left == right
    if op is Op.NE:
        return left != right
    # only numbers reach here (_type_problem refuses ordering of anything else); Python
    # compares an int with a float exactly, so neither is converted
    a, b = _numeric(left), _numeric(right)
    if op is Op.GE:
        return a >= b
    if op is Op.GT:
        return a > b
    if op is Op.LE:
        return a <= b
    return a < b


def _numeric(value: Value) -> int | float:
    assert not isinstance(value, str)
    return value


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
