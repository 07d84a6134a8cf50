"""Shared fixtures.

Every store-facing test that asks for ``database_url`` (directly or through
``settings``, ``app``, ``client``...) runs twice: on SQLite and on PostgreSQL. Tests of a
door that adds nothing store-specific (pages, CLI, SDK, demo: the folders in
``SQLITE_ONLY_FOLDERS``, and any test marked ``sqlite_only``) run on SQLite only; their
stores are tested below the door.
PostgreSQL is the server at ``LOOPWISE_TEST_POSTGRES_URL`` (default: 127.0.0.1:5432,
database ``test``); each test process (one per xdist worker) creates its own database
there and drops it at the end. Under ``CI=true`` a missing PostgreSQL fails the run
instead of skipping. ``LOOPWISE_TEST_STORES=sqlite`` leaves PostgreSQL out (the fast loop,
``scripts/check --fast``).
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.app import build_state, create_app
from loopwise.core.clock import FrozenClock
from loopwise.core.settings import Settings
from loopwise.db.base import Base
from loopwise.db.engine import Database, make_engine
from loopwise.db.migrate import ensure_current, upgrade
from loopwise.slices import load_tables
from loopwise.web.state import AppState
from use_cases import UseCases

PG_URL = os.environ.get(
    "LOOPWISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
TESTS = Path(__file__).resolve().parent
STORES = tuple(os.environ.get("LOOPWISE_TEST_STORES", "sqlite,postgresql").split(","))
# Folders of door tests: what they prove does not depend on the store behind the door.
SQLITE_ONLY_FOLDERS = frozenset({"web", "cli", "sdk", "demo"})
STORE_FIXTURES = ("database_url", "empty_database_url")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the PostgreSQL variant of door tests, and every variant of a store left
    out by LOOPWISE_TEST_STORES."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(item, "callspec", None)
        stores = {params.params[f] for f in STORE_FIXTURES if params and f in params.params}
        folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        postgres_here = (
            folder not in SQLITE_ONLY_FOLDERS
            and item.get_closest_marker("sqlite_only") is None
            and "postgresql" in STORES
        )
        if ("postgresql" in stores and not postgres_here) or (
            "sqlite" in stores and "sqlite" not in STORES
        ):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """Spare the cyclic garbage collector the work it cannot use here. What import and
    collection built lives to the end (frozen: never traversed again), and each test
    allocates and frees an app's worth of objects: a young generation of 50,000 instead
    of 700 lets most of them die by reference count before a collection walks them. On
    the page tests this took the time in the collector from 19 s to 8 s of 90."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        count = len(list(SCREENSHOTS.glob("*.png")))
        terminalreporter.write_line(f"browser screenshots ({count}): {SCREENSHOTS}")


# --- databases -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _pg_reachable(url: str) -> str | None:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver/connection failure means "not reachable"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    problem = _pg_reachable(PG_URL)
    if problem:
        message = f"PostgreSQL at {PG_URL} is not reachable: {problem}"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)
    name = f"loopwise_test_{os.getpid()}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    load_tables()
    # DELETE in reverse dependency order is several times faster than TRUNCATE of every
    # table on small data (ids are not reset; no test depends on them).
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "loopwise.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_session_url")
    _truncate_all(url)
    return url


def _pg_database(name: str) -> str:
    """Create (or re-create) database ``name`` on the test server; its URL."""
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _pg_drop(name: str) -> None:
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_empty_session_url(pg_session_url: str) -> Iterator[str]:
    """A second PostgreSQL database, for tests that need one without any schema."""
    name = f"loopwise_empty_{os.getpid()}"
    yield _pg_database(name)
    _pg_drop(name)


def _empty_database(store: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url: str = request.getfixturevalue("pg_empty_session_url")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all (not even Alembic's), on each backend."""
    return _empty_database(request.param, request, tmp_path)


@pytest.fixture
def empty_twin_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on the same backend as ``database_url`` (restores, copies)."""
    store = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    return _empty_database(store, request, tmp_path)


# --- apps and clients ------------------------------------------------------------------


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


# The names test apps answer to: loopback (the live servers listen on 127.0.0.1) and
# "testserver", the name Starlette's TestClient gives itself. The default list (loopback
# and the bound address) is tested in tests/web/test_security.py.
TEST_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        verdict_refresh_seconds=0,
        allowed_hosts=TEST_HOSTS,
        # The default gates hold every promotion and phase change until people sign them
        # off; tests of other slices work on projects without them (tests/governance
        # turns them on).
        default_gates=False,
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock, sweep=False)
    yield application
    application.state.loopwise.db.dispose()


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    """Raw HTTP access to the app, for status codes and bodies."""
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    """The SDK, in-process: SDK -> API -> service -> database."""
    http = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    with Client(http=http) as sdk:
        yield sdk


@pytest.fixture
def auth_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        auth=True,
        verdict_refresh_seconds=0,
        allowed_hosts=TEST_HOSTS,
        default_gates=False,
    )


@pytest.fixture
def auth_app(auth_settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = create_app(auth_settings, clock=clock, sweep=False)
    yield application
    application.state.loopwise.db.dispose()


# --- use cases without a door ----------------------------------------------------------


@pytest.fixture
def state(settings: Settings, clock: FrozenClock) -> Iterator[AppState]:
    """What the app holds (database, clock, event bus, hooks, identity), built the way
    ``create_app`` builds it, with no app around it."""
    db = Database(
        settings.resolved_database_url,
        statement_timeout_ms=settings.statement_timeout_ms,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    ensure_current(db.engine)
    yield build_state(settings, db, clock)
    db.dispose()


@pytest.fixture
def do(state: AppState) -> UseCases:
    """Use cases as the local workspace admin (local mode, as the API and CLI act)."""
    return UseCases(state, state.ensure_local_actor())


# --- a real server on loopback ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a background thread."""

    def __init__(self, application: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # keep-alive longer than any pause of a browser test between two calls of its
        # httpx client: at uvicorn's 5 s the server could close a connection just as the
        # client reused it ("Connection reset by peer" under load)
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_keep_alive=120,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
