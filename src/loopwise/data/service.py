"""Dataset use cases: datasets, immutable versions, expectations, lineage links, leakage
checks and readiness.

Versions are content-addressed per dataset: registering bytes whose hash is already a
version of that dataset returns that version (``Registered.created`` is False). Uploaded
files are kept in the content store under ``<artifact_root>/datasets``; local paths and
DVC files are referenced where they are, not copied.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter
from sqlalchemy import func, select, update

from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.data import io
from loopwise.data.models import (
    DataFormat,
    Dataset,
    DatasetRole,
    DatasetVersion,
    LeakageCheck,
    PersonalData,
    Readiness,
    Registered,
    RunDataset,
    VersionMeta,
)
from loopwise.data.tables import (
    DatasetRow,
    DatasetVersionRow,
    ItemDatasetRow,
    LeakageCheckRow,
    RunDatasetRow,
)
from loopwise.numeric import leakage as nleak
from loopwise.numeric import profile as nprofile
from loopwise.planning.items import service as planning
from loopwise.projects import service as projects
from loopwise.projects.models import PermissionStatus
from loopwise.tracking import service as tracking

_PROFILE = TypeAdapter(list[nprofile.ColumnProfile])
_EXPECT = TypeAdapter(list[nprofile.ExpectationResult])
_LEAK = TypeAdapter(nleak.LeakageReport)
LEAKAGE_ROWS = 200_000


# --- datasets --------------------------------------------------------------------------


def _dataset(ctx: Context, row: DatasetRow, project_key: str) -> Dataset:
    latest = ctx.session.scalar(
        select(DatasetVersionRow.version)
        .where(DatasetVersionRow.dataset_id == row.id)
        .order_by(DatasetVersionRow.version.desc())
        .limit(1)
    )
    return Dataset(
        row.id,
        project_key,
        row.name,
        row.description,
        tuple(row.expectations),
        latest,
        row.created_at,
    )


def _dataset_row(ctx: Context, project_key: str, name: str, needed: Role) -> tuple[DatasetRow, str]:
    project = projects.resolve_project(ctx, project_key, needed)
    row = ctx.session.scalar(
        select(DatasetRow).where(DatasetRow.project_id == project.id, DatasetRow.name == name)
    )
    if row is None:
        raise NotFound(f"{project.key} has no dataset {name!r}")
    return row, project.key


def _check_expectations(expectations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Syntax check without data; columns are checked against each version's schema."""
    try:
        for e in expectations:
            nprofile.validate_expectation(e)
    except nprofile.ProfileError as exc:
        raise InvalidInput(str(exc)) from exc
    return [dict(e) for e in expectations]


def create_dataset(
    ctx: Context,
    project_key: str,
    name: str,
    *,
    description: str = "",
    expectations: Sequence[dict[str, Any]] = (),
) -> Dataset:
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("dataset name must have 1 to 200 characters")
    existing = ctx.session.scalar(
        select(DatasetRow).where(DatasetRow.project_id == project.id, DatasetRow.name == name)
    )
    if existing is not None:
        return _dataset(ctx, existing, project.key)
    row = DatasetRow(
        id=new_id("ds"),
        project_id=project.id,
        name=name,
        description=description,
        expectations=_check_expectations(expectations),
        next_version=1,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _dataset(ctx, row, project.key)


def set_expectations(
    ctx: Context, project_key: str, name: str, expectations: Sequence[dict[str, Any]]
) -> Dataset:
    """Declare what every new version must satisfy (checked at registration)."""
    row, key = _dataset_row(ctx, project_key, name, Role.CONTRIBUTOR)
    row.expectations = _check_expectations(expectations)
    ctx.session.flush()
    return _dataset(ctx, row, key)


def list_datasets(ctx: Context, project_key: str) -> list[Dataset]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(DatasetRow).where(DatasetRow.project_id == project.id).order_by(DatasetRow.name)
    )
    return [_dataset(ctx, r, project.key) for r in rows]


def get_dataset(ctx: Context, project_key: str, name: str) -> Dataset:
    row, key = _dataset_row(ctx, project_key, name, Role.VIEWER)
    return _dataset(ctx, row, key)


