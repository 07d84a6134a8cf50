"""Everything one running app holds, built once by the app factory and passed down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loopwise.accounts import service as accounts
from loopwise.accounts.throttle import LoginThrottle
from loopwise.core.clock import Clock
from loopwise.core.context import Actor, Context
from loopwise.core.errors import Conflict
from loopwise.core.events import EventBus
from loopwise.core.settings import Settings
from loopwise.db.engine import Database

T = TypeVar("T")

SYSTEM = Actor(user_id="system", username="system", is_admin=True)


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    bus: EventBus
    promotion_checks: tuple[Callable[..., Any], ...] = ()
    local_actor: Actor | None = None
    # Failed sign-ins per username and address; in memory: one server process sees all.
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @contextmanager
    def context(self, actor: Actor, *, write: bool) -> Iterator[Context]:
        """One use case in one transaction: committed on success, rolled back on error."""
        with self.db.session(write=write) as session:
            yield self._context_for(session, actor)

    def _context_for(self, session: Session, actor: Actor) -> Context:
        return Context(session, self.clock, actor, self.settings, self.bus, self.promotion_checks)

    def run_now(self, actor: Actor, fn: Callable[[Context], T]) -> tuple[bool, T | None]:
        """Run a small write use case on the calling thread if its transaction can begin
        without waiting (see ``Database.session_now``): (True, result), or (False, None)
        when the caller should queue it on a worker thread instead."""
        with self.db.session_now() as session:
            if session is None:
                return False, None
            return True, fn(self._context_for(session, actor))

    def actor_for_secret(self, secret: str) -> Actor:
        with self.db.session(write=False) as session:
            use = accounts.authenticate(session, self.clock, secret)
        if use.record_use:  # at most once a minute per token
            self._record_token_use(use.token_id)
        return use.actor

    def _record_token_use(self, token_id: str) -> None:
        if self.db.is_sqlite:
            # Only if the write lock is free right now: a request never waits behind
            # other writers to note its token's use; a later request will note it.
            with self.db.session_now() as session:
                if session is not None:
                    accounts.record_use(session, self.clock, token_id)
            return
        with self.db.session(write=True) as session:
            accounts.record_use(session, self.clock, token_id)

    def ensure_local_actor(self) -> Actor:
        if self.local_actor is None:
            try:
                with self.db.session(write=True) as session:
                    self.local_actor = accounts.ensure_local_user(session, self.clock)
            except (IntegrityError, Conflict):
                # Concurrent first requests (PostgreSQL has no write lock): another one
                # created the local user first. Its row is committed now; read it.
                with self.db.session(write=True) as session:
                    self.local_actor = accounts.ensure_local_user(session, self.clock)
        return self.local_actor

    @property
    def artifact_tmp(self) -> Path:
        path = self.settings.resolved_artifact_root / ".tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path
