"""What every use case receives: who asks, when, through which session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class Context:
    session: Session
    clock: Clock
    actor: Actor
    settings: Settings
    bus: EventBus
    # Checks a model version must pass before production (registry; governance adds its
    # gates here). Each is called as check(ctx, version) and returns a CheckResult.
    promotion_checks: tuple[Callable[..., Any], ...] = ()

    def publish(self, event: object) -> None:
        self.bus.publish(self, event)
