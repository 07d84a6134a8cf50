"""The root command: settings, ``db``, ``serve``, and the installed console script."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from cli_testing import CliCall, assert_one_line_error
from typer.testing import CliRunner

import loopwise
from loopwise.cli import app

SCRIPT = Path(sys.executable).parent / "loopwise"


def test_console_script_help() -> None:
    """End to end through the installed ``loopwise`` script (pyproject's console script)."""
    result = subprocess.run(
        [str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("serve", "demo", "db", "project", "hypothesis", "item", "run", "user"):
        assert command in result.stdout


def test_version_and_no_arguments() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"loopwise {loopwise.__version__}"
    assert "Usage" in runner.invoke(app, []).output


def test_flags_override_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_db = tmp_path / "env.db"
    flag_db = tmp_path / "flag.db"
    monkeypatch.setenv("LOOPWISE_DATABASE_URL", f"sqlite:///{env_db}")
    monkeypatch.setenv("LOOPWISE_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    assert runner.invoke(app, ["project", "create", "ENV", "From env"]).exit_code == 0
    result = runner.invoke(
        app, ["--database-url", f"sqlite:///{flag_db}", "project", "create", "FLAG", "From flag"]
    )
    assert result.exit_code == 0
    assert env_db.exists() and flag_db.exists()
    listed = runner.invoke(app, ["project", "list", "--json"]).stdout
    assert "ENV" in listed and "FLAG" not in listed


def test_bad_settings_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPWISE_PORT", "lots")
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "project", "list"])
    assert_one_line_error(result, 2, "invalid settings", "port")
    monkeypatch.delenv("LOOPWISE_PORT")
    result = CliRunner().invoke(app, ["--database-url", "mysql://x/y", "project", "list"])
    assert_one_line_error(result, 2, "unsupported database")


def test_db_upgrade_keeps_data(cli: CliCall) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    current = cli.json("db", "current")
    assert current["up_to_date"] is True and current["current"] == current["head"]
    upgraded = cli.json("db", "upgrade")
    assert upgraded == {"before": current["head"], "after": current["head"], "copy": None}
    assert "already at revision" in cli.ok("db", "upgrade").stdout
    assert [p["key"] for p in cli.json("project", "list")] == ["CHURN"]


def _out_of_date_database(tmp_path: Path) -> str:
    """A SQLite database migrated to head, then stripped of its revision stamp."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert CliRunner().invoke(app, ["--database-url", url, "db", "upgrade"]).exit_code == 0
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
    engine.dispose()
    return url


def test_out_of_date_database_is_refused(tmp_path: Path) -> None:
    url = _out_of_date_database(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(tmp_path), "--database-url", url, "project", "list"])
    assert_one_line_error(result, 7, "loopwise db upgrade")
    result = runner.invoke(app, ["--home", str(tmp_path), "--database-url", url, "serve"])
    assert_one_line_error(result, 7, "loopwise db upgrade")
    current = runner.invoke(app, ["--database-url", url, "db", "current"])
    assert current.exit_code == 0 and "out of date" in current.stdout


def test_fresh_upgrade_reports_revisions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = CliRunner().invoke(app, ["--database-url", url, "db", "upgrade"])
    assert result.exit_code == 0
    assert "database upgraded: empty ->" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("access_log", [False, True])
def test_serve_answers_on_the_given_port(tmp_path: Path, access_log: bool) -> None:
    """The server answers; one line per request only with --access-log (a training loop
    sends thousands of requests)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPWISE_")}
    flags = ["--access-log"] if access_log else []
    proc = subprocess.Popen(
        [str(SCRIPT), "--home", str(tmp_path / "home"), "serve", "--port", str(port), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.communicate(timeout=5)) from None
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}" in err
    assert ('"GET /api/v1/health HTTP/1.1" 200' in out) is access_log, out


def test_serve_freezes_what_startup_built() -> None:
    """``serve`` moves the objects that exist once the app is built out of the collector's
    reach (gc.freeze), so a full collection during a request walks only request garbage."""
    from loopwise.cli import _settle_heap

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        _settle_heap()
        assert gc.get_freeze_count() > 10_000  # the imported modules, at least
        assert gc.get_count()[0] < 50  # and the young generation starts empty
    finally:
        gc.unfreeze()