# --- versions --------------------------------------------------------------------------


def _meta(row: DatasetVersionRow) -> VersionMeta:
    return VersionMeta(
        owner=row.owner,
        source=row.source,
        licence=row.licence,
        personal_data={k: tuple(PersonalData(f) for f in v) for k, v in row.personal_data.items()},
        legal_basis=row.legal_basis,
        residency=row.residency,
        retention_until=row.retention_until,
    )


def _version(row: DatasetVersionRow, dataset: str, project_key: str) -> DatasetVersion:
    quality = row.quality or {}
    return DatasetVersion(
        id=row.id,
        project_key=project_key,
        dataset=dataset,
        version=row.version,
        content_hash=row.content_hash,
        format=DataFormat(row.format),
        location=row.location,
        size_bytes=row.size_bytes,
        rows=row.rows,
        columns=row.columns,
        schema=tuple((c["name"], c["kind"]) for c in row.schema),
        profile=tuple(_PROFILE.validate_python(row.profile)),
        dimensions=dict(quality.get("dimensions", {})),
        expectations=tuple(_EXPECT.validate_python(quality.get("expectations", []))),
        duplicate_rows=int(quality.get("duplicate_rows", 0)),
        quality_index=row.quality_index,
        meta=_meta(row),
        created_at=row.created_at,
        profiled=bool(quality.get("profiled", True)),
    )


def _version_row(
    ctx: Context, version_id: str, needed: Role
) -> tuple[DatasetVersionRow, DatasetRow, str]:
    row = ctx.session.get(DatasetVersionRow, version_id)
    if row is None:
        raise NotFound(f"dataset version {version_id!r} not found")
    ds = ctx.session.get(DatasetRow, row.dataset_id)
    assert ds is not None
    project = projects.project_by_id(ctx, ds.project_id, needed)
    return row, ds, project.key


def get_version(ctx: Context, version_id: str) -> DatasetVersion:
    row, ds, key = _version_row(ctx, version_id, Role.VIEWER)
    return _version(row, ds.name, key)


def list_versions(ctx: Context, project_key: str, name: str) -> list[DatasetVersion]:
    ds, key = _dataset_row(ctx, project_key, name, Role.VIEWER)
    rows = ctx.session.scalars(
        select(DatasetVersionRow)
        .where(DatasetVersionRow.dataset_id == ds.id)
        .order_by(DatasetVersionRow.version.desc())
    )
    return [_version(r, ds.name, key) for r in rows]


def latest_versions(ctx: Context, project_key: str) -> dict[str, DatasetVersion]:
    """Each dataset's newest version in a project, by dataset id, in one query (list pages)."""
    project = projects.resolve_project(ctx, project_key)
    newest = (
        select(DatasetVersionRow.dataset_id, func.max(DatasetVersionRow.version).label("v"))
        .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
        .where(DatasetRow.project_id == project.id)
        .group_by(DatasetVersionRow.dataset_id)
        .subquery()
    )
    rows = ctx.session.execute(
        select(DatasetVersionRow, DatasetRow.name)
        .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
        .join(
            newest,
            (newest.c.dataset_id == DatasetVersionRow.dataset_id)
            & (newest.c.v == DatasetVersionRow.version),
        )
    ).all()
    return {r.dataset_id: _version(r, name, project.key) for r, name in rows}


def _validate_meta(meta: VersionMeta, columns: set[str] | None) -> None:
    if columns is not None:
        unknown = set(meta.personal_data) - columns
        if unknown:
            raise InvalidInput(f"personal-data flags name unknown columns: {sorted(unknown)}")


def _store(ctx: Context, path: Path, digest: str, fmt: DataFormat) -> str:
    """Move an uploaded file into the content store; returns its location."""
    folder = ctx.settings.resolved_artifact_root / "datasets" / digest.split(":", 1)[1][:2]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest.split(':', 1)[1]}.{fmt.value}"
    if not target.exists():
        shutil.move(path, target)
    return str(target)


