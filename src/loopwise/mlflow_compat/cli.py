"""``loopwise import mlflow``: copy an existing MLflow store into Loopwise."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loopwise.mlflow_compat.importer import load_mapping, prepare, run_plan

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
    project: Annotated[
        str | None,
        typer.Option("--project", help="Put every experiment into this project (KEY)."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--map",
            help='A JSON file {"experiment": "KEY" or "KEY/name", "*": "KEY"}; '
            "wins over --project.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print where each experiment would go.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Copy experiments, runs, params, metric histories, tags and artifacts from an MLflow
    store. Prints where each experiment goes (--project, --map, else KEY/name -> project
    KEY, other names -> MLFLOW) and refuses, before writing, an experiment it cannot place.
    Runs keep their MLflow run ids; running it again imports nothing twice."""
    env: CliEnv = ctx.obj
    prepared = prepare(
        env.write, source, project=project, mapping=load_mapping(mapping) if mapping else None
    )
    if as_json and dry_run:
        typer.echo(json.dumps([asdict(r) for r in prepared.routes], indent=2))
        return
    if not as_json:
        for r in prepared.routes:
            env.console.print(r.line(), markup=False, highlight=False)
    if dry_run:
        return
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

        report = run_plan(env.write, prepared, progress=progress)
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
