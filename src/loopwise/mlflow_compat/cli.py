"""``loopwise import mlflow``: copy an existing MLflow store into Loopwise."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loopwise.mlflow_compat.importer import import_store

if TYPE_CHECKING:
    from loopwise.console import CliEnv

import_app = typer.Typer(name="import", help="Import data from other tools.", no_args_is_help=True)


def groups() -> list[typer.Typer]:
    return [import_app]


@import_app.command("mlflow")
def import_mlflow(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="An mlruns folder, sqlite:///mlflow.db, or a server URL.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Copy experiments, runs, params, metric histories, tags and artifacts from an MLflow
    store. Running it again imports nothing twice."""
    env: CliEnv = ctx.obj
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=env.console,
        transient=as_json,
    ) as bar:
        task = bar.add_task("importing runs", total=None)

        def progress(done: int, total: int, experiment: str) -> None:
            bar.update(task, completed=done, total=total, description=f"importing {experiment}")

        report = import_store(env.write, source, progress=progress)
    if as_json:
        typer.echo(json.dumps(report.__dict__, indent=2))
        return
    env.console.print(
        f"imported {report.runs} runs ({report.metric_points} metric points, "
        f"{report.artifacts} artifacts) from {report.experiments} experiments; "
        f"skipped {report.skipped} already imported"
    )
    for problem in report.problems:
        env.console.print(f"[yellow]skipped[/yellow] {problem}")
    if report.problems:
        raise typer.Exit(1)
