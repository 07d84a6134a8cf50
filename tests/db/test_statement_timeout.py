"""The server's statement timeout: a statement running past it is cancelled by the
database (PostgreSQL's statement_timeout; SQLite's progress handler) and comes out as
``QueryTimeout``, a 400 on every door. A Database built without it (the CLI, migrations,
``loopwise import mlflow``) runs the same statement to the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from starlette.testclient import TestClient

from loopwise.app import create_app
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import QueryTimeout
from loopwise.core.settings import Settings
from loopwise.db import driver
from loopwise.db.engine import Database
from loopwise.web.deps import CallerDep

pytestmark = pytest.mark.store

TIMEOUT_MS = 50
# Each takes a few hundred milliseconds: far past the timeout, short for a test.
SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 2000000) SELECT count(*) FROM c",
    "postgresql": "SELECT count(*) FROM (SELECT pg_sleep(0.4)) AS s",
}


def slow_sql(url: str) -> str:
    return SLOW["sqlite" if url.startswith("sqlite") else "postgresql"]


def test_without_a_timeout_the_slow_statement_finishes(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.session(write=True) as session:
            assert session.execute(text(slow_sql(database_url))).scalar_one() > 0
    finally:
        db.dispose()


def test_a_slow_statement_is_cancelled_and_the_connection_stays_usable(
    database_url: str,
) -> None:
    db = Database(database_url, statement_timeout_ms=TIMEOUT_MS)
    try:
        for write in (False, True):
            with (
                pytest.raises(QueryTimeout, match=f"statement timeout of {TIMEOUT_MS} ms"),
                db.session(write=write) as session,
            ):
                session.execute(text(slow_sql(database_url)))
            with db.session(write=write) as session:  # the next statement gets its own time
                assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


def test_driver_level_and_write_now_statements_are_timed_too(tmp_path: Path) -> None:
    """The hot paths run statements on the driver (db.driver) and small writes through
    session_now; a statement there gets the same deadline (SQLite: the deadline is
    cleared at each BEGIN and started by each statement)."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}", statement_timeout_ms=TIMEOUT_MS)
    try:
        with pytest.raises(QueryTimeout), db.session(write=False) as session:
            driver.fetch_all(session, SLOW["sqlite"], ())
        with pytest.raises(QueryTimeout), db.session_now() as now:
            assert now is not None
            now.execute(text(SLOW["sqlite"]))
    finally:
        db.dispose()


@pytest.fixture
def timed_app(tmp_path: Path, database_url: str) -> Iterator[FastAPI]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        statement_timeout_ms=TIMEOUT_MS,
        verdict_refresh_seconds=0,
    )
    application = create_app(settings, clock=FrozenClock(), sweep=False)

    def slow(caller: CallerDep) -> dict[str, str]:
        with caller.read() as ctx:
            ctx.session.execute(text(slow_sql(database_url)))
        return {}

    application.add_api_route("/api/v1/test-slow", slow)
    application.add_api_route("/api/2.0/mlflow/test-slow", slow)
    yield application
    application.state.loopwise.db.dispose()


def test_the_server_answers_a_cancelled_query_with_a_400(timed_app: FastAPI) -> None:
    with TestClient(timed_app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        native = http.get("/api/v1/test-slow")
        assert native.status_code == 400
        assert native.json()["error"]["code"] == "query_timeout"
        assert f"statement timeout of {TIMEOUT_MS} ms" in native.json()["error"]["message"]
        mlflow = http.get("/api/2.0/mlflow/test-slow")
        assert mlflow.status_code == 400  # the mlflow client retries 5xx, not 400
        assert mlflow.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        created = http.post("/api/2.0/mlflow/experiments/create", json={"name": "after"})
        assert created.status_code == 200
