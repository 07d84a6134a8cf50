"""``loopwise dataset``: register data where it lies, and judge whether it is fit for use.

Parse -> data service -> print. A local path is referenced, never copied; a ``.dvc`` file
is registered by its hash, with its folder as the base to find and profile the data.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.core.errors import InvalidInput
from loopwise.data import service
from loopwise.data.models import (
    Dataset,
    DatasetRole,
    DatasetVersion,
    LeakageCheck,
    PersonalData,
    Readiness,
    Registered,
    RunDataset,
)
from loopwise.data.schemas import (
    CiteIn,
    DatasetCreate,
    ExpectationsIn,
    LeakageIn,
    MetaIn,
    RunDatasetIn,
)

if TYPE_CHECKING:
    from loopwise.console import CliEnv

dataset_app = typer.Typer(
    name="dataset",
    help="Datasets: versions by content hash, profiles, expectations, leakage, readiness.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="Dataset name, e.g. customers.")]
VersionArg = Annotated[str, typer.Argument(help="Dataset version id, e.g. dsv_3f2a...")]
DATE = ["%Y-%m-%d"]
FLAGS = ", ".join(f.value for f in PersonalData)


def groups() -> list[typer.Typer]:
    return [dataset_app]


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _quality(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}/100"


def _describe(expectation: dict[str, Any]) -> str:
    if "rule" in expectation:
        return str(expectation["rule"])
    rest = ", ".join(f"{k} {v}" for k, v in expectation.items() if k != "column")
    return f"{expectation.get('column')}: {rest}" if rest else str(expectation.get("column"))


# --- register --------------------------------------------------------------------------


def _personal(flags: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for given in flags:
        column, sep, flag = given.rpartition(":")
        if not sep or not column:
            raise InvalidInput(f"--personal takes COLUMN:FLAG (FLAG one of {FLAGS}), got {given!r}")
        out.setdefault(column, [])
        if flag not in out[column]:
            out[column].append(flag)
    return out


def _registered_view(env: CliEnv, r: Registered) -> list[Any]:
    v = r.version
    head = (
        f"registered {v.dataset} v{v.version} ({v.id})"
        if r.created
        else f"already registered: {v.dataset} v{v.version} ({v.id}) has the same content"
    )
    return [Text(head), *_version_view(env, v, brief=True)]


@dataset_app.command("register")
def register_path(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            help="A CSV or Parquet file, a folder of them, or a .dvc file. Referenced where "
            "it is, not copied.",
        ),
    ],
    owner: Annotated[str, typer.Option(help="Who answers for the data.")] = "",
    licence: Annotated[str, typer.Option(help="Licence or terms of use.")] = "",
    source: Annotated[str, typer.Option(help="Where the data comes from.")] = "",
    legal_basis: Annotated[
        str, typer.Option(help="Legal basis or consent for personal data.")
    ] = "",
    residency: Annotated[str, typer.Option(help="Where the data must stay, e.g. EU.")] = "",
    retention_until: Annotated[
        datetime | None, typer.Option(formats=DATE, help="Keep until (YYYY-MM-DD).")
    ] = None,
    personal: Annotated[
        list[str] | None,
        typer.Option(help=f"COLUMN:FLAG personal-data flag; repeat. FLAG: {FLAGS}."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a version of a dataset from a local path; identical content returns the
    existing version."""
    env = env_of(ctx)
    meta = MetaIn.model_validate(
        {
            "owner": owner,
            "licence": licence,
            "source": source,
            "legal_basis": legal_basis,
            "residency": residency,
            "retention_until": retention_until.date() if retention_until else None,
            "personal_data": _personal(personal or []),
        }
    ).to_meta()
    DatasetCreate(name=name)  # the same name rules as the API
    with env.working(f"Hashing and profiling {path.name} ..."), env.write() as c:
        if path.is_file() and path.suffix.lower() == ".dvc":
            registered = service.register_dvc(
                c, project, name, path.read_text(), base=path.parent, meta=meta
            )
        else:
            registered = service.register_path(c, project, name, path, meta=meta)
    env.emit(
        registered, Registered, as_json=as_json, render=lambda: _registered_view(env, registered)
    )


# --- reads -----------------------------------------------------------------------------


