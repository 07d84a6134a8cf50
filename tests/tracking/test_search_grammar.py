"""The run filter grammar (tracking.search) as pure functions, without a database or app.

Example tables for parse_filter and parse_order, checked against MLflow's own parser
(mlflow.utils.search_utils) where both accept a filter; the refusals, always InvalidInput;
and hypothesis properties: generated filters and sort keys parse back to what was
generated, any text parses or is refused quickly, page tokens round-trip.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import INT64_MAX, MAX_FILTER_CLAUSES, MAX_FILTER_VALUES, MAX_ORDER_KEYS
from loopwise.tracking.search import (
    Clause,
    Order,
    decode_token,
    encode_token,
    filtered,
    parse_filter,
    parse_order,
)
from loopwise.tracking.tables import RunRow

# No deadline: a busy CI machine is not a slow parser (the hang guard below is separate).
PROPERTY = settings(derandomize=True, database=None, deadline=None)


def parsed(text: str) -> list[tuple[object, ...]]:
    return [(c.entity, c.key, c.op, c.value) for c in parse_filter(text)]


# --- examples --------------------------------------------------------------------------

ACCEPTED = {
    # every operator, on the entity it suits
    "metrics.a = 1": [("metric", "a", "=", 1.0)],
    "metrics.a != 1": [("metric", "a", "!=", 1.0)],
    "metrics.a > 1": [("metric", "a", ">", 1.0)],
    "metrics.a >= 1": [("metric", "a", ">=", 1.0)],
    "metrics.a < 1": [("metric", "a", "<", 1.0)],
    "metrics.a <= 1": [("metric", "a", "<=", 1.0)],
    "params.p LIKE 'x%'": [("param", "p", "LIKE", "x%")],
    "params.p ILIKE '%X'": [("param", "p", "ILIKE", "%X")],
    "params.p IN ('a', \"b\")": [("param", "p", "IN", ("a", "b"))],
    "tags.t NOT IN ('a')": [("tag", "t", "NOT IN", ("a",))],
    # every entity prefix, long and short
    "metric.a > 0": [("metric", "a", ">", 0.0)],
    "param.p = 'x'": [("param", "p", "=", "x")],
    "parameters.p = 'x'": [("param", "p", "=", "x")],
    "tags.t = 'x'": [("tag", "t", "=", "x")],
    "tag.t = 'x'": [("tag", "t", "=", "x")],
    "attributes.status = 'FINISHED'": [("attribute", "status", "=", "FINISHED")],
    "attribute.run_name = 'r'": [("attribute", "run_name", "=", "r")],
    "attr.run_id = 'r'": [("attribute", "run_id", "=", "r")],
    "run.user_id = 'me'": [("attribute", "user_id", "=", "me")],
    "status != 'FAILED'": [("attribute", "status", "!=", "FAILED")],
    "Metrics.a > 0": [("metric", "a", ">", 0.0)],  # prefixes ignore case (not in MLflow)
    # quoted keys, dotted keys, keys with spaces
    "metrics.`a b` > 0": [("metric", "a b", ">", 0.0)],
    'metrics."a b" > 0': [("metric", "a b", ">", 0.0)],
    'params."say \\"hi\\"" = \'x\'': [("param", 'say "hi"', "=", "x")],
    "params.`a.b` = 'x'": [("param", "a.b", "=", "x")],
    "metrics.val.loss > 0": [("metric", "val.loss", ">", 0.0)],
    "params.a-b/c:d = 'x'": [("param", "a-b/c:d", "=", "x")],
    "tags.`` = 'x'": [("tag", "", "=", "x")],
    # strings: both quotes, escaped quotes, empty, LIKE patterns kept as written
    "params.a = 'it\\'s'": [("param", "a", "=", "it's")],
    'params.a = "say \\"hi\\""': [("param", "a", "=", 'say "hi"')],
    'params.a = "it\'s"': [("param", "a", "=", "it's")],
    "params.a = ''": [("param", "a", "=", "")],
    "params.a = 'a\\\\b'": [("param", "a", "=", "a\\\\b")],  # only quotes are unescaped
    # numbers: ints, floats, exponents, signs
    "metrics.a = -3": [("metric", "a", "=", -3.0)],
    "metrics.a = +3": [("metric", "a", "=", 3.0)],
    "metrics.a = .5": [("metric", "a", "=", 0.5)],
    "metrics.a = 1.": [("metric", "a", "=", 1.0)],
    "metrics.a = 1.5e-3": [("metric", "a", "=", 0.0015)],
    "metrics.a = -2E+2": [("metric", "a", "=", -200.0)],
    # keywords in any case, whitespace anywhere between tokens or none around symbols
    "params.a like 'x' and tags.b ilike 'y' AnD run_id in ('r') and status not IN ('s')": [
        ("param", "a", "LIKE", "x"),
        ("tag", "b", "ILIKE", "y"),
        ("attribute", "run_id", "IN", ("r",)),
        ("attribute", "status", "NOT IN", ("s",)),
    ],
    " \t\nmetrics.a>1\nAND\tparams.b='x'AND params.c='y'  ": [
        ("metric", "a", ">", 1.0),
        ("param", "b", "=", "x"),
        ("param", "c", "=", "y"),
    ],
    # times are numbers of milliseconds
    "attributes.start_time >= 1700000000000": [("attribute", "start_time", ">=", 1.7e12)],
    "end_time < 1.5e3": [("attribute", "end_time", "<", 1500.0)],
}


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted_filters(text: str) -> None:
    assert parsed(text) == ACCEPTED[text]


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_an_empty_filter_is_no_clauses(text: str | None) -> None:
    assert parse_filter(text) == []


REFUSED = {
    "params.a = 'x": "cannot parse",  # unbalanced quotes
    'params.a = "x': "cannot parse",
    "params.`a = 'x'": "cannot parse",
    "params.a =": "ends too early",  # missing value
    "params.a 'x'": "expected a comparison",
    "params.a": "ends too early",
    "params.a == 'x'": "expected a number or a quoted string",
    "params.a <> 'x'": "expected a number or a quoted string",
    "params.a ~ 'x'": "cannot parse",  # unknown operators
    "params.a NOT LIKE 'x'": "expected IN after NOT",
    "params.a IS NULL": "expected a comparison",
    "foo.a = 'x'": "unknown entity 'foo'",  # unknown entity or attribute
    "accuracy > 1": "unknown attribute 'accuracy'",
    "params.a = 'x' AND": "ends too early",  # AND in the wrong place
    "AND params.a = 'x'": "expected a comparison",
    "params.a = 'x' AND AND params.b = 'y'": "expected a comparison",
    "params.a = 'x' params.b = 'y'": "expected AND",
    "metrics.a > 1 OR metrics.b > 1": "expected AND",
    "metrics.a > 1 AND (metrics.b > 1)": "expected a name",
    "params.a IN 'x'": "parenthesised list",  # IN lists
    "params.a IN '(' 'x' ')'": "parenthesised list",
    "params.a IN ()": "at least one value",
    "params.a IN ('x',)": "IN lists hold quoted strings",
    "params.a IN ('x' 'y')": "expected , or )",
    "params.a IN ('x' ',' 'y')": "expected , or )",
    "params.a IN ('x'": "unclosed IN list",
    "params.a IN (1, 2)": "IN lists hold quoted strings",
    "params.a.( = 'x'": "the rest of the key",  # bare dotted keys
    "params.a.'b' = 'x'": "the rest of the key",
    "metrics.layer.0 > 1": "expected a comparison",
    "metrics.a > 'x'": "compares with numbers",  # type rules
    "metrics.a LIKE 1": "compares with numbers",
    "metrics.a IN ('1')": "compares with numbers",
    "params.a = 1": "compares with a quoted string",
    "tags.a > 'x'": "compares with a quoted string",
    "attributes.status > 5": "status compares with a quoted string",
    "attributes.run_name = 5": "run_name compares with a quoted string",
    "run_id > 'a'": "run_id compares with a quoted string",
    "user_id <= 'a'": "user_id compares with a quoted string",
    "attributes.start_time = 'x'": "number of milliseconds",
    "attributes.start_time LIKE 1": "number of milliseconds",
    "end_time IN ('1')": "number of milliseconds",
    "attributes.start_time > 1e400": "out of range",
    "metrics.a > 1;": "cannot parse",  # anything else
    "metrics.a > 1 -- comment": "cannot parse",
    "metrics.1a > 1": "cannot parse",
    "1": "expected a name",
}


@pytest.mark.parametrize("text", REFUSED)
def test_refused_filters(text: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(REFUSED[text])):
        parse_filter(text)


def test_filter_limits() -> None:
    def clauses(n: int) -> str:
        return " AND ".join(f"params.p{i} = 'a'" for i in range(n))

    def values(n: int) -> str:
        return "params.a IN (" + ", ".join(["'v'"] * n) + ")"

    assert len(parse_filter(clauses(MAX_FILTER_CLAUSES))) == MAX_FILTER_CLAUSES
    with pytest.raises(InvalidInput, match=f"more than {MAX_FILTER_CLAUSES} clauses"):
        parse_filter(clauses(MAX_FILTER_CLAUSES + 1))
    assert len(parse_filter(values(MAX_FILTER_VALUES))[0].value) == MAX_FILTER_VALUES
    with pytest.raises(InvalidInput, match=f"the limit is {MAX_FILTER_VALUES:,}"):
        parse_filter(values(MAX_FILTER_VALUES + 1))
    keys = [f"metrics.m{i}" for i in range(MAX_ORDER_KEYS)]
    assert len(parse_order(keys)) == MAX_ORDER_KEYS
    with pytest.raises(InvalidInput, match=f"at most {MAX_ORDER_KEYS}"):
        parse_order([*keys, "metrics.m"])


@pytest.mark.parametrize(
    "text",
    [
        "metrics.a > " + "1" * 200_000 + "x",  # took hours: digits split every way
        "params.a = '" + "\\'" * 100_000,
        "params.a = '" + "a" * 200_000,
        "params.`" + "a" * 200_000,
        "metrics.a" + ".b" * 100_000 + " > 1",
        "params.a IN (" + "(" * 200_000,
        " " * 200_000 + "~",
    ],
)
def test_long_malformed_filters_are_refused_quickly(text: str) -> None:
    """A hang guard, not a speed target: quadratic backtracking took hours here; linear
    parsing takes milliseconds, so even a loaded machine stays far under the bound."""
    start = time.perf_counter()
    with pytest.raises(InvalidInput):
        parse_filter(text)
    assert time.perf_counter() - start < 15.0


ORDERS = {
    "metrics.a": Order("metric", "a", False),
    "metrics.a DESC": Order("metric", "a", True),
    "params.`b c` asc": Order("param", "b c", False),
    'tags."t" Desc': Order("tag", "t", True),
    "  attributes.start_time   desc ": Order("attribute", "start_time", True),
    "run_name": Order("attribute", "run_name", False),
    "metrics.val.loss DESC": Order("metric", "val.loss", True),
}


def test_orders() -> None:
    assert parse_order(list(ORDERS)) == list(ORDERS.values())
    assert parse_order([]) == []


@pytest.mark.parametrize(
    "item",
    ["", "metrics.a sideways", "metrics.a ASC DESC", "foo.a", "nope", "'x'", "metrics.a, b"],
)
def test_refused_orders(item: str) -> None:
    with pytest.raises(InvalidInput):
        parse_order([item])


SQL = {
    "attributes.status = 'FINISHED'": "runs.status = 'finished'",
    "run_id IN ('abc', 'run_x')": "runs.id IN ('run_abc', 'run_x')",
    "attributes.start_time > 0": "runs.start_time > '1970-01-01 00:00:00.000000'",
    "metrics.a > 1": "latest_metrics.\"key\" = 'a' AND latest_metrics.is_nan IS 0 AND "
    "latest_metrics.value > 1.0",
    "attributes.user_id = 'me'": "tags.\"key\" = 'mlflow.user' AND tags.value = 'me'",
}


def sql(clauses: list[Clause]) -> str:
    query = filtered(select(RunRow.id), clauses)
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return " ".join(str(compiled).split())


@pytest.mark.parametrize("text", SQL)
def test_translation_to_sql(text: str) -> None:
    assert SQL[text] in sql(parse_filter(text))


# --- MLflow's parser as an oracle -------------------------------------------------------

BOTH_ACCEPT = [
    text
    for text in ACCEPTED
    if "\\" not in text  # MLflow keeps backslashes: 'it\'s' is it\'s there, it's here
    and "+" not in text  # MLflow refuses a leading +
    and not text.startswith("Metrics")  # MLflow's prefixes are case-sensitive
    and "a-b" not in text  # MLflow refuses - / : in a bare key
    and "IN (" not in text.upper()  # MLflow takes IN lists for run_id only
] + ["run_id IN ('a', \"b\")", "attributes.run_id not in ('a')", "metrics.`` > 1"]
MLFLOW_ONLY = [
    "params.a = 'x' AND",  # a trailing, leading or doubled AND is a mistake here
    "AND params.a = 'x'",
    "params.a = 'x' params.b = 'y'",  # MLflow reads a missing AND as one
    "params.a IS NULL",  # IS NULL, NOT LIKE, == and <> are not in the grammar
    "params.a NOT LIKE 'x'",
    "params.a == 'x'",
    "params.a <> 'x'",
    "run_id IN ('a',)",  # a trailing comma in a list
    "metrics.5x > 0",  # a bare key starts with a letter or _ here; quote others
    "params.a.. = 'x'",
    "`metrics`.a > 1",  # a quoted prefix
    "attributes.created > 1",  # MLflow's alternative attribute names
    "attributes.`Run name` = 'x'",
]
LOOPWISE_ONLY = [
    "params.a IN ('x')",  # IN lists for params, tags and every string attribute
    "tags.a NOT IN ('x')",
    "status IN ('FINISHED')",
    "run_uuid = 'r'",  # MLflow's older name for run_id
    "METRICS.a > 1",  # prefixes ignore case
    "metrics.a > +1",
    "params.a-b = 'x'",
    "params.a.1.2 = 'x'",
]


def mlflow_parsed(text: str) -> list[tuple[object, ...]]:
    from mlflow.utils.search_utils import SearchUtils

    out: list[tuple[object, ...]] = []
    for c in SearchUtils.parse_search_filter(text):
        value = c["value"]
        if c["type"] == "metric" or isinstance(value, int):
            value = float(value)  # MLflow keeps a metric's number as text, a time as int
        entity = {"parameter": "param"}.get(c["type"], c["type"])
        out.append((entity, c["key"], c["comparator"].upper(), value))
    return out


@pytest.mark.parametrize("text", BOTH_ACCEPT)
def test_mlflow_parses_the_same(text: str) -> None:
    assert parsed(text) == mlflow_parsed(text)


@pytest.mark.parametrize("text", MLFLOW_ONLY)
def test_mlflow_accepts_but_loopwise_refuses(text: str) -> None:
    mlflow_parsed(text)
    with pytest.raises(InvalidInput):
        parse_filter(text)


@pytest.mark.parametrize("text", LOOPWISE_ONLY)
def test_loopwise_accepts_but_mlflow_refuses(text: str) -> None:
    from mlflow.exceptions import MlflowException

    parse_filter(text)
    with pytest.raises(MlflowException):
        mlflow_parsed(text)


# --- properties ------------------------------------------------------------------------

CHARS = st.characters(codec="utf-8", exclude_characters="\\") | st.sampled_from("'\"`(),.=<>")
# No backslashes: only \' and \" are escapes, so a value ending in \ cannot be written.
TEXT = st.text(CHARS, max_size=8)
BARE = re.compile(r"[A-Za-z_][\w\-:/]*(?:\.[A-Za-z_][\w\-:/]*)*")
WS = st.sampled_from(["", " ", "  ", "\t", "\r\n"])
WS1 = st.sampled_from([" ", "  ", "\t", "\n "])
NUMBER = st.one_of(
    st.integers(-(10**20), 10**20).map(lambda i: (str(i), float(i))),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: (repr(x), x)),
)
STRING_ATTRIBUTES = ["status", "run_name", "run_id", "run_uuid", "user_id"]
PREFIXES = {
    "metric": ["metrics", "metric"],
    "param": ["params", "param", "parameters"],
    "tag": ["tags", "tag"],
    "attribute": ["attributes", "attribute", "attr", "run", ""],
}


def cased(draw: st.DrawFn, word: str) -> str:
    return draw(st.sampled_from([word, word.lower(), word.upper(), word.title()]))


def name(draw: st.DrawFn, entity: str, key: str) -> str:
    """``entity`` and ``key`` written with a random prefix, case and quoting."""
    forms = [f'"{key.replace(chr(34), chr(92) + chr(34))}"']
    if BARE.fullmatch(key):
        forms.append(key)
    if "`" not in key:
        forms.append(f"`{key}`")
    prefix = cased(draw, draw(st.sampled_from(PREFIXES[entity])))
    return (prefix + "." if prefix else "") + draw(st.sampled_from(forms))


def string(draw: st.DrawFn, value: str) -> str:
    quote = draw(st.sampled_from("'\""))
    return quote + value.replace(quote, "\\" + quote) + quote


@st.composite
def clauses(draw: st.DrawFn) -> tuple[Clause, str]:
    """A well-formed clause and one way of writing it."""
    kind = draw(st.sampled_from(["metric", "param", "tag", "attribute", "time"]))
    if kind in ("metric", "time"):
        entity = "metric" if kind == "metric" else "attribute"
        if kind == "metric":
            key, (text, value) = draw(TEXT.filter(bool)), draw(NUMBER)
            text = text.replace("e", draw(st.sampled_from("eE")))
        else:
            key, ms = (
                draw(st.sampled_from(["start_time", "end_time"])),
                draw(st.integers(0, 10**13)),
            )
            text, value = str(ms), float(ms)
        op = draw(st.sampled_from(["=", "!=", ">", ">=", "<", "<="]))
        rest = draw(WS) + op + draw(WS) + text
        return Clause(entity, key, op, value), name(draw, entity, key) + rest
    entity = "attribute" if kind == "attribute" else kind
    key = draw(st.sampled_from(STRING_ATTRIBUTES) if kind == "attribute" else TEXT.filter(bool))
    op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"]))
    if op in ("IN", "NOT IN"):
        value = tuple(draw(st.lists(TEXT, min_size=1, max_size=3)))
        items = [draw(WS) + string(draw, v) + draw(WS) for v in value]
        written = cased(draw, "NOT") + draw(WS1) + cased(draw, "IN") if op == "NOT IN" else op
        rest = f"{draw(WS1)}{cased(draw, written)}{draw(WS)}({','.join(items)})"
        return Clause(entity, key, op, value), name(draw, entity, key) + rest
    value = draw(TEXT)
    space = WS1 if op.isalpha() else WS
    rest = draw(space) + cased(draw, op) + draw(space) + string(draw, value)
    return Clause(entity, key, op, value), name(draw, entity, key) + rest


@st.composite
def filters(draw: st.DrawFn) -> tuple[list[Clause], str]:
    pairs = draw(st.lists(clauses(), min_size=1, max_size=5))
    text = draw(WS) + pairs[0][1]
    for _, written in pairs[1:]:
        text += draw(WS1) + cased(draw, "AND") + draw(WS1) + written
    return [c for c, _ in pairs], text + draw(WS)


@PROPERTY
@given(filters())
def test_generated_filters_parse_back(case: tuple[list[Clause], str]) -> None:
    expected, text = case
    assert parse_filter(text) == expected


PIECES = ["'", '"', "`", "(", ")", ",", ".", "=", "!=", "<", ">=", " AND ", " and", " IN "]
PIECES += [" NOT ", " LIKE ", "\\", "-", "e", "1", ".5", "metrics.", " ", "\x00", "é"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A well-formed filter with a few characters deleted and punctuation inserted."""
    _, text = draw(filters())
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:i] + text[draw(st.integers(i, min(len(text), i + 3))) :]
        else:
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
    return text


