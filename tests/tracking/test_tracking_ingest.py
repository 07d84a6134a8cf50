"""Metric ingest: points are written with multi-row statements of 100 rows plus the
remainder. Whatever the batch size, history and the latest-value summary must hold
exactly what was sent (on SQLite and PostgreSQL). The MLflow door's ``log-batch`` over
HTTP is in tests/mlflow/test_mlflow_rest.py."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.exc import IntegrityError

from loopwise.tracking import ingest
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import RunCreate
from loopwise.web.state import AppState
from use_cases import UseCases

pytestmark = pytest.mark.store


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("size", [1, 99, 100, 257])
def test_batches_of_any_size_store_every_point(do: UseCases, project: str, size: int) -> None:
    run_id = do(tracking.create_run, project, RunCreate()).id
    specials = [math.nan, math.inf, -math.inf, math.nan, -math.inf, -0.5, 1e300]
    sent = [
        (
            ("loss", "val/auc")[i % 2],
            i // 2,
            1_700_000_000_000 + i,
            specials[i % 9] if i % 9 < len(specials) else i / 3,
        )
        for i in range(size)
    ]
    assert do(tracking.log_tuples, run_id, sent) == size

    latest = do.read(tracking.get_run, run_id).metrics
    for key in ("loss", "val/auc"):
        mine = [p for p in sent if p[0] == key]
        if not mine:
            assert key not in latest
            continue
        stored = do.read(tracking.metric_history, run_id, key)
        assert [(p.step, p.timestamp) for p in stored] == [(s, t) for _k, s, t, _v in mine]
        assert all(same(p.value, v) for p, (_k, _s, _t, v) in zip(stored, mine, strict=True))
        last = mine[-1]  # highest step, then timestamp
        assert (latest[key].step, latest[key].timestamp) == (last[1], last[2])
        assert same(latest[key].value, last[3])


def test_driver_errors_are_sqlalchemy_errors(state: AppState) -> None:
    """A driver-level statement that the database refuses raises SQLAlchemy's exception
    class (here a foreign-key violation: no such run), and the transaction rolls back."""
    rows = ingest.points("run_missing", 1, [("k", i, 1, float(i)) for i in range(150)])
    with pytest.raises(IntegrityError), state.db.session(write=True) as session:
        ingest.insert_points(session, rows)