@dataset_app.command("list")
def list_datasets(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List a project's datasets."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_datasets(c, project)

    def render() -> Any:
        if not found:
            return "no datasets yet: register one with `loopwise dataset register`"
        rows = [
            (
                d.name,
                f"v{d.latest_version}" if d.latest_version else "—",
                len(d.expectations),
                env.when(d.created_at),
                d.description,
            )
            for d in found
        ]
        return env.table(["Dataset", "Latest", "Expectations", "Created", "Description"], rows)

    env.emit(found, list[Dataset], as_json=as_json, render=render)


@dataset_app.command("versions")
def list_versions(
    ctx: typer.Context, project: ProjectArg, name: NameArg, as_json: JsonOption = False
) -> None:
    """List the versions of a dataset, newest first."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_versions(c, project, name)

    def render() -> Any:
        if not found:
            return f"{name} has no versions yet"
        rows = [
            (
                v.id,
                f"v{v.version}",
                v.format.value,
                f"{v.rows} x {v.columns}" if v.profiled else "not profiled",
                _size(v.size_bytes),
                _quality(v.quality_index),
                env.when(v.created_at),
            )
            for v in found
        ]
        return env.table(
            ["Id", "Version", "Format", "Rows x cols", "Size", "Quality", "Created"], rows
        )

    env.emit(found, list[DatasetVersion], as_json=as_json, render=render)


def _version_view(env: CliEnv, v: DatasetVersion, *, brief: bool = False) -> list[Any]:
    m = v.meta
    pairs: list[tuple[str, Any]] = [
        ("Dataset", f"{v.dataset} v{v.version} ({v.project_key})"),
        ("Id", v.id),
        ("Format", v.format.value),
        ("Location", v.location),
        ("Content hash", v.content_hash),
        ("Size", _size(v.size_bytes)),
        ("Rows x columns", f"{v.rows} x {v.columns}" if v.profiled else "not profiled"),
        ("Quality index", _quality(v.quality_index)),
        ("Duplicate rows", v.duplicate_rows),
        ("Owner", m.owner or "—"),
        ("Licence", m.licence or "—"),
    ]
    if not brief:
        pairs += [
            ("Source", m.source or "—"),
            ("Legal basis", m.legal_basis or "—"),
            ("Residency", m.residency or "—"),
            ("Retention until", f"{m.retention_until}" if m.retention_until else "—"),
            ("Created", env.when(v.created_at)),
        ]
    if m.personal_data:
        pairs.append(
            (
                "Personal data",
                "; ".join(
                    f"{c}: {', '.join(f.value for f in fs)}" for c, fs in m.personal_data.items()
                ),
            )
        )
    out: list[Any] = [env.fields(pairs)]
    failed = [e for e in v.expectations if not e.passed]
    if brief:
        if v.expectations:
            passing = len(v.expectations) - len(failed)
            out.append(Text(f"expectations: {passing} of {len(v.expectations)} pass"))
        return out
    if v.dimensions:
        scores = [(k, "—" if d is None else f"{d:.1%}") for k, d in v.dimensions.items()]
        out.append(env.table(["Quality dimension", "Score"], scores, title="Quality"))
    if v.profile:
        columns = [
            (
                p.name,
                p.kind,
                f"{p.missing_share:.1%}",
                p.distinct if p.distinct_exact else f"~{p.distinct}",
                "—" if p.minimum is None else str(p.minimum),
                "—" if p.maximum is None else str(p.maximum),
                env.num(p.mean),
            )
            for p in v.profile
        ]
        out.append(
            env.table(
                ["Column", "Kind", "Missing", "Distinct", "Min", "Max", "Mean"],
                columns,
                title="Profile",
            )
        )
    if v.expectations:
        rows = [
            (
                _describe(e.expectation),
                Text("pass", style="green") if e.passed else Text("FAIL", style="red"),
                f"{e.failed} of {e.checked}",
                e.detail,
            )
            for e in v.expectations
        ]
        out.append(
            env.table(["Expectation", "Result", "Failing", "Detail"], rows, title="Expectations")
        )
    return out


@dataset_app.command("show")
def get_version(ctx: typer.Context, version_id: VersionArg, as_json: JsonOption = False) -> None:
    """Show a dataset version: metadata, quality, profile and expectations."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.get_version(c, version_id)
    env.emit(found, DatasetVersion, as_json=as_json, render=lambda: _version_view(env, found))


# --- expectations ----------------------------------------------------------------------


def _parse_expectations(given: list[str], file: Path | None) -> list[dict[str, Any]]:
    out: list[Any] = []
    if file is not None:
        try:
            loaded = json.loads(file.read_text())
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{file} is not JSON: {exc}") from None
        out += loaded if isinstance(loaded, list) else [loaded]
    for text in given:
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"expectation {text!r} is not JSON: {exc}") from None
    return ExpectationsIn(expectations=out).expectations


