"""Sign-in timing: a wrong password for an unknown username vs for a known one.

    .venv/bin/python bench/login_bench.py             # 40 rounds of each
    .venv/bin/python bench/login_bench.py --rounds 100

``POST /api/v1/login`` in auth mode on a temporary SQLite database, in process
(``TestClient``), alternating a known username with a wrong password and an unknown one.
Prints the median and minimum time of each and their ratio (unknown / known; the target is
1.0: the answer time must not tell which usernames exist). The sign-in rate limit is
lifted for the run (it would answer 429 after five failures).

Not a test: run by hand, read the numbers. Everything stays in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from loopwise.accounts import service as accounts
from loopwise.accounts.throttle import LoginThrottle, Policy
from loopwise.app import create_app
from loopwise.core.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), auth=True, verdict_refresh_seconds=0)
        app = create_app(settings, sweep=False)
        state = app.state.loopwise
        unlimited = Policy(max_failures=10**9, forget_after=timedelta(0))
        state.identity.throttle = LoginThrottle(unlimited, unlimited)
        with state.db.session(write=True) as session:
            accounts.create_user(session, state.clock, "vic", password="correct horse")
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        with TestClient(app, raise_server_exceptions=False) as http:

            def attempt(username: str) -> float:
                body = {"username": username, "password": "wrong horse"}
                start = time.perf_counter()
                response = http.post("/api/v1/login", json=body)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 401, response.text
                return elapsed

            for _ in range(3):  # warm-up
                attempt("vic"), attempt("nobody")
            for _ in range(rounds):
                times["known"].append(attempt("vic"))
                times["unknown"].append(attempt("nobody"))
        state.db.dispose()
    for name, values in times.items():
        print(f"{name:8} median {statistics.median(values):6.1f} ms   min {min(values):6.1f} ms")
    ratio = statistics.median(times["unknown"]) / statistics.median(times["known"])
    print(f"unknown / known (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
