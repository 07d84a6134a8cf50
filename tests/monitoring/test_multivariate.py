"""The multivariate check: a window whose joint distribution changed while every marginal
stayed the same (the correlation of two features flipped) breaches multivariate_drift and
not data_drift; the same distribution breaches neither; a window sent only as a profile
has no sample and is not judged. Samples are kept per batch and window, bounded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from monitoring_support import KEY, START
from sqlalchemy import select

from loopwise.core.errors import InvalidInput
from loopwise.data import service as data
from loopwise.monitoring import arrays, ingest, jobs, service
from loopwise.monitoring.models import AlertState, CheckKind, Status
from loopwise.monitoring.schemas import CheckIn, MonitorCreate, ProfileBatchIn
from loopwise.monitoring.tables import BatchProfileRow, MonitorRow
from loopwise.numeric import sample, sketch
from loopwise.planning.items import service as items
from loopwise.planning.items.models import ItemKind
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.web.state import AppState

HOUR = timedelta(hours=1)


def _rows(n: int, *, seed: int, rho: float, start=START) -> pd.DataFrame:  # noqa: ANN001
    """x1, x2 standard normal with correlation rho; plan independent of both."""
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=(2, n))
    out = pd.DataFrame(
        {
            "x1": z1,
            "x2": rho * z1 + np.sqrt(1 - rho**2) * z2,
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    every = HOUR / n
    out["timestamp"] = [(start + i * every).isoformat() for i in range(n)]
    return out


@pytest.fixture
def churn(write, tmp_path: Path) -> str:  # noqa: ANN001
    path = tmp_path / "reference.parquet"
    _rows(3000, seed=1, rho=0.8).drop(columns=["timestamp"]).to_parquet(path, index=False)
    with write() as ctx:
        projects.create_project(ctx, ProjectCreate(key=KEY, name="Monitoring"))
        version = data.register_path(ctx, KEY, "reference", path).version.id
        service.create_monitor(
            ctx,
            KEY,
            MonitorCreate(
                name="churn",
                reference_version_id=version,
                window="hour",
                checks=[CheckIn(kind="data_drift"), CheckIn(kind="multivariate_drift")],
            ),
        )
    return version


def test_a_flipped_correlation_breaches_multivariate_drift_not_data_drift(
    state: AppState,
    write,
    churn: str,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    same = _rows(1500, seed=2, rho=0.8)
    flipped = _rows(1500, seed=3, rho=-0.8, start=START + HOUR)
    # the flipped hour comes in two batches: their samples merge in the window
    ingest_paths = []
    for name, part in (("a", same), ("b", flipped[:700]), ("c", flipped[700:])):
        path = tmp_path / f"{name}.parquet"
        part.to_parquet(path, index=False)
        ingest_paths.append(path)
    with write() as ctx:
        for path in ingest_paths:
            ingest.log_batch(ctx, KEY, "churn", path)
        stored = ctx.session.scalars(select(BatchProfileRow.sample)).all()
        assert len(stored) == 3 and all(s is not None for s in stored)
        assert all(len(s["columns"]["x1"]["values"]) <= sample.SAMPLE_ROWS for s in stored)
    jobs.run_pending(state)
    with write() as ctx:
        first, second = service.results(ctx, KEY, "churn")
        checks = [{c.kind: c for c in r.checks} for r in (first, second)]
        # the same distribution: neither check breaches
        assert checks[0][CheckKind.DATA_DRIFT].status is Status.OK
        assert checks[0][CheckKind.MULTIVARIATE_DRIFT].status is Status.OK
        # every marginal unchanged, the joint flipped: only the classifier sees it
        assert checks[1][CheckKind.DATA_DRIFT].status is Status.OK
        assert second.drifted_columns == 0
        multi = checks[1][CheckKind.MULTIVARIATE_DRIFT]
        assert multi.status is Status.BREACHED and multi.threshold == pytest.approx(0.55)
        assert multi.value is not None and multi.value > 0.7
        assert checks[0][CheckKind.MULTIVARIATE_DRIFT].value < 0.55  # type: ignore[operator]
        # an alert and a retraining item, as for any check
        (alert,) = service.list_alerts(ctx, KEY, state=AlertState.OPEN)
        assert alert.check is CheckKind.MULTIVARIATE_DRIFT and alert.item_key
        (item,) = items.list_items(ctx, KEY, kind=ItemKind.RETRAINING)
        assert item.key == alert.item_key


def test_a_window_sent_as_a_profile_has_no_sample(
    state: AppState,
    write,
    churn: str,  # noqa: ANN001
) -> None:
    with write() as ctx:
        monitor = service.get_monitor(ctx, KEY, "churn")
        table = pa.Table.from_pandas(_rows(500, seed=4, rho=-0.8).drop(columns=["timestamp"]))
        profile = sketch.profile_to_dict(arrays.profile_of(table.to_batches(), monitor.columns))
        ingest.log_profile(ctx, KEY, "churn", ProfileBatchIn(profile=profile, at=START))
    jobs.run_pending(state)
    with write() as ctx:
        (result,) = service.results(ctx, KEY, "churn")
        multi = next(c for c in result.checks if c.kind is CheckKind.MULTIVARIATE_DRIFT)
        assert multi.status is Status.UNKNOWN and "no sample" in multi.detail
        assert not service.list_alerts(ctx, KEY)


def test_a_monitor_created_before_samples_were_kept_says_so(
    state: AppState,
    write,
    churn: str,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    path = tmp_path / "b.parquet"
    _rows(500, seed=5, rho=0.8).to_parquet(path, index=False)
    with write() as ctx:
        row = ctx.session.scalars(select(MonitorRow)).one()
        row.reference_sample = None  # as the migration leaves a monitor made before it
        ingest.log_batch(ctx, KEY, "churn", path)
    jobs.run_pending(state)
    with write() as ctx:
        (result,) = service.results(ctx, KEY, "churn")
        multi = next(c for c in result.checks if c.kind is CheckKind.MULTIVARIATE_DRIFT)
        assert multi.status is Status.UNKNOWN and "no sample of the reference" in multi.detail


def test_the_threshold_is_an_auc_and_the_check_is_not_a_default(write, churn: str) -> None:  # noqa: ANN001
    with write() as ctx:
        with pytest.raises(InvalidInput, match="ROC AUC"):
            service.create_monitor(
                ctx,
                KEY,
                MonitorCreate(
                    name="bad",
                    reference_version_id=churn,
                    checks=[CheckIn(kind="multivariate_drift", threshold=0.4)],
                ),
            )
        plain = service.create_monitor(
            ctx, KEY, MonitorCreate(name="plain", reference_version_id=churn)
        )
        assert CheckKind.MULTIVARIATE_DRIFT not in {c.kind for c in plain.checks}
        row = ctx.session.scalars(select(MonitorRow).where(MonitorRow.name == "plain")).one()
        reference = sample.sample_from_dict(row.reference_sample)  # type: ignore[arg-type]
        assert reference.rows == 3000 and reference.size == sample.SAMPLE_ROWS
        assert set(reference.columns) == {"x1", "x2", "plan"}
