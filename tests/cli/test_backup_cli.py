"""``loopwise backup``, ``restore`` and the copy ``db upgrade`` makes first (SQLite: the
library tests in tests/db cover both stores)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from cli_testing import CliCall, assert_one_line_error

from loopwise.db.engine import make_engine
from loopwise.db.migrate import current_revision, upgrade


def test_cli_backup_restore_and_upgrade_copy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'loopwise.db'}"
    cli = CliCall(home, url)
    cli.ok("project", "create", "CLI", "Backed up")
    (home / "artifacts" / "x").mkdir(parents=True)
    (home / "artifacts" / "x" / "a.txt").write_text("hello")

    out = cli.json("backup", str(tmp_path / "bk"))
    assert out["store"] == "sqlite" and out["artifacts"] == 1 and out["rows"] > 0

    target = CliCall(tmp_path / "home2", f"sqlite:///{tmp_path / 'home2' / 'loopwise.db'}")
    result = target.ok("restore", str(tmp_path / "bk"))
    assert "restored from" in result.stdout
    assert "CLI" in target.ok("project", "list").stdout
    assert (tmp_path / "home2" / "artifacts" / "x" / "a.txt").read_text() == "hello"

    assert_one_line_error(target("restore", str(tmp_path / "bk")), 4, "not empty")
    assert_one_line_error(target("restore", str(tmp_path)), 2, "not a Loopwise backup")


def test_cli_upgrade_copies_a_sqlite_file_first(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO projects (id, key, name, description, phase, charter, "
                "next_item_number, cycle_days, created_at, updated_at) VALUES ('prj_1', "
                "'OLD', 'Old', '', 'modeling', '{}', 1, 21, '2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()

    result = CliCall(tmp_path, f"sqlite:///{path}").ok("db", "upgrade", "--json")

    copy = Path(json.loads(result.stdout)["copy"])
    assert copy.parent == tmp_path and "before-upgrade-from-0004" in copy.name
    assert f"copied the database to {copy}" in " ".join(result.stderr.split())
    old = make_engine(f"sqlite:///{copy}")
    try:
        assert current_revision(old) == "0004"
        with old.connect() as conn:
            assert conn.execute(sa.text("SELECT key FROM projects")).scalars().all() == ["OLD"]
    finally:
        old.dispose()
