"""Who is calling: the server's side of sign-in, plugged into the app's state.

``Identity`` turns a bearer token or session secret into an actor, keeps the local
workspace user for local mode, and holds the sign-in throttle (counters in memory: one
server process sees every attempt; see throttle.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from loopwise.accounts import service as accounts
from loopwise.accounts.throttle import LoginThrottle
from loopwise.core.clock import Clock
from loopwise.core.context import Actor
from loopwise.core.errors import Conflict
from loopwise.db.engine import Database


@dataclass
class Identity:
    db: Database
    clock: Clock
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    local: Actor | None = None

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

    def local_actor(self) -> Actor:
        """The local workspace admin of local mode, created on first use."""
        if self.local is None:
            try:
                with self.db.session(write=True) as session:
                    self.local = accounts.ensure_local_user(session, self.clock)
            except (IntegrityError, Conflict):
                # Concurrent first requests (PostgreSQL has no write lock): another one
                # created the local user first. Its row is committed now; read it.
                with self.db.session(write=True) as session:
                    self.local = accounts.ensure_local_user(session, self.clock)
        return self.local


def identity(db: Database, clock: Clock) -> Identity:
    """The accounts slice's identity for an app or CLI (declared in accounts.SLICE)."""
    return Identity(db, clock)


def of(state: object) -> Identity:
    """The accounts identity an app state holds (for the sign-in doors)."""
    found = getattr(state, "identity", None)
    if not isinstance(found, Identity):
        raise TypeError("this app state holds no accounts identity")
    return found
