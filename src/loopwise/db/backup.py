"""Backups of the whole store, the database and the artifacts, taken while the server runs.

A backup is a folder:

- ``manifest.json``: format, store, schema revision, time, rows per table, and every
  artifact's size and SHA-256;
- ``database.sqlite`` (SQLite stores): a copy made with SQLite's online backup API, which
  reads one consistent snapshot while writers go on (WAL);
- ``tables/<table>.copy.gz`` (PostgreSQL stores): each table in ``COPY`` text format, all
  read in one ``REPEATABLE READ`` transaction, so the tables agree with each other. It
  needs only the rights the server already has (SELECT), no superuser and no ``pg_dump``;
- ``artifacts/``: the artifact root, copied *after* the database snapshot. Files appear
  atomically (written aside, then renamed), so every artifact the snapshot can name is in
  the copy; files that arrive later may be in it too, which is harmless. Names starting
  with a dot are unfinished uploads and are left out, as the artifact listings do.

The folder is written next to its destination under a temporary name and renamed when
complete, so a backup that exists is whole. ``restore`` fills an *empty* database and
artifact root from such a folder, checking every artifact's SHA-256 and every table's
row count; on any failure it removes what it wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

import loopwise
from loopwise.core.errors import Conflict, InvalidInput
from loopwise.core.progress import QuietReporter, Reporter
from loopwise.db.engine import make_engine
from loopwise.db.migrate import current_revision, upgrade

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
TABLES = "tables"
ARTIFACTS = "artifacts"
_CHUNK = 1024 * 1024
_SKIP_TABLES = frozenset({"alembic_version"})


@dataclass(frozen=True)
class Manifest:
    store: str  # "sqlite" or "postgresql"
    revision: str | None
    created_at: str
    tables: dict[str, int]  # rows per table
    columns: dict[str, list[str]]  # PostgreSQL: each table's COPY column order
    artifacts: dict[str, tuple[int, str]]  # posix path -> (bytes, sha256 hex)
    format: int = FORMAT
    loopwise_version: str = field(default=loopwise.__version__)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def artifact_bytes(self) -> int:
        return sum(size for size, _ in self.artifacts.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise InvalidInput(f"{folder} is not a Loopwise backup (no {MANIFEST})") from None
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidInput(f"{path}: unknown backup format {data.get('format')!r}")
        try:
            data["artifacts"] = {k: (int(v[0]), str(v[1])) for k, v in data["artifacts"].items()}
            return cls(**data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InvalidInput(f"{path}: damaged manifest ({exc})") from None


# --- SQLite's online backup -----------------------------------------------------------


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; None for other stores and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def copy_sqlite_file(source: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database, as one file (rollback journal mode).

    SQLite's backup API in one step: it reads a single snapshot, and under WAL writers in
    other connections go on meanwhile. The copy is checked with ``quick_check``."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise Conflict(f"the copy of {source} failed SQLite's check: {verdict}")
    finally:
        dst.close()
        src.close()


def copy_before_upgrade(database_url: str, now: datetime) -> Path | None:
    """Before ``db upgrade`` migrates a SQLite file, a copy of it beside the original.

    None for other stores, for a missing or empty file, and when nothing is to migrate
    (the caller checks the revision)."""
    path = sqlite_file(database_url)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    probe = sa.create_engine(f"sqlite:///{path}")
    try:
        revision = current_revision(probe)
    finally:
        probe.dispose()
    if revision is None:
        return None
    copy = path.with_name(f"{path.stem}-before-upgrade-from-{revision}-{now:%Y%m%dT%H%M%SZ}.db")
    copy_sqlite_file(path, copy)
    return copy


# --- taking a backup ------------------------------------------------------------------


def backup(
    database_url: str,
    artifact_root: Path,
    dest: Path,
    *,
    now: datetime,
    reporter: Reporter | None = None,
) -> Manifest:
    """Write a backup of the store at ``database_url`` and ``artifact_root`` to ``dest``."""
    report = reporter or QuietReporter()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{dest} already exists and is not an empty folder")
    work = dest.with_name(f".{dest.name}.partial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    engine = make_engine(database_url)
    try:
        if engine.dialect.name == "sqlite":
            store, revision, tables, columns = _backup_sqlite(database_url, work, report)
        else:
            store, revision, tables, columns = _backup_postgresql(engine, work, report)
        artifacts = _copy_artifacts(artifact_root, work / ARTIFACTS, report, expected=None)
        manifest = Manifest(
            store=store,
            revision=revision,
            created_at=now.isoformat(),
            tables=tables,
            columns=columns,
            artifacts=artifacts,
        )
        (work / MANIFEST).write_text(manifest.to_json())
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        engine.dispose()


def _backup_sqlite(
    url: str, work: Path, report: Reporter
) -> tuple[str, str | None, dict[str, int], dict[str, list[str]]]:
    source = sqlite_file(url)
    if source is None or not source.exists():
        raise InvalidInput(f"no SQLite database at {url}")
    report.info(f"copying {source} with SQLite's online backup")
    target = work / SQLITE_FILE
    copy_sqlite_file(source, target)
    copy = sa.create_engine(f"sqlite:///{target}")
    try:
        return "sqlite", current_revision(copy), _row_counts(copy), {}
    finally:
        copy.dispose()


def _user_tables(engine: Engine | sa.Connection) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    return [t for t in metadata.sorted_tables if t.name not in _SKIP_TABLES]


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in _user_tables(conn)
        }


def _backup_postgresql(
    engine: Engine, work: Path, report: Reporter
) -> tuple[str, str | None, dict[str, int], dict[str, list[str]]]:
    folder = work / TABLES
    folder.mkdir()
    snapshot = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    tables: dict[str, int] = {}
    columns: dict[str, list[str]] = {}
    with snapshot.connect() as conn, conn.begin():
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        user_tables = _user_tables(conn)
        advance = report.task("tables", len(user_tables))
        raw = conn.connection.driver_connection
        assert raw is not None  # None only once the pool has invalidated the connection
        cursor = raw.cursor()
        for table in user_tables:
            names = [c.name for c in table.columns]
            tables[table.name] = conn.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            columns[table.name] = names
            statement = f"COPY {_quoted(table.name)} ({_column_list(names)}) TO STDOUT"
            with (
                gzip.open(folder / f"{table.name}.copy.gz", "wb") as out,
                cursor.copy(statement) as copy,
            ):
                for block in copy:
                    out.write(block)
            advance(1)
        cursor.close()
    return "postgresql", revision, tables, columns


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_list(names: list[str]) -> str:
    return ", ".join(_quoted(n) for n in names)


def _files(root: Path) -> list[tuple[Path, PurePosixPath]]:
    """Every finished file under ``root`` (names starting with a dot are left out)."""
    found: list[tuple[Path, PurePosixPath]] = []
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append((path, PurePosixPath(path.relative_to(root).as_posix())))
    return found


def _copy_artifacts(
    source: Path,
    dest: Path,
    report: Reporter,
    *,
    expected: dict[str, tuple[int, str]] | None,
) -> dict[str, tuple[int, str]]:
    """Copy the files under ``source`` to ``dest`` hashing them on the way; with
    ``expected``, copy exactly those and refuse any whose size or SHA-256 differs."""
    if expected is None:
        files = _files(source)
    else:
        files = [(source / rel, PurePosixPath(rel)) for rel in sorted(expected)]
    total = sum(path.stat().st_size for path, _ in files if path.exists())
    advance = report.task(f"artifacts ({len(files)} files)", max(total, 1))
    copied: dict[str, tuple[int, str]] = {}
    for path, rel in files:
        if ".." in rel.parts or rel.is_absolute():
            raise InvalidInput(f"backup names an artifact outside its folder: {rel}")
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("rb") as src, target.open("wb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                    advance(len(chunk))
        except FileNotFoundError:
            if expected is None:  # deleted while we copied: not part of the backup
                target.unlink(missing_ok=True)
                continue
            raise InvalidInput(f"the backup lacks artifact {rel}") from None
        shutil.copystat(path, target)
        copied[str(rel)] = (size, digest.hexdigest())
        if expected is not None and copied[str(rel)] != tuple(expected[str(rel)]):
            raise Conflict(f"artifact {rel} in the backup does not match its SHA-256")
    return copied


# --- restoring ------------------------------------------------------------------------


def restore(
    source: Path,
    database_url: str,
    artifact_root: Path,
    *,
    reporter: Reporter | None = None,
) -> Manifest:
    """Fill an empty database and artifact root from the backup folder ``source``."""
    report = reporter or QuietReporter()
    manifest = Manifest.read(source)
    engine = make_engine(database_url)
    try:
        if engine.dialect.name != manifest.store:
            raise InvalidInput(
                f"this backup is of a {manifest.store} store; the target is "
                f"{engine.dialect.name}: restore it into a {manifest.store} database"
            )
        if sa.inspect(engine).get_table_names():
            raise Conflict("the target database is not empty: restore fills only an empty database")
        if artifact_root.exists() and _files(artifact_root):
            raise Conflict(f"the artifact folder {artifact_root} is not empty")
        try:
            if manifest.store == "sqlite":
                _restore_sqlite(source, database_url, engine)
            else:
                _restore_postgresql(source, manifest, engine, report)
            counts = _row_counts(engine)
            if counts != manifest.tables:
                wrong = sorted(t for t in manifest.tables if counts.get(t) != manifest.tables[t])
                raise Conflict(f"restored row counts differ from the backup's in {wrong}")
            _copy_artifacts(source / ARTIFACTS, artifact_root, report, expected=manifest.artifacts)
        except BaseException:
            _undo(database_url, engine, artifact_root, manifest)
            raise
        return manifest
    finally:
        engine.dispose()


def _restore_sqlite(source: Path, database_url: str, engine: Engine) -> None:
    target = sqlite_file(database_url)
    assert target is not None  # the store check above saw a SQLite URL
    engine.dispose()  # no pooled connection may hold the (empty) file open
    copy = source / SQLITE_FILE
    if not copy.is_file():
        raise InvalidInput(f"the backup lacks {SQLITE_FILE}")
    src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _restore_postgresql(source: Path, manifest: Manifest, engine: Engine, report: Reporter) -> None:
    if manifest.revision is None:
        raise InvalidInput("the backup names no schema revision")
    upgrade(engine, manifest.revision)  # the schema as it was, then the rows
    with engine.connect() as conn, conn.begin():
        tables = [t for t in _user_tables(conn) if t.name in manifest.tables]
        advance = report.task("tables", len(tables))
        raw = conn.connection.driver_connection
        assert raw is not None  # None only once the pool has invalidated the connection
        cursor = raw.cursor()
        for table in tables:
            path = source / TABLES / f"{table.name}.copy.gz"
            names = manifest.columns[table.name]
            statement = f"COPY {_quoted(table.name)} ({_column_list(names)}) FROM STDIN"
            with gzip.open(path, "rb") as data, cursor.copy(statement) as copy:
                while chunk := data.read(_CHUNK):
                    copy.write(chunk)
            advance(1)
        cursor.close()
        _reset_sequences(conn, tables)


def _reset_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Serial ids continue after the restored rows, not from 1."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": _quoted(table.name), "c": column.name},
            ).scalar()
            if sequence is None:
                continue
            conn.execute(
                sa.text(
                    f"SELECT setval(:s, COALESCE(MAX({_quoted(column.name)}), 1), "
                    f"MAX({_quoted(column.name)}) IS NOT NULL) FROM {_quoted(table.name)}"
                ),
                {"s": sequence},
            )


def _undo(database_url: str, engine: Engine, artifact_root: Path, manifest: Manifest) -> None:
    """Take back a failed restore: the target was empty before it began."""
    for rel in manifest.artifacts:
        (artifact_root / rel).unlink(missing_ok=True)
    if artifact_root.is_dir():  # the folders those files made, deepest first
        for folder, _dirs, _names in sorted(os.walk(artifact_root), reverse=True):
            if Path(folder) != artifact_root and not any(Path(folder).iterdir()):
                Path(folder).rmdir()
    path = sqlite_file(database_url)
    engine.dispose()
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    metadata = sa.MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)


def describe(manifest: Manifest) -> dict[str, Any]:
    """What a backup holds, for the CLI's JSON output."""
    return {
        "store": manifest.store,
        "revision": manifest.revision,
        "created_at": manifest.created_at,
        "tables": len(manifest.tables),
        "rows": manifest.rows,
        "artifacts": len(manifest.artifacts),
        "artifact_bytes": manifest.artifact_bytes,
    }
