"""The filter grammar's limits: what is past them is refused before any SQL is built, and
the largest search within them still runs on both stores (SQLite refuses an expression
tree deeper than 1,000 and more than 64 tables in a join; each clause nests one level,
each sort key is one join)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import MAX_FILTER_CLAUSES, MAX_FILTER_VALUES, MAX_ORDER_KEYS
from loopwise.tracking import search

API = "/api/2.0/mlflow"


def clauses(n: int) -> str:
    return " and ".join(f"params.p{i} = 'a'" for i in range(n))


def test_a_filter_holds_at_most_the_clause_limit() -> None:
    assert len(search.parse_filter(clauses(MAX_FILTER_CLAUSES))) == MAX_FILTER_CLAUSES
    for n in (MAX_FILTER_CLAUSES + 1, 2000):
        with pytest.raises(InvalidInput, match=f"more than {MAX_FILTER_CLAUSES} clauses"):
            search.parse_filter(clauses(n))


def test_in_lists_hold_at_most_the_value_limit_altogether() -> None:
    half = MAX_FILTER_VALUES // 2
    both = [
        f"params.a IN ({', '.join(repr(str(i)) for i in range(half))})",
        f"tags.b NOT IN ({', '.join(repr(str(i)) for i in range(MAX_FILTER_VALUES - half))})",
    ]
    assert len(search.parse_filter(" and ".join(both))) == 2
    with pytest.raises(InvalidInput, match=f"the limit is {MAX_FILTER_VALUES:,}"):
        search.parse_filter(" and ".join([*both, "params.c IN ('x')"]))


def test_a_huge_filter_is_refused_without_reading_it_all() -> None:
    with pytest.raises(InvalidInput, match="the filter is too long"):
        search.parse_filter("params.a IN (" + "'x', " * 1_000_000 + "'x')")


def test_sort_keys_are_limited() -> None:
    keys = [f"params.p{i} DESC" for i in range(MAX_ORDER_KEYS)]
    assert len(search.parse_order(keys)) == MAX_ORDER_KEYS
    with pytest.raises(InvalidInput, match=f"at most {MAX_ORDER_KEYS}"):
        search.parse_order([*keys, "metrics.m"])


@pytest.mark.store
def test_the_largest_search_within_the_limits_runs(api: TestClient) -> None:
    exp = api.post(f"{API}/experiments/create", json={"name": "big"}).json()["experiment_id"]
    info = api.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
    batch = {
        "run_id": info["run_id"],
        "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}],
        "params": [{"key": f"p{i}", "value": "a"} for i in range(MAX_FILTER_CLAUSES)],
    }
    assert api.post(f"{API}/runs/log-batch", json=batch).status_code == 200
    per_clause = MAX_FILTER_VALUES // MAX_FILTER_CLAUSES
    values = ", ".join(["'a'"] + [f"'v{j}'" for j in range(per_clause - 1)])
    text = " and ".join(f"params.p{i} IN ({values})" for i in range(MAX_FILTER_CLAUSES))
    # a metric first (the summary-index path), then a join per key up to the limit
    order = ["metrics.m DESC"] + [f"params.p{i}" for i in range(MAX_ORDER_KEYS - 1)]
    body = {"experiment_ids": [exp], "filter": text, "order_by": order}
    response = api.post(f"{API}/runs/search", json=body)
    assert response.status_code == 200, response.text[:300]
    assert [r["info"]["run_id"] for r in response.json()["runs"]] == [info["run_id"]]


@pytest.mark.store
def test_the_mlflow_door_answers_invalid_parameter_value(api: TestClient) -> None:
    exp = api.post(f"{API}/experiments/create", json={"name": "x"}).json()["experiment_id"]
    body = {"experiment_ids": [exp], "filter": clauses(2000)}
    response = api.post(f"{API}/runs/search", json=body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert f"at most {MAX_FILTER_CLAUSES}" in response.json()["message"]


@pytest.mark.store
def test_fenced_subqueries_find_the_same_runs(api: TestClient) -> None:
    """Past FENCE_AFTER subquery clauses each EXISTS is planned on its own (OFFSET 0): the
    runs found must not change. The same conditions, fenced and not, against a brute force
    over the runs' own params, metrics and tags."""
    exp = api.post(f"{API}/experiments/create", json={"name": "fence"}).json()["experiment_id"]
    stored: dict[str, dict[str, str]] = {}
    for r in range(12):
        run = api.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
        params = {f"p{i}": str((r >> i) & 1) for i in range(4)}
        batch = {
            "run_id": run["run_id"],
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "metrics": [{"key": "m", "value": r, "timestamp": 1, "step": 0}],
            "tags": [{"key": "t", "value": "even" if r % 2 == 0 else "odd"}],
        }
        assert api.post(f"{API}/runs/log-batch", json=batch).status_code == 200
        stored[run["run_id"]] = {**params, "m": str(r), "t": batch["tags"][0]["value"]}
    few = "params.p0 = '1' and metrics.m > 2 and tags.t = 'odd'"
    many = few + " and params.p1 IN ('0', '1')" * (search.FENCE_AFTER - 2)
    assert len(search.parse_filter(few)) <= search.FENCE_AFTER < len(search.parse_filter(many))
    expected = {
        rid for rid, v in stored.items() if v["p0"] == "1" and int(v["m"]) > 2 and v["t"] == "odd"
    }
    for text in (few, many):
        body = {"experiment_ids": [exp], "filter": text, "max_results": 100}
        found = {
            r["info"]["run_id"] for r in api.post(f"{API}/runs/search", json=body).json()["runs"]
        }
        assert found == expected and len(expected) == 5


def test_subqueries_are_fenced_only_past_the_threshold() -> None:
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql

    from loopwise.tracking.tables import RunRow

    def sql(n: int) -> str:
        query = search.filtered(select(RunRow.id), search.parse_filter(clauses(n)))
        return str(query.compile(dialect=postgresql.dialect()))

    assert sql(search.FENCE_AFTER).count("OFFSET") == 0
    assert sql(search.FENCE_AFTER + 1).count("OFFSET") == search.FENCE_AFTER + 1
