"""What every use case receives: who asks, when, through which session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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

    def publish(self, event: object) -> None:
        self.bus.publish(self, event)
