"""Gate criteria: the language in examples, its errors, and properties of the parser and
of three-valued evaluation (against Kleene's truth tables, written out below)."""

from __future__ import annotations

import math
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import MAX_CRITERION_DEPTH, MAX_CRITERION_TEXT
from loopwise.governance.criteria import (
    KEYWORDS,
    MISSING,
    And,
    Boolean,
    Comparison,
    Exists,
    Expr,
    HypothesisIs,
    HypothesisState,
    Missing,
    Not,
    Number,
    Op,
    Or,
    Path,
    Status,
    Text,
    Value,
    evaluate,
    format_number,
    parse,
    paths,
    to_text,
)

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=300)
P, F, M = Status.PASSED, Status.FAILED, Status.MISSING

EVIDENCE: dict[str, Value] = {
    "fairness.demographic_parity_ratio": 0.74,
    "eval.recall": 0.91,
    "eval.precision": 0.5,
    "charter.threshold": 0.85,
    "data.quality_index": 93,
    "data.licence": "CC-BY-4.0",
    "data.personal": False,
    "eval.val/loss": 0.2,
    "eval.nan": math.nan,
    "eval.big": 10**30,
    "hypothesis.CHURN-3": "supported",
    "hypothesis.CHURN-4": "refuted",
}


def look(path: str) -> Value | Missing:
    return EVIDENCE.get(path, MISSING)


# --- examples ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status", "explanations"),
    [
        (
            "fairness.demographic_parity_ratio >= 0.8",
            F,
            ["fairness.demographic_parity_ratio = 0.74 < 0.8"],
        ),
        ("eval.recall >= charter.threshold", P, ["eval.recall = 0.91 >= charter.threshold = 0.85"]),
        ("data.quality_index >= 90", P, ["data.quality_index = 93 >= 90"]),
        ("data.quality_index >= 93.5", F, ["data.quality_index = 93 < 93.5"]),
        ("hypothesis CHURN-3 supported", P, ["hypothesis CHURN-3 is supported"]),
        ("hypothesis churn-03 supported", P, ["hypothesis CHURN-3 is supported"]),
        ("hypothesis CHURN-4 supported", F, ["hypothesis CHURN-4 is refuted, not supported"]),
        ("hypothesis CHURN-9 supported", M, ["hypothesis CHURN-9 has no recorded verdict"]),
        ("eval.auc >= 0.7", M, ["eval.auc has no recorded value"]),
        ("eval.auc >= charter.auc", M, ["eval.auc and charter.auc have no recorded value"]),
        ("exists eval.auc", F, ["eval.auc has no recorded value"]),
        ("exists eval.recall", P, ["eval.recall is recorded (= 0.91)"]),
        (
            "0.8 <= fairness.demographic_parity_ratio",
            F,
            ["0.8 > fairness.demographic_parity_ratio = 0.74"],
        ),
        ("data.licence == 'CC-BY-4.0'", P, ["data.licence = 'CC-BY-4.0' == 'CC-BY-4.0'"]),
        ('data.licence != "CC-BY-4.0"', F, ["data.licence = 'CC-BY-4.0' == 'CC-BY-4.0'"]),
        ("data.personal == false", P, ["data.personal = false == false"]),
        (
            "data.personal == 0",
            F,
            ["data.personal = false and 0: cannot compare true/false with a number"],
        ),
        (
            "data.licence >= 1",
            F,
            ["data.licence = 'CC-BY-4.0' and 1: cannot compare text with a number"],
        ),
        (
            "data.licence > data.licence",
            F,
            [
                "data.licence = 'CC-BY-4.0' and data.licence = 'CC-BY-4.0': "
                "text is compared only with == or !="
            ],
        ),
        ("eval.nan >= 0.5", F, ["eval.nan = NaN and 0.5: NaN is not a number to compare"]),
        ("eval.big > 1e29", P, ["eval.big = 1e+30 > 1e+29"]),
        ("eval.`val/loss` < 0.3", P, ["eval.`val/loss` = 0.2 < 0.3"]),
        (
            "eval.recall >= 0.8 and eval.precision >= 0.6 and eval.auc >= 0.7",
            F,
            [
                "eval.recall = 0.91 >= 0.8",
                "eval.precision = 0.5 < 0.6",
                "eval.auc has no recorded value",
            ],
        ),
        (
            "eval.recall >= 0.8 and eval.auc >= 0.7",
            M,
            ["eval.recall = 0.91 >= 0.8", "eval.auc has no recorded value"],
        ),
        ("eval.precision >= 0.6 or eval.auc >= 0.7", M, None),
        ("eval.recall >= 0.9 or eval.auc >= 0.7", P, None),
        ("not eval.auc >= 0.7", M, None),
        ("not (eval.precision >= 0.6)", P, ["eval.precision = 0.5 < 0.6"]),
        ("NOT exists eval.auc AND eval.recall > 0.9", P, None),
    ],
)
def test_examples(text: str, status: Status, explanations: list[str] | None) -> None:
    outcome = evaluate(parse(text), look)
    assert outcome.status is status
    if explanations is not None:
        assert [leaf.explanation for leaf in outcome.leaves] == explanations


