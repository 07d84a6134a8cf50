"""Durability: what SQLite's ``synchronous=FULL`` costs against ``NORMAL`` on ingest.

    .venv/bin/python bench/durability_bench.py              # 2,000 calls, 40 batches
    .venv/bin/python bench/durability_bench.py --calls 500 --rounds 3

Under WAL, ``NORMAL`` syncs the log only at checkpoints: a committed write survives the
process being killed (kill -9), but a power cut or an OS crash can take back the last
commits. ``FULL`` syncs the log at every commit, so an acknowledged write survives those
too. Measured for each mode, modes taking turns round by round on fresh databases:

- Loopwise's server (``loopwise serve`` with ``LOOPWISE_SQLITE_SYNCHRONOUS``) through the
  unmodified mlflow client: per-call ``log_metric`` (one small transaction each: where a
  sync per commit shows) and 1,000-point ``log_batch``;
- the peer, raw SQLite from Python's ``sqlite3`` with the same pragmas: one-row commits
  and 1,000-row ``executemany`` commits.

Prints each figure, FULL / NORMAL for each, and Loopwise against raw SQLite in the same
mode. Not a test: read the numbers. Everything stays under bench/.work/durability.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from mlflow_bench import PY, Server, _client, _new_run

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "durability"
MODES = ("NORMAL", "FULL")
PORT = {"NORMAL": 5411, "FULL": 5412}


def loopwise(mode: str, home: Path) -> Server:
    os.environ["LOOPWISE_SQLITE_SYNCHRONOUS"] = mode  # the child inherits it
    try:
        server = Server(
            f"loopwise {mode}",
            PORT[mode],
            [
                str(PY),
                "-m",
                "loopwise.cli",
                "--home",
                str(home),
                "serve",
                "--port",
                str(PORT[mode]),
            ],
            home,
        )
        server.start()
    finally:
        os.environ.pop("LOOPWISE_SQLITE_SYNCHRONOUS", None)
    return server


def server_single(url: str, calls: int) -> float:
    c = _client(url)
    run = _new_run(url, "single")
    t = time.perf_counter()
    for i in range(calls):
        c.log_metric(run, "acc", float(i), step=i)
    return calls / (time.perf_counter() - t)


def server_batches(url: str, batches: int) -> float:
    from mlflow.entities import Metric

    c = _client(url)
    run = _new_run(url, "batch")
    t = time.perf_counter()
    for b in range(batches):
        c.log_batch(
            run,
            metrics=[
                Metric("loss", float(i), 1_700_000_000_000 + i, i)
                for i in range(b * 1000, b * 1000 + 1000)
            ],
        )
    return batches * 1000 / (time.perf_counter() - t)


def raw(mode: str, folder: Path, calls: int, batches: int) -> tuple[float, float]:
    path = folder / f"raw-{mode}.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={mode}")
    con.execute(
        "CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_id TEXT, key TEXT, "
        "step INTEGER, timestamp INTEGER, value REAL)"
    )
    insert = "INSERT INTO metrics (run_id, key, step, timestamp, value) VALUES (?,?,?,?,?)"
    t = time.perf_counter()
    for i in range(calls):
        con.execute("BEGIN IMMEDIATE")
        con.execute(insert, ("r", "acc", i, 0, float(i)))
        con.execute("COMMIT")
    single = calls / (time.perf_counter() - t)
    t = time.perf_counter()
    for b in range(batches):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            insert, [("r", "loss", i, 0, float(i)) for i in range(b * 1000, b * 1000 + 1000)]
        )
        con.execute("COMMIT")
    batch = batches * 1000 / (time.perf_counter() - t)
    con.close()
    return single, batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="log_metric calls per round")
    parser.add_argument("--batches", type=int, default=40, help="1,000-point batches per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    found: dict[str, dict[str, list[float]]] = {m: {} for m in MODES}
    for r in range(args.rounds):
        for mode in MODES if r % 2 == 0 else reversed(MODES):
            home = WORK / f"{mode}-{r}"
            server = loopwise(mode, home)
            try:
                figures = {
                    "server log_metric calls/s": server_single(server.url, args.calls),
                    "server log_batch pts/s": server_batches(server.url, args.batches),
                }
            finally:
                server.stop()
            single, batch = raw(mode, home, args.calls, args.batches)
            figures["raw sqlite one-row commits/s"] = single
            figures["raw sqlite 1,000-row commits pts/s"] = batch
            for name, value in figures.items():
                found[mode].setdefault(name, []).append(value)
            print(
                f"round {r + 1} {mode}: " + ", ".join(f"{k} {v:,.0f}" for k, v in figures.items()),
                file=sys.stderr,
            )
    print(f"\nmedians of {args.rounds} rounds ({args.calls} calls, {args.batches} batches each)")
    print(f"{'':38} {'NORMAL':>12} {'FULL':>12} {'FULL/NORMAL':>12}")
    med = {m: {k: statistics.median(v) for k, v in found[m].items()} for m in MODES}
    for name in med["NORMAL"]:
        n, f = med["NORMAL"][name], med["FULL"][name]
        print(f"{name:38} {n:12,.0f} {f:12,.0f} {f / n:12.2f}")
    for mode in MODES:
        m = med[mode]
        print(
            f"{mode}: Loopwise log_metric {m['server log_metric calls/s'] / m['raw sqlite one-row commits/s']:.1%} "
            f"of raw one-row commits; log_batch {m['server log_batch pts/s'] / m['raw sqlite 1,000-row commits pts/s']:.1%} "
            "of raw 1,000-row commits"
        )


if __name__ == "__main__":
    main()
