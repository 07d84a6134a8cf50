"""Engines and sessions.

SQLite (the default): WAL, foreign keys, a busy timeout, and writes serialized both in
this process (a lock) and in the file (``BEGIN IMMEDIATE``), so concurrent writers wait
instead of failing with "database is locked". Readers use plain ``BEGIN`` and never block
on writers under WAL. PostgreSQL: a connection pool, nothing special.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from loopwise.core.errors import InvalidInput

_WRITE_OPTION = "loopwise_write"
_NOWAIT_OPTION = "loopwise_nowait"
_BUSY_TIMEOUT_MS = 30_000
# Reads: the database file memory-mapped (up to 256 MiB) instead of copied page by page
# into each connection's cache, and a 16 MiB page cache instead of SQLite's 2 MiB. A
# search over 5,000 runs touches more pages than 2 MiB holds; with these its queries take
# about half the time. Writes still go through the WAL file.
SQLITE_READ_PRAGMAS = ("PRAGMA mmap_size=268435456", "PRAGMA cache_size=-16384")


SYNCHRONOUS = ("NORMAL", "FULL")


def _prepare_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        # NORMAL: a commit survives the process being killed, not a power cut or an OS
        # crash (the WAL is synced at checkpoints, not at every commit). FULL syncs the
        # WAL at every commit. bench/durability_bench.py measures what FULL costs.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        for pragma in SQLITE_READ_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        sqlite = conn.connection.driver_connection
        if not options.get(_NOWAIT_OPTION, False):
            _begin(sqlite, "BEGIN IMMEDIATE" if options.get(_WRITE_OPTION) else "BEGIN")
            return
        # Fail at once (SQLITE_BUSY) instead of waiting when another process writes.
        sqlite.execute("PRAGMA busy_timeout=0")
        try:
            _begin(sqlite, "BEGIN IMMEDIATE")
        finally:
            sqlite.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")


def _begin(sqlite: sqlite3.Connection, statement: str) -> None:
    """BEGIN straight on the driver (it opens every transaction: SQLAlchemy's statement
    machinery would add a tenth of a millisecond), a refusal raised as SQLAlchemy's
    OperationalError like any other statement's."""
    try:
        sqlite.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


def make_engine(url: str, *, sqlite_synchronous: str = "NORMAL") -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse text
        raise InvalidInput(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        if sqlite_synchronous not in SYNCHRONOUS:
            raise InvalidInput(f"sqlite_synchronous must be one of {', '.join(SYNCHRONOUS)}")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # LIFO: the connection used last is handed out next, so one client's requests
        # keep finding the page cache their previous transaction left warm.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_use_lifo=True
        )
        _prepare_sqlite(engine, sqlite_synchronous)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)
    raise InvalidInput(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


class Database:
    """Owns the engine; hands out read or write sessions, each one transaction."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.url = url
        self.engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._nowait_engine = self._write_engine.execution_options(**{_NOWAIT_OPTION: True})
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception."""
        lock = self._write_lock if (write and self._write_lock) else nullcontext()
        with (
            lock,
            Session(self._write_engine if write else self.engine) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def session_now(self) -> Iterator[Session | None]:
        """A write transaction begun only if that needs no waiting, else None.

        SQLite only (None on PostgreSQL): when neither this process nor another one holds
        the write lock, a small write can run on the calling thread, sparing the request a
        trip through the worker-thread pool. On None the caller leaves this block and
        takes ``session(write=True)``, which waits its turn."""
        lock = self._write_lock
        if lock is None or not lock.acquire(blocking=False):
            yield None
            return
        try:
            session = Session(self._nowait_engine)
            transaction = session.begin()
            try:
                session.connection()  # BEGIN IMMEDIATE now, while a busy file fails fast
                busy = False
            except OperationalError:  # another process is writing
                session.close()
                busy = True
            if busy:  # yielded outside the except: the caller's errors chain to nothing
                yield None
                return
            with session, transaction:  # committed on success, rolled back on error
                yield session
        finally:
            lock.release()

    def dispose(self) -> None:
        self.engine.dispose()
