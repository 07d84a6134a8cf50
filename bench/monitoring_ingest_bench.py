"""Peak memory and time of logging one large batch to a monitor (SQLite, in process).

    .venv/bin/python bench/monitoring_ingest_bench.py 1000000

Writes a Parquet file of N rows in chunks (so the file, not this script, is large), then
logs it through ``monitoring.ingest.log_batch`` and reports rows/s and, while logging:

- the Python heap's peak (``tracemalloc``: what Python objects and NumPy/Arrow buffers
  allocated through Python's allocator hold; Arrow's own pool is reported beside it);
- the peak of the process's resident memory, split as Linux counts it
  (``/proc/self/status``, sampled every 20 ms): ``RssAnon`` (heap, the allocators' arenas,
  SQLite's page cache) and ``RssFile`` (file pages mapped in: SQLite maps the database
  file, up to ``PRAGMA mmap_size``, 256 MiB, and its WAL index; shared libraries). File
  pages are the kernel's page cache seen through the map: clean, dropped under pressure.

Run it with two sizes: the Python heap and RssAnon should not grow with N.
``--no-tracemalloc`` measures time without its overhead (about 2x on allocation).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import threading
import time
import tracemalloc
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


def sqlite_highwater_mib() -> float:
    """SQLite's own allocations at their peak (the library Python's sqlite3 loaded)."""
    import _sqlite3
    import ctypes

    try:
        lib = ctypes.CDLL(_sqlite3.__file__)  # it links libsqlite3: the same globals
        lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        return float(lib.sqlite3_memory_highwater(0)) / 2**20
    except (OSError, AttributeError):
        return float("nan")


def db_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.glob("bench.db*")) / 2**20


def status_mib() -> dict[str, float]:
    """VmRSS, RssAnon, RssFile, RssShmem now (MiB), from /proc/self/status."""
    out: dict[str, float] = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(value.split()[0]) / 1024
    return out


class Sampler:
    """The peak of each /proc/self/status figure, sampled every 20 ms in a thread."""

    def __init__(self) -> None:
        self.peak: dict[str, float] = status_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for key, value in status_mib().items():
                self.peak[key] = max(self.peak.get(key, 0.0), value)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(rows: int, trace: bool = True) -> None:
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
        at_start = status_mib()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        with Sampler() as sampler, state.context(state.ensure_local_actor(), write=True) as ctx:
            logged = ingest.log_batch(ctx, "BENCH", "m", batch)
        took = time.perf_counter() - started
        heap = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
        tracemalloc.stop()
        arrow = pa.default_memory_pool().max_memory() / 2**20
        after = peak_mb()
        started = time.perf_counter()
        with Sampler() as checking:
            checked = jobs.run_pending(state)
        check_took = time.perf_counter() - started
        print(
            f"{rows:,} rows ({batch.stat().st_size / 2**20:.0f} MiB Parquet): logged in "
            f"{took:.1f} s ({rows / took:,.0f} rows/s), {logged.windows} windows; "
            f"peak RSS {before:.0f} MiB before, {after:.0f} MiB after logging; "
            f"{len(checked)} windows checked in {check_took:.1f} s (peak {peak_mb():.0f} MiB)"
        )
        p = sampler.peak
        print(
            f"  while logging: Python heap peak {heap:.0f} MiB (tracemalloc), Arrow pool peak "
            f"{arrow:.0f} MiB; RSS at start {at_start['VmRSS']:.0f} MiB "
            f"(anon {at_start['RssAnon']:.0f}, file {at_start['RssFile']:.0f}), peak "
            f"{p['VmRSS']:.0f} MiB: anon {p['RssAnon']:.0f}, file {p['RssFile']:.0f}, "
            f"shmem {p.get('RssShmem', 0):.0f}; SQLite's allocations peak "
            f"{sqlite_highwater_mib():.0f} MiB"
        )
        c = checking.peak
        print(
            f"  while checking: RSS peak {c['VmRSS']:.0f} MiB: anon {c['RssAnon']:.0f}, "
            f"file {c['RssFile']:.0f}; database {db_mib(folder):.0f} MiB"
        )
        db.dispose()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 1_000_000, trace="--no-tracemalloc" not in sys.argv)