def _dataset_view(env: CliEnv, found: Dataset) -> Any:
    if not found.expectations:
        return f"{found.name}: no expectations"
    rows = [(_describe(e),) for e in found.expectations]
    return env.table(["Expectation"], rows, title=f"{found.name}: every new version must meet")


@dataset_app.command("create")
def create_dataset(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    expectations: Annotated[
        list[str] | None,
        typer.Argument(help="Expectations as JSON objects (see `dataset expect`)."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="A JSON file with a list of them."),
    ] = None,
    description: Annotated[str, typer.Option(help="What the data is.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an empty dataset, e.g. to declare its expectations before the first version
    (returns the existing one if the name is taken)."""
    env = env_of(ctx)
    data = DatasetCreate(
        name=name,
        description=description,
        expectations=_parse_expectations(expectations or [], file),
    )
    with env.write() as c:
        found = service.create_dataset(
            c, project, data.name, description=data.description, expectations=data.expectations
        )
    env.emit(found, Dataset, as_json=as_json, render=lambda: _dataset_view(env, found))


@dataset_app.command("expect")
def set_expectations(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    expectations: Annotated[
        list[str] | None,
        typer.Argument(
            help='JSON objects, e.g. \'{"column": "age", "min": 0}\' or '
            '\'{"rule": "end >= start"}\'.'
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="A JSON file with a list of them."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every expectation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Declare what every new version must satisfy (replaces the current list; checked
    when a version is registered)."""
    env = env_of(ctx)
    parsed = _parse_expectations(expectations or [], file)
    if not parsed and not clear:
        raise typer.BadParameter("give expectations, --file, or --clear to remove them all")
    if parsed and clear:
        raise typer.BadParameter("--clear takes no expectations")
    with env.write() as c:
        found = service.set_expectations(c, project, name, parsed)
    env.emit(found, Dataset, as_json=as_json, render=lambda: _dataset_view(env, found))


# --- leakage, readiness, citations, lineage --------------------------------------------


def _leakage_view(env: CliEnv, check: LeakageCheck) -> list[Any]:
    r = check.report
    pairs: list[tuple[str, Any]] = [
        ("Check", check.id),
        ("Train", f"{check.train_version_id} ({r.train_rows} rows)"),
        ("Eval", f"{check.eval_version_id} ({r.eval_rows} rows)"),
        ("Shared rows", f"{r.shared_rows} ({r.shared_row_share:.1%} of eval)"),
        ("Label", r.label or "—"),
    ]
    if r.id_overlaps:
        pairs.append(("Shared ids", "; ".join(f"{col}: {n}" for col, n in r.id_overlaps)))
    if r.predictive_features:
        pairs.append(
            (
                "Predictive features",
                "; ".join(f"{f.feature} ({f.metric} {f.score:.3f})" for f in r.predictive_features),
            )
        )
    out: list[Any] = [env.fields(pairs)]
    if r.flags:
        out += [Text(f"leakage: {flag}", style="red") for flag in r.flags]
    else:
        out.append(Text("no leakage found", style="green"))
    return out


@dataset_app.command("leakage")
def check_leakage(
    ctx: typer.Context,
    train_version_id: Annotated[str, typer.Argument(help="Training dataset version id.")],
    eval_version_id: Annotated[str, typer.Argument(help="Evaluation dataset version id.")],
    label: Annotated[
        str | None, typer.Option(help="Label column: also look for features that give it away.")
    ] = None,
    id_column: Annotated[
        list[str] | None, typer.Option(help="An identifier column to compare; repeat.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a train/eval pair for leakage: shared rows, shared ids, giveaway features."""
    env = env_of(ctx)
    data = LeakageIn(
        train_version_id=train_version_id,
        eval_version_id=eval_version_id,
        label=label,
        id_columns=id_column or [],
    )
    with env.working("Checking for leakage ..."), env.write() as c:
        check = service.check_leakage(
            c,
            data.train_version_id,
            data.eval_version_id,
            label=data.label,
            id_columns=data.id_columns,
        )
    env.emit(check, LeakageCheck, as_json=as_json, render=lambda: _leakage_view(env, check))


class ReadinessFormat(StrEnum):
    MD = "md"
    HTML = "html"
    JSON = "json"


def _readiness_view(env: CliEnv, r: Readiness) -> list[Any]:
    v = r.version
    verdict = (
        Text("ready", style="green")
        if r.ready
        else Text(
            f"not ready: {len(r.issues)} issue{'s' if len(r.issues) != 1 else ''}", style="red"
        )
    )
    pairs: list[tuple[str, Any]] = [
        ("Dataset", f"{v.dataset} v{v.version} ({v.id})"),
        ("Readiness", verdict),
        ("Rows x columns", f"{v.rows} x {v.columns}" if v.profiled else "not profiled"),
        ("Quality index", _quality(v.quality_index)),
        (
            "Expectations",
            f"{sum(e.passed for e in v.expectations)} of {len(v.expectations)} pass"
            if v.expectations
            else "none declared",
        ),
        ("Owner", v.meta.owner or "—"),
        ("Licence", v.meta.licence or "—"),
        ("Permission", r.permission),
        (
            "Personal data",
            "; ".join(f"{c}: {', '.join(f.value for f in fs)}" for c, fs in r.personal_columns)
            or "none flagged",
        ),
        ("Leakage checks", len(r.leakage)),
    ]
    out: list[Any] = [env.fields(pairs)]
    out += [Text(f"- {issue}") for issue in r.issues]
    return out


def _export(env: CliEnv, version_id: str, fmt: ReadinessFormat) -> str:
    """The readiness export the web app serves: the same templates and context."""
    from datetime import UTC, datetime

    from loopwise.data import pages
    from loopwise.web.pages import templates

    with env.read() as c:
        _, context = pages.readiness_context(c, version_id, datetime.now(UTC))
    jinja = templates().env
    if fmt is ReadinessFormat.MD:
        return pages.readiness_markdown_text(jinja, context)
    return pages.readiness_html_text(jinja, context)


@dataset_app.command("readiness")
def readiness(
    ctx: typer.Context,
    version_id: VersionArg,
    fmt: Annotated[
        ReadinessFormat | None,
        typer.Option(
            "--format",
            help="md or html: the report as the web app exports it; json: the data. "
            "Default: a summary.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Is a dataset version fit for use? Profile, quality, expectations, leakage,
    ownership, permission and personal data, with the issues in the way."""
    env = env_of(ctx)
    with env.read() as c:
        report = service.readiness(c, version_id)
    if fmt in (ReadinessFormat.MD, ReadinessFormat.HTML):
        text = _export(env, version_id, fmt)
        typer.echo(text, nl=not text.endswith("\n"))
        return
    env.emit(
        report,
        Readiness,
        as_json=as_json or fmt is ReadinessFormat.JSON,
        render=lambda: _readiness_view(env, report),
    )


@dataset_app.command("cite")
def cite(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="Work item key, e.g. CHURN-12.")],
    version_id: VersionArg,
    as_json: JsonOption = False,
) -> None:
    """A work item cites a dataset version (its readiness report) as evidence."""
    env = env_of(ctx)
    data = CiteIn(version_id=version_id)
    with env.write() as c:
        cited = service.cite(c, item, data.version_id)
    env.emit(
        cited,
        list[DatasetVersion],
        as_json=as_json,
        render=lambda: env.table(
            ["Dataset", "Version", "Id"],
            [(v.dataset, f"v{v.version}", v.id) for v in cited],
            title=f"{item.upper()} cites",
        ),
    )


@dataset_app.command("use")
def use_in_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id, e.g. run_3f2a...")],
    version_id: VersionArg,
    role: Annotated[DatasetRole, typer.Option(help="How the run used it.")] = DatasetRole.INPUT,
    as_json: JsonOption = False,
) -> None:
    """Record that a run used a dataset version (lineage)."""
    env = env_of(ctx)
    data = RunDatasetIn(version_id=version_id, role=role)
    with env.write() as c:
        link = service.use_in_run(c, run_id, data.version_id, data.role)
    env.emit(
        link,
        RunDataset,
        as_json=as_json,
        render=lambda: f"{link.run_id} used {link.dataset} v{link.version} as {link.role.value}",
    )
