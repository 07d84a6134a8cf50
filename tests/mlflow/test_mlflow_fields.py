"""The unmodified MLflow client and Loopwise's own run fields: the hypothesis tag never
stops a run, MLflow's system tags map onto git_commit, the run name and its author, and
log_input shows as datasets on the run page."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from starlette.testclient import TestClient

import mlflow
from loopwise import Client
from loopwise.core.clock import FrozenClock
from mlflow import MlflowClient

pytestmark = [pytest.mark.sqlite_only, pytest.mark.filterwarnings("ignore")]

LINK = "loopwise.hypothesis.link"
COMMIT = "3f2a9c1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b"


def test_a_typo_in_the_hypothesis_tag_never_stops_training(
    tracking_uri: str, api: TestClient, clock: FrozenClock
) -> None:
    clock.current = datetime.now(UTC)  # the MLflow client stamps runs with the real time
    sdk = Client(tracking_uri)
    sdk.create_project("CHURN", "Churn")
    mlflow.set_experiment("CHURN/gb")
    with mlflow.start_run(tags={"loopwise.hypothesis": "CHURN-999"}) as typo:
        mlflow.log_metric("recall", 0.7)
    with mlflow.start_run(tags={"loopwise.hypothesis": "CHURN-1"}) as early:
        mlflow.log_metric("recall", 0.9)
    client = MlflowClient()
    got = client.get_run(typo.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.tags["loopwise.hypothesis"] == "CHURN-999"
    assert got.data.tags[LINK] == "unlinked: no such hypothesis CHURN-999"
    page = api.get(f"/runs/run_{typo.info.run_id}")
    assert "unlinked: no such hypothesis CHURN-999" in page.text

    h = sdk.create_hypothesis("CHURN", "GB wins", statement="s", metric="recall", threshold=0.8)
    assert h.item.key == "CHURN-1"
    assert [e.run_id for e in h.evidence] == [f"run_{early.info.run_id}"]
    assert client.get_run(early.info.run_id).data.tags[LINK] == "linked: CHURN-1"
    assert 'href="/hypotheses/CHURN-1"' in api.get(f"/runs/run_{early.info.run_id}").text
    sdk.close()


def test_mlflow_system_tags_are_loopwise_fields_both_ways(
    tracking_uri: str, api: TestClient
) -> None:
    sdk = Client(tracking_uri)
    sdk.create_project("CHURN", "Churn")
    sdk.create_user("ada")
    sdk.set_member("CHURN", "ada", "contributor")
    sdk.create_user("outsider")
    mlflow.set_experiment("CHURN/gb")
    client = MlflowClient()

    tags = {"mlflow.source.git.commit": COMMIT, "mlflow.user": "ada"}
    with mlflow.start_run(run_name="first", tags=tags) as run:
        rid = run.info.run_id
        assert sdk.get_run(f"run_{rid}").git_commit == COMMIT
        mlflow.set_tag("mlflow.source.git.commit", "not a commit")  # kept as a tag only
        assert sdk.get_run(f"run_{rid}").git_commit == COMMIT
        mlflow.set_tag("mlflow.runName", "renamed")
        assert sdk.get_run(f"run_{rid}").name == "renamed"
    assert client.get_run(rid).info.run_name == "renamed"
    client.update_run(rid, name="again")
    assert client.get_run(rid).data.tags["mlflow.runName"] == "again"
    assert sdk.get_run(f"run_{rid}").name == "again"
    page = api.get(f"/runs/run_{rid}").text
    assert "<span>Author</span>ada</div>" in page and COMMIT[:12] in page

    with mlflow.start_run(tags={"mlflow.user": "outsider"}) as other:
        pass  # not a member of CHURN: the run stays the caller's
    assert "<span>Author</span>local</div>" in api.get(f"/runs/run_{other.info.run_id}").text

    native = sdk.create_run("CHURN", experiment="gb", name="native", git_commit=COMMIT[:10])
    seen = client.get_run(native.id.removeprefix("run_")).data.tags
    assert seen["mlflow.source.git.commit"] == COMMIT[:10]
    assert seen["mlflow.runName"] == "native"
    found = client.search_runs([mlflow.get_experiment_by_name("CHURN/gb").experiment_id])
    assert {r.data.tags["mlflow.runName"] for r in found} == {
        "again",
        native.name,
        other.info.run_name,
    }
    sdk.close()


def test_log_input_shows_as_a_dataset_on_the_run_page(tracking_uri: str, api: TestClient) -> None:
    mlflow.set_experiment("inputs")
    frame = pd.DataFrame({"age": [31, 45], "churned": [0, 1]})
    with mlflow.start_run() as run:
        mlflow.log_input(mlflow.data.from_pandas(frame, name="customers"), context="training")
    page = api.get(f"/runs/run_{run.info.run_id}").text
    assert 'id="run-datasets"' in page
    section = page.split('id="run-datasets"')[1].split("</table>")[0]
    assert "customers v1" in section and "<td>train</td>" in section
