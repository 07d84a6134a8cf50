"""``LOOPWISE_SQLITE_SYNCHRONOUS`` reaches every SQLite connection the server opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopwise.app import create_app
from loopwise.core.errors import InvalidInput
from loopwise.core.settings import Settings


@pytest.mark.parametrize(("mode", "pragma_value"), [("NORMAL", 1), ("FULL", 2), (None, 2)])
def test_synchronous_setting_applies(tmp_path: Path, mode: str | None, pragma_value: int) -> None:
    """None: the default, FULL (every commit synced)."""
    chosen = {"sqlite_synchronous": mode} if mode else {}
    settings = Settings(home=tmp_path, verdict_refresh_seconds=0, **chosen)
    app = create_app(settings, sweep=False)
    db = app.state.loopwise.db
    try:
        for write in (False, True):
            with db.session(write=write) as session:
                value = session.connection().exec_driver_sql("PRAGMA synchronous").scalar()
                assert value == pragma_value
    finally:
        db.dispose()


def test_unknown_synchronous_mode_is_refused() -> None:
    from loopwise.db.engine import make_engine

    with pytest.raises(InvalidInput, match="NORMAL, FULL"):
        make_engine("sqlite:///unused.db", sqlite_synchronous="OFF")
