"""Routes tools expect of an MLflow server: /health and /version, the sampled histories
MLflow 3's UI charts from, and experiment search with MLflow's filters and order."""

from __future__ import annotations

import sqlite3

import pytest
from starlette.testclient import TestClient

import mlflow
from loopwise.mlflow_compat.server_api import MLFLOW_VERSION
from loopwise.tracking.series import sample_indices
from mlflow import MlflowClient

pytestmark = [pytest.mark.sqlite_only, pytest.mark.filterwarnings("ignore")]

API = "/api/2.0/mlflow"
BULK = f"{API}/metrics/get-history-bulk-interval"


def test_health_and_version_answer_as_mlflow_does(api: TestClient) -> None:
    health = api.get("/health")
    assert (health.status_code, health.text) == (200, "OK")
    assert health.headers["content-type"].startswith("text/plain")
    version = api.get("/version")
    assert (version.status_code, version.text) == (200, MLFLOW_VERSION)
    assert mlflow.__version__ == MLFLOW_VERSION  # the client the suite tests with


@pytest.mark.parametrize(("total", "wanted"), [(0, 5), (3, 5), (5, 5), (6, 5), (17, 4), (1000, 7)])
def test_sampling_keeps_the_first_of_each_ntile_bucket_and_the_last_point(
    total: int, wanted: int
) -> None:
    """Cross-checked against SQLite's own NTILE window function (what MLflow's server uses)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (i INTEGER)")
    db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(total)])
    firsts = [
        i
        for (i,) in db.execute(
            "SELECT MIN(i) FROM (SELECT i, NTILE(?) OVER (ORDER BY i) AS b FROM t) "
            "GROUP BY b ORDER BY 1",
            (wanted,),
        )
    ]
    if firsts and firsts[-1] != total - 1:
        firsts[-1 if len(firsts) >= wanted else len(firsts) :] = [total - 1]
    assert sample_indices(total, wanted) == firsts


def _runs_with_history(api: TestClient) -> tuple[str, str]:
    exp = api.post(f"{API}/experiments/create", json={"name": "charts"}).json()["experiment_id"]
    ids = []
    for points in (10, 3):
        run = api.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]
        metrics = [
            {"key": "loss", "value": 1 / (s + 1), "timestamp": 1000 + s, "step": s}
            for s in range(points)
        ]
        body = {"run_id": run["info"]["run_id"], "metrics": metrics}
        assert api.post(f"{API}/runs/log-batch", json=body).status_code == 200
        ids.append(run["info"]["run_id"])
    return ids[0], ids[1]


def test_bulk_interval_samples_each_run(api: TestClient) -> None:
    long, short = _runs_with_history(api)
    params = {"run_ids": [long, short], "metric_key": "loss", "max_results": 4}
    got = api.get(BULK, params=params).json()["metrics"]
    by_run = {r: [m["step"] for m in got if m["run_id"] == r] for r in (long, short)}
    assert by_run == {long: [0, 3, 6, 9], short: [0, 1, 2]}
    first = next(m for m in got if m["run_id"] == long)
    assert first == {"key": "loss", "value": 1.0, "timestamp": 1000, "step": 0, "run_id": long}
    ranged = {**params, "start_step": 2, "end_step": 5}
    steps = [(m["run_id"], m["step"]) for m in api.get(BULK, params=ranged).json()["metrics"]]
    assert steps == [(long, 2), (long, 3), (long, 4), (long, 5), (short, 2)]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"metric_key": "loss"}, "Missing value for required parameter 'run_ids'"),
        ({"run_ids": ["a"] * 101, "metric_key": "loss"}, "at most 100 run_ids"),
        ({"run_ids": "a", "metric_key": "loss", "max_results": 2501}, "between 1 and 2500"),
        ({"run_ids": "a", "metric_key": "loss", "start_step": 1}, "both must be specified"),
        ({"run_ids": "a", "metric_key": "loss", "start_step": 5, "end_step": 1}, "greater"),
    ],
)
def test_bulk_interval_refuses_what_mlflow_refuses(
    api: TestClient, params: dict[str, object], says: str
) -> None:
    response = api.get(BULK, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in response.json()["message"]


def test_bulk_interval_of_an_unknown_run_is_404(api: TestClient) -> None:
    response = api.get(BULK, params={"run_ids": "f" * 32, "metric_key": "loss"})
    assert (response.status_code, response.json()["error_code"]) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_search_experiments_with_filters_and_order(tracking_uri: str) -> None:
    client = MlflowClient()
    made = {
        name: client.create_experiment(name, tags={"team": team})
        for name, team in [("alpha", "risk"), ("Beta", "risk"), ("gamma", "growth")]
    }

    def names(**kwargs: object) -> list[str]:
        return [e.name for e in client.search_experiments(**kwargs)]  # type: ignore[arg-type]

    # the store's Default experiment matches too, as on MLflow's server
    assert names(filter_string="name LIKE '%a%'", order_by=["name ASC"]) == [
        "Beta",
        "Default",
        "alpha",
        "gamma",
    ]
    assert names(filter_string="name ILIKE 'b%'") == ["Beta"]
    assert names(filter_string="name LIKE 'b%'") == []
    assert names(filter_string="tags.team = 'risk'", order_by=["name DESC"]) == ["alpha", "Beta"]
    assert names(filter_string="tags.team = 'risk' AND name != 'alpha'") == ["Beta"]
    assert names(filter_string="tags.missing IS NULL AND name = 'gamma'") == ["gamma"]
    # the frozen clock gives every experiment one creation_time: experiment_id breaks ties
    ids = f"('{made['gamma']}', '{made['alpha']}')"
    assert names(filter_string=f"experiment_id IN {ids}") == ["alpha", "gamma"]
    assert names(order_by=["experiment_id DESC"], max_results=2) == ["gamma", "Beta"]
    assert "alpha" in names(filter_string="creation_time > 0")
    client.delete_experiment(made["Beta"])
    assert "Beta" not in names()
    assert "Beta" in names(view_type=mlflow.entities.ViewType.DELETED_ONLY)
    paged = client.search_experiments(max_results=1, order_by=["name ASC"])
    assert len(paged) == 1 and paged.token
    with pytest.raises(mlflow.exceptions.MlflowException, match="Invalid attribute key"):
        client.search_experiments(filter_string="colour = 'red'")
    with pytest.raises(mlflow.exceptions.MlflowException, match="Invalid order_by"):
        client.search_experiments(order_by=["colour"])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name", "Invalid comparator"),
        ("name = ", "Missing value"),
        ("name > 'a'", "Invalid comparator for string attribute"),
        ("creation_time LIKE '1'", "Invalid comparator for numeric attribute"),
        ("creation_time > 1.5", "Invalid value for numeric attribute"),
        ("tags.team = 5", "a quoted string expected"),
        ("experiment_id > '1'", "Invalid comparator for experiment_id"),
        ("name = 'a' OR name = 'b'", "Invalid clause"),
        ("run.name = 'x'", "Invalid entity type 'run'"),
        ("name = 'a' AND", "Invalid filter string"),
        ("name = 'a' ; drop", "Invalid clause"),
    ],
)
def test_a_bad_experiment_filter_is_400(api: TestClient, text: str, says: str) -> None:
    response = api.post(f"{API}/experiments/search", json={"filter": text})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in response.json()["message"]
