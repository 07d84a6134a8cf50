"""Planning benchmark: the Monte Carlo forecast and the board page with 5,000 items.

    .venv/bin/python bench/planning_bench.py            # both parts (about a minute)
    .venv/bin/python bench/planning_bench.py --only forecast
    .venv/bin/python bench/planning_bench.py --only board --items 5000 --repeats 10

(a) forecast: ``numeric.forecast.forecast_when`` for 500 remaining items, 10,000 trials,
    over two years of daily throughput history; median of ~20 runs, against a naive
    pure-Python Monte Carlo of the same workload measured in the same run (ratio printed,
    target: well under 100 ms).
(b) board: a SQLite project seeded with 5,000 items through the services in one
    transaction; the app served by uvicorn on 127.0.0.1; median time of GET
    /projects/KEY/board (the web page), against raw ``sqlite3`` reading the same rows
    (``SELECT ... FROM work_items WHERE project_id = ?``) in the same run (ratio printed).
    Where the app has no board page, /api/v1/projects/KEY/board is timed instead, and said.

Not a test: run by hand, read the numbers. Everything stays on this machine: a temporary
folder for the database, loopback for HTTP.
"""

from __future__ import annotations

import argparse
import random
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np

from loopwise.numeric import forecast as nforecast

SCOPE = 500
TRIALS = 10_000
HISTORY_DAYS = 730


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _timed(fn: Callable[[], Any], repeats: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds per call; with ``cpu``, this process's CPU seconds too (less
    disturbed than wall time when the machine is busy with other work)."""
    out = []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
    return out


# --- (a) the forecast ------------------------------------------------------------------


def throughput_history(days: int = HISTORY_DAYS, seed: int = 7) -> np.ndarray:
    """Two years of a team's daily throughput: Poisson 1.4 on weekdays, 0.2 at weekends
    (mean about 1.06 items a day, many zero days)."""
    rng = np.random.default_rng(seed)
    weekday = np.arange(days) % 7 < 5
    return rng.poisson(np.where(weekday, 1.4, 0.2)).astype(np.int64)


def naive_when(history: list[int], scope: float, trials: int, rnd: random.Random) -> list[int]:
    """The textbook loop: per trial, draw a past day until the scope is done."""
    n = len(history)
    out = []
    for _ in range(trials):
        done = 0
        days = 0
        while done < scope:
            done += history[rnd.randrange(n)]
            days += 1
        out.append(days)
    return out


def _inverted_cdf(sorted_values: list[int], q: float) -> int:
    # The same quantile rule as numeric.forecast (inverted CDF), for a fair comparison.
    index = max(0, int(np.ceil(q * len(sorted_values))) - 1)
    return sorted_values[index]


def bench_forecast(repeats: int, naive_repeats: int) -> dict[str, float]:
    history = throughput_history()
    start = date.today()
    print(
        f"(a) forecast_when: {SCOPE} items, {TRIALS:,} trials, {history.size} days of history "
        f"(mean {history.mean():.2f}/day, {np.mean(history == 0):.0%} zero days)"
    )
    seeds = iter(range(1_000_000))

    def vectorised() -> nforecast.WhenForecast:
        return nforecast.forecast_when(
            history, SCOPE, start, trials=TRIALS, rng=np.random.default_rng(next(seeds))
        )

    vectorised()  # warm-up: imports, allocator
    fast_cpu: list[float] = []
    fast = _timed(vectorised, repeats, fast_cpu)
    result = vectorised()

    as_list = history.tolist()
    rnd = random.Random(11)
    naive_days: list[int] = []

    def naive() -> None:
        naive_days[:] = naive_when(as_list, SCOPE, TRIALS, rnd)

    slow_cpu: list[float] = []
    slow = _timed(naive, naive_repeats, slow_cpu)
    ordered = sorted(naive_days)
    naive_pct = {p: _inverted_cdf(ordered, p / 100) for p in nforecast.PERCENTILES}

    fast_median, slow_median = statistics.median(fast), statistics.median(slow)
    print(
        f"    vectorised (NumPy)   median {_ms(fast_median)} over {repeats} runs "
        f"(min {_ms(min(fast))}, max {_ms(max(fast))})"
    )
    print(f"    naive pure Python    median {_ms(slow_median)} over {naive_repeats} runs")
    print(f"    ratio naive / vectorised: {slow_median / fast_median:,.0f}x")
    print(
        f"    CPU time (this process): vectorised {_ms(statistics.median(fast_cpu))}, "
        f"naive {_ms(statistics.median(slow_cpu))}, ratio "
        f"{statistics.median(slow_cpu) / statistics.median(fast_cpu):,.0f}x"
    )
    print(
        "    same answer: P50/P85/P95 days "
        f"{[result.days[p] for p in nforecast.PERCENTILES]} vectorised, "
        f"{[naive_pct[p] for p in nforecast.PERCENTILES]} naive"
    )
    verdict = "met" if fast_median < 0.1 else "MISSED"
    print(f"    target < 100 ms: {verdict}")
    return {"vectorised_s": fast_median, "naive_s": slow_median}


# --- (b) the board page ----------------------------------------------------------------

KINDS = ("task", "task", "task", "bug", "data_task", "experiment", "retraining")
LABELS = ("data", "modeling", "infra", "ux", "")


def seed_board(home: Path, items: int) -> tuple[str, str]:
    """A project with ``items`` work items spread over the columns, created over two
    years, written through the services in one transaction. Returns (database file, key)."""
    from loopwise.accounts import service as accounts
    from loopwise.accounts.models import Role
    from loopwise.app import create_app
    from loopwise.core.clock import FrozenClock
    from loopwise.core.settings import Settings
    from loopwise.planning.hypotheses import service as hypotheses
    from loopwise.planning.hypotheses.schemas import HypothesisCreate
    from loopwise.planning.items import service as planning
    from loopwise.planning.items.models import ItemKind
    from loopwise.planning.items.schemas import ItemCreate
    from loopwise.projects import service as projects
    from loopwise.projects.schemas import ProjectCreate

    clock = FrozenClock(datetime.now(UTC) - timedelta(days=HISTORY_DAYS))
    app = create_app(Settings(home=home), clock=clock, sweep=False)
    state = app.state.loopwise
    rnd = random.Random(5)
    step = timedelta(days=HISTORY_DAYS) / items
    try:
        actor = state.ensure_local_actor()
        with state.context(actor, write=True) as ctx:
            project = projects.create_project(ctx, ProjectCreate(key="BENCH", name="Board bench"))
            people = [f"person{i}" for i in range(8)]
            for name in people:
                accounts.create_user(ctx.session, clock, name)
                accounts.set_member(ctx, project.id, name, Role.CONTRIBUTOR)
            for i in range(items):
                clock.advance(step)
                kind = KINDS[i % len(KINDS)]
                roll = rnd.random()
                if kind == "experiment" and roll < 0.3:
                    status = "killed"
                elif roll < 0.5:
                    status = "done"
                elif roll < 0.55:
                    status = "review"
                elif roll < 0.62:
                    status = "in_progress"
                elif roll < 0.75:
                    status = "ready"
                else:
                    status = "backlog"
                label = LABELS[i % len(LABELS)]
                assignee = people[i % len(people)] if status != "backlog" else None
                title = f"Item {i}: {kind.replace('_', ' ')} for the churn model"
                if i % 50 == 0:  # hypotheses too, so the board reads their verdicts
                    hypotheses.create_hypothesis(
                        ctx,
                        "BENCH",
                        HypothesisCreate(
                            title=title,
                            statement="Gradient boosting beats the rules.",
                            metric_key="recall",
                            threshold=0.8,
                            time_box_end=clock.now() + timedelta(days=14),
                        ),
                    )
                    continue
                planning.create_item(
                    ctx,
                    "BENCH",
                    ItemCreate(
                        kind=ItemKind(kind),
                        title=title,
                        status=status,
                        assignee=assignee,
                        estimate=float(1 + i % 5),
                        labels=[label] if label else [],
                    ),
                )
        database = str(state.settings.resolved_database_url).removeprefix("sqlite:///")
        return database, project.key
    finally:
        state.db.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """The app on uvicorn, 127.0.0.1, in a background thread."""

    def __init__(self, home: Path) -> None:
        import uvicorn

        from loopwise.app import create_app
        from loopwise.core.settings import Settings

        self.app = create_app(Settings(home=home), sweep=False)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.loopwise.db.dispose()


def bench_board(items: int, repeats: int) -> dict[str, float]:
    print(f"(b) board with {items:,} items (SQLite, uvicorn on 127.0.0.1)")
    with tempfile.TemporaryDirectory(prefix="loopwise-bench-") as tmp:
        home = Path(tmp)
        started = time.perf_counter()
        database, key = seed_board(home, items)
        print(
            f"    seeded {items:,} items through the services in one transaction "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with Served(home) as served, httpx.Client(base_url=served.url, timeout=60) as http:
            page = f"/projects/{key}/board"
            probe = http.get(page)
            what = "the board page"
            if probe.status_code == 404:
                page, what = f"/api/v1/projects/{key}/board", "the board API (no board page yet)"
            probe = http.get(page)
            probe.raise_for_status()
            size = len(probe.content)
            http.get(page)  # warm-up
            served_times = _timed(lambda: http.get(page).raise_for_status(), repeats)
            api = f"/api/v1/projects/{key}/board"
            api_times = _timed(lambda: http.get(api).raise_for_status(), repeats)

        conn = sqlite3.connect(database)
        project_id = conn.execute("SELECT id FROM projects WHERE key = ?", (key,)).fetchone()[0]
        sql = (
            "SELECT id, key, kind, title, status, assignee_id, estimate, labels, updated_at "
            "FROM work_items WHERE project_id = ?"
        )
        rows = conn.execute(sql, (project_id,)).fetchall()
        raw_times = _timed(lambda: conn.execute(sql, (project_id,)).fetchall(), repeats)
        conn.close()

    page_median, raw_median = statistics.median(served_times), statistics.median(raw_times)
    print(
        f"    GET {page} ({what}, {size / 1024:,.0f} KB): median {_ms(page_median)} "
        f"over {repeats} requests (min {_ms(min(served_times))}, max {_ms(max(served_times))})"
    )
    if page != api:
        print(f"    GET {api} (JSON, for context): median {_ms(statistics.median(api_times))}")
    print(
        f"    raw sqlite3 SELECT of the same {len(rows):,} rows: median {_ms(raw_median)} "
        f"over {repeats} runs"
    )
    print(f"    ratio page / raw rows: {page_median / raw_median:,.1f}x")
    return {"page_s": page_median, "raw_s": raw_median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("forecast", "board"), default=None)
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per measurement")
    parser.add_argument("--naive-repeats", type=int, default=3)
    parser.add_argument("--items", type=int, default=5_000)
    args = parser.parse_args()
    if args.only in (None, "forecast"):
        bench_forecast(args.repeats or 20, args.naive_repeats)
    if args.only in (None, "board"):
        bench_board(args.items, args.repeats or 10)


if __name__ == "__main__":
    main()