def _insert(
    ctx: Context,
    ds: DatasetRow,
    *,
    digest: str,
    fmt: DataFormat,
    location: str,
    size: int,
    analysis: nprofile.Analysis | None,
    meta: VersionMeta,
) -> DatasetVersionRow:
    number = ctx.session.scalar(
        update(DatasetRow)
        .where(DatasetRow.id == ds.id)
        .values(next_version=DatasetRow.next_version + 1)
        .returning(DatasetRow.next_version)
    )
    assert number is not None
    quality: dict[str, Any] = {"profiled": analysis is not None}
    if analysis is not None:
        quality |= {
            "dimensions": analysis.dimensions,
            "expectations": _EXPECT.dump_python(list(analysis.expectations), mode="json"),
            "duplicate_rows": analysis.duplicate_rows,
        }
    row = DatasetVersionRow(
        id=new_id("dsv"),
        dataset_id=ds.id,
        version=number - 1,
        content_hash=digest,
        format=fmt.value,
        location=location,
        size_bytes=size,
        rows=analysis.rows if analysis else 0,
        columns=len(analysis.schema) if analysis else 0,
        schema=[{"name": n, "kind": k} for n, k in analysis.schema] if analysis else [],
        profile=_PROFILE.dump_python(list(analysis.columns), mode="json") if analysis else [],
        quality=quality,
        quality_index=analysis.quality_index if analysis else None,
        owner=meta.owner,
        source=meta.source,
        licence=meta.licence,
        personal_data={k: [f.value for f in v] for k, v in meta.personal_data.items()},
        legal_basis=meta.legal_basis,
        residency=meta.residency,
        retention_until=meta.retention_until,
        created_by=ctx.actor.user_id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(
        ctx,
        "dataset_version.register",
        f"dataset_version:{row.id}",
        payload={"dataset": ds.id, "content_hash": digest, "personal": sorted(row.personal_data)},
    )
    return row


def _analyze(ctx: Context, ds: DatasetRow, path: Path, fmt: DataFormat) -> nprofile.Analysis:
    import pyarrow as pa

    schema, stream = io.batches(path, fmt)
    try:
        return nprofile.analyze(stream, schema, expectations=ds.expectations, now=ctx.clock.now())
    except nprofile.ProfileError as exc:
        raise InvalidInput(f"{path.name}: {exc}") from exc
    except (pa.ArrowInvalid, ValueError) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}") from exc


def register_path(
    ctx: Context,
    project_key: str,
    name: str,
    path: Path,
    *,
    meta: VersionMeta | None = None,
    fmt: DataFormat | None = None,
    keep: bool = False,
) -> Registered:
    """Register a CSV/Parquet file or folder. With ``keep`` (uploads) the file is moved
    into the content store; otherwise it is referenced where it is."""
    meta = meta or VersionMeta()
    ds_model = create_dataset(ctx, project_key, name)
    ds = ctx.session.get(DatasetRow, ds_model.id)
    assert ds is not None
    fmt = fmt or io.detect_format(path)
    if fmt is DataFormat.DVC:
        return register_dvc(ctx, project_key, name, path.read_text(), base=path.parent, meta=meta)
    digest, size = io.content_hash(path)
    existing = ctx.session.scalar(
        select(DatasetVersionRow).where(
            DatasetVersionRow.dataset_id == ds.id, DatasetVersionRow.content_hash == digest
        )
    )
    if existing is not None:
        return Registered(_version(existing, ds.name, ds_model.project_key), created=False)
    analysis = _analyze(ctx, ds, path, fmt)
    _validate_meta(meta, {n for n, _ in analysis.schema})
    location = _store(ctx, path, digest, fmt) if keep else str(path.resolve())
    row = _insert(
        ctx, ds, digest=digest, fmt=fmt, location=location, size=size, analysis=analysis, meta=meta
    )
    _cache_hashes(ctx, row.id, analysis.row_hashes)
    return Registered(_version(row, ds.name, ds_model.project_key), created=True)


