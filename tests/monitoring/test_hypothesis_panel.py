"""A hypothesis's page counts the retraining its evidence led to: the model versions built
from its runs, and the items their monitors' alerts filed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitoring_support import KEY, START, frame, write_batch
from starlette.testclient import TestClient

from loopwise.monitoring import ingest, jobs, service
from loopwise.monitoring.models import Monitor
from loopwise.monitoring.schemas import MonitorCreate
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.registry import service as registry
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from loopwise.web.state import AppState

HOUR = timedelta(hours=1)


def test_the_hypothesis_page_counts_the_retraining_its_runs_led_to(
    state: AppState,
    write,
    monitor: Monitor,
    api: TestClient,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    with write() as ctx:
        h = hypotheses.create_hypothesis(
            ctx,
            KEY,
            HypothesisCreate(title="x1 helps", statement="s", metric_key="auc", threshold=0.7),
        )
        other = hypotheses.create_hypothesis(
            ctx,
            KEY,
            HypothesisCreate(title="other", statement="s", metric_key="auc", threshold=0.7),
        )
        run = tracking.create_run(ctx, KEY, RunCreate(hypotheses=[h.item.key]))
        tracking.log_metrics(ctx, run.id, [MetricIn(key="auc", value=0.8)])
        tracking.finish_run(ctx, run.id, RunFinish())
        registry.create_model(ctx, KEY, "churn")
        registry.create_version(ctx, "churn", run_id=run.id)
        service.create_monitor(
            ctx,
            KEY,
            MonitorCreate(
                name="served",
                reference_version_id=monitor.reference_version_id,
                window="hour",
                model="churn",
                model_version=1,
            ),
        )
    page = api.get(f"/hypotheses/{h.item.key}")
    assert page.status_code == 200 and "churn v1" in page.text
    assert "No monitor of these versions has filed a retraining item." in page.text

    # the served model drifts: its monitor files one retraining item
    for name, shape in (("w0.csv", {"seed": 10}), ("w1.csv", {"seed": 11, "shift": 2.0})):
        start = START if name == "w0.csv" else START + HOUR
        with write() as ctx:
            batch = write_batch(frame(360, ids=name[:2], start=start, **shape), tmp_path / name)  # type: ignore[arg-type]
            ingest.log_batch(ctx, KEY, "served", batch)
    jobs.run_pending(state)
    with write() as ctx:
        versions, alerts = service.retraining_of_runs(ctx, KEY, [run.id])
        served = [a for a in service.list_alerts(ctx, KEY) if a.monitor == "served"]
    assert [v.version for v in versions] == [1]
    assert alerts and {a.id for a in alerts} == {a.id for a in served if a.item_key}
    (item_key,) = {a.item_key for a in alerts}
    page = api.get(f"/hypotheses/{h.item.key}")
    assert f'href="/items/{item_key}"' in page.text
    count = page.text.split('id="retraining-count"', 1)[1].split("</p>", 1)[0]
    assert "<strong>1</strong>" in count
    # a hypothesis whose runs built nothing shows no such section
    assert 'id="production"' not in api.get(f"/hypotheses/{other.item.key}").text
