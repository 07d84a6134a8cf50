"""Small writes on the calling thread (``Database.session_now``), and the way back to the
waiting path whenever someone else holds SQLite's write lock.

``session_now`` must never wait: not for a writer in this process, not for one in another
process (another connection to the same file stands in for it here). The MLflow per-call
endpoints use it, and fall back to a worker thread that waits its turn.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from loopwise.app import create_app
from loopwise.core.settings import Settings
from loopwise.db.engine import Database

API = "/api/2.0/mlflow"


def _hold_file_lock(path: Path) -> sqlite3.Connection:
    """Another process's writer: a connection of its own in a write transaction."""
    other = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def _count(db: Database) -> int:
    with db.session(write=False) as session:
        return int(session.execute(text("SELECT count(*) FROM params")).scalar_one())


@pytest.mark.store
def test_session_now_writes_when_the_lock_is_free(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.session_now() as session:
            if not db.is_sqlite:  # PostgreSQL has no write lock to skip the queue for
                assert session is None
                return
            assert session is not None
            session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            session.execute(text("INSERT INTO probe VALUES (1)"))
        with db.session(write=False) as session:  # committed on leaving the block
            assert session.execute(text("SELECT count(*) FROM probe")).scalar_one() == 1
        with pytest.raises(RuntimeError), db.session_now() as session:
            assert session is not None
            session.execute(text("INSERT INTO probe VALUES (2)"))
            raise RuntimeError("use case failed")
        with db.session(write=False) as session:  # rolled back
            assert session.execute(text("SELECT count(*) FROM probe")).scalar_one() == 1
    finally:
        db.dispose()


def test_session_now_does_not_wait_for_a_writer_in_this_process(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    inside, leave = threading.Event(), threading.Event()

    def writer() -> None:
        with db.session(write=True) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(30)
        with db.session_now() as session:
            assert session is None
    finally:
        leave.set()
        thread.join()
    with db.session_now() as session:  # free again
        assert session is not None
    db.dispose()


def test_session_now_does_not_wait_for_another_process(tmp_path: Path) -> None:
    """The other writer lets go a moment later: a waiting begin would get the lock then
    and return a session; session_now must have given up at once."""
    path = tmp_path / "x.db"
    db = Database(f"sqlite:///{path}")
    with db.session(write=True) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    other = _hold_file_lock(path)
    release = threading.Timer(1.0, other.commit)
    release.start()
    try:
        with db.session_now() as session:
            assert session is None
    finally:
        release.join()
        other.close()
    with db.session_now() as session:  # the connection it tried is fine afterwards
        assert session is not None
        session.execute(text("INSERT INTO t VALUES (1)"))
    with db.session(write=True) as session:  # and the normal busy timeout is back
        assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 30_000
    db.dispose()


def test_mlflow_log_calls_queue_while_another_process_writes(tmp_path: Path) -> None:
    """log-param while another process holds the file: it waits on a worker thread (the
    event loop stays free to answer) and lands once the other writer commits."""
    app = create_app(Settings(home=tmp_path, verdict_refresh_seconds=0), sweep=False)
    api = TestClient(app, base_url="http://127.0.0.1")
    exp = api.post(f"{API}/experiments/create", json={"name": "busy"}).json()["experiment_id"]
    run = api.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
    db: Database = app.state.loopwise.db
    before = _count(db)
    other = _hold_file_lock(tmp_path / "loopwise.db")
    result: dict[str, int] = {}

    def log() -> None:
        body = {"run_id": run["run_id"], "key": "lr", "value": "0.1"}
        result["status"] = api.post(f"{API}/runs/log-parameter", json=body).status_code

    thread = threading.Thread(target=log)
    thread.start()
    try:
        # While the parameter waits for the lock, other requests are still answered.
        assert api.get("/api/v1/health").status_code == 200
        assert "status" not in result  # still waiting: the other writer holds the file
    finally:
        other.commit()
        other.close()
        thread.join(60)
    assert result == {"status": 200}
    assert _count(db) == before + 1
    db.dispose()