def register_dvc(
    ctx: Context,
    project_key: str,
    name: str,
    dvc_text: str,
    *,
    base: Path | None = None,
    meta: VersionMeta | None = None,
) -> Registered:
    """Register the output of a ``.dvc`` file by its hash and path, without copying.
    When ``base`` is given and the data is readable there, it is profiled too."""
    meta = meta or VersionMeta()
    digest, size, rel = io.parse_dvc(dvc_text)
    ds_model = create_dataset(ctx, project_key, name)
    ds = ctx.session.get(DatasetRow, ds_model.id)
    assert ds is not None
    existing = ctx.session.scalar(
        select(DatasetVersionRow).where(
            DatasetVersionRow.dataset_id == ds.id, DatasetVersionRow.content_hash == digest
        )
    )
    if existing is not None:
        return Registered(_version(existing, ds.name, ds_model.project_key), created=False)
    analysis = None
    location = rel
    if base is not None and (base / rel).exists():
        data = base / rel
        location = str(data.resolve())
        try:
            analysis = _analyze(ctx, ds, data, io.detect_format(data))
        except InvalidInput:
            analysis = None  # unreadable format: keep the reference, skip the profile
    _validate_meta(meta, {n for n, _ in analysis.schema} if analysis else None)
    row = _insert(
        ctx,
        ds,
        digest=digest,
        fmt=DataFormat.DVC,
        location=location,
        size=size,
        analysis=analysis,
        meta=meta,
    )
    if analysis is not None:
        _cache_hashes(ctx, row.id, analysis.row_hashes)
    return Registered(_version(row, ds.name, ds_model.project_key), created=True)


def register_reference(
    ctx: Context,
    project_key: str,
    name: str,
    digest: str,
    *,
    source: str = "",
    schema: Sequence[tuple[str, str]] = (),
) -> Registered:
    """A dataset known only by its digest and where it came from (MLflow's log_input):
    recorded for lineage, not profiled."""
    if not digest.strip() or len(digest) > 70:
        raise InvalidInput("a dataset reference needs a digest of 1 to 70 characters")
    ds_model = create_dataset(ctx, project_key, name)
    ds = ctx.session.get(DatasetRow, ds_model.id)
    assert ds is not None
    content_hash = f"ref:{digest.strip()}"
    existing = ctx.session.scalar(
        select(DatasetVersionRow).where(
            DatasetVersionRow.dataset_id == ds.id, DatasetVersionRow.content_hash == content_hash
        )
    )
    if existing is not None:
        return Registered(_version(existing, ds.name, ds_model.project_key), created=False)
    row = _insert(
        ctx,
        ds,
        digest=content_hash,
        fmt=DataFormat.REFERENCE,
        location=source[:1000],
        size=0,
        analysis=None,
        meta=VersionMeta(source=source[:1000]),
    )
    if schema:
        row.schema = [{"name": n, "kind": k} for n, k in schema]
        row.columns = len(schema)
    return Registered(_version(row, ds.name, ds_model.project_key), created=True)


def _hash_file(ctx: Context, version_id: str) -> Path:
    return ctx.settings.resolved_artifact_root / "datasets" / "row-hashes" / f"{version_id}.npy"


def _cache_hashes(ctx: Context, version_id: str, hashes: np.ndarray) -> None:
    """Row hashes are kept beside the content store for later leakage checks."""
    target = _hash_file(ctx, version_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, hashes)


def _data_of(ctx: Context, row: DatasetVersionRow, purpose: str) -> tuple[Path, DataFormat]:
    """Where a version's data is, to read its rows. A version with columns flagged as
    personal data audits the read (``data.read_personal``), in a write transaction."""
    if row.personal_data:
        audit.record(
            ctx,
            "data.read_personal",
            f"dataset_version:{row.id}",
            reason=purpose,
            payload={"columns": sorted(row.personal_data)},
        )
    path = Path(row.location)
    if not path.is_absolute() or not path.exists():
        raise InvalidInput(
            f"the data of dataset version {row.id} is not readable here ({row.location})"
        )
    fmt = DataFormat(row.format)
    return path, io.detect_format(path) if fmt is DataFormat.DVC else fmt


