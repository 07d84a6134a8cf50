"""What run params, tags and metric keys may hold: one set of rules for every door.

The native API's schemas (``tracking.schemas``) and the MLflow door (``mlflow_compat``)
both use these types and functions, and everything is checked before the database, so
SQLite and PostgreSQL answer alike:

- a key (metric, param, tag) is 1 to MAX_KEY characters: letters and digits of any script,
  ``_ - . / :`` and spaces (MLflow's own server's rule), so no NUL or control characters;
- a param value holds at most MAX_PARAM_VALUE characters and a tag value MAX_TAG_VALUE
  (MLflow's server: 6,000 and 8,000), an experiment tag value MAX_TEXT (MLflow: 20,000);
  no value may hold NUL, which PostgreSQL cannot store in text;
- one batch may not give a param key two different values (MLflow's server refuses any
  repeated key; the same pair twice is accepted here, as it changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints, TypeAdapter, ValidationError

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import MAX_KEY, MAX_NAME, MAX_PARAM_VALUE, MAX_TAG_VALUE, MAX_TEXT

KEY_PATTERN = r"^[\w\-. /:]+$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters cannot be stored")
    return value


Key = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY, pattern=KEY_PATTERN)]
ParamValue = Annotated[str, StringConstraints(max_length=MAX_PARAM_VALUE), AfterValidator(_no_nul)]
TagValue = Annotated[str, StringConstraints(max_length=MAX_TAG_VALUE), AfterValidator(_no_nul)]
ExperimentTagValue = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_no_nul)]
RunName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME),
    AfterValidator(_no_nul),
]

_KEY: TypeAdapter[str] = TypeAdapter(Key)
PARAM: TypeAdapter[str] = TypeAdapter(ParamValue)
TAG: TypeAdapter[str] = TypeAdapter(TagValue)
EXPERIMENT_TAG: TypeAdapter[str] = TypeAdapter(ExperimentTagValue)
RUN_NAME: TypeAdapter[str] = TypeAdapter(RunName)

Pair = tuple[Any, Any]  # (key, value) as sent


NAME_RULE = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)"
)


def reason(error: Any) -> str:
    """Plain words for a constraint, never pydantic's own wording (it leaks to clients)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return NAME_RULE
    if kind == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_type":
        return "expected a string"
    return str(error["msg"]).removeprefix("Value error, ")


def _checked(rule: TypeAdapter[str], value: Any, where: str) -> str:
    try:
        return rule.validate_python(value)
    except ValidationError as exc:
        message = reason(exc.errors(include_url=False)[0])
        raise InvalidInput(f"Invalid value for {where}: {message}") from None


def key(value: Any, where: str = "key") -> str:
    return _checked(_KEY, value, where)


def text(value: Any, where: str) -> str:
    """A value as the MLflow protocol sends it (a string; numbers and booleans are taken
    as their text, a missing value as ""), ready for a value rule."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | float) or (isinstance(value, int) and value.bit_length() < 64):
        return str(value)
    raise InvalidInput(f"Invalid value for {where}: expected a string")


def value(rule: TypeAdapter[str], given: Any, where: str = "value") -> str:
    return _checked(rule, text(given, where), where)


def pairs(items: Iterable[Pair], rule: TypeAdapter[str], where: str) -> list[tuple[str, str]]:
    """Each (key, value) checked: the key by the key rule, the value by ``rule``."""
    return [
        (key(k, f"{where}.{i}.key"), value(rule, v, f"{where}.{i}.value"))
        for i, (k, v) in enumerate(items)
    ]


def params(items: Iterable[Pair], where: str = "params") -> dict[str, str]:
    """Checked params of one batch; a key given two different values is refused."""
    out: dict[str, str] = {}
    clashes: list[str] = []
    for k, v in pairs(items, PARAM, where):
        if out.setdefault(k, v) != v and k not in clashes:
            clashes.append(k)
    if clashes:
        raise InvalidInput(
            f"Duplicate parameter keys with different values have been submitted: {clashes}. "
            "A request holds one value per param key."
        )
    return out


def tags(
    items: Iterable[Pair], rule: TypeAdapter[str] = TAG, where: str = "tags"
) -> dict[str, str]:
    """Checked tags of one batch; a key given twice keeps the later value (tags change)."""
    return dict(pairs(items, rule, where))
