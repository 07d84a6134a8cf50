"""The ``loopwise`` command: global options, ``serve``, ``demo`` and each slice's group.

A thin shell over the library: parse -> service (or SDK) -> print. Store commands run
locally, straight against the configured database, as the local admin user. Every
``LoopwiseError`` becomes one ``error: <message>`` line on stderr and the error's exit
code; bad arguments get the usual usage error (exit 2); no traceback for bad input.

Each slice's ``cli.py`` reaches the shared plumbing below through ``ctx.obj`` (a
``CliEnv``), never by importing this module at run time, so there is no import cycle.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

import loopwise
from loopwise.core.context import Actor, Context
from loopwise.core.errors import LoopwiseError
from loopwise.core.settings import Settings

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


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "—"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "−∞"
    return f"{value:.4g}"


_adapters: dict[Any, TypeAdapter[Any]] = {}


def dump_json(value: Any, kind: Any) -> str:
    """JSON of a domain value, by the same rules as the API (NaN travels as "NaN")."""
    adapter = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)
    return adapter.dump_json(value, indent=2).decode()


class CliEnv:
    """Settings, a lazily opened local store, and output helpers; lives in ``ctx.obj``."""

    when = staticmethod(_when)
    num = staticmethod(_num)

    def __init__(self, settings: Settings, overrides: dict[str, Any]) -> None:
        self.settings = settings
        self.overrides = overrides  # the flags given on the command line
        self._state: AppState | None = None
        self._actor: Actor | None = None

    def settings_with(self, **extra: Any) -> Settings:
        """Settings rebuilt with more flags (``serve --port``); validated like the rest."""
        given = {k: v for k, v in extra.items() if v is not None}
        return Settings(**{**self.overrides, **given})

    # store

    def state(self) -> AppState:
        """The local store: database at the current revision, system clock, event bus."""
        if self._state is None:
            from loopwise.core.clock import SystemClock
            from loopwise.db.engine import Database
            from loopwise.db.migrate import ensure_current
            from loopwise.web.state import AppState
            from loopwise.wiring import default_bus, default_promotion_checks

            db = Database(
                self.settings.resolved_database_url,
                sqlite_synchronous=self.settings.sqlite_synchronous,
            )
            try:
                ensure_current(db.engine)
            except BaseException:
                db.dispose()
                raise
            # The same promotion checks as the app: the CLI must not be a way around them.
            self._state = AppState(
                settings=self.settings,
                db=db,
                clock=SystemClock(),
                bus=default_bus(),
                promotion_checks=default_promotion_checks(),
            )
        return self._state

    @contextmanager
    def read(self) -> Iterator[Context]:
        state = self.state()
        with state.context(state.ensure_local_actor(), write=False) as ctx:
            yield ctx

    @contextmanager
    def write(self) -> Iterator[Context]:
        state = self.state()
        with state.context(state.ensure_local_actor(), write=True) as ctx:
            yield ctx

    def close(self) -> None:
        if self._state is not None:
            self._state.db.dispose()
            self._state = None

    # output

    @property
    def console(self) -> Console:
        return Console(highlight=False)

    @property
    def err_console(self) -> Console:
        return Console(stderr=True, highlight=False)

    def emit(self, value: Any, kind: Any, *, as_json: bool, render: Callable[[], Any]) -> None:
        """``--json``: the value as JSON on stdout; otherwise what ``render`` returns."""
        if as_json:
            typer.echo(dump_json(value, kind))
            return
        shown = render()
        for part in shown if isinstance(shown, list | tuple) else [shown]:
            self.console.print(part)

    def working(self, message: str) -> AbstractContextManager[Any]:
        """A spinner on stderr while something slow runs (silent when not a terminal)."""
        return self.err_console.status(Text(message), spinner="dots")

    def note(self, message: str) -> None:
        """A human message on stderr (keeps stdout clean for ``--json``)."""
        self.err_console.print(Text(message))

    def progress(self) -> _RichReporter:
        """Progress bars on stderr for long work (a ``core.progress.Reporter``)."""
        return _RichReporter(self.err_console)

    @staticmethod
    def table(
        columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
    ) -> Table:
        """A table; cells are plain text, never Rich markup (titles may hold brackets)."""
        table = Table(title=title, title_justify="left", show_edge=False)
        for i, name in enumerate(columns):
            # Keys and ids stay whole: the first column never wraps, the others fold
            # rather than cut a value short with an ellipsis.
            table.add_column(name, no_wrap=i == 0, overflow="fold")
        for row in rows:
            table.add_row(*(c if isinstance(c, Text) else Text(str(c)) for c in row))
        return table

    @staticmethod
    def fields(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> Table:
        """Label/value lines for ``show`` commands."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        if title:
            grid.title = title
            grid.title_justify = "left"
        for label, value in pairs:
            grid.add_row(label, value if isinstance(value, Text) else Text(str(value)))
        return grid


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
    env = CliEnv(settings, overrides)
    ctx.obj = env
    ctx.call_on_close(env.close)


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
    from loopwise.web.app import create_app

    env = _env(ctx)
    settings = env.settings_with(host=host, port=port, auth=auth)
    application = create_app(settings)
    try:
        _serve(env, application, settings, access_log=access_log)
    finally:
        application.state.loopwise.db.dispose()


class _RichReporter:
    """Seeding progress as Rich progress bars on stderr."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        self.console = console
        self.progress = Progress(
            TextColumn("{task.description:<36}"),
            BarColumn(),
            TaskProgressColumn(),
            console=console,
        )

    def info(self, message: str) -> None:
        self.progress.console.print(Text(message))

    def task(self, description: str, total: int) -> Callable[[int], None]:
        task_id = self.progress.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            self.progress.advance(task_id, steps)

        return advance

    def __enter__(self) -> _RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


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

    from loopwise.demo.seed import PROJECT_KEY, seed_demo
    from loopwise.sdk.client import Client
    from loopwise.web.app import IN_PROCESS_URL, create_app, in_process

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
    from loopwise.accounts import cli as accounts_cli
    from loopwise.data import cli as data_cli
    from loopwise.db import cli as db_cli
    from loopwise.mlflow_compat import cli as mlflow_cli
    from loopwise.planning import board_cli, register_cli
    from loopwise.planning import cli as planning_cli
    from loopwise.projects import cli as projects_cli
    from loopwise.registry import cli as registry_cli
    from loopwise.tracking import cli as tracking_cli

    modules = (
        db_cli,
        projects_cli,
        planning_cli,
        board_cli,
        register_cli,
        tracking_cli,
        data_cli,
        registry_cli,
        accounts_cli,
        mlflow_cli,
    )
    for module in modules:
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
    sys.exit(main())