def read_columns(
    ctx: Context, version_id: str, columns: Sequence[str], *, limit: int = 10_000_000
) -> Any:
    """These columns of a dataset version's stored file as a pandas DataFrame (at most
    ``limit`` rows; InvalidInput naming any column the version does not have)."""
    row, _, _ = _version_row(ctx, version_id, Role.VIEWER)
    known = {c["name"] for c in row.schema}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise InvalidInput(
            f"dataset version {version_id} has no column {', '.join(map(repr, unknown))}"
        )
    path, fmt = _data_of(ctx, row, "read columns (fairness audit)")
    return io.read_frame(path, fmt, limit)[list(columns)]


# --- lineage ---------------------------------------------------------------------------


def use_in_run(ctx: Context, run_id: str, version_id: str, role: DatasetRole) -> RunDataset:
    """Record that a run used a dataset version (lineage); idempotent."""
    project_id = tracking.run_project_id(ctx, run_id, Role.CONTRIBUTOR)
    row, ds, _key = _version_row(ctx, version_id, Role.VIEWER)
    if ds.project_id != project_id:
        raise InvalidInput("the run and the dataset version belong to different projects")
    if ctx.session.get(RunDatasetRow, (run_id, version_id, role.value)) is None:
        ctx.session.add(RunDatasetRow(run_id=run_id, version_id=version_id, role=role.value))
        ctx.session.flush()
    return RunDataset(run_id, version_id, ds.name, row.version, role)


def datasets_of_run(ctx: Context, run_id: str) -> list[RunDataset]:
    tracking.run_project_id(ctx, run_id, Role.VIEWER)
    return datasets_of_runs(ctx, [run_id])


def datasets_of_runs(ctx: Context, run_ids: Sequence[str]) -> list[RunDataset]:
    """Dataset versions used by these runs; the caller checked project access."""
    if not run_ids:
        return []
    rows = ctx.session.execute(
        select(RunDatasetRow, DatasetVersionRow.version, DatasetRow.name)
        .join(DatasetVersionRow, DatasetVersionRow.id == RunDatasetRow.version_id)
        .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
        .where(RunDatasetRow.run_id.in_(run_ids))
        .order_by(DatasetRow.name, DatasetVersionRow.version)
    ).all()
    return [RunDataset(r.run_id, r.version_id, name, v, DatasetRole(r.role)) for r, v, name in rows]


def runs_using(ctx: Context, version_id: str) -> list[RunDataset]:
    row, ds, _ = _version_row(ctx, version_id, Role.VIEWER)
    links = ctx.session.scalars(select(RunDatasetRow).where(RunDatasetRow.version_id == version_id))
    return [
        RunDataset(r.run_id, version_id, ds.name, row.version, DatasetRole(r.role)) for r in links
    ]


# --- leakage and readiness -------------------------------------------------------------


