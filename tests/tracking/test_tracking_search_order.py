"""Search ordered by a metric, page after page, against a brute-force sort.

Ordering by a metric reads the runs that logged it in the summary index's order and the
runs without it afterwards (two queries). Whatever the page size, following the page
tokens must give exactly the order MLflow defines: runs with the metric by its latest
value, ties by start time (newest first) then id; runs without it last, by start time
then id.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from starlette.testclient import TestClient

pytestmark = pytest.mark.store

API = "/api/2.0/mlflow"


def _runs(api: TestClient, rng: random.Random, count: int) -> tuple[str, list[dict[str, Any]]]:
    exp = api.post(f"{API}/experiments/create", json={"name": "order"}).json()["experiment_id"]
    runs = []
    for _ in range(count):
        start = 1_700_000_000_000 + rng.choice([0, 1, 2]) * 1000  # many equal start times
        info = api.post(
            f"{API}/runs/create", json={"experiment_id": exp, "start_time": start}
        ).json()["run"]["info"]
        metrics = {}
        if rng.random() < 0.8:  # a fifth of the runs never log m1
            metrics["m1"] = float(rng.choice([0.1, 0.2, 0.3, 0.4]))  # many ties
        metrics["m0"] = float(rng.randint(0, 9))
        batch = [{"key": k, "value": v, "timestamp": start, "step": 0} for k, v in metrics.items()]
        assert (
            api.post(
                f"{API}/runs/log-batch", json={"run_id": info["run_id"], "metrics": batch}
            ).status_code
            == 200
        )
        runs.append({"id": info["run_id"], "start": start, **metrics})
    return exp, runs


def _expected(runs: list[dict[str, Any]], descending: bool, threshold: float) -> list[str]:
    kept = [r for r in runs if r["m0"] > threshold]
    sign = -1 if descending else 1
    with_metric = sorted(
        (r for r in kept if "m1" in r),
        key=lambda r: (sign * r["m1"], -r["start"], "run_" + r["id"]),
    )
    without = sorted(
        (r for r in kept if "m1" not in r), key=lambda r: (-r["start"], "run_" + r["id"])
    )
    return [r["id"] for r in with_metric + without]


def _paged(api: TestClient, exp: str, body: dict[str, Any], size: int) -> list[str]:
    ids: list[str] = []
    token = None
    for _ in range(100):  # more pages than runs: the tokens never end
        page = {"experiment_ids": [exp], "max_results": size, **body}
        if token:
            page["page_token"] = token
        data = api.post(f"{API}/runs/search", json=page).json()
        ids += [r["info"]["run_id"] for r in data.get("runs", [])]
        token = data.get("next_page_token")
        if not token:
            return ids
    raise AssertionError(f"page tokens never end; {len(ids)} runs so far")


@pytest.mark.parametrize("descending", [True, False])
def test_metric_order_pages_match_brute_force(api: TestClient, descending: bool) -> None:
    rng = random.Random(7 if descending else 11)
    exp, runs = _runs(api, rng, 40)
    direction = "DESC" if descending else "ASC"
    for threshold in (-1.0, 4.0):
        expected = _expected(runs, descending, threshold)
        body = {"filter": f"metrics.m0 > {threshold}", "order_by": [f"metrics.m1 {direction}"]}
        for size in (1, 3, 7, 100):
            assert _paged(api, exp, body, size) == expected, (threshold, size)


def test_page_details_read_in_chunks_keep_every_run_whole(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's params, tags and latest metrics are read in IN-lists of bounded size; a
    page spanning several of them still carries each run's own values."""
    from loopwise.tracking import service

    monkeypatch.setattr(service, "_DETAIL_CHUNK", 7)
    exp, runs = _runs(api, random.Random(3), 30)
    for run in runs:
        params = [{"key": "seed", "value": run["id"]}]
        body = {"run_id": run["id"], "params": params, "tags": [{"key": "t", "value": run["id"]}]}
        assert api.post(f"{API}/runs/log-batch", json=body).status_code == 200
    data = api.post(f"{API}/runs/search", json={"experiment_ids": [exp]}).json()
    assert len(data["runs"]) == len(runs)
    logged = {r["id"]: r for r in runs}
    for found in data["runs"]:
        rid = found["info"]["run_id"]
        metrics = {m["key"]: m["value"] for m in found["data"]["metrics"]}
        assert metrics == {k: logged[rid][k] for k in ("m0", "m1") if k in logged[rid]}
        assert found["data"]["params"] == [{"key": "seed", "value": rid}]
        assert {"key": "t", "value": rid} in found["data"]["tags"]
