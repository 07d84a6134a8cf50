"""``loopwise monitor``: watch a model in production against its reference data; and
``loopwise worker``, the process that runs the checks for a server.

Parse -> monitoring service -> print. Batch and label files are read where they are, in
chunks, straight into the local store.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.core.errors import InvalidInput
from loopwise.monitoring import ingest, jobs, service, webhooks
from loopwise.monitoring.cli_loop import review_app, webhook_app
from loopwise.monitoring.models import (
    Alert,
    AlertState,
    Batch,
    CheckKind,
    Labelled,
    Metric,
    Monitor,
    Result,
    Scope,
    Window,
)
from loopwise.monitoring.schemas import CheckIn, ColumnOverride, MonitorCreate, MonitorUpdate
from loopwise.numeric.drift import DriftTest

if TYPE_CHECKING:
    from loopwise.console import CliEnv

monitor_app = typer.Typer(
    name="monitor",
    help="Monitors: production data against a reference, drift, performance, alerts.",
    no_args_is_help=True,
)

monitor_app.add_typer(webhook_app)
monitor_app.add_typer(review_app)

NameArg = Annotated[str, typer.Argument(help="Monitor name, e.g. churn-prod.")]
FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="A CSV or Parquet file.")
]
TESTS = ", ".join(t.value for t in DriftTest)
CHECKS = ", ".join(k.value for k in CheckKind)


def groups() -> list[typer.Typer]:
    return [monitor_app]


def commands() -> list[tuple[str, Any]]:
    return [("worker", worker)]


def _overrides(given: list[str]) -> list[ColumnOverride]:
    """COLUMN=TEST, COLUMN=TEST:THRESHOLD or COLUMN=:THRESHOLD."""
    out = []
    for text in given:
        column, sep, rest = text.partition("=")
        test, _, threshold = rest.partition(":")
        if not sep or not column:
            raise InvalidInput(
                f"--column takes COLUMN=TEST[:THRESHOLD] (TEST: {TESTS}), got {text!r}"
            )
        out.append(
            ColumnOverride.model_validate(
                {"column": column, "test": test or None, "threshold": threshold or None}
            )
        )
    return out


def _checks(given: list[str], metric: Metric | None, baseline: float | None) -> list[CheckIn]:
    """KIND or KIND=THRESHOLD."""
    out = []
    for text in given:
        kind, _, threshold = text.partition("=")
        fields: dict[str, Any] = {"kind": kind, "threshold": threshold or None}
        if kind in (CheckKind.PERFORMANCE.value, CheckKind.ESTIMATED_PERFORMANCE.value):
            fields |= {"metric": metric, "baseline": baseline}
        out.append(CheckIn.model_validate(fields))
    return out


def _num(env: CliEnv, value: float | None) -> str:
    return env.num(value)


def _monitor_view(env: CliEnv, m: Monitor) -> list[Any]:
    pairs: list[tuple[str, Any]] = [
        ("Monitor", f"{m.name} ({m.project_key})"),
        ("Id", m.id),
        ("Model", f"{m.model} v{m.model_version}" if m.model else "— (a prediction stream)"),
        ("Reference", f"{m.reference_version_id} ({m.reference_rows} rows)"),
        ("Window", m.window.value),
        ("Min rows", m.min_rows),
        ("Active", "yes" if m.active else "no"),
    ]
    if m.reference_performance:
        pairs.append(
            (
                "Reference performance",
                ", ".join(f"{k} {env.num(v)}" for k, v in m.reference_performance.items()),
            )
        )
    columns = env.table(
        ["Column", "Kind", "Test", "Threshold"],
        [
            (c.name, c.kind.value, c.test.value if c.test else "default", env.num(c.threshold))
            for c in (*m.columns, *m.predictions)
        ],
    )
    checks = env.table(
        ["Check", "Threshold", "Severity", "Metric", "Baseline"],
        [
            (
                c.kind.value,
                env.num(c.threshold),
                c.severity.value,
                c.metric.value if c.metric else "—",
                env.num(c.baseline),
            )
            for c in m.checks
        ],
    )
    return [env.fields(pairs), columns, checks]


@monitor_app.command("create")
def create(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    reference: Annotated[str, typer.Option(help="Reference dataset version id (dsv_...).")],
    model: Annotated[str | None, typer.Option(help="Registered model name.")] = None,
    model_version: Annotated[
        int | None, typer.Option(min=1, help="Its version; default the production one.")
    ] = None,
    window: Annotated[Window, typer.Option(help="Time window of the checks.")] = Window.DAY,
    feature: Annotated[
        list[str] | None,
        typer.Option(help="A column to watch; repeat. Default: every column of the reference."),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(help=f"COLUMN=TEST[:THRESHOLD] override; repeat. TEST: {TESTS}."),
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option(
            help=f"KIND[=THRESHOLD]; repeat. Default: all but multivariate_drift. KIND: {CHECKS}."
        ),
    ] = None,
    metric: Annotated[
        Metric | None, typer.Option(help="Metric of the performance checks (roc_auc).")
    ] = None,
    baseline: Annotated[
        float | None, typer.Option(help="Baseline of the performance checks.")
    ] = None,
    min_rows: Annotated[int, typer.Option(min=1, help="Smaller windows are not judged.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """Create a monitor: reads the reference version once into a profile."""
    env = env_of(ctx)
    body = MonitorCreate(
        name=name,
        reference_version_id=reference,
        model=model,
        model_version=model_version,
        window=window,
        features=feature or None,
        overrides=_overrides(column or []),
        checks=_checks(check, metric, baseline) if check else None,
        min_rows=min_rows,
    )
    with env.working("Profiling the reference ..."), env.write() as c:
        created = service.create_monitor(c, project, body)
    env.emit(created, Monitor, as_json=as_json, render=lambda: _monitor_view(env, created))


@monitor_app.command("update")
def update(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    column: Annotated[
        list[str] | None,
        typer.Option(help="COLUMN=TEST[:THRESHOLD]; replaces every override; repeat."),
    ] = None,
    min_rows: Annotated[int | None, typer.Option(min=1)] = None,
    active: Annotated[bool | None, typer.Option("--active/--paused")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a monitor's column overrides, minimum rows, or pause it."""
    env = env_of(ctx)
    body = MonitorUpdate(
        overrides=_overrides(column) if column is not None else None,
        min_rows=min_rows,
        active=active,
    )
    with env.write() as c:
        changed = service.update_monitor(c, project, name, body)
    env.emit(changed, Monitor, as_json=as_json, render=lambda: _monitor_view(env, changed))