def check_leakage(
    ctx: Context,
    train_version_id: str,
    eval_version_id: str,
    *,
    label: str | None = None,
    id_columns: Sequence[str] = (),
) -> LeakageCheck:
    train, _, _ = _version_row(ctx, train_version_id, Role.CONTRIBUTOR)
    test, _, _ = _version_row(ctx, eval_version_id, Role.CONTRIBUTOR)
    if train.id == test.id:
        raise InvalidInput("compare two different versions")
    import pandas as pd

    frames = []
    hashes = []
    for version in (train, test):
        path, fmt = _data_of(ctx, version, "leakage check")
        frame = io.read_frame(path, fmt, LEAKAGE_ROWS)
        frames.append(frame)
        cached = _hash_file(ctx, version.id)
        hashes.append(
            np.load(cached)
            if cached.exists()
            else pd.util.hash_pandas_object(frame, index=False).to_numpy()
        )
    try:
        report = nleak.check_leakage(
            hashes[0], hashes[1], frames[0], frames[1], label=label, id_columns=id_columns
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    row = LeakageCheckRow(
        id=new_id("lk"),
        train_version_id=train.id,
        eval_version_id=test.id,
        result=_LEAK.dump_python(report, mode="json"),
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    return LeakageCheck(row.id, train.id, test.id, report, row.created_at)


def leakage_checks(ctx: Context, version_id: str) -> list[LeakageCheck]:
    _version_row(ctx, version_id, Role.VIEWER)
    rows = ctx.session.scalars(
        select(LeakageCheckRow)
        .where(
            (LeakageCheckRow.train_version_id == version_id)
            | (LeakageCheckRow.eval_version_id == version_id)
        )
        .order_by(LeakageCheckRow.created_at.desc())
    )
    return [
        LeakageCheck(
            r.id,
            r.train_version_id,
            r.eval_version_id,
            _LEAK.validate_python(r.result),
            r.created_at,
        )
        for r in rows
    ]


def readiness(ctx: Context, version_id: str) -> Readiness:
    """The readiness report: profile, quality, expectations, leakage, ownership and
    permission, personal data, and the issues that stand in the way."""
    row, ds, key = _version_row(ctx, version_id, Role.VIEWER)
    version = _version(row, ds.name, key)
    checks = leakage_checks(ctx, version_id)
    project = projects.resolve_project(ctx, key)
    source = next(
        (s for s in project.charter.data_sources if s.name.lower() == ds.name.lower()), None
    )
    permission = source.permission.value if source else "not in charter"
    issues: list[str] = []
    if not version.profiled:
        issues.append("not profiled: the data was not readable when it was registered")
    issues += [
        f"expectation failed: {_describe(e.expectation)} ({e.detail})"
        for e in version.expectations
        if not e.passed
    ]
    for check in checks:
        issues += [f"leakage: {flag}" for flag in check.report.flags]
    if not version.meta.owner:
        issues.append("no owner recorded")
    if not version.meta.licence:
        issues.append("no licence recorded")
    if source is None:
        issues.append(f"the charter lists no data source named {ds.name!r}")
    elif source.permission is not PermissionStatus.GRANTED:
        issues.append(f"permission for {source.name} is {source.permission.value}")
    personal = tuple(sorted(version.meta.personal_data.items()))
    if personal and not version.meta.legal_basis:
        issues.append("personal data without a recorded legal basis or consent")
    today: date = ctx.clock.now().date()
    if version.meta.retention_until and version.meta.retention_until < today:
        issues.append(f"retention period ended {version.meta.retention_until}")
    return Readiness(version, tuple(checks), permission, personal, tuple(issues))


def _describe(expectation: dict[str, Any]) -> str:
    if "rule" in expectation:
        return str(expectation["rule"])
    rest = {k: v for k, v in expectation.items() if k != "column"}
    return f"{expectation.get('column')} " + ", ".join(f"{k}={v}" for k, v in rest.items())


# --- evidence for work items -----------------------------------------------------------


def cite(ctx: Context, item_key: str, version_id: str) -> list[DatasetVersion]:
    """A work item cites a dataset version (and so its readiness report) as evidence."""
    item = planning.item_row(ctx, item_key, Role.CONTRIBUTOR)
    row, ds, key = _version_row(ctx, version_id, Role.VIEWER)
    if ds.project_id != item.project_id:
        raise InvalidInput(f"{item.key} and dataset {ds.name} are in different projects")
    if ctx.session.get(ItemDatasetRow, (item.id, version_id)) is None:
        ctx.session.add(
            ItemDatasetRow(item_id=item.id, version_id=version_id, cited_at=ctx.clock.now())
        )
        planning.record_event(ctx, item.id, "evidence", None, f"{ds.name} v{row.version}")
        ctx.session.flush()
    return cited_by(ctx, item.id)


def cites_a_dataset(ctx: Context, item_id: str) -> bool:
    """The Definition-of-Done rule ``dataset_cited`` (declared in data.SLICE)."""
    return bool(cited_by(ctx, item_id))


def cited_by(ctx: Context, item_id: str) -> list[DatasetVersion]:
    rows = ctx.session.execute(
        select(DatasetVersionRow, DatasetRow.name, DatasetRow.project_id)
        .join(ItemDatasetRow, ItemDatasetRow.version_id == DatasetVersionRow.id)
        .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
        .where(ItemDatasetRow.item_id == item_id)
        .order_by(ItemDatasetRow.cited_at)
    ).all()
    keys = projects.project_keys(ctx, {pid for _, _, pid in rows})
    return [_version(r, name, keys[pid]) for r, name, pid in rows]