def test_the_outcome_lists_what_failed_and_what_is_missing_once() -> None:
    text = "eval.auc >= 0.7 and (eval.auc <= 0.99 or eval.precision >= 0.6) and exists eval.x"
    outcome = evaluate(parse(text), look)
    assert outcome.status is F
    assert outcome.missing == ("eval.auc",)  # `exists` fails; it does not count as missing
    assert [leaf.criterion for leaf in outcome.failures] == [
        "eval.precision >= 0.6",
        "exists eval.x",
    ]
    assert [leaf.status for leaf in outcome.leaves] == [M, M, F, F]


def test_each_path_is_looked_up_once() -> None:
    asked: list[str] = []

    def counting(path: str) -> Value | Missing:
        asked.append(path)
        return look(path)

    evaluate(
        parse("eval.recall > 0.5 and eval.recall < 1 and eval.recall != charter.threshold"),
        counting,
    )
    assert asked == ["eval.recall", "charter.threshold"]


def test_paths_in_reading_order() -> None:
    expr = parse(
        "hypothesis CHURN-3 supported and (a.b > c.d or not exists a.b) and e.`f g` == 'x'"
    )
    assert paths(expr) == ("hypothesis.CHURN-3", "a.b", "c.d", "e.f g")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a.b>=0.80", "a.b >= 0.8"),
        ("a.b >= 90.0", "a.b >= 90"),
        ("a.b >= 1E16", "a.b >= 1e+16"),
        ("a.b >= -.5e-7", "a.b >= -5e-08"),
        ("A.b == TRUE", "A.b == true"),
        ("`and`.x == 1", "and.x == 1"),
        ("`and` == 1", "`and` == 1"),
        ('a == "it\'s"', "a == 'it\\'s'"),
        ("a == 'back\\\\slash'", "a == 'back\\\\slash'"),
        (
            "a.x > 1 and b.x > 1 or c.x > 1 and d.x > 1",
            "(a.x > 1 and b.x > 1) or (c.x > 1 and d.x > 1)",
        ),
        ("a.x > 1 and (b.x > 1 and c.x > 1)", "a.x > 1 and (b.x > 1 and c.x > 1)"),
        ("((a.x > 1))", "a.x > 1"),
        ("not not a.x > 1", "not not a.x > 1"),
        ("hypothesis ab12-007 Inconclusive", "hypothesis AB12-7 inconclusive"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    assert to_text(parse(text)) == canonical
    assert parse(canonical) == parse(text)


def test_and_binds_tighter_than_or_and_not_tighter_than_both() -> None:
    a, b, c = (Comparison(Path(n), Op.GT, Number(1.0)) for n in ("a", "b", "c"))
    assert parse("a > 1 or b > 1 and c > 1") == Or((a, And((b, c))))
    assert parse("not a > 1 and b > 1") == And((Not(a), b))
    assert parse("(a > 1 or b > 1) and c > 1") == And((Or((a, b)), c))


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "criterion: it is empty"),
        ("   ", "criterion: it is empty"),
        ("a >", "criterion at the end: expected a path, a number or a string, found the end"),
        ("a = 1", "criterion at column 3: use == to test equality"),
        ("a ! 1", "criterion at column 3: use != for 'not equal', or the word not"),
        ("a >= 'x'", "criterion at column 3: text is compared only with == or !="),
        ("true < a", "criterion at column 6: true/false is compared only with == or !="),
        ("'a' == 1", "criterion at column 5: cannot compare text with a number"),
        ("1 < 2", "criterion at column 3: compares two constants: one side must be a path"),
        ("(a > 1", "criterion at the end: expected ) to close the ( at column 1, found the end"),
        ("a > 1)", "criterion at column 6: this ) closes nothing"),
        ("a > 1 < 2", "criterion at column 7: comparisons do not chain: join them with and"),
        ("a > b c", "criterion at column 7: expected and, or, or the end, found 'c'"),
        ("a.b", "after 'a.b', found the end (to test that it is recorded: exists a.b)"),
        ("a.5 > 1", "criterion at column 2: a name in a path starts with a letter or _"),
        ("'abc", "criterion at column 1: the string opened here has no closing '"),
        ("`ab.c` > 1", "criterion at column 1: the quoted name opened here has no closing `"),
        ("1e999 < a", "criterion at column 1: the number '1e999' is out of range"),
        ("exists 1", "criterion at column 8: expected a path after exists, found '1'"),
        ("hypothesis X supported", "at column 12: expected a hypothesis key like CHURN-3"),
        ("hypothesis AB-1 done", "expected one of supported, refuted, inconclusive, open"),
        ("a > 1 and", "criterion at the end: expected a path, a number or a string"),
        ("a > 1 and\n  b ≥ 2", "criterion at line 2, column 5: unexpected character '≥'"),
        ("a > 1 and 2x > 1", "criterion at column 11: cannot read a number or name from '2x > 1'"),
        ("and > 1", "criterion at column 1: expected a path, a number or a string, found 'and'"),
    ],
)
def test_errors_name_the_problem_and_its_column(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_limits() -> None:
    long = " or ".join(f"a.b{i} > 1" for i in range(400))
    assert len(long) > MAX_CRITERION_TEXT
    with pytest.raises(InvalidInput, match="longer than 2,000 characters"):
        parse(long)
    parse("not " * MAX_CRITERION_DEPTH + "a > 1")
    parse("(" * MAX_CRITERION_DEPTH + "a > 1" + ")" * MAX_CRITERION_DEPTH)
    for deep in ("not " * (MAX_CRITERION_DEPTH + 1) + "a > 1", "(" * 900 + "a > 1" + ")" * 900):
        with pytest.raises(InvalidInput, match=f"nest deeper than {MAX_CRITERION_DEPTH} levels"):
            parse(deep)


def test_format_number() -> None:
    assert [format_number(x) for x in (90.0, 0.8, -0.0, 1e16, 2.5e-7, math.inf, math.nan)] == [
        "90",
        "0.8",
        "0",
        "1e+16",
        "2.5e-07",
        "Infinity",
        "NaN",
    ]


# --- properties: printing and parsing ----------------------------------------------------

_bare = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}(?:-[A-Za-z0-9_]{1,3}){0,2}", fullmatch=True)
_quoted = st.text(
    st.characters(blacklist_characters="`.", blacklist_categories=("Cc", "Cs")),
    min_size=1,
    max_size=6,
)
_path = st.one_of(
    st.lists(st.one_of(_bare, _quoted), min_size=1, max_size=3).map(".".join),
    st.sampled_from(sorted(KEYWORDS) + ["AND", "Not", "True"]),
).map(Path)
_number = st.floats(allow_nan=False, allow_infinity=False).map(Number)
_constant = st.one_of(_number, st.text(max_size=8).map(Text), st.booleans().map(Boolean))


