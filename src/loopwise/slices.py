"""The slices Loopwise is made of, from the bottom up: the one list a new slice joins.

Each slice declares what it brings in its package's ``SLICE`` (core.slice.Slice); the
functions below gather those declarations into what the app factory, the CLI, the
migrations and the tests need. A slice may import the slices listed before it, never
those after it (tests/test_architecture.py checks this); it reaches a higher slice only
through what that slice declares here (event handlers, checks, panels).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import loopwise.accounts
import loopwise.audit
import loopwise.data
import loopwise.governance
import loopwise.mlflow_compat
import loopwise.monitoring
import loopwise.planning
import loopwise.projects
import loopwise.registry
import loopwise.tracking
from loopwise.core.clock import Clock
from loopwise.core.context import Hooks
from loopwise.core.events import EventBus
from loopwise.core.slice import Periodic, Slice, resolve
from loopwise.db.engine import Database

SLICES: tuple[Slice, ...] = (
    loopwise.audit.SLICE,
    loopwise.accounts.SLICE,
    loopwise.projects.SLICE,
    loopwise.tracking.SLICE,
    loopwise.planning.SLICE,
    loopwise.data.SLICE,
    loopwise.registry.SLICE,
    loopwise.monitoring.SLICE,
    loopwise.governance.SLICE,
    loopwise.mlflow_compat.SLICE,
)


def _refs(field: str) -> Iterator[Any]:
    for s in SLICES:
        for ref in getattr(s, field):
            yield resolve(ref)


def load_tables() -> None:
    """Import every slice's tables, so db.base.Base.metadata holds the whole schema."""
    list(_refs("tables"))  # resolving each module imports it; that is all it takes


def event_bus() -> EventBus:
    bus = EventBus()
    for s in SLICES:
        for event, handler in s.handlers:
            bus.subscribe(resolve(event), resolve(handler))
    return bus


def hooks() -> Hooks:
    return Hooks(
        promotion_checks=tuple(_refs("promotion_checks")),
        phase_checks=tuple(_refs("phase_checks")),
        done_rules={rule: resolve(ref) for s in SLICES for rule, ref in s.done_rules},
        run_panels=tuple(_refs("run_panels")),
        dataset_panels=tuple(_refs("dataset_panels")),
        model_panels=tuple(_refs("model_panels")),
        hypothesis_panels=tuple(_refs("hypothesis_panels")),
    )


def identity(db: Database, clock: Clock) -> Any:
    """Who is calling (web.state.Identity), from the slice that declares it."""
    (factory,) = [resolve(s.identity) for s in SLICES if s.identity]
    return factory(db, clock)


def raw_api_routers() -> list[Any]:
    return list(_refs("raw_api"))


def api_routers() -> list[Any]:
    return list(_refs("api"))


def page_routers() -> list[Any]:
    return list(_refs("pages"))


def error_shapes() -> list[Any]:
    return list(_refs("error_shapes"))


def app_hooks() -> list[Callable[[Any], None]]:
    return list(_refs("app_hooks"))


def streamed_routes() -> list[tuple[str, str]]:
    """(method, path regex) of the routes that stream their body to disk."""
    return [route for s in SLICES for route in s.streamed]


def periodic() -> list[Periodic]:
    return [p for s in SLICES for p in s.periodic]


def cli_modules() -> list[Any]:
    """Modules with ``groups()`` (Typer command groups) and maybe ``commands()``."""
    return list(_refs("cli"))
