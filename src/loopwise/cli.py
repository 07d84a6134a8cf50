"""The ``loopwise`` command: global options, ``serve``, ``demo`` and each slice's group.

A thin shell over the library: parse -> service (or SDK) -> print. Store commands run
locally, straight against the configured database, as the local admin user. Every
``LoopwiseError`` becomes one ``error: <message>`` line on stderr and the error's exit
code; bad arguments get the usual usage error (exit 2); no traceback for bad input.

Each slice's ``cli.py`` reaches the shared plumbing (loopwise.console) through ``ctx.obj``
(a ``CliEnv``); the command groups come from the slices (loopwise.slices).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

import loopwise
from loopwise.console import CliEnv
from loopwise.core.clock import Clock
from loopwise.core.errors import LoopwiseError
from loopwise.core.settings import Settings
from loopwise.db.engine import Database
from loopwise.web.state import AppState

if TYPE_CHECKING:
    from fastapi import FastAPI

    from loopwise.demo.seed import SeedResult
    from loopwise.web.state import AppState

INVALID_INPUT_EXIT = 2


# --- errors ----------------------------------------------------------------------------


def describe_validation(exc: ValidationError, *, limit: int = 3) -> str:
    """The first few problems of a pydantic error, on one line."""
    problems = exc.errors()
    parts = []
    for err in problems[:limit]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        text = f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid")
        given = err.get("input")
        if isinstance(given, str | int | float) and not isinstance(given, bool):
            shown = repr(given)
            text += f" (got {shown[:60] + '…' if len(shown) > 60 else shown})"
        parts.append(text)
    if len(problems) > limit:
        parts.append(f"and {len(problems) - limit} more")
    return "; ".join(parts)


def _fail(message: str, code: int) -> typer.Exit:
    # One line, whatever the message holds: no traceback, no wrapped panel.
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


class _LoopwiseGroup(TyperGroup):
    """The root group: turns expected errors into one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LoopwiseError as exc:
            raise _fail(exc.message, exc.exit_code) from None
        except ValidationError as exc:
            raise _fail(f"invalid input: {describe_validation(exc)}", INVALID_INPUT_EXIT) from None
        except OperationalError as exc:
            first = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else ""
            raise _fail(f"cannot use the database: {first}", 1) from None


# --- the object every command receives -------------------------------------------------


# --- the root command ------------------------------------------------------------------