@PROPERTY
@given(st.text() | mutated())
def test_any_text_parses_or_is_refused(text: str) -> None:
    try:
        clauses = parse_filter(text)
    except InvalidInput as exc:
        assert exc.message
        return
    assert all(isinstance(c, Clause) for c in clauses)
    sql(clauses)  # and what parses translates to SQL


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[Order], list[str]]:
    out, items = [], []
    for _ in range(draw(st.integers(0, MAX_ORDER_KEYS))):
        entity = draw(st.sampled_from(["metric", "param", "tag", "attribute"]))
        keys = ["status", "run_name", "run_id", "start_time", "end_time"]
        key = draw(st.sampled_from(keys) if entity == "attribute" else TEXT.filter(bool))
        direction = draw(st.sampled_from(["", "ASC", "DESC"]))
        written = draw(WS) + name(draw, entity, key)
        if direction:
            written += draw(WS1) + cased(draw, direction)
        out.append(Order(entity, key, direction == "DESC"))
        items.append(written + draw(WS))
    return out, items


@PROPERTY
@given(orders())
def test_generated_orders_parse_back(case: tuple[list[Order], list[str]]) -> None:
    expected, items = case
    assert parse_order(items) == expected


@PROPERTY
@given(st.integers(0, INT64_MAX))
def test_page_tokens_round_trip(offset: int) -> None:
    assert decode_token(encode_token(offset)) == offset


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.just("offset"), inner),
    max_leaves=5,
)


@PROPERTY
@given(
    st.text() | st.binary().map(b64) | JSON.map(lambda v: b64(json.dumps({"offset": v}).encode()))
)
def test_any_page_token_is_an_offset_or_refused(token: str) -> None:
    try:
        offset = decode_token(token)
    except InvalidInput:
        return
    assert isinstance(offset, int) and 0 <= offset <= INT64_MAX


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        "e30=",  # {}
        b64(b"\xff\xfe"),
        b64(b'{"offset": -1}'),
        b64(b'{"offset": 9223372036854775808}'),
        b64(b'{"offset": 1e400}'),  # was an OverflowError
        b64(b'{"offset": Infinity}'),
        b64(b'{"offset": NaN}'),
        b64(b'{"offset": "x"}'),
        b64(b'{"offset": {}}'),
        b64(b"[" * 100_000),  # was a RecursionError
        b64(b'"offset"'),
        5,
        ["x"],
    ],
)
def test_garbage_page_tokens_are_refused(token: object) -> None:
    with pytest.raises(InvalidInput, match="invalid page token"):
        decode_token(token)
    assert decode_token("") == decode_token(None) == 0
