"""What every use case receives: who asks, when, through which session."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loopwise.core.clock import Clock
from loopwise.core.events import EventBus
from loopwise.core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a use case runs."""

    user_id: str
    username: str
    is_admin: bool = False


@dataclass(frozen=True)
class Hooks:
    """What slices lend each other at run time, gathered from their declarations by the
    assembly (loopwise.slices): a lower slice calls these without importing the higher
    slices that provide them."""

    # check(ctx, model_version, target_stage) -> CheckResult | None (None: does not apply
    # to that stage), asked before canary and production (registry's "source run
    # finished"; governance's gates)
    promotion_checks: tuple[Callable[..., Any], ...] = ()
    # check(ctx, project, from_phase, to_phase) -> list[CheckResult], asked before a
    # project changes its CRISP-DM phase (governance's phase exit gates)
    phase_checks: tuple[Callable[..., Any], ...] = ()
    # Definition-of-Done rules computed from the record: rule(ctx, item_id) -> bool
    done_rules: Mapping[str, Callable[..., bool]] = field(default_factory=dict)
    # Sections other slices add to a run's page and a dataset version's page:
    # panel(ctx, run_or_version) -> web.pages.Panel | None
    run_panels: tuple[Callable[..., Any], ...] = ()
    dataset_panels: tuple[Callable[..., Any], ...] = ()
    # ... and to a registered model's page: panel(ctx, model, versions) -> Panel | None
    model_panels: tuple[Callable[..., Any], ...] = ()
    # ... and to a hypothesis page: panel(ctx, hypothesis) -> Panel | None
    hypothesis_panels: tuple[Callable[..., Any], ...] = ()


@dataclass
class Context:
    session: Session
    clock: Clock
    actor: Actor
    settings: Settings
    bus: EventBus
    hooks: Hooks = field(default_factory=Hooks)

    def publish(self, event: object) -> None:
        self.bus.publish(self, event)
