"""``loopwise run``: look at runs, their params, metrics and artifacts.

Parse -> tracking service -> print. Runs are written through the SDK, not the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopwise.console import JsonOption, env_of
from loopwise.core.clock import from_millis
from loopwise.tracking import artifacts, service
from loopwise.tracking.models import MetricPoint, Run, RunStatus

if TYPE_CHECKING:
    from loopwise.console import CliEnv

run_app = typer.Typer(name="run", help="Runs: params, metrics and artifacts.", no_args_is_help=True)

RunArg = Annotated[str, typer.Argument(help="Run id, e.g. run_3f2a...")]


def groups() -> list[typer.Typer]:
    return [run_app]


def _metrics_summary(env: CliEnv, run: Run, limit: int = 3) -> str:
    shown = [f"{k}={env.num(p.value)}" for k, p in list(run.metrics.items())[:limit]]
    if len(run.metrics) > limit:
        shown.append(f"+{len(run.metrics) - limit}")
    return ", ".join(shown)


def _run_rows(env: CliEnv, runs: list[Run]) -> Any:
    if not runs:
        return "no runs"
    rows = [
        (
            r.id,
            r.name,
            r.experiment_name,
            r.status.value,
            env.when(r.start_time),
            _metrics_summary(env, r),
        )
        for r in runs
    ]
    return env.table(["Run", "Name", "Experiment", "Status", "Started", "Metrics"], rows)


@run_app.command("list")
def list_runs(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project key.")],
    experiment: Annotated[str | None, typer.Option(help="Only this experiment.")] = None,
    status: Annotated[RunStatus | None, typer.Option(help="Only runs in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List a project's runs, newest first."""
    env = env_of(ctx)
    with env.read() as c:
        runs = service.list_runs(c, project, experiment=experiment, status=status, limit=limit)
    env.emit(runs, list[Run], as_json=as_json, render=lambda: _run_rows(env, runs))


@run_app.command("show")
def get_run(ctx: typer.Context, run_id: RunArg, as_json: JsonOption = False) -> None:
    """Show a run: params, tags, latest metrics and artifacts."""
    env = env_of(ctx)
    with env.read() as c:
        run = service.get_run(c, run_id)
        files = artifacts.list_artifacts(c, run_id)

    def render() -> list[Any]:
        out: list[Any] = [
            env.fields(
                [
                    ("Run", run.id),
                    ("Name", run.name),
                    ("Project", run.project_key),
                    ("Experiment", run.experiment_name),
                    ("Status", run.status.value),
                    ("Started", env.when(run.start_time)),
                    ("Ended", env.when(run.end_time)),
                    ("Git commit", run.git_commit or "—"),
                ]
            )
        ]
        if run.params:
            out.append(env.table(["Param", "Value"], run.params.items(), title="Params"))
        if run.metrics:
            latest = [(k, env.num(p.value), p.step) for k, p in run.metrics.items()]
            out.append(env.table(["Metric", "Latest", "Step"], latest, title="Metrics"))
        if run.tags:
            out.append(env.table(["Tag", "Value"], run.tags.items(), title="Tags"))
        if files:
            listing = [(f.path + ("/" if f.is_dir else ""), f.size) for f in files]
            out.append(env.table(["Artifact", "Bytes"], listing, title="Artifacts"))
        return out

    env.emit(run, Run, as_json=as_json, render=render)


@run_app.command("metrics")
def metric_history(
    ctx: typer.Context,
    run_id: RunArg,
    key: Annotated[str, typer.Argument(help="Metric key, e.g. val_loss.")],
    as_json: JsonOption = False,
) -> None:
    """Show every logged point of one metric, by step."""
    env = env_of(ctx)
    with env.read() as c:
        points = service.metric_history(c, run_id, key)
    rows = [
        (p.step, env.num(p.value), f"{from_millis(p.timestamp):%Y-%m-%d %H:%M:%S}") for p in points
    ]
    env.emit(
        points,
        list[MetricPoint],
        as_json=as_json,
        render=lambda: env.table(["Step", key, "Logged"], rows),
    )
