"""The bounded verification the audit log page shows (``service.verify_recent``): the
newest entries and their links, on both stores."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from loopwise.audit import service
from loopwise.core.context import Actor
from loopwise.core.errors import InvalidInput, PermissionDenied
from loopwise.web.state import AppState

ADMIN = Actor(user_id="usr_admin", username="admin", is_admin=True)
USER = Actor(user_id="usr_plain", username="plain")


@pytest.fixture
def state(app: object) -> AppState:
    found: AppState = app.state.loopwise  # type: ignore[attr-defined]
    for i in range(8):
        with found.context(ADMIN, write=True) as ctx:
            service.record(ctx, "thing.change", f"thing:th_{i}", payload={"i": i})
    return found


def _recent(state: AppState, last: int) -> service.VerifyReport:
    with state.context(ADMIN, write=False) as ctx:
        return service.verify_recent(ctx, last)


def _sql(state: AppState, statement: str) -> None:
    with state.db.engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_the_newest_entries_verify_and_an_edit_among_them_is_named(state: AppState) -> None:
    with state.context(ADMIN, write=False) as ctx:
        whole = service.verify_report(ctx)
    assert whole.ok and whole.last_seq == 8
    recent = _recent(state, 3)
    assert (recent.ok, recent.checked, recent.last_seq) == (True, 3, 8)
    assert _recent(state, 100) == whole  # a bound past the start walks it all
    _sql(state, "UPDATE audit_entries SET reason = 'x' WHERE seq = 2")
    assert _recent(state, 3).ok  # before the window: only the whole walk sees it
    _sql(state, "UPDATE audit_entries SET reason = 'x' WHERE seq = 7")
    broken = _recent(state, 3)
    assert (broken.ok, broken.broken_seq, broken.broken_kind) == (False, 7, "edited")


def test_a_deleted_first_entry_of_the_window_is_named(state: AppState) -> None:
    _sql(state, "DELETE FROM audit_entries WHERE seq = 6")
    broken = _recent(state, 3)
    assert not broken.ok and broken.broken_seq == 6


def test_only_admins_and_a_positive_bound(state: AppState) -> None:
    with pytest.raises(InvalidInput), state.context(ADMIN, write=False) as ctx:
        service.verify_recent(ctx, 0)
    with pytest.raises(PermissionDenied), state.context(USER, write=False) as ctx:
        service.verify_recent(ctx, 5)
