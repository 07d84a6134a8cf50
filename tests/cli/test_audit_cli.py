"""``loopwise audit``: verify, log, export, keygen, checkpoint, verify-checkpoint (offline
with ``--entries``, with no database at all)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from cli_testing import CliCall, assert_one_line_error


def test_audit_commands_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'loopwise.db'}"
    cli = CliCall(home, url)
    cli.ok("project", "create", "ONE", "One")
    cli.ok("project", "create", "TWO", "Two")

    verified = cli.ok("audit", "verify")
    assert "OK" in verified.stdout and "5 entries verified" in verified.stdout
    report = cli.json("audit", "verify")
    assert report["ok"] is True and report["checked"] == 5 and report["last_seq"] == 5

    log = cli.json("audit", "log", "--action", "project.create")
    assert [e["seq"] for e in log] == [4, 2]
    assert "member.role:admin" in cli.ok("audit", "log").stdout

    key, public = tmp_path / "audit.pem", tmp_path / "audit-public.pem"
    cli.ok("audit", "keygen", "--out", str(key), "--public-out", str(public))
    assert key.stat().st_mode & 0o777 == 0o600
    assert_one_line_error(
        cli("audit", "keygen", "--out", str(key), "--public-out", str(public)), 2, "exists"
    )
    checkpoint = tmp_path / "checkpoint.json"
    cli.ok("audit", "checkpoint", "--key", str(key), "--out", str(checkpoint))
    assert json.loads(checkpoint.read_text())["seq"] == 5
    exported = tmp_path / "entries.jsonl"
    cli.ok("audit", "export", str(exported))
    assert len(exported.read_text().splitlines()) == 5

    check = ("audit", "verify-checkpoint", str(checkpoint), "--public-key", str(public))
    assert "checkpoint seq 5 holds" in cli.ok(*check).stdout
    # offline: a database URL that names nothing; no database is opened or created
    nowhere = tmp_path / "nowhere" / "none.db"
    offline = CliCall(tmp_path / "home2", f"sqlite:///{nowhere}")
    assert "OK" in offline.ok(*check, "--entries", str(exported)).stdout
    assert not nowhere.exists()

    # a tampered export, and a tampered store, fail naming the seq
    lines = exported.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"outcome":"ok"', '"outcome":"refused"')
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("".join(lines))
    failed = offline(*check, "--entries", str(tampered))
    assert failed.exit_code == 1 and "BROKEN at seq 3 (edited)" in failed.stderr

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entries WHERE seq = 2"))
    engine.dispose()
    broken = cli("audit", "verify")
    assert broken.exit_code == 1 and "BROKEN at seq 2 (deleted)" in broken.stderr
    assert cli(*check).exit_code == 1
    refused = cli("audit", "checkpoint", "--key", str(key), "--out", str(tmp_path / "c2.json"))
    assert refused.exit_code == 1 and not (tmp_path / "c2.json").exists()
