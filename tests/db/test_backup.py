"""``backup`` and ``restore``: the whole store, on both backends, while a server writes.

The round trip compares every row of every table and every artifact's SHA-256. The live
test takes a backup while a client logs metric batches of a fixed size: since each batch
is one transaction, a consistent snapshot holds a whole number of batches.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from history_support import Snapshot, fill, lost_or_changed, snapshot

from loopwise import Client
from loopwise.core.errors import Conflict, InvalidInput
from loopwise.core.settings import Settings
from loopwise.db import backup as backups
from loopwise.db.engine import make_engine
from loopwise.db.migrate import current_revision, head_revision

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def _artifacts(root: Path) -> dict[str, bytes]:
    files = {
        "prj_1/run_1/model/weights.bin": bytes(range(256)) * 4096,  # 1 MiB, several chunks
        "prj_1/run_1/notes.txt": b"accuracy 0.97\n",
        "datasets/ab/ab12.parquet": b"PAR1" + b"\x00" * 100,
        "prj_2/run_9/empty.txt": b"",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / ".tmp").mkdir(exist_ok=True)
    (root / ".tmp" / "upload-in-flight").write_bytes(b"half")
    (root / "prj_1/run_1/.weights.bin.upload").write_bytes(b"half")
    return files


def _engine_snapshot(url: str) -> Snapshot:
    engine = make_engine(url)
    try:
        return snapshot(engine)
    finally:
        engine.dispose()


def test_round_trip_keeps_every_row_and_artifact(
    database_url: str, empty_twin_url: str, tmp_path: Path
) -> None:
    source_root, target_root = tmp_path / "artifacts", tmp_path / "restored-artifacts"
    files = _artifacts(source_root)
    engine = make_engine(database_url)
    fill(engine)
    before = snapshot(engine)
    engine.dispose()

    manifest = backups.backup(database_url, source_root, tmp_path / "bk", now=NOW)

    assert manifest.store == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    engine = make_engine(database_url)
    assert manifest.revision == head_revision(engine)
    engine.dispose()
    assert set(manifest.artifacts) == set(files)  # unfinished uploads are left out
    assert manifest.tables == {t: len(rows) for t, rows in before.rows.items()}
    assert not (tmp_path / ".bk.partial").exists()

    restored = backups.restore(tmp_path / "bk", empty_twin_url, target_root)

    assert restored == manifest
    after = _engine_snapshot(empty_twin_url)
    assert lost_or_changed(before, after) == []
    assert after == before
    assert _hashes(target_root) == _hashes(source_root) != {}
    assert _hashes(target_root) == {k: sha for k, (_n, sha) in manifest.artifacts.items()}
    engine = make_engine(empty_twin_url)
    try:
        assert current_revision(engine) == head_revision(engine)
        if not database_url.startswith("sqlite"):  # serial ids go on after the restored rows
            with engine.begin() as conn:
                ids = conn.execute(sa.text("SELECT max(id) FROM metrics")).scalar_one()
                new = conn.execute(
                    sa.text(
                        "INSERT INTO metrics (run_id, key, value, is_nan, step, timestamp) "
                        "SELECT run_id, 'x', 1, false, 0, timestamp FROM metrics LIMIT 1 "
                        "RETURNING id"
                    )
                ).scalar_one()
            assert new > ids
    finally:
        engine.dispose()


def test_backup_while_the_server_writes_is_one_snapshot(
    app: FastAPI,
    settings: Settings,
    live_server: object,
    empty_twin_url: str,
    tmp_path: Path,
) -> None:
    batch, sent, failed = 50, [0], []
    stop = threading.Event()
    with Client(live_server.url) as sdk:  # type: ignore[attr-defined]
        sdk.create_project("BK", "Backup under load")
        run = sdk.create_run("BK")
        sdk.upload_artifact(run.id, "first.txt", b"written before the backup")

        def write() -> None:
            try:
                _write()
            except Exception as exc:  # reported by the main thread
                failed.append(exc)

        def _write() -> None:
            step = 0
            while not stop.is_set():
                points = [
                    {
                        "key": "loss",
                        "value": "NaN" if i == 0 else 1 / (step + i + 1),
                        "step": step + i,
                    }
                    for i in range(batch)
                ]
                sdk.log_metrics(run.id, points)
                step += batch
                sent[0] = step

        writer = threading.Thread(target=write)
        writer.start()
        try:
            deadline = time.monotonic() + 30
            while sent[0] < 5 * batch and not failed and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not failed and sent[0] >= 5 * batch, (failed, sent)
            manifest = backups.backup(
                settings.resolved_database_url,
                settings.resolved_artifact_root,
                tmp_path / "live",
                now=NOW,
            )
        finally:
            stop.set()
            writer.join(timeout=30)
    assert not failed, failed

    backups.restore(tmp_path / "live", empty_twin_url, tmp_path / "restored")
    engine = make_engine(empty_twin_url)
    try:
        with engine.connect() as conn:
            count, top = conn.execute(
                sa.text("SELECT count(*), max(step) FROM metrics WHERE run_id = :r"),
                {"r": run.id},
            ).one()
            latest = conn.execute(
                sa.text("SELECT step FROM latest_metrics WHERE run_id = :r AND key = 'loss'"),
                {"r": run.id},
            ).scalar_one()
    finally:
        engine.dispose()
    assert count > 0 and count % batch == 0, count  # whole batches: one snapshot
    assert latest == top == count - 1  # the summary row agrees with the series
    assert manifest.tables["metrics"] == count
    assert any(k.endswith("first.txt") for k in manifest.artifacts)


def test_restore_refuses_a_store_that_is_not_empty(
    database_url: str, empty_twin_url: str, tmp_path: Path
) -> None:
    backups.backup(database_url, tmp_path / "none", tmp_path / "bk", now=NOW)
    with pytest.raises(Conflict, match="not empty"):
        backups.restore(tmp_path / "bk", database_url, tmp_path / "a")  # has tables
    root = tmp_path / "full"
    _artifacts(root)
    with pytest.raises(Conflict, match="not empty"):
        backups.restore(tmp_path / "bk", empty_twin_url, root)
    engine = make_engine(empty_twin_url)
    try:
        assert sa.inspect(engine).get_table_names() == []  # nothing was written
    finally:
        engine.dispose()


def test_restore_checks_artifacts_and_leaves_nothing_behind(
    database_url: str, empty_twin_url: str, tmp_path: Path
) -> None:
    _artifacts(tmp_path / "src")
    backups.backup(database_url, tmp_path / "src", tmp_path / "bk", now=NOW)
    (tmp_path / "bk/artifacts/prj_1/run_1/notes.txt").write_text("accuracy 0.99\n")

    with pytest.raises(Conflict, match="notes.txt.*SHA-256"):
        backups.restore(tmp_path / "bk", empty_twin_url, tmp_path / "dst")

    engine = make_engine(empty_twin_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    assert not [p for p in (tmp_path / "dst").rglob("*") if p.is_file()]


def test_backup_into_a_folder_with_files_is_refused(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "keep.txt").write_text("mine")
    with pytest.raises(Conflict, match="not an empty folder"):
        backups.backup(database_url, tmp_path / "a", tmp_path / "bk", now=NOW)
    assert [p.name for p in (tmp_path / "bk").iterdir()] == ["keep.txt"]
    with pytest.raises(InvalidInput, match="not a Loopwise backup"):
        backups.restore(tmp_path / "bk", database_url, tmp_path / "a")


def test_the_audit_chain_verifies_after_a_round_trip(
    database_url: str, empty_twin_url: str, tmp_path: Path
) -> None:
    from loopwise.audit import service as audit
    from loopwise.db.engine import Database

    source = Database(database_url)
    try:
        for i in range(25):
            with source.session(write=True) as session:
                audit.append(session, NOW, "usr_x", "thing.change", f"thing:{i}", reason="ü")
        with source.session(write=False) as session:
            head = audit.head(session)
    finally:
        source.dispose()
    backups.backup(database_url, tmp_path / "artifacts", tmp_path / "bk", now=NOW)
    backups.restore(tmp_path / "bk", empty_twin_url, tmp_path / "restored")
    target = Database(empty_twin_url)
    try:
        with target.session(write=False) as session:
            found = audit.verify(session)
        assert found.ok and found.checked == 25 and head is not None
        assert found.last_hash == head.hash
        with target.session(write=True) as session:  # the chain goes on after a restore
            assert audit.append(session, NOW, "usr_x", "thing.change", "thing:26").seq == 26
    finally:
        target.dispose()
