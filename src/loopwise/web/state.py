"""Everything one running app holds, built once by the app factory and passed down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from loopwise.core.clock import Clock
from loopwise.core.context import Actor, Context, Hooks
from loopwise.core.events import EventBus
from loopwise.core.settings import Settings
from loopwise.db.engine import Database

T = TypeVar("T")

SYSTEM = Actor(user_id="system", username="system", is_admin=True)


class Identity(Protocol):
    """Who is calling (provided by the accounts slice, wired by loopwise.slices)."""

    local: Actor | None

    def actor_for_secret(self, secret: str) -> Actor:
        """The owner of a bearer token or session secret; Unauthenticated otherwise."""
        ...

    def local_actor(self) -> Actor:
        """The local workspace admin (local mode, the CLI)."""
        ...


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    bus: EventBus
    identity: Identity
    hooks: Hooks = field(default_factory=Hooks)

    @contextmanager
    def context(self, actor: Actor, *, write: bool) -> Iterator[Context]:
        """One use case in one transaction: committed on success, rolled back on error."""
        with self.db.session(write=write) as session:
            yield self._context_for(session, actor)

    def _context_for(self, session: Session, actor: Actor) -> Context:
        return Context(session, self.clock, actor, self.settings, self.bus, self.hooks)

    def run_now(self, actor: Actor, fn: Callable[[Context], T]) -> tuple[bool, T | None]:
        """Run a small write use case on the calling thread if its transaction can begin
        without waiting (see ``Database.session_now``): (True, result), or (False, None)
        when the caller should queue it on a worker thread instead."""
        with self.db.session_now() as session:
            if session is None:
                return False, None
            return True, fn(self._context_for(session, actor))

    def run_grouped(self, actor: Actor, fn: Callable[[Context], T]) -> T:
        """Run a small write use case in a group commit (``Database.grouped``): writes
        arriving together share one COMMIT; blocking, so call it from a worker thread."""
        return self.db.grouped(lambda session: fn(self._context_for(session, actor)))

    @property
    def local_actor(self) -> Actor | None:
        return self.identity.local

    def actor_for_secret(self, secret: str) -> Actor:
        return self.identity.actor_for_secret(secret)

    def ensure_local_actor(self) -> Actor:
        return self.identity.local_actor()

    @property
    def artifact_tmp(self) -> Path:
        path = self.settings.resolved_artifact_root / ".tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path
