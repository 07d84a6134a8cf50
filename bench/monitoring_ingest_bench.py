"""Peak memory and time of logging one large batch to a monitor (SQLite, in process).

    .venv/bin/python bench/monitoring_ingest_bench.py 1000000

Writes a Parquet file of N rows in chunks (so the file, not this script, is large), then
logs it through ``monitoring.ingest.log_batch`` and reports rows/s and the process's peak
resident memory before and after. Run it with two sizes: the peak should not grow with N.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from loopwise.app import build_state
from loopwise.core.clock import FrozenClock
from loopwise.core.settings import Settings
from loopwise.data import service as data
from loopwise.db.engine import Database
from loopwise.db.migrate import ensure_current
from loopwise.monitoring import ingest, jobs, service
from loopwise.monitoring.schemas import MonitorCreate
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate

CHUNK = 200_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def chunk(rng: np.random.Generator, offset: int, rows: int, seconds: float) -> pa.Table:
    x1 = rng.normal(0, 1, rows)
    score = 1 / (1 + np.exp(-x1))
    at = np.datetime64(START.replace(tzinfo=None), "us") + (
        (offset + np.arange(rows)) * seconds * 1e6
    ).astype("timedelta64[us]")
    return pa.table(
        {
            "prediction_id": [f"p{offset + i}" for i in range(rows)],
            "timestamp": pa.array(at, pa.timestamp("us", tz="UTC")),
            "x1": x1,
            "x2": rng.normal(5, 2, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "score": score,
            "latency_ms": rng.gamma(2.0, 20.0, rows),
        }
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(rows: int) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(home=folder, database_url=f"sqlite:///{folder / 'bench.db'}")
        db = Database(settings.resolved_database_url)
        ensure_current(db.engine)
        clock = FrozenClock(datetime(2026, 3, 1, tzinfo=UTC))
        state = build_state(settings, db, clock)
        reference = folder / "reference.parquet"
        pq.write_table(chunk(rng, 0, 10_000, 1.0).drop(["prediction_id", "timestamp"]), reference)
        seconds = timedelta(days=28).total_seconds() / rows  # four weeks of data
        batch = folder / "batch.parquet"
        with pq.ParquetWriter(batch, chunk(rng, 0, 1, 1.0).schema) as writer:
            for at in range(0, rows, CHUNK):
                writer.write_table(chunk(rng, at, min(CHUNK, rows - at), seconds))
        with state.context(state.ensure_local_actor(), write=True) as ctx:
            projects.create_project(ctx, ProjectCreate(key="BENCH", name="Bench"))
            version = data.register_path(ctx, "BENCH", "ref", reference).version.id
            service.create_monitor(
                ctx, "BENCH", MonitorCreate(name="m", reference_version_id=version, window="day")
            )
        before = peak_mb()
        started = time.perf_counter()
        with state.context(state.ensure_local_actor(), write=True) as ctx:
            logged = ingest.log_batch(ctx, "BENCH", "m", batch)
        took = time.perf_counter() - started
        after = peak_mb()
        started = time.perf_counter()
        checked = jobs.run_pending(state)
        check_took = time.perf_counter() - started
        print(
            f"{rows:,} rows ({batch.stat().st_size / 2**20:.0f} MiB Parquet): logged in "
            f"{took:.1f} s ({rows / took:,.0f} rows/s), {logged.windows} windows; "
            f"peak RSS {before:.0f} MiB before, {after:.0f} MiB after logging; "
            f"{len(checked)} windows checked in {check_took:.1f} s (peak {peak_mb():.0f} MiB)"
        )
        db.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
