"""One set of rules for run params, tags and metric keys (tracking.validation): the
native schemas and the functions the MLflow door calls answer each case in one table
alike, on both stores, and a refused value stores nothing. That every door answers the
table alike over HTTP is in test_tracking_api.py."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from tracking_rules import CASES, said

from loopwise.core.errors import InvalidInput
from loopwise.tracking import service as tracking
from loopwise.tracking import validation
from loopwise.tracking.schemas import MetricsIn, ParamsIn, RunCreate, TagsIn
from use_cases import UseCases


def native(do: UseCases, run: str, what: str, key: str, value: Any) -> None:
    """What the native API does with a body: its schema, then the service."""
    if what == "metric":
        metrics = MetricsIn.model_validate({"metrics": [{"key": key, "value": value}]})
        do(tracking.log_metrics, run, metrics.metrics)
    elif what == "param":
        do(tracking.log_params, run, ParamsIn.model_validate({"params": {key: value}}).params)
    else:
        do(tracking.set_tags, run, TagsIn.model_validate({"tags": {key: value}}).tags)


def checked(what: str, key: str, value: Any) -> None:
    """The checks the MLflow door applies to one key and value."""
    validation.key(key)
    if what == "param":
        validation.value(validation.PARAM, value)
    elif what == "tag":
        validation.value(validation.TAG, value)


def stored(do: UseCases, run: str) -> dict[str, dict[str, Any]]:
    found = do.read(tracking.get_run, run)
    return {
        "param": found.params,
        "tag": found.tags,
        "metric": {k: m.value for k, m in found.metrics.items()},
    }


@pytest.mark.store
def test_the_native_schemas_and_the_service_apply_the_rules(do: UseCases, project: str) -> None:
    run = do(tracking.create_run, project, RunCreate()).id
    problems = []
    for what, key, value, accepted, says in CASES:
        before = stored(do, run)
        name = f"{what} {key[:20]!r}={str(value)[:20]!r}"
        try:
            native(do, run, what, key, value)
            refused = ""
        except ValidationError as exc:
            refused = str(exc)
        after = stored(do, run)
        if accepted:
            if refused:
                problems.append(f"{name}: refused {refused[:200]}")
            elif after[what].get(key) != value:
                problems.append(f"{name}: stored {str(after[what].get(key))[:40]!r}")
        else:
            if not refused or not said(says, refused):
                problems.append(f"{name}: {refused[:200]!r}")
            if after != before:
                problems.append(f"{name}: stored something")
    assert not problems, "\n".join(problems)


def test_the_mlflow_checks_apply_the_same_rules() -> None:
    problems = []
    for what, key, value, accepted, says in CASES:
        name = f"{what} {key[:20]!r}={str(value)[:20]!r}"
        try:
            checked(what, key, value)
            refused = ""
        except InvalidInput as exc:
            refused = str(exc)
        if accepted and refused:
            problems.append(f"{name}: refused {refused[:200]}")
        if not accepted and (not refused or not said(says, refused)):
            problems.append(f"{name}: {refused[:200]!r}")
    assert not problems, "\n".join(problems)


def test_params_of_one_batch() -> None:
    assert validation.params([("a", "1"), ("b", 2), ("a", "1"), ("c", None)]) == {
        "a": "1",
        "b": "2",
        "c": "",
    }
    with pytest.raises(InvalidInput, match=r"submitted: \['a', 'b'\]"):
        validation.params([("a", "1"), ("b", "1"), ("a", "2"), ("b", True), ("a", "3")])
    assert validation.tags([("t", "1"), ("t", "2")]) == {"t": "2"}  # tags may change


@pytest.mark.parametrize(
    ("given", "text"),
    [("x", "x"), (None, ""), (3, "3"), (0.5, "0.5"), (True, "True"), (2**63 - 1, str(2**63 - 1))],
)
def test_mlflow_values_are_taken_as_text(given: Any, text: str) -> None:
    assert validation.text(given, "value") == text


@pytest.mark.parametrize(
    "given",
    [2**64, -(2**64), 10**5000, [1], {"a": 1}],
    ids=["2**64", "-2**64", "10**5000", "list", "object"],
)
def test_values_that_are_not_text_are_refused(given: Any) -> None:
    with pytest.raises(InvalidInput, match="expected a string"):
        validation.text(given, "value")
