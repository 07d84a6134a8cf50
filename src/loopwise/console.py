"""What every command of the ``loopwise`` CLI shares: ``CliEnv`` (settings, a lazily
opened local store, output helpers), reached by each slice's CLI through ``ctx.obj``.

The root command (loopwise.cli) builds the ``CliEnv`` with the wiring of the assembled
slices; slices only use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loopwise.core.clock import Clock, SystemClock
from loopwise.core.context import Context
from loopwise.core.settings import Settings
from loopwise.db.engine import Database
from loopwise.db.migrate import ensure_current
from loopwise.web.state import AppState

# build_state(settings, db, clock) -> AppState: the app factory's wiring (loopwise.app)
StateBuilder = Callable[[Settings, Database, Clock], AppState]

# Arguments and options every slice's commands share
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProjectArg = Annotated[str, typer.Argument(help="Project key, e.g. CHURN.")]


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

    def __init__(
        self, settings: Settings, overrides: dict[str, Any], build_state: StateBuilder
    ) -> None:
        self.settings = settings
        self.overrides = overrides  # the flags given on the command line
        self._build_state = build_state
        self._state: AppState | None = None

    def settings_with(self, **extra: Any) -> Settings:
        """Settings rebuilt with more flags (``serve --port``); validated like the rest."""
        given = {k: v for k, v in extra.items() if v is not None}
        return Settings(**{**self.overrides, **given})

    # store

    def state(self) -> AppState:
        """The local store: database at the current revision, system clock, event bus."""
        if self._state is None:
            db = Database(
                self.settings.resolved_database_url,
                sqlite_synchronous=self.settings.sqlite_synchronous,
            )
            try:
                ensure_current(db.engine)
            except BaseException:
                db.dispose()
                raise
            # The same wiring as the app (handlers, promotion checks): the CLI must not be
            # a way around them.
            self._state = self._build_state(self.settings, db, SystemClock())
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


def env_of(ctx: typer.Context) -> CliEnv:
    """The ``CliEnv`` the root command put in the Typer context."""
    env: CliEnv = ctx.obj
    return env
