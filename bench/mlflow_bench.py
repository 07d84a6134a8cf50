"""Tracking benchmark: Loopwise vs MLflow's own server vs FastTrackML.

All three run on SQLite and loopback and are driven by the same ``mlflow`` client
(the project's test extra). FastTrackML's wheel pins mlflow<3, so only its server binary
is installed, into bench/.venvs/fasttrackml (``pip install --no-deps``).

    .venv/bin/python bench/mlflow_bench.py            # full run (tens of minutes)
    .venv/bin/python bench/mlflow_bench.py --quick    # small sizes, a few minutes
    .venv/bin/python bench/mlflow_bench.py --only loopwise,fasttrackml --runs 5000
    .venv/bin/python bench/mlflow_bench.py --runs 5000 --interleave 12   # then taking turns
    .venv/bin/python bench/mlflow_bench.py --interleave-only             # turns only, on .work/

Prints a table with each server's numbers and Loopwise's ratios, checks every point it
logged is there afterwards, and writes bench/results/mlflow_bench.json. Nothing leaves
this machine: servers bind 127.0.0.1 and write under bench/.work/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from loopwise.db.engine import SQLITE_READ_PRAGMAS

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
FML_VENV = HERE / ".venvs" / "fasttrackml"
PY = Path(sys.executable)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")


@dataclass
class Server:
    name: str
    port: int
    command: list[str]
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    startup_s: float = 0.0
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with socket.socket() as probe:  # a stale server there would answer in its place
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(f"port {self.port} is in use: stop what listens there")
        self.cwd.mkdir(parents=True, exist_ok=True)
        log = (self.cwd / "server.log").open("wb")
        began = time.perf_counter()
        self.proc = subprocess.Popen(
            self.command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = began + 180
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.cwd / 'server.log'}")
            try:
                r = httpx.get(
                    f"{self.url}/api/2.0/mlflow/experiments/get-by-name",
                    params={"experiment_name": "probe"},
                    timeout=2,
                )
                if r.status_code in (200, 404):
                    self.startup_s = time.perf_counter() - began
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in time")

    def rss_mib(self) -> float:
        """Resident memory of the server and its child processes."""
        if self.proc is None:
            return 0.0
        family = {self.proc.pid}
        changed = True
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    stats[int(entry.name)] = int(fields[1])
                except (OSError, IndexError, ValueError):
                    continue
        while changed:
            changed = False
            for pid, ppid in stats.items():
                if ppid in family and pid not in family:
                    family.add(pid)
                    changed = True
        total = 0
        for pid in family:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def ensure_fasttrackml() -> Path:
    binary = FML_VENV / "bin" / "fml"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(FML_VENV)], check=True)
        subprocess.run(
            [str(FML_VENV / "bin" / "pip"), "install", "-q", "--no-deps", "fasttrackml==0.6.0"],
            check=True,
        )
    return binary


def servers(only: set[str]) -> list[Server]:
    out = []
    if "loopwise" in only:
        home = WORK / "loopwise"
        out.append(
            Server(
                "loopwise",
                5401,
                [str(PY), "-m", "loopwise.cli", "--home", str(home), "serve", "--port", "5401"],
                home,
            )
        )
    if "mlflow" in only:
        home = WORK / "mlflow"
        out.append(
            Server(
                "mlflow",
                5402,
                [
                    str(PY.parent / "mlflow"),
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "5402",
                    "--backend-store-uri",
                    f"sqlite:///{home / 'mlflow.db'}",
                    "--default-artifact-root",
                    str(home / "artifacts"),
                ],
                home,
            )
        )
    if "fasttrackml" in only:
        home = WORK / "fasttrackml"
        out.append(
            Server(
                "fasttrackml",
                5403,
                [
                    str(ensure_fasttrackml()),
                    "server",
                    "--listen-address",
                    "127.0.0.1:5403",
                    "--database-uri",
                    f"sqlite://{home / 'fml.db'}",
                    "--default-artifact-root",
                    str(home / "artifacts"),
                ],
                home,
            )
        )
    return out


CLIENT_ALONE = "client alone"


def replay_server(search_body: bytes) -> Server:
    """The mlflow client's floor: replay_server.py answering from memory, search with
    ``search_body``."""
    home = WORK / "replay"
    home.mkdir(parents=True, exist_ok=True)
    (home / "search.json").write_bytes(search_body)
    os.environ["REPLAY_SEARCH"] = str(home / "search.json")  # the child inherits it
    return Server(
        CLIENT_ALONE,
        5404,
        [
            str(PY),
            "-m",
            "uvicorn",
            "replay_server:app",
            "--app-dir",
            str(HERE),
            "--port",
            "5404",
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        home,
    )


# --- workloads (each runs with the plain mlflow client) ---------------------------------


def _client(url: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=url)


def _new_run(url: str, experiment: str) -> str:
    c = _client(url)
    exp = c.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else c.create_experiment(experiment)
    return str(c.create_run(exp_id).info.run_id)


def _log_batches(url: str, run_id: str, points: int, key: str = "loss") -> float:
    from mlflow.entities import Metric

    c = _client(url)
    t = time.perf_counter()
    for start in range(0, points, 1000):
        batch = [
            Metric(key, float(i), 1_700_000_000_000 + i, i)
            for i in range(start, min(points, start + 1000))
        ]
        c.log_batch(run_id, metrics=batch)
    return time.perf_counter() - t


def _count(url: str, run_id: str, key: str) -> int:
    return len(_client(url).get_metric_history(run_id, key))


def workload_batch(s: Server, points: int) -> None:
    run = _new_run(s.url, "ingest")
    dt = _log_batches(s.url, run, points)
    s.results["log_batch_pts_s"] = points / dt
    s.results["log_batch_complete"] = _count(s.url, run, "loss") == points
    s.results["history_run"] = run


def workload_single(s: Server, points: int) -> None:
    c = _client(s.url)
    run = _new_run(s.url, "single")
    t = time.perf_counter()
    for i in range(points):
        c.log_metric(run, "acc", float(i), step=i)
    s.results["log_metric_pts_s"] = points / (time.perf_counter() - t)
    s.results["log_metric_complete"] = _count(s.url, run, "acc") == points
    if s.name == "loopwise":  # server time of one log-metric call (Server-Timing header)
        durations = []
        with httpx.Client() as http:
            for i in range(200):
                body = {"run_id": run, "key": "st", "value": 1.0, "timestamp": 0, "step": i}
                r = http.post(f"{s.url}/api/2.0/mlflow/runs/log-metric", json=body, timeout=60)
                durations.append(float(r.headers["server-timing"].split("dur=")[1]))
        s.results["server_ms_per_log_metric"] = statistics.median(durations)


def _writer(args: tuple[str, str, int]) -> tuple[str, float]:
    url, exp_id, points = args
    run = str(_client(url).create_run(exp_id).info.run_id)
    return run, _log_batches(url, run, points, key="w")


def workload_concurrent(s: Server, writers: int, points: int) -> None:
    exp_id = _client(s.url).create_experiment("concurrent")
    t = time.perf_counter()
    with ProcessPoolExecutor(writers) as pool:
        done = list(pool.map(_writer, [(s.url, exp_id, points)] * writers))
    wall = time.perf_counter() - t
    s.results["concurrent_pts_s"] = writers * points / wall
    s.results["concurrent_complete"] = all(_count(s.url, run, "w") == points for run, _ in done)


def workload_history(s: Server, repeats: int = 3) -> None:
    run = s.results["history_run"]
    c = _client(s.url)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        n = len(c.get_metric_history(run, "loss"))
        times.append(time.perf_counter() - t)
    s.results["history_s"] = statistics.median(times)
    s.results["history_points"] = n


def _populate(args: tuple[str, str, int, int]) -> int:
    from mlflow.entities import Metric, Param

    url, exp_id, start, count = args
    c = _client(url)
    for i in range(start, start + count):
        run = c.create_run(exp_id).info.run_id
        ts = 1_700_000_000_000 + i
        values = random.Random(i)  # the same values for every server, independent metrics
        c.log_batch(
            run,
            metrics=[Metric(f"m{k}", values.random(), ts, 0) for k in range(5)],
            params=[Param(f"p{k}", str((i + k) % 13)) for k in range(5)],
        )
    return count


def workload_search(s: Server, runs: int, writers: int, have: int) -> int:
    """Grow the 'search' experiment to ``runs`` runs, then time search_runs."""
    c = _client(s.url)
    exp = c.get_experiment_by_name("search")
    exp_id = exp.experiment_id if exp else c.create_experiment("search")
    missing = runs - have
    if missing > 0:
        per = -(-missing // writers)
        jobs = [
            (s.url, exp_id, have + w * per, min(per, runs - have - w * per)) for w in range(writers)
        ]
        with ProcessPoolExecutor(writers) as pool:
            t = time.perf_counter()
            list(pool.map(_populate, [j for j in jobs if j[3] > 0]))
            s.results[f"create_{runs}_runs_s"] = missing / (time.perf_counter() - t)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        found = c.search_runs(
            [exp_id],
            filter_string="metrics.m0 > 0.5",
            order_by=["metrics.m1 DESC"],
            max_results=100,
        )
        times.append(time.perf_counter() - t)
    assert len(found) == 100, f"{s.name}: search returned {len(found)} runs"
    s.results[f"search_{runs}_s"] = statistics.median(times)
    return runs


# --- Loopwise-only measurements ---------------------------------------------------------


def loopwise_extras(s: Server, points: int) -> None:
    from loopwise import Client

    sdk = Client(s.url)
    run = sdk.create_run("MLFLOW", experiment="sdk")
    steps = list(range(points))
    values = [float(i) * 0.5 for i in steps]
    t = time.perf_counter()
    sdk.log_metric_columns(run.id, "x", steps, values, [1_700_000_000_000 + i for i in steps])
    s.results["sdk_ingest_pts_s"] = points / (time.perf_counter() - t)
    t = time.perf_counter()
    cols = sdk.metric_columns(run.id, "x")
    s.results["sdk_history_s"] = time.perf_counter() - t
    s.results["sdk_complete"] = len(cols["steps"]) == points
    t = time.perf_counter()
    chart = httpx.get(f"{s.url}/api/v1/runs/{run.id}/metric-chart", params={"key": "x"}, timeout=60)
    s.results["chart_s"] = time.perf_counter() - t
    s.results["chart_buckets"] = len(chart.json()["buckets"])
    # server-side time of a 1000-metric MLflow log-batch (Server-Timing header), over one
    # kept-alive connection as the mlflow client sends them (a requests.Session)
    hex_id = _new_run(s.url, "timing")
    durations = []
    with httpx.Client(timeout=60) as http:
        for b in range(50):
            body = {
                "run_id": hex_id,
                "metrics": [
                    {"key": "t", "value": float(i), "timestamp": 1_700_000_000_000 + i, "step": i}
                    for i in range(b * 1000, b * 1000 + 1000)
                ],
            }
            r = http.post(f"{s.url}/api/2.0/mlflow/runs/log-batch", json=body)
            durations.append(float(r.headers["server-timing"].split("dur=")[1]))
    s.results["server_ms_per_1000_batch"] = statistics.median(durations)
    sdk.close()


def loopwise_runs_page(s: Server) -> None:
    durations = []
    for _ in range(5):
        r = httpx.get(f"{s.url}/projects/MLFLOW/runs", timeout=60)
        durations.append(float(r.headers["server-timing"].split("dur=")[1]))
    s.results["runs_page_server_ms"] = statistics.median(durations)


_RAW_INSERT = (
    "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) VALUES (?,?,?,?,?,?)"
)
# The statement shape Loopwise itself writes with: 100 rows per multi-row VALUES.
_RAW_MULTI = _RAW_INSERT + ", (?,?,?,?,?,?)" * 99


def _raw_db() -> tuple[sqlite3.Connection, str, str]:
    """The ceiling's database: a copy of Loopwise's benchmark database when there is one
    (the same table, indexes and size the server writes into), else a table of the same
    shape, created empty. Returns the connection, a run id to write to and which it is."""
    path = WORK / "raw.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    source = WORK / "loopwise" / "loopwise.db"
    if source.exists():
        src, dst = sqlite3.connect(source), sqlite3.connect(path)
        src.backup(dst)
        src.close()
        dst.close()
        where = "a copy of Loopwise's benchmark database"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    for pragma in SQLITE_READ_PRAGMAS:  # the server's own connection settings
        con.execute(pragma)
    if source.exists():
        run_id = con.execute("SELECT id FROM runs LIMIT 1").fetchone()[0]
    else:
        where = "an empty table of the same shape"
        run_id = "run_x"
        con.execute("CREATE TABLE runs (id VARCHAR(40) PRIMARY KEY)")
        con.execute("INSERT INTO runs VALUES ('run_x')")
        con.execute(
            "CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_id VARCHAR(40) REFERENCES "
            "runs (id), key VARCHAR(250), step BIGINT, timestamp BIGINT, value FLOAT, "
            "is_nan BOOLEAN)"
        )
        con.execute(
            "CREATE INDEX ix_metrics_series ON metrics "
            "(run_id, key, step, timestamp, id, value, is_nan)"
        )
    return con, run_id, where


def _raw_batch(con: sqlite3.Connection, rows: list[tuple[Any, ...]], multi: bool = False) -> float:
    """Seconds for one ``BEGIN IMMEDIATE`` / insert / ``COMMIT``: ``executemany`` (the
    ceiling the targets name), or with ``multi`` Loopwise's own statement shape, 100 rows
    per multi-row ``VALUES`` (flattening the rows is timed too)."""
    t = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    if multi and len(rows) % 100 == 0:
        for at in range(0, len(rows), 100):
            con.execute(_RAW_MULTI, [v for row in rows[at : at + 100] for v in row])
    else:
        con.executemany(_RAW_INSERT, rows)
    con.execute("COMMIT")
    return time.perf_counter() - t


def raw_sqlite_ceiling(points: int) -> tuple[float, float, str]:
    """Raw SQLite, 1,000-point transactions (WAL, synchronous=NORMAL, foreign keys on, the
    server's mmap and cache settings, ``BEGIN IMMEDIATE``): Loopwise's own writes minus
    everything above the driver. Points/s through ``executemany`` and through 100-row
    multi-row statements, taking turns batch by batch."""
    con, run_id, where = _raw_db()
    rows = [(run_id, "raw", i, 1_700_000_000_000 + i, float(i), False) for i in range(points)]
    many = multi = 0.0
    for start in range(0, points, 2000):
        many += _raw_batch(con, rows[start : start + 1000])
        multi += _raw_batch(con, rows[start + 1000 : start + 2000], multi=True)
    con.close()
    half = points / 2
    return half / many, half / multi, where


# --- interleaved rounds ------------------------------------------------------------------


def interleaved(chosen: list[Server], rounds: int, calls: int = 250) -> dict[str, dict[str, float]]:
    """Per-call ``log_metric`` and ``search_runs`` with all servers up at once, taking turns
    round by round (the order flips every round), on the databases the sequential pass
    left. A machine that speeds up or slows down then moves every server alike.

    Search is skipped for a server whose one search takes over 5 s (MLflow at 50,000 runs:
    rounds of it would take most of an hour). With Loopwise, its turn also times 1,000-point
    ``log-batch`` calls (Server-Timing) against the raw-SQLite ceiling, one after the
    other, into a copy of its database taken before the rounds."""
    raw = _raw_db() if any(s.name == "loopwise" for s in chosen) else None
    batch_ms: list[float] = []
    create_ms: list[float] = []
    raw_ms: list[float] = []
    multi_ms: list[float] = []
    for s in chosen:
        s.start()
    http = httpx.Client(timeout=60)
    turns = list(chosen)
    try:
        clients = {s.name: _client(s.url) for s in chosen}
        runs = {s.name: _new_run(s.url, "interleaved") for s in chosen}
        search_exp = {}
        for s in chosen:
            exp = clients[s.name].get_experiment_by_name("search")
            if exp is not None:
                for _ in range(2):  # the first search of a fresh server is a cold one
                    t = time.perf_counter()
                    clients[s.name].search_runs(
                        [exp.experiment_id],
                        "metrics.m0 > 0.5",
                        order_by=["metrics.m1 DESC"],
                        max_results=100,
                    )
                if time.perf_counter() - t < 5:
                    search_exp[s.name] = exp.experiment_id
        if "loopwise" in search_exp:
            # The client alone: a server answering from memory, search with the very body
            # Loopwise gave (see replay_server.py).
            lw_url = next(s.url for s in chosen if s.name == "loopwise")
            body = http.post(
                f"{lw_url}/api/2.0/mlflow/runs/search",
                json={
                    "experiment_ids": [search_exp["loopwise"]],
                    "filter": "metrics.m0 > 0.5",
                    "order_by": ["metrics.m1 DESC"],
                    "max_results": 100,
                },
            ).content
            replay = replay_server(body)
            replay.start()
            turns = [*chosen, replay]
            clients[replay.name] = _client(replay.url)
            runs[replay.name] = _new_run(replay.url, "interleaved")
            search_exp[replay.name] = "1"
        per_call: dict[str, list[float]] = {s.name: [] for s in turns}
        search: dict[str, list[float]] = {s.name: [] for s in turns}
        creating: dict[str, list[float]] = {s.name: [] for s in turns if s.name != CLIENT_ALONE}
        create_exp = {
            name: _client(next(s.url for s in turns if s.name == name)).create_experiment(
                f"create-{time.time_ns()}"
            )
            for name in creating
        }
        pool = ProcessPoolExecutor(8)
        list(pool.map(_populate, [(turns[0].url, create_exp[turns[0].name], -1, 1)] * 8))
        created = 0
        step = 0
        for r in range(rounds):
            for s in turns if r % 2 == 0 else turns[::-1]:
                c = clients[s.name]
                t = time.perf_counter()
                for i in range(calls):
                    step += 1
                    c.log_metric(runs[s.name], "probe", float(i), step=step)
                per_call[s.name].append((time.perf_counter() - t) / calls)
                if s.name in creating:  # create_run + log_batch(5 params, 5 metrics), 8 procs
                    jobs = [(s.url, create_exp[s.name], created + w * 50, 50) for w in range(8)]
                    created += 400
                    t = time.perf_counter()
                    list(pool.map(_populate, jobs))
                    creating[s.name].append(400 / (time.perf_counter() - t))
                    if s.name == "loopwise":
                        for _ in range(50):
                            r = http.post(
                                f"{s.url}/api/2.0/mlflow/runs/create",
                                json={"experiment_id": create_exp[s.name], "start_time": 1},
                            )
                            create_ms.append(float(r.headers["server-timing"].split("dur=")[1]))
                if s.name in search_exp:
                    t = time.perf_counter()
                    found = c.search_runs(
                        [search_exp[s.name]],
                        filter_string="metrics.m0 > 0.5",
                        order_by=["metrics.m1 DESC"],
                        max_results=100,
                    )
                    search[s.name].append(time.perf_counter() - t)
                    assert len(found) == 100, f"{s.name}: search returned {len(found)} runs"
                if s.name == "loopwise" and raw is not None:
                    for _ in range(5):
                        step += 1000
                        points = range(step, step + 1000)
                        metrics = [
                            {"key": "t", "value": float(i), "timestamp": i, "step": i}
                            for i in points
                        ]
                        r = http.post(
                            f"{s.url}/api/2.0/mlflow/runs/log-batch",
                            json={"run_id": runs[s.name], "metrics": metrics},
                        )
                        batch_ms.append(float(r.headers["server-timing"].split("dur=")[1]))
                        rows = [(raw[1], "raw", i, i, float(i), False) for i in points]
                        raw_ms.append(_raw_batch(raw[0], rows) * 1000)
                        rows = [(raw[1], "multi", i, i, float(i), False) for i in points]
                        multi_ms.append(_raw_batch(raw[0], rows, multi=True) * 1000)
    finally:
        http.close()
        if "pool" in locals():
            pool.shutdown()
        if raw is not None:
            raw[0].close()
        for s in turns:
            s.stop()
    found = {
        name: {
            "log_metric_ms": statistics.median(per_call[name]) * 1000,
            **({"search_ms": statistics.median(search[name]) * 1000} if search[name] else {}),
            **({"create_runs_s": statistics.median(creating[name])} if creating.get(name) else {}),
        }
        for name in per_call
    }
    if create_ms:
        found["loopwise"]["server_create_run_ms"] = statistics.median(create_ms)
    if batch_ms:
        found["loopwise"]["server_batch_ms"] = statistics.median(batch_ms)
        found["loopwise"]["raw_batch_ms"] = statistics.median(raw_ms)
        found["loopwise"]["raw_multi_batch_ms"] = statistics.median(multi_ms)
    return found


def print_interleaved(found: dict[str, dict[str, float]], rounds: int) -> None:
    lw = found.get("loopwise", {})
    print(f"\ninterleaved, {rounds} rounds (medians; all servers up, taking turns):")
    print(f"{'':34}" + "".join(f"{n:>14}" for n in found) + "   loopwise vs mlflow / vs fml")
    for key, label in (("log_metric_ms", "per-call log_metric (ms)"), ("search_ms", "search (ms)")):
        cells = "".join(
            f"{found[n][key]:>14,.3f}" if key in found[n] else f"{'-':>14}" for n in found
        )
        mlflow, fml = found.get("mlflow", {}).get(key), found.get("fasttrackml", {}).get(key)
        print(
            f"{label:34}{cells}   {ratio(mlflow, lw.get(key))} / {ratio(fml, lw.get(key))} faster"
        )
    lw_rate, fml_rate = lw.get("create_runs_s"), found.get("fasttrackml", {}).get("create_runs_s")
    if lw_rate:
        cells = "".join(
            f"{found[n]['create_runs_s']:>14,.1f}" if "create_runs_s" in found[n] else f"{'-':>14}"
            for n in found
        )
        print(
            f"{'create_run+log_batch, 8 procs (runs/s)':34}{cells}   - / {ratio(lw_rate, fml_rate)}"
        )
    if "server_create_run_ms" in lw:
        print(f"loopwise server-side per create_run: {lw['server_create_run_ms']:.2f} ms")
    alone = found.get(CLIENT_ALONE, {})
    for key, label in (("log_metric_ms", "per-call log_metric"), ("search_ms", "search")):
        if key not in alone:
            continue
        floor = alone[key]
        own = ", ".join(
            f"{n} {found[n][key] - floor:.2f} ms"
            for n in found
            if n != CLIENT_ALONE and key in found[n]
        )
        best = found.get("mlflow", {}).get(key)
        reach = f"; no server could be more than {best / floor:.1f}x MLflow" if best else ""
        print(
            f"{label}: the mlflow client alone takes {floor:.2f} ms (a server answering from "
            f"memory); beyond it each server takes: {own}{reach}"
        )
    if "server_batch_ms" in lw:
        share = lw["raw_batch_ms"] / lw["server_batch_ms"]
        print(
            f"loopwise server-side per 1000-point batch {lw['server_batch_ms']:.2f} ms against "
            f"raw SQLite executemany {lw['raw_batch_ms']:.2f} ms, taking turns: {share:.0%} of "
            f"the ceiling ({lw['raw_multi_batch_ms'] / lw['server_batch_ms']:.0%} of raw "
            f"100-row statements, {lw['raw_multi_batch_ms']:.2f} ms)"
        )


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a fast check")
    parser.add_argument("--only", default="loopwise,mlflow,fasttrackml")
    parser.add_argument("--runs", default="", help="run counts for search, e.g. 5000,50000")
    parser.add_argument("--out", default="mlflow_bench.json", help="results file in results/")
    parser.add_argument(
        "--interleave",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="then per-call log_metric and search with all servers up, taking turns",
    )
    parser.add_argument(
        "--interleave-only",
        action="store_true",
        help="only the interleaved rounds, on the databases an earlier run left in .work/",
    )
    args = parser.parse_args()
    q = args.quick
    sizes = {
        "batch": 20_000 if q else 100_000,
        "single": 300 if q else 2_000,
        "writers": 8,
        "per_writer": 2_000 if q else 20_000,
        "runs": [int(x) for x in args.runs.split(",") if x] or ([1000] if q else [5000, 50000]),
    }
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    chosen = servers(set(args.only.split(",")))
    if args.interleave_only:
        rounds = args.interleave or 12
        found = interleaved(chosen, rounds)
        (RESULTS / args.out).write_text(json.dumps({"interleaved": found}, indent=2))
        print_interleaved(found, rounds)
        return
    steps: list[tuple[str, Callable[[Server], None]]] = [
        ("log_batch", lambda s: workload_batch(s, sizes["batch"])),
        ("log_metric", lambda s: workload_single(s, sizes["single"])),
        ("concurrent", lambda s: workload_concurrent(s, sizes["writers"], sizes["per_writer"])),
        ("history", workload_history),
    ]
    for s in chosen:
        for leftover in WORK.glob(f"{s.name}/*"):
            if leftover.is_file():
                leftover.unlink()
        print(f"== {s.name}: starting", flush=True)
        s.start()
        try:
            s.results["startup_s"] = s.startup_s
            for name, fn in steps:
                print(f"   {name}", flush=True)
                fn(s)
            have = 0
            for n in sizes["runs"]:
                print(f"   search over {n} runs", flush=True)
                have = workload_search(s, n, sizes["writers"], have)
            if s.name == "loopwise":
                print("   loopwise SDK, chart, server timing, runs page", flush=True)
                loopwise_extras(s, sizes["batch"])
                loopwise_runs_page(s)
            s.results["rss_mib"] = s.rss_mib()
        finally:
            s.stop()
    ceiling, multi_ceiling, ceiling_where = raw_sqlite_ceiling(sizes["batch"])
    by = {s.name: s.results for s in chosen}
    found = interleaved(chosen, args.interleave) if args.interleave else {}
    report = {
        "sizes": sizes,
        "raw_sqlite_pts_s": ceiling,
        "raw_sqlite_multirow_pts_s": multi_ceiling,
        "raw_sqlite_into": ceiling_where,
        "servers": by,
        "interleaved": found,
    }
    (RESULTS / args.out).write_text(json.dumps(report, indent=2, default=str))

    rows = [
        ("startup (s)", "startup_s"),
        ("memory RSS (MiB)", "rss_mib"),
        ("log_batch (pts/s)", "log_batch_pts_s"),
        ("log_metric (pts/s)", "log_metric_pts_s"),
        ("8 writers (pts/s)", "concurrent_pts_s"),
        ("history via mlflow client (s)", "history_s"),
    ] + [
        row
        for n in sizes["runs"]
        for row in (
            (f"create {n} runs (runs/s)", f"create_{n}_runs_s"),
            (f"search {n} runs (s)", f"search_{n}_s"),
        )
    ]
    names = [s.name for s in chosen]
    print()
    print(f"{'':34}" + "".join(f"{n:>14}" for n in names) + "   loopwise vs mlflow / vs fml")
    lw = by.get("loopwise", {})
    for label, key in rows:
        cells = "".join(
            f"{by[n].get(key, float('nan')):>14,.3f}"
            if isinstance(by[n].get(key), float)
            else f"{'-':>14}"
            for n in names
        )
        lower_better = not key.endswith(("pts_s", "runs_s"))
        if lower_better:
            word = "smaller" if key == "rss_mib" else "faster"
            vs = f"{ratio(by.get('mlflow', {}).get(key), lw.get(key))} / {ratio(by.get('fasttrackml', {}).get(key), lw.get(key))} {word}"
        else:
            vs = f"{ratio(lw.get(key), by.get('mlflow', {}).get(key))} / {ratio(lw.get(key), by.get('fasttrackml', {}).get(key))}"
        print(f"{label:34}{cells}   {vs}")
    print()
    print(
        f"raw SQLite executemany ceiling: {ceiling:,.0f} pts/s = {1e6 / ceiling:.2f} ms per "
        f"1,000-point transaction, into {ceiling_where}; raw 100-row multi-row statements "
        f"(Loopwise's own shape): {multi_ceiling:,.0f} pts/s = {1e6 / multi_ceiling:.2f} ms"
    )
    if lw:
        server_rate = 1000 / (lw["server_ms_per_1000_batch"] / 1000)
        print(
            f"loopwise server-side per 1000-point batch: {lw['server_ms_per_1000_batch']:.2f} ms "
            f"= {server_rate:,.0f} pts/s ({server_rate / ceiling:.0%} of the raw SQLite "
            f"executemany ceiling, {server_rate / multi_ceiling:.0%} of raw multi-row)"
        )
        print(
            f"loopwise SDK ingest: {lw['sdk_ingest_pts_s']:,.0f} pts/s "
            f"({ratio(lw['sdk_ingest_pts_s'], by.get('mlflow', {}).get('log_batch_pts_s'))} MLflow's log_batch)"
        )
        print(
            f"loopwise SDK history of {sizes['batch']:,} points: {lw['sdk_history_s']:.3f} s "
            f"({ratio(by.get('mlflow', {}).get('history_s'), lw['sdk_history_s'])} faster than MLflow)"
        )
        print(f"loopwise chart endpoint: {lw['chart_s']:.3f} s for {lw['chart_buckets']} buckets")
        print(f"loopwise server-side per log-metric call: {lw['server_ms_per_log_metric']:.2f} ms")
        print(
            f"loopwise runs page with {max(sizes['runs']):,}+ runs: {lw['runs_page_server_ms']:.1f} ms server time"
        )
        complete = all(v for k, v in lw.items() if k.endswith("_complete"))
        print(f"every point present afterwards: {complete}")
    if found:
        print_interleaved(found, args.interleave)
    for s in chosen:
        if not all(v for k, v in s.results.items() if k.endswith("_complete")):
            print(f"WARNING: {s.name} lost points")


if __name__ == "__main__":
    main()
