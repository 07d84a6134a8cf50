"""The stored audit trail, on both stores: appends in the caller's transaction, serialized
under concurrent writers, and verify naming an edited, deleted or reordered row."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopwise.audit import chain, export, service
from loopwise.audit.chain import BreakKind
from loopwise.audit.tables import AuditEntryRow
from loopwise.core.clock import FrozenClock
from loopwise.core.context import Actor
from loopwise.core.errors import PermissionDenied
from loopwise.core.settings import Settings
from loopwise.web.state import AppState

ADMIN = Actor(user_id="usr_admin", username="admin", is_admin=True)
USER = Actor(user_id="usr_plain", username="plain")


@pytest.fixture
def state(app: object) -> AppState:
    found: AppState = app.state.loopwise  # type: ignore[attr-defined]
    return found


def _append(state: AppState, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        with state.context(ADMIN, write=True) as ctx:
            service.record(ctx, "thing.change", f"thing:th_{i}", reason=f"r{i}", payload={"i": i})


def _verify(state: AppState) -> chain.Verification:
    with state.context(ADMIN, write=False) as ctx:
        return service.verify(ctx.session, batch=3)  # several fetches even for few rows


def _sql(state: AppState, statement: str) -> None:
    with state.db.engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_entries_chain_and_keep_only_the_payloads_digest(
    state: AppState, clock: FrozenClock
) -> None:
    _append(state, 3)
    clock.advance(timedelta(seconds=1))
    with state.context(USER, write=True) as ctx:
        entry = service.record(ctx, "item.move", "item:itm_1", outcome="refused", payload=None)
    assert (entry.seq, entry.actor, entry.outcome, entry.time) == (
        4,
        "usr_plain",
        "refused",
        clock.now(),
    )
    found = _verify(state)
    assert (found.ok, found.checked, found.last_seq, found.last_hash) == (True, 4, 4, entry.hash)
    with state.context(ADMIN, write=False) as ctx:
        stored = list(service.entries(ctx.session))
        assert service.head(ctx.session) == entry
    assert stored[0].previous_hash == chain.GENESIS
    assert stored[1].payload_digest == chain.payload_digest({"i": 1})
    assert all(b.previous_hash == a.hash for a, b in zip(stored, stored[1:], strict=False))
    with state.db.engine.connect() as conn:  # no column holds the payload itself
        columns = {c["name"] for c in sa.inspect(conn).get_columns("audit_entries")}
    assert "payload" not in columns


def test_a_use_case_that_rolls_back_leaves_no_entry(state: AppState) -> None:
    _append(state, 1)
    with pytest.raises(RuntimeError), state.context(ADMIN, write=True) as ctx:
        service.record(ctx, "thing.change", "thing:th_x")
        raise RuntimeError("the use case fails after recording")
    _append(state, 1, start=1)
    found = _verify(state)
    assert (found.ok, found.checked) == (True, 2)


def test_an_append_in_a_stale_read_transaction_fails_and_never_forks(state: AppState) -> None:
    """SQLite: a read transaction that appends after another writer went first is refused
    by SQLite itself. PostgreSQL: the advisory lock makes it wait, then it links on."""
    _append(state, 1)
    with state.context(ADMIN, write=False) as reader:
        assert service.head(reader.session) is not None  # the snapshot starts here
        _append(state, 1, start=1)  # another writer commits meanwhile
        if state.db.is_sqlite:
            with pytest.raises(sa.exc.OperationalError):
                service.record(reader, "thing.change", "thing:late")
        else:
            assert service.record(reader, "thing.change", "thing:late").seq == 3
    found = _verify(state)
    assert found.ok and found.checked == (2 if state.db.is_sqlite else 3)


def test_concurrent_writers_never_fork_the_chain(settings: Settings, clock: FrozenClock) -> None:
    """Threads, each with its own sessions (and, on SQLite, its own Database object, as
    another process would have), append at once: seqs 1..N with no gap or repeat."""
    from loopwise.app import create_app

    apps = [create_app(settings, clock=clock, sweep=False) for _ in range(3)]
    states: list[AppState] = [a.state.loopwise for a in apps]
    threads_per_app, each = 2, 15
    errors: list[BaseException] = []
    start = threading.Barrier(len(states) * threads_per_app)

    def write(state: AppState, worker: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with state.context(ADMIN, write=True) as ctx:
                    service.record(ctx, "thing.change", f"thing:w{worker}_{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(s, n * threads_per_app + t))
        for n, s in enumerate(states)
        for t in range(threads_per_app)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        total = len(threads) * each
        with states[0].db.engine.connect() as conn:
            seqs = conn.execute(sa.text("SELECT seq FROM audit_entries ORDER BY seq")).scalars()
            assert list(seqs) == list(range(1, total + 1))
        found = _verify(states[0])
        assert (found.ok, found.checked) == (True, total)
    finally:
        for s in states:
            s.db.dispose()


@pytest.fixture
def chain_of_six(state: AppState) -> Iterator[AppState]:
    _append(state, 6)
    assert _verify(state).ok
    yield state


def test_verify_names_a_stored_row_that_was_edited(chain_of_six: AppState) -> None:
    _sql(chain_of_six, "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 4")
    broken = _verify(chain_of_six).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.EDITED, 4)


def test_verify_names_an_edited_time(chain_of_six: AppState) -> None:
    """The timestamp readers see and the text the hash covers must agree."""
    table = AuditEntryRow.__table__
    with chain_of_six.db.engine.begin() as conn:
        moved = conn.execute(sa.select(table.c.time).where(table.c.seq == 3)).scalar_one()
        conn.execute(table.update().where(table.c.seq == 3).values(time=moved + timedelta(hours=1)))
    broken = _verify(chain_of_six).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.EDITED, 3)


def test_verify_names_a_deleted_row(chain_of_six: AppState) -> None:
    _sql(chain_of_six, "DELETE FROM audit_entries WHERE seq = 3")
    broken = _verify(chain_of_six).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.DELETED, 3)


def test_verify_names_two_rows_swapped(chain_of_six: AppState) -> None:
    """Swap the seqs of entries 2 and 5 (through a free seq: seq is unique)."""
    for statement in (
        "UPDATE audit_entries SET seq = 1000 WHERE seq = 2",
        "UPDATE audit_entries SET seq = 2 WHERE seq = 5",
        "UPDATE audit_entries SET seq = 5 WHERE seq = 1000",
    ):
        _sql(chain_of_six, statement)
    broken = _verify(chain_of_six).broken
    assert broken is not None and broken.seq == 2
    assert broken.kind in (BreakKind.EDITED, BreakKind.REORDERED)


def test_the_log_is_for_workspace_admins_and_filters(state: AppState) -> None:
    _append(state, 4)
    with state.context(USER, write=True) as ctx:
        service.record(ctx, "item.move", "thing:th_1")
    with state.context(ADMIN, write=False) as ctx:
        assert [e.seq for e in service.log(ctx, object="thing:th_1")] == [5, 2]
        assert [e.seq for e in service.log(ctx, actor="usr_plain")] == [5]
        assert [e.seq for e in service.log(ctx, limit=2, before_seq=4)] == [3, 2]
    with pytest.raises(PermissionDenied), state.context(USER, write=False) as ctx:
        service.log(ctx)


def test_an_export_verifies_offline_against_a_signed_checkpoint(
    state: AppState, tmp_path: Path, clock: FrozenClock
) -> None:
    _append(state, 5)
    with state.context(ADMIN, write=False) as ctx:
        lines = [export.entry_line(e) for e in service.entries(ctx.session)]
        last = service.head(ctx.session)
    assert last is not None
    key = chain.generate_key()
    signed = chain.sign_checkpoint(key, last.seq, last.hash, clock.now())
    found = chain.verify_checkpoint(key.public_key(), signed, export.read_lines(lines))
    assert (found.ok, found.checked) == (True, 5)
    lines[2] = lines[2].replace('"reason":"r2"', '"reason":"r9"')
    broken = chain.verify_checkpoint(key.public_key(), signed, export.read_lines(lines)).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.EDITED, 3)
    cut = chain.verify_checkpoint(key.public_key(), signed, export.read_lines(lines[:3]))
    assert cut.broken is not None
    garbled = export.read_lines([lines[0], "not json\n"])
    bad = chain.verify(garbled).broken
    assert bad is not None and (bad.kind, bad.position) == (BreakKind.MALFORMED, 1)
