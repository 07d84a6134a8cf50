"""Search ordered by a metric, page after page, against a brute-force sort (the tracking
service's search called directly; the MLflow door's page tokens are tested in
test_search_grammar.py and through the mlflow client in tests/mlflow).

Ordering by a metric reads the runs that logged it in the summary index's order and the
runs without it afterwards (two queries). Whatever the page size, following the pages
must give exactly the order MLflow defines: runs with the metric by its latest value,
ties by start time (newest first) then id; runs without it last, by start time then id.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate
from use_cases import UseCases

pytestmark = pytest.mark.store

EPOCH = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1_700_000_000_000 ms


def _runs(
    do: UseCases, project: str, rng: random.Random, count: int
) -> tuple[str, list[dict[str, Any]]]:
    runs = []
    experiment = ""
    for _ in range(count):
        start = EPOCH + timedelta(seconds=rng.choice([0, 1, 2]))  # many equal start times
        run = do(tracking.create_run, project, RunCreate(experiment="order", start_time=start))
        experiment = run.experiment_id
        metrics = {}
        if rng.random() < 0.8:  # a fifth of the runs never log m1
            metrics["m1"] = float(rng.choice([0.1, 0.2, 0.3, 0.4]))  # many ties
        metrics["m0"] = float(rng.randint(0, 9))
        do(tracking.log_metrics, run.id, [MetricIn(key=k, value=v) for k, v in metrics.items()])
        runs.append({"id": run.id, "start": start, **metrics})
    return experiment, runs


def _expected(runs: list[dict[str, Any]], descending: bool, threshold: float) -> list[str]:
    kept = [r for r in runs if r["m0"] > threshold]
    sign = -1 if descending else 1
    with_metric = sorted(
        (r for r in kept if "m1" in r),
        key=lambda r: (sign * r["m1"], -r["start"].timestamp(), r["id"]),
    )
    without = sorted(
        (r for r in kept if "m1" not in r), key=lambda r: (-r["start"].timestamp(), r["id"])
    )
    return [r["id"] for r in with_metric + without]


def _paged(do: UseCases, experiment: str, query: dict[str, Any], size: int) -> list[str]:
    ids: list[str] = []
    for page in range(100):  # more pages than runs: the pages never end
        found, more = do.read(
            tracking.search_runs, [experiment], limit=size, offset=page * size, **query
        )
        ids += [r.id for r in found]
        if not more:
            return ids
    raise AssertionError(f"pages never end; {len(ids)} runs so far")


@pytest.mark.parametrize("descending", [True, False])
def test_metric_order_pages_match_brute_force(do: UseCases, project: str, descending: bool) -> None:
    rng = random.Random(7 if descending else 11)
    experiment, runs = _runs(do, project, rng, 40)
    direction = "DESC" if descending else "ASC"
    for threshold in (-1.0, 4.0):
        expected = _expected(runs, descending, threshold)
        query = {
            "filter_string": f"metrics.m0 > {threshold}",
            "order_by": [f"metrics.m1 {direction}"],
        }
        for size in (1, 3, 7, 100):
            assert _paged(do, experiment, query, size) == expected, (threshold, size)


def test_page_details_read_in_chunks_keep_every_run_whole(
    do: UseCases, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's params, tags and latest metrics are read in IN-lists of bounded size; a
    page spanning several of them still carries each run's own values."""
    monkeypatch.setattr(tracking, "_DETAIL_CHUNK", 7)
    experiment, runs = _runs(do, project, random.Random(3), 30)
    for run in runs:
        do(tracking.log_params, run["id"], {"seed": run["id"]})
        do(tracking.set_tags, run["id"], {"t": run["id"]})
    found, more = do.read(tracking.search_runs, [experiment])
    assert len(found) == len(runs) and not more
    page, _more = do.read(tracking.search_page, [experiment])
    assert len(page.fields) == len(runs)
    logged = {r["id"]: r for r in runs}
    for run in found:
        metrics = {k: m.value for k, m in run.metrics.items()}
        assert metrics == {k: logged[run.id][k] for k in ("m0", "m1") if k in logged[run.id]}
        assert run.params == {"seed": run.id}
        assert run.tags == {"t": run.id}
        assert page.params[run.id] == {"seed": run.id} and page.tags[run.id] == {"t": run.id}
