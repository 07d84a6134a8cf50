"""The filter grammar's limits: what is past them is refused before any SQL is built, and
the largest search within them still runs on both stores (SQLite refuses an expression
tree deeper than 1,000 and more than 64 tables in a join; each clause nests one level,
each sort key is one join). The MLflow door's answer to a refused filter is in
tests/mlflow/test_mlflow_rest.py."""

from __future__ import annotations

import pytest

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import MAX_FILTER_CLAUSES, MAX_FILTER_VALUES, MAX_ORDER_KEYS
from loopwise.tracking import search
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate
from use_cases import UseCases


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
def test_the_largest_search_within_the_limits_runs(do: UseCases, project: str) -> None:
    params = {f"p{i}": "a" for i in range(MAX_FILTER_CLAUSES)}
    run = do(tracking.create_run, project, RunCreate(experiment="big", params=params))
    do(tracking.log_metrics, run.id, [MetricIn(key="m", value=1.0)])
    per_clause = MAX_FILTER_VALUES // MAX_FILTER_CLAUSES
    values = ", ".join(["'a'"] + [f"'v{j}'" for j in range(per_clause - 1)])
    text = " and ".join(f"params.p{i} IN ({values})" for i in range(MAX_FILTER_CLAUSES))
    # a metric first (the summary-index path), then a join per key up to the limit
    order = ["metrics.m DESC"] + [f"params.p{i}" for i in range(MAX_ORDER_KEYS - 1)]
    found, more = do.read(
        tracking.search_runs, [run.experiment_id], filter_string=text, order_by=order
    )
    assert [r.id for r in found] == [run.id] and not more


@pytest.mark.store
@pytest.mark.parametrize(
    "filter_string", ["attributes.start_time > 1e20", "attributes.end_time < -1e20"]
)
def test_absurd_times_in_filters_are_refused(
    do: UseCases, project: str, filter_string: str
) -> None:
    experiment = do(tracking.get_or_create_experiment, project, "Default").id
    with pytest.raises(InvalidInput, match="a time is out of range"):
        do.read(tracking.search_runs, [experiment], filter_string=filter_string)


@pytest.mark.store
def test_fenced_subqueries_find_the_same_runs(do: UseCases, project: str) -> None:
    """Past FENCE_AFTER subquery clauses each EXISTS is planned on its own (OFFSET 0): the
    runs found must not change. The same conditions, fenced and not, against a brute force
    over the runs' own params, metrics and tags."""
    stored: dict[str, dict[str, str]] = {}
    experiment = ""
    for r in range(12):
        params = {f"p{i}": str((r >> i) & 1) for i in range(4)}
        tag = "even" if r % 2 == 0 else "odd"
        run = do(
            tracking.create_run,
            project,
            RunCreate(experiment="fence", params=params, tags={"t": tag}),
        )
        do(tracking.log_metrics, run.id, [MetricIn(key="m", value=r)])
        experiment = run.experiment_id
        stored[run.id] = {**params, "m": str(r), "t": tag}
    few = "params.p0 = '1' and metrics.m > 2 and tags.t = 'odd'"
    many = few + " and params.p1 IN ('0', '1')" * (search.FENCE_AFTER - 2)
    assert len(search.parse_filter(few)) <= search.FENCE_AFTER < len(search.parse_filter(many))
    expected = {
        rid for rid, v in stored.items() if v["p0"] == "1" and int(v["m"]) > 2 and v["t"] == "odd"
    }
    for text in (few, many):
        found, _more = do.read(tracking.search_runs, [experiment], filter_string=text, limit=100)
        assert {r.id for r in found} == expected and len(expected) == 5


def test_subqueries_are_fenced_only_past_the_threshold() -> None:
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql

    from loopwise.tracking.tables import RunRow

    def sql(n: int) -> str:
        query = search.filtered(select(RunRow.id), search.parse_filter(clauses(n)))
        return str(query.compile(dialect=postgresql.dialect()))

    assert sql(search.FENCE_AFTER).count("OFFSET") == 0
    assert sql(search.FENCE_AFTER + 1).count("OFFSET") == search.FENCE_AFTER + 1
