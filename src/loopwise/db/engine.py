"""Engines and sessions.

SQLite (the default): WAL, foreign keys, a busy timeout, and writes serialized both in
this process (a lock) and in the file (``BEGIN IMMEDIATE``), so concurrent writers wait
instead of failing with "database is locked". Readers use plain ``BEGIN`` and never block
on writers under WAL. PostgreSQL: a connection pool, nothing special.

A statement timeout (the server's, ``LOOPWISE_STATEMENT_TIMEOUT_MS``; off for the CLI and
migrations) cancels any one statement that runs longer: PostgreSQL's own
``statement_timeout``, so the backend stops by itself even when the client has gone, and
on SQLite a progress handler that interrupts the statement past its deadline. Either way
the session raises ``QueryTimeout``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from loopwise.core.errors import InvalidInput, QueryTimeout

_WRITE_OPTION = "loopwise_write"
_NOWAIT_OPTION = "loopwise_nowait"
_BUSY_TIMEOUT_MS = 30_000
# Reads: the database file memory-mapped (up to 256 MiB) instead of copied page by page
# into each connection's cache, and a 16 MiB page cache instead of SQLite's 2 MiB. A
# search over 5,000 runs touches more pages than 2 MiB holds; with these its queries take
# about half the time. Writes still go through the WAL file.
SQLITE_READ_PRAGMAS = ("PRAGMA mmap_size=268435456", "PRAGMA cache_size=-16384")
# SQLite calls the progress handler every this many virtual-machine instructions of one
# statement: about once a millisecond here (~100,000 instructions/ms), so shorter
# statements (every ingest statement) never call it, and a timeout fires about 1 ms late.
PROGRESS_INSTRUCTIONS = 100_000
_PG_CANCELLED = "57014"  # query_canceled: statement_timeout (or a cancel request)


SYNCHRONOUS = ("NORMAL", "FULL")


class Deadline:
    """When the statement running on one SQLite connection must stop (0: no limit).

    Each statement start sets it (SQLAlchemy's ``before_cursor_execute``, and
    ``db.driver`` for its driver-level statements); each transaction start clears it, so
    a statement nobody started a clock for runs unlimited rather than against a stale
    deadline."""

    __slots__ = ("at", "seconds")

    def __init__(self, milliseconds: int) -> None:
        self.seconds = milliseconds / 1000
        self.at = 0.0

    def start(self) -> None:
        self.at = time.monotonic() + self.seconds

    def passed(self) -> bool:
        """The progress handler: true (interrupt) once the deadline is behind us."""
        return self.at != 0.0 and time.monotonic() > self.at


class TimedConnection(sqlite3.Connection):
    """A SQLite connection that carries its statement deadline."""

    loopwise_deadline: Deadline | None = None


def is_timeout(exc: DBAPIError) -> bool:
    """Whether the database cancelled the statement for running past the timeout."""
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT
    return getattr(orig, "sqlstate", None) == _PG_CANCELLED


def _prepare_sqlite(engine: Engine, statement_timeout_ms: int, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        if statement_timeout_ms:
            deadline = dbapi_connection.loopwise_deadline = Deadline(statement_timeout_ms)
            dbapi_connection.set_progress_handler(deadline.passed, PROGRESS_INSTRUCTIONS)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        # FULL (the default) syncs the WAL at every commit: an acknowledged write survives
        # a power cut. NORMAL syncs at checkpoints only: it survives a killed process, not
        # an OS crash. bench/durability_bench.py: FULL cost 17% of per-call log_metric
        # throughput and nothing of 1,000-point batches on this machine's disk.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        for pragma in SQLITE_READ_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    if statement_timeout_ms:

        @event.listens_for(engine, "before_cursor_execute")
        def _on_statement(_conn: Any, cursor: Any, *_args: Any) -> None:
            cursor.connection.loopwise_deadline.start()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        sqlite = conn.connection.driver_connection
        if statement_timeout_ms:
            sqlite.loopwise_deadline.at = 0.0
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


def make_engine(
    url: str, *, statement_timeout_ms: int = 0, sqlite_synchronous: str = "FULL"
) -> Engine:
    """An engine for ``url``; with ``statement_timeout_ms`` every statement longer than
    that is cancelled (0: no limit, as the CLI and migrations want)."""
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
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
        if statement_timeout_ms:
            connect_args["factory"] = TimedConnection
        engine = create_engine(url, connect_args=connect_args, pool_use_lifo=True)
        _prepare_sqlite(engine, statement_timeout_ms, sqlite_synchronous)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        pg_args = {}
        if statement_timeout_ms:
            # A session default of every pooled connection, set by the server itself: the
            # backend cancels the statement even if nobody is left waiting for it.
            given = parsed.query.get("options")
            given = given if isinstance(given, str) else " ".join(given or ())
            timeout = f"-c statement_timeout={statement_timeout_ms}"
            pg_args["options"] = f"{given} {timeout}".strip()
        return create_engine(
            parsed, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=pg_args
        )
    raise InvalidInput(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


T = TypeVar("T")


@dataclass
class _Job:
    """One write waiting for a group commit (``Database.grouped``)."""

    fn: Callable[[Session], Any]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to lead the next group rather than with its result
    result: Any = None
    error: BaseException | None = None


class Database:
    """Owns the engine; hands out read or write sessions, each one transaction."""

    def __init__(
        self, url: str, *, statement_timeout_ms: int = 0, sqlite_synchronous: str = "FULL"
    ) -> None:
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self.engine = make_engine(
            url, statement_timeout_ms=statement_timeout_ms, sqlite_synchronous=sqlite_synchronous
        )
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._nowait_engine = self._write_engine.execution_options(**{_NOWAIT_OPTION: True})
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._group_mutex = threading.Lock()
        self._pending: list[_Job] = []
        self._leading = False

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception."""
        lock = self._write_lock if (write and self._write_lock) else nullcontext()
        with (
            self._timeouts(),
            lock,
            Session(self._write_engine if write else self.engine) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _timeouts(self) -> Iterator[None]:
        """A statement cancelled by the timeout comes out as ``QueryTimeout`` (after the
        transaction rolled back), any other database error as it was."""
        try:
            yield
        except DBAPIError as exc:
            if self.statement_timeout_ms and is_timeout(exc):
                raise QueryTimeout(
                    "the query took longer than the server's statement timeout of "
                    f"{self.statement_timeout_ms} ms and was cancelled; narrow the filter "
                    "or ask for less at a time"
                ) from exc
            raise

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
            with self._timeouts(), session, transaction:  # commit on success, else roll back
                yield session
        finally:
            lock.release()

    def grouped(self, fn: Callable[[Session], T]) -> T:
        """Run a small write in a group commit: the writes waiting for SQLite's writer at
        the same moment share one transaction, each inside its own SAVEPOINT (a failing
        write rolls back alone and raises to its caller), and one COMMIT, so one fsync
        serves them all. Returns, or raises, only after that COMMIT: an answered write is
        as durable as with ``session(write=True)``; a failed COMMIT fails every write of
        the group. Blocking (call it from a worker thread). PostgreSQL: a plain write
        session."""
        if self._write_lock is None:
            with self.session(write=True) as session:
                return fn(session)
        job = _Job(fn)
        with self._group_mutex:
            self._pending.append(job)
            lead = not self._leading
            self._leading = True
        if not lead:
            job.done.wait()
            if not job.lead:
                return cast(T, self._outcome(job))
            job.done.clear()
        self._lead_one_group()
        return cast(T, self._outcome(job))

    def _lead_one_group(self) -> None:
        batch: list[_Job] = []
        failed: BaseException | None = None
        try:
            with self.session(write=True) as session:
                with self._group_mutex:  # all that queued while the writer was busy
                    batch, self._pending = self._pending, []
                for job in batch:
                    savepoint = session.begin_nested()
                    try:
                        job.result = job.fn(session)
                        savepoint.commit()
                    except Exception as exc:  # this write alone is undone
                        savepoint.rollback()
                        job.error = exc
        except BaseException as exc:  # BEGIN or COMMIT failed: nothing of the group holds
            failed = exc
            if not batch:
                with self._group_mutex:
                    batch, self._pending = self._pending, []
        for job in batch:
            if failed is not None and job.error is None:
                job.error = failed
            job.done.set()
        with self._group_mutex:  # hand the lead to the first write that came meanwhile
            if self._pending:
                self._pending[0].lead = True
                self._pending[0].done.set()
            else:
                self._leading = False

    @staticmethod
    def _outcome(job: _Job) -> Any:
        if job.error is not None:
            raise job.error
        return job.result

    def dispose(self) -> None:
        self.engine.dispose()
