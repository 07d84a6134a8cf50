"""The registry's search grammar (registry.search): parsing and matching are pure, the
use cases read through the registry service."""

from __future__ import annotations

import sqlite3

import pytest

from loopwise.core.errors import InvalidInput
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import catalog, search
from loopwise.registry import service as registry
from loopwise.registry.search import Clause, matches, parse_filter, parse_order
from use_cases import UseCases

PROMPTS_OUT = "tag.`mlflow.prompt.is_prompt` != 'true'"


def test_parse_filter_reads_mlflow_clauses() -> None:
    assert parse_filter(f"name LIKE 'a%' AND {PROMPTS_OUT}") == [
        Clause("name", "", "LIKE", "a%"),
        Clause("tag", "mlflow.prompt.is_prompt", "!=", "true"),
    ]
    assert parse_filter("tags.team.name = \"x\" and run_id IN ('a', 'b')") == [
        Clause("tag", "team.name", "=", "x"),
        Clause("run_id", "", "IN", ("a", "b")),
    ]
    assert parse_filter("version_number >= 2") == [Clause("version_number", "", ">=", 2)]
    assert parse_filter("  ") == []


@pytest.mark.parametrize(
    "bad",
    [
        "name ~ 'x'",
        "stage = 'x'",
        "name > 'a'",
        "version_number LIKE '1%'",
        "name = 'a' OR name = 'b'",
        "name = ",
        "run_id IN ('a'",
        "tags. = 'x'",
    ],
)
def test_bad_filters_are_refused_with_a_message(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_filter(bad)


def test_parse_order() -> None:
    allowed = ("name", "creation_timestamp")
    assert parse_order(["name DESC", "timestamp"], allowed) == [
        search.Order("name", True),
        search.Order("creation_timestamp", False),
    ]
    for bad in ("version_number", "name SIDEWAYS", "", "name ASC x"):
        with pytest.raises(InvalidInput):
            parse_order([bad], allowed)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("a%", "abc"),
        ("a%", "bac"),
        ("%b%", "abc"),
        ("a_c", "abc"),
        ("a_c", "abbc"),
        ("A%", "abc"),
        ("%.%", "a.b"),
        ("%.%", "ab"),
        ("100%", "100%"),
        ("a*c", "abc"),
        ("", ""),
    ],
)
def test_like_and_ilike_match_as_sql_does(pattern: str, text: str) -> None:
    """Cross-checked against SQLite's LIKE, case-sensitive (LIKE) and not (ILIKE)."""
    db = sqlite3.connect(":memory:")
    ilike = bool(db.execute("SELECT ? LIKE ?", (text, pattern)).fetchone()[0])
    db.execute("PRAGMA case_sensitive_like = ON")
    like = bool(db.execute("SELECT ? LIKE ?", (text, pattern)).fetchone()[0])
    assert matches(parse_filter(f"name LIKE '{pattern}'"), {"name": text}, {}) is like
    assert matches(parse_filter(f"name ILIKE '{pattern}'"), {"name": text}, {}) is ilike


def test_not_equal_on_a_tag_matches_what_lacks_the_tag() -> None:
    clauses = parse_filter(PROMPTS_OUT)
    assert matches(clauses, {"name": "m"}, {})
    assert matches(clauses, {"name": "m"}, {"mlflow.prompt.is_prompt": "false"})
    assert not matches(clauses, {"name": "m"}, {"mlflow.prompt.is_prompt": "true"})
    assert not matches(parse_filter("tags.team = 'x'"), {"name": "m"}, {})


def test_run_ids_match_with_or_without_the_run_prefix() -> None:
    fields = {"run_id": "run_abc", "name": "m"}
    assert matches(parse_filter("run_id = 'abc'"), fields, {})
    assert matches(parse_filter("run_id = 'run_abc'"), fields, {})
    assert matches(parse_filter("run_id IN ('x', 'abc')"), fields, {})
    assert not matches(parse_filter("run_id != 'abc'"), fields, {})
    with pytest.raises(InvalidInput, match="does not apply"):
        matches(parse_filter("run_id = 'abc'"), {"name": "m"}, {})


@pytest.mark.store
def test_search_models_and_versions_through_the_service(do: UseCases) -> None:
    do(projects.create_project, ProjectCreate(key="SRCH", name="Search"))
    for name in ("b-model", "a-model", "c-prompt"):
        do(registry.create_model, "SRCH", name)
    do(catalog.set_model_tag, "c-prompt", "mlflow.prompt.is_prompt", "true")
    for i in range(3):
        do(registry.create_version, "a-model", source=f"s3://x/{i}")
    do(catalog.set_version_tag, "a-model", 2, "ok", "yes")

    page = do.read(search.search_models, PROMPTS_OUT, max_results=1)
    assert [m.name for m in page.models] == ["a-model"] and page.next_page_token
    rest = do.read(search.search_models, PROMPTS_OUT, page_token=page.next_page_token)
    assert [m.name for m in rest.models] == ["b-model"] and rest.next_page_token is None
    found = do.read(search.search_models, order_by=["name DESC"])
    assert [m.name for m in found.models] == ["c-prompt", "b-model", "a-model"]

    versions = do.read(search.search_versions, "name = 'a-model'")
    assert [v.version for v in versions.versions] == [3, 2, 1]
    tagged = do.read(search.search_versions, "tags.ok = 'yes' AND version_number > 1")
    assert [v.version for v in tagged.versions] == [2]
    ordered = do.read(search.search_versions, order_by=["version_number ASC"])
    assert [v.version for v in ordered.versions] == [1, 2, 3]
    with pytest.raises(InvalidInput, match="max_results"):
        do.read(search.search_models, max_results=1001)
    with pytest.raises(InvalidInput, match="max_results"):
        do.read(search.search_versions, max_results=0)