app = typer.Typer(
    name="loopwise",
    cls=_LoopwiseGroup,
    help="Loopwise: plan and evidence for machine-learning projects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"loopwise {loopwise.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(help="Folder for the default database and artifacts. Env: LOOPWISE_HOME."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL; default: SQLite file in the home folder. "
            "Env: LOOPWISE_DATABASE_URL."
        ),
    ] = None,
    artifact_root: Annotated[
        Path | None,
        typer.Option(help="Folder for run artifacts. Env: LOOPWISE_ARTIFACT_ROOT."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Loopwise: plan and evidence for machine-learning projects.

    Store commands work directly on the configured database as the local admin user.
    Options override LOOPWISE_* environment variables.
    """
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "home": home,
            "database_url": database_url,
            "artifact_root": artifact_root,
        }.items()
        if v is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise _fail(f"invalid settings: {describe_validation(exc)}", INVALID_INPUT_EXIT) from None
    env = CliEnv(settings, overrides, _build_state)
    ctx.obj = env
    ctx.call_on_close(env.close)


def _build_state(settings: Settings, db: Database, clock: Clock) -> AppState:
    from loopwise.app import build_state

    return build_state(settings, db, clock)


def _env(ctx: typer.Context) -> CliEnv:
    env: CliEnv = ctx.obj
    return env


def _display_url(settings: Settings) -> str:
    host = settings.host
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _settle_heap() -> None:
    """What exists once the app is built (modules, routes, templates, ~200k objects) lives
    until the server stops: move it out of the garbage collector's reach. Otherwise every
    full collection walks all of it, and the request that triggers one (a page of runs
    allocates thousands of dicts) stalls: on 2 cores, 1 in ~300 MLflow searches took
    over 100 ms instead of ~11."""
    gc.collect()
    gc.freeze()


def _serve(
    env: CliEnv, application: FastAPI, settings: Settings, *, access_log: bool = False
) -> None:
    import uvicorn

    database = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    _settle_heap()
    env.err_console.print(
        Text(
            f"Loopwise {loopwise.__version__} on {_display_url(settings)}  "
            f"(database {database}, auth {'on' if settings.auth else 'off'}; Ctrl+C stops)"
        )
    )
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=access_log,
    )


HostOption = Annotated[
    str | None, typer.Option(help="Address to bind; default 127.0.0.1. Env: LOOPWISE_HOST.")
]
PortOption = Annotated[
    int | None,
    typer.Option(min=0, max=65535, help="Port to bind; default 5080. Env: LOOPWISE_PORT."),
]


@app.command()
def serve(
    ctx: typer.Context,
    host: HostOption = None,
    port: PortOption = None,
    auth: Annotated[
        bool | None,
        typer.Option(
            "--auth/--no-auth",
            help="Require a token or login (default off: local single-user mode). "
            "Env: LOOPWISE_AUTH.",
        ),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log one line per request (default off: a training loop sends thousands).",
        ),
    ] = False,
) -> None:
    """Serve the web app and the REST API (/api/v1)."""
    from loopwise.app import create_app

    env = _env(ctx)
    settings = env.settings_with(host=host, port=port, auth=auth)
    application = create_app(settings)
    try:
        _serve(env, application, settings, access_log=access_log)
    finally:
        application.state.loopwise.db.dispose()


def _seed_summary(result: SeedResult) -> Table:
    rows = [(h.key, h.title, h.verdict) for h in result.hypotheses]
    return CliEnv.table(["Hypothesis", "Title", "Verdict"], rows)


@app.command()
def demo(
    ctx: typer.Context,
    host: HostOption = None,
    port: PortOption = None,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the app once the demo is seeded.")
    ] = True,
) -> None:
    """Seed a demo project made of real work (breast cancer screening), then serve it.

    Trains scikit-learn models on the bundled breast cancer data set and records them
    through the SDK and the real API. Safe to run again: nothing is duplicated or
    removed; a seed cut short earlier is completed.
    """
    from starlette.testclient import TestClient

    from loopwise.app import IN_PROCESS_URL, create_app, in_process
    from loopwise.demo.seed import PROJECT_KEY, seed_demo
    from loopwise.sdk.client import Client

    env = _env(ctx)
    settings = env.settings_with(host=host, port=port)
    # Seed in local mode, as the local admin user (this process owns the store anyway);
    # the app is built here rather than by Client.in_process so its engine gets disposed.
    seeding = in_process(settings.model_copy(update={"auth": False}))
    seeding_app = create_app(seeding, sweep=False)
    try:
        http = TestClient(seeding_app, base_url=IN_PROCESS_URL)
        with Client(http=http) as client, env.progress() as reporter:
            result = seed_demo(client, reporter=reporter)
    finally:
        seeding_app.state.loopwise.db.dispose()
    if result.complete_before:
        env.note(f"Demo project {PROJECT_KEY} is already seeded: nothing added.")
    else:
        env.note(
            f"Demo project {PROJECT_KEY}: added {result.hypotheses_created} hypotheses, "
            f"{result.items_created} work items, {result.runs_created} runs."
        )
    env.err_console.print(_seed_summary(result))
    if settings.auth:
        env.note("auth is on: sign in as your own user (`loopwise user create NAME --password`)")
    if not serve_after:
        env.note("serve it with `loopwise serve`")
        return
    application = create_app(settings)
    try:
        _serve(env, application, settings)
    finally:
        application.state.loopwise.db.dispose()


def _register_groups() -> None:
    from loopwise import maintenance, slices

    for module in (maintenance, *slices.cli_modules()):
        for group in module.groups():
            app.add_typer(group)
        # Single commands at the top level, e.g. ``loopwise flow CHURN``.
        for name, function in getattr(module, "commands", list)():
            app.command(name)(function)


_register_groups()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="loopwise")


if __name__ == "__main__":  # pragma: no cover
    main()