@monitor_app.command("list")
def list_monitors(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List a project's monitors."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_monitors(c, project)

    def render() -> Any:
        if not found:
            return "no monitors yet: create one with `loopwise monitor create`"
        rows = [
            (
                m.name,
                f"{m.model} v{m.model_version}" if m.model else "—",
                m.window.value,
                len(m.columns),
                "yes" if m.active else "paused",
            )
            for m in found
        ]
        return env.table(["Monitor", "Model", "Window", "Columns", "Active"], rows)

    env.emit(found, list[Monitor], as_json=as_json, render=render)


@monitor_app.command("show")
def show(
    ctx: typer.Context, project: ProjectArg, name: NameArg, as_json: JsonOption = False
) -> None:
    """A monitor's columns, tests and checks."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.get_monitor(c, project, name)
    env.emit(found, Monitor, as_json=as_json, render=lambda: _monitor_view(env, found))


def _after_ingest(env: CliEnv, monitor_id: str) -> int:
    if not env.settings.monitor_check_on_ingest:
        return 0
    return len(jobs.run_pending(env.state(), monitor_id=monitor_id))


@monitor_app.command("log")
def log_batch(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    path: FileArg,
    as_json: JsonOption = False,
) -> None:
    """Log a batch of feature rows and predictions from a CSV or Parquet file."""
    env = env_of(ctx)
    with env.working(f"Reading {path.name} ..."), env.write() as c:
        batch = ingest.log_batch(c, project, name, path)
    checked = _after_ingest(env, batch.monitor_id) if batch.created else 0

    def render() -> Any:
        head = "logged" if batch.created else "already logged (same content)"
        return Text(
            f"{head} batch {batch.id}: {batch.rows} rows, {batch.predictions} predictions "
            f"stored, {batch.duplicates} duplicate ids skipped, {batch.windows} window(s); "
            f"{checked} window(s) checked"
        )

    env.emit(batch, Batch, as_json=as_json, render=render)


@monitor_app.command("labels")
def log_labels(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    path: FileArg,
    as_json: JsonOption = False,
) -> None:
    """Join labels (prediction_id, label columns) to logged predictions."""
    env = env_of(ctx)
    with env.working(f"Reading {path.name} ..."), env.write() as c:
        done = ingest.log_labels_file(c, project, name, path)
        monitor_id = service.get_monitor(c, project, name).id
    checked = _after_ingest(env, monitor_id) if done.windows else 0
    env.emit(
        done,
        Labelled,
        as_json=as_json,
        render=lambda: Text(
            f"{done.matched} of {done.received} labels joined ({done.unmatched} unknown ids); "
            f"{checked} window(s) checked"
        ),
    )


@monitor_app.command("check")
def check_now(ctx: typer.Context, project: ProjectArg, name: NameArg) -> None:
    """Check the monitor's windows whose data changed, now."""
    env = env_of(ctx)
    with env.read() as c:
        monitor_id = service.get_monitor(c, project, name).id
    done = jobs.run_pending(env.state(), monitor_id=monitor_id)
    env.note(f"{len(done)} window(s) checked")


def _status(result: Result) -> str:
    breached = [c.kind.value for c in result.checks if c.status.value == "breached"]
    return ", ".join(breached) if breached else "ok"


@monitor_app.command("results")
def results(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    scope: Annotated[Scope, typer.Option(help="Per window or per batch.")] = Scope.WINDOW,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Results, oldest first: drift share, prediction drift, performance, breached checks."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.results(c, project, name, scope=scope, limit=limit)

    def render() -> Any:
        if not found:
            return "no results yet"
        rows = [
            (
                env.when(r.window_start) if r.window_start else r.batch_id or "",
                r.rows,
                f"{r.drifted_columns}/{len(r.columns)}",
                "yes" if any(p.drifted for p in r.prediction) else "no" if r.prediction else "—",
                ", ".join(f"{k} {env.num(v)}" for k, v in r.realised.items()) or "—",
                ", ".join(f"{k} {env.num(v)}" for k, v in r.estimated.items()) or "—",
                _status(r),
            )
            for r in found
        ]
        return env.table(
            ["Window", "Rows", "Drifted", "Pred. drift", "Realised", "Estimated", "Breached"], rows
        )

    env.emit(found, list[Result], as_json=as_json, render=render)


@monitor_app.command("alerts")
def alerts(
    ctx: typer.Context,
    project: ProjectArg,
    monitor: Annotated[str | None, typer.Option(help="Only this monitor's.")] = None,
    state: Annotated[AlertState | None, typer.Option(help="open or resolved.")] = None,
    as_json: JsonOption = False,
) -> None:
    """A project's monitoring alerts, newest first, with their retraining items."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_alerts(c, project, monitor=monitor, state=state)

    def render() -> Any:
        if not found:
            return "no alerts"
        rows = [
            (
                a.id,
                a.monitor,
                a.check.value,
                a.severity.value,
                a.state.value,
                env.when(a.first_window),
                env.when(a.last_window),
                a.item_key or "—",
            )
            for a in found
        ]
        return env.table(
            ["Alert", "Monitor", "Check", "Severity", "State", "Since", "Latest", "Item"], rows
        )

    env.emit(found, list[Alert], as_json=as_json, render=render)


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Check what is due, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks when nothing is due.")
    ] = 5.0,
) -> None:
    """Run monitor checks and send webhook deliveries for a server: claims due windows and
    deliveries (several workers may share one PostgreSQL database; each window is checked
    once per change, each delivery attempt made once). Ctrl+C stops."""
    env = env_of(ctx)
    state = env.state()
    name = jobs.worker_name()
    env.note(f"worker {name}: checking monitor windows")
    try:
        while True:
            done = jobs.run_pending(state, worker=name)
            if done:
                env.note(f"{len(done)} window(s) checked")
            sent = webhooks.deliver_due(state, worker=name)
            if sent:
                env.note(f"{sent} webhook attempt(s) made")
            if once and not done and not sent:
                return
            if not done and not sent:
                time.sleep(interval)
    except KeyboardInterrupt:
        with state.context(state.ensure_local_actor(), write=True) as c:
            jobs.release(c, name)
            webhooks.release(c, name)