@st.composite
def _comparison(draw: st.DrawFn) -> Comparison:
    path = draw(_path)
    other = draw(st.one_of(_path, _constant))
    ordering = isinstance(other, Path | Number)
    op = draw(st.sampled_from(list(Op) if ordering else [Op.EQ, Op.NE]))
    return Comparison(path, op, other) if draw(st.booleans()) else Comparison(other, op, path)


_key = st.from_regex(r"[A-Z][A-Z0-9]{0,5}-(?:0|[1-9][0-9]{0,5})", fullmatch=True)
_leaf = st.one_of(
    _comparison(),
    st.builds(HypothesisIs, _key, st.sampled_from(HypothesisState)),
    st.builds(Exists, _path),
)


def _trees(leaf: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            inner.map(Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda t: And(tuple(t))),
            st.lists(inner, min_size=2, max_size=3).map(lambda t: Or(tuple(t))),
        ),
        max_leaves=8,
    )


def _depth(expr: Expr) -> int:
    """Nesting as the parser counts it: each `not`, each parenthesised and/or."""
    if isinstance(expr, Not):
        inner = expr.term
        return 1 + (1 if isinstance(inner, And | Or) else 0) + _depth(inner)
    if isinstance(expr, And | Or):
        return max((1 if isinstance(t, And | Or) else 0) + _depth(t) for t in expr.terms)
    return 0


