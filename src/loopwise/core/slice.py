"""What a capability slice brings, declared in its package's ``__init__``.

A slice names its parts by reference (``"module:attribute"``), so declaring one imports
nothing: the app factory loads the routers, the CLI its command groups, the migrations
the tables, each only when it needs them. ``loopwise.slices`` lists the slices; adding a
slice is its folder plus one line there. See docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

Ref = str  # "package.module:attribute", or "package.module" for a whole module


@dataclass(frozen=True)
class Periodic:
    """Work the server repeats while it runs: ``job(ctx) -> int`` (how much it changed),
    called as the system user every ``every_setting`` seconds (a Settings field; 0 = off).
    With ``transaction=False`` the job is ``job(state) -> int`` and opens its own
    transactions (work that waits on the network, such as sending webhooks, must not
    hold one open)."""

    name: str
    job: Ref
    every_setting: str
    transaction: bool = True


@dataclass(frozen=True)
class Slice:
    """One capability's contributions to the app, the CLI, the schema and the others."""

    name: str
    tables: tuple[Ref, ...] = ()  # modules whose import maps the slice's tables
    api: tuple[Ref, ...] = ()  # APIRouters of JSON endpoints (bodies must be JSON)
    raw_api: tuple[Ref, ...] = ()  # APIRouters that read their own bodies, matched first
    pages: tuple[Ref, ...] = ()  # APIRouters of server-rendered pages
    cli: tuple[Ref, ...] = ()  # modules with ``groups()`` and optionally ``commands()``
    handlers: tuple[tuple[Ref, Ref], ...] = ()  # (event class, handler(ctx, event))
    promotion_checks: tuple[Ref, ...] = ()  # check(ctx, version, stage) -> CheckResult | None
    phase_checks: tuple[Ref, ...] = ()  # check(ctx, project, from, to) -> list[CheckResult]
    done_rules: tuple[tuple[str, Ref], ...] = ()  # computed Definition-of-Done checks
    run_panels: tuple[Ref, ...] = ()  # panel(ctx, run) -> Panel | None on the run page
    dataset_panels: tuple[Ref, ...] = ()  # panel(ctx, version) -> Panel | None
    model_panels: tuple[Ref, ...] = ()  # panel(ctx, model, versions) -> Panel | None
    hypothesis_panels: tuple[Ref, ...] = ()  # panel(ctx, hypothesis) -> Panel | None
    error_shapes: tuple[Ref, ...] = ()  # web.errors.ErrorShape for the slice's paths
    app_hooks: tuple[Ref, ...] = ()  # hook(app) once the routes are in (OpenAPI additions)
    periodic: tuple[Periodic, ...] = ()
    # routes that stream their body to disk, (method, path regex): they get the upload
    # limit (LOOPWISE_MAX_ARTIFACT_BYTES) instead of the body limit (web/body.py)
    streamed: tuple[tuple[str, str], ...] = ()
    identity: Ref | None = None  # accounts: identity(db, clock) -> web.state.Identity


def resolve(ref: Ref) -> Any:
    """The object a reference names; a module when it names no attribute."""
    module, _, attribute = ref.partition(":")
    loaded = import_module(module)
    return getattr(loaded, attribute) if attribute else loaded
