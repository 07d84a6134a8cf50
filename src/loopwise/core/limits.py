"""Size limits on stored values and on requests, in one place (documented in README)."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

MAX_NAME = 200
MAX_KEY = 250
MAX_TEXT = 20_000
MAX_PARAM_VALUE = 6_000
MAX_TAG_VALUE = 8_000
MAX_LABELS = 50
MAX_BATCH = 10_000

# The run filter grammar (tracking.search), on every door. A filter of 2,000 clauses kept a
# PostgreSQL backend busy for minutes; SQLite refuses about 990 (its expression tree is at
# most 1,000 deep) and more than 63 joined tables (each sort key is one join).
MAX_FILTER_CLAUSES = 100
MAX_FILTER_VALUES = 10_000  # values in all IN (...) lists of one filter together
MAX_ORDER_KEYS = 10
# The longest filter text read at all; the limits above bound the work, this only the
# reading (the tokenizer also stops early on a filter past them).
MAX_SEARCH_TEXT = 1_000_000

# Gate criteria (governance.criteria): the longest criterion text read, and how deeply
# parentheses and `not` may nest. A criterion is a line or two on a gate; these only stop
# a pasted megabyte or a deliberately deep nest before the recursive-descent parser runs.
MAX_CRITERION_TEXT = 2_000
MAX_CRITERION_DEPTH = 16

# JSON bodies: arrays and objects nested deeper than this are refused (a 400) wherever free
# JSON is accepted; typed bodies are shallower anyway. The parsers stop far deeper (orjson
# at 1,024, pydantic at about 200, the standard library at Python's recursion limit).
MAX_JSON_DEPTH = 64
_CONTAINERS = frozenset({list, dict})


def nests_deeper(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and dicts in parsed JSON ``value`` nest more than ``limit`` deep (a
    scalar is 0 deep, ``[1]`` is 1). Level by level, without recursion; a list of scalars
    is looked at with one C-level pass over its element types."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below = []
        for container in level:
            items = container.values() if type(container) is dict else container
            if _CONTAINERS.isdisjoint(map(type, items)):
                continue
            below += [v for v in items if type(v) in _CONTAINERS]
        level = below
    return False


def shallow(value: T) -> T:
    """A pydantic after-validator for free JSON fields: refuses deep nesting."""
    if nests_deeper(value):
        raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
    return value


# Whole numbers that reach the database: PostgreSQL's INTEGER holds 32 bits and BIGINT 64
# (SQLite's INTEGER 64). A number past its column's range matches no row, but the driver
# refuses it instead (PostgreSQL: DataError; SQLite: OverflowError), so lookups by number
# check the range first and answer "not found" without a query.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
