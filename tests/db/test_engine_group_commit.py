"""Group commit (``Database.grouped``): writes that wait for SQLite's writer together share
one transaction and one COMMIT, each in its own SAVEPOINT; one failing write is undone
alone and raises to its own caller, the others are committed before anyone answers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loopwise.db.engine import Database


def _values(db: Database) -> list[int]:
    with db.session(write=False) as session:
        return [int(x) for x in session.execute(text("SELECT x FROM g ORDER BY x")).scalars()]


def test_concurrent_writes_share_commits_and_fail_alone(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    with db.session(write=True) as session:
        session.execute(text("CREATE TABLE g (x INTEGER PRIMARY KEY)"))
        session.execute(text("INSERT INTO g VALUES (0)"))
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _: commits.append(1))
    inside, leave = threading.Event(), threading.Event()
    outcomes: dict[int, object] = {}

    def blocker() -> None:  # holds the writer so that the others queue up as one group
        with db.session(write=True):
            inside.set()
            leave.wait(30)

    def write(x: int) -> None:
        def fn(session: Session) -> int:
            session.execute(text("INSERT INTO g VALUES (:x)"), {"x": x})
            return x

        try:
            outcomes[x] = db.grouped(fn)
        except IntegrityError as exc:
            outcomes[x] = exc

    hold = threading.Thread(target=blocker)
    hold.start()
    assert inside.wait(30)
    writers = [threading.Thread(target=write, args=(x,)) for x in (1, 2, 0, 3, 4)]
    for t in writers:
        t.start()
    while len(db._pending) < len(writers):  # all five wait for the writer
        time.sleep(0.01)
    leave.set()
    for t in [hold, *writers]:
        t.join(30)
    db.dispose()
    reopened = Database(f"sqlite:///{tmp_path / 'g.db'}")  # what reached the file
    try:
        assert _values(reopened) == [0, 1, 2, 3, 4]
        assert isinstance(outcomes.pop(0), IntegrityError)  # the duplicate, alone
        assert outcomes == {1: 1, 2: 2, 3: 3, 4: 4}
        assert len(commits) == 1  # one COMMIT for the group (the blocker wrote nothing)
    finally:
        reopened.dispose()


@pytest.mark.store
def test_grouped_write_commits_on_every_store(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.session(write=True) as session:
            session.execute(text("CREATE TABLE IF NOT EXISTS g (x INTEGER PRIMARY KEY)"))
        assert db.grouped(lambda s: s.execute(text("INSERT INTO g VALUES (7)")).rowcount) == 1
        with pytest.raises(IntegrityError):
            db.grouped(lambda s: s.execute(text("INSERT INTO g VALUES (7)")))
        assert _values(db) == [7]
    finally:
        with db.session(write=True) as session:  # the PostgreSQL database is the worker's
            session.execute(text("DROP TABLE IF EXISTS g"))
        db.dispose()