@PROPERTY
@given(_trees(_leaf).filter(lambda e: _depth(e) <= MAX_CRITERION_DEPTH))
def test_printed_trees_parse_to_the_same_tree(expr: Expr) -> None:
    text = to_text(expr)
    if len(text) <= MAX_CRITERION_TEXT:
        assert parse(text) == expr
        assert to_text(parse(text)) == text


_soup = st.lists(
    st.one_of(
        st.sampled_from(
            [
                *KEYWORDS,
                *(op.value for op in Op),
                *(s.value for s in HypothesisState),
                "(",
                ")",
                "=",
                "!",
                "'",
                '"',
                "`",
                ".",
                "-",
                "a.b",
                "CHURN-3",
                "1",
                "-0.5e3",
                "'x'",
                "`q`",
                "\\",
                "\n",
            ]
        ),
        st.text(max_size=3),
    ),
    max_size=20,
).map(" ".join)


@PROPERTY
@given(st.one_of(st.text(max_size=60), _soup))
def test_any_text_parses_or_is_refused_with_invalid_input(text: str) -> None:
    try:
        expr = parse(text)
    except InvalidInput as exc:
        assert exc.message.startswith("criterion")
        assert "\n" not in exc.message
    else:
        assert parse(to_text(expr)) == expr


# --- properties: Kleene's three-valued logic ---------------------------------------------

# The truth tables, written out rather than computed.
AND = {
    (P, P): P, (P, F): F, (P, M): M,
    (F, P): F, (F, F): F, (F, M): F,
    (M, P): M, (M, F): F, (M, M): M,
}  # fmt: skip
OR = {
    (P, P): P, (P, F): P, (P, M): P,
    (F, P): P, (F, F): F, (F, M): M,
    (M, P): P, (M, F): M, (M, M): M,
}  # fmt: skip
NOT = {P: F, F: P, M: M}
VALUE_OF = {P: True, F: False}  # evidence for `pN == true`; M: nothing recorded


def _evidence(assignment: dict[str, Status]) -> dict[str, Value]:
    return {path: VALUE_OF[s] for path, s in assignment.items() if s is not M}


@pytest.mark.parametrize(("a", "b"), list(product([P, F, M], repeat=2)))
def test_and_or_follow_the_truth_tables(a: Status, b: Status) -> None:
    recorded = _evidence({"p.a": a, "p.b": b})

    def lookup(path: str) -> Value | Missing:
        return recorded.get(path, MISSING)

    assert evaluate(parse("p.a == true and p.b == true"), lookup).status is AND[a, b]
    assert evaluate(parse("p.a == true or p.b == true"), lookup).status is OR[a, b]
    assert evaluate(parse("not p.a == true"), lookup).status is NOT[a]


def _reference(expr: Expr, assignment: dict[str, Status]) -> Status:
    if isinstance(expr, Not):
        return NOT[_reference(expr.term, assignment)]
    if isinstance(expr, And | Or):
        table = AND if isinstance(expr, And) else OR
        result = _reference(expr.terms[0], assignment)
        for term in expr.terms[1:]:
            result = table[result, _reference(term, assignment)]
        return result
    assert isinstance(expr, Comparison) and isinstance(expr.left, Path)
    return assignment[expr.left.text]


_VARIABLES = [f"p.v{i}" for i in range(4)]
_variable_leaf = st.sampled_from(_VARIABLES).map(
    lambda v: Comparison(Path(v), Op.EQ, Boolean(True))
)


@PROPERTY
@given(
    _trees(_variable_leaf),
    st.lists(st.sampled_from([P, F, M]), min_size=4, max_size=4),
)
def test_evaluation_is_kleene_logic(expr: Expr, states: list[Status]) -> None:
    assignment = dict(zip(_VARIABLES, states, strict=True))
    recorded = _evidence(assignment)
    outcome = evaluate(expr, lambda path: recorded.get(path, MISSING))
    assert outcome.status is _reference(expr, assignment)
    # every leaf is judged, none short-cut, and missing lists exactly the unknown paths read
    used = paths(expr)
    assert len(outcome.leaves) == to_text(expr).count("== true")
    assert outcome.missing == tuple(p for p in used if assignment[p] is M)
