"""Sign-in rate limits: failed attempts per username and per client address, with backoff.

The rule (``decide``), for one key's streak of failures:

1. fewer than ``max_failures`` failures: allowed;
2. from then on each failure locks the key for ``base_lock``, doubled for every failure
   past ``max_failures`` and capped at ``max_lock``; an attempt during the lock is refused
   with the time left (no password is checked and nothing is counted);
3. a streak is forgotten once the key has been quiet for ``forget_after`` after its lock
   ended; a successful sign-in forgets the username's streak (not the address's, or one
   valid account would reset an address that guesses at others).

Unknown usernames are counted like known ones, so a lock tells nothing about which
usernames exist.

Where the counters live: in this process's memory (``LoginThrottle``). Loopwise serves
from one process (see the README), so one map sees every attempt, and a failed sign-in
writes nothing to the database: someone hammering the login form cannot take SQLite's
write lock from the MLflow log calls. A restart forgets the streaks; locks last minutes,
so that gives an attacker little. A multi-process server would keep the same ``decide``
and move the map into the database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Policy:
    max_failures: int
    base_lock: timedelta = timedelta(seconds=30)
    max_lock: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(minutes=15)

    def lock_for(self, failures: int) -> timedelta:
        """How long the key is locked after its ``failures``-th failure in a row."""
        if failures < self.max_failures:
            return timedelta(0)
        doublings = min(failures - self.max_failures, 30)  # past 30 the cap holds anyway
        factor: int = 2**doublings  # typeshed: int ** int is Any (a negative power is a float)
        return min(self.base_lock * factor, self.max_lock)


# One person mistyping: five tries, then 30 s, 1 min, 2 min... up to 15 min per try.
USER_POLICY = Policy(max_failures=5)
# An address is shared by everyone behind one NAT or proxy: more room before it locks.
ADDRESS_POLICY = Policy(max_failures=20)


@dataclass(frozen=True)
class Failures:
    """A key's current streak: how many failures in a row, and when the last one was."""

    count: int
    last: datetime


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: timedelta = timedelta(0)


ALLOWED = Decision(allowed=True)


def remembered(history: Failures | None, now: datetime, policy: Policy) -> Failures | None:
    """The streak as it stands at ``now``: None once forgotten."""
    if history is None:
        return None
    if now >= history.last + policy.lock_for(history.count) + policy.forget_after:
        return None
    return history


def decide(history: Failures | None, now: datetime, policy: Policy) -> Decision:
    """May this key try a password at ``now``? If not, how long until it may."""
    history = remembered(history, now, policy)
    if history is None:
        return ALLOWED
    until = history.last + policy.lock_for(history.count)
    return ALLOWED if now >= until else Decision(allowed=False, retry_after=until - now)


def record_failure(history: Failures | None, now: datetime, policy: Policy) -> Failures:
    history = remembered(history, now, policy)
    return Failures(1, now) if history is None else Failures(history.count + 1, now)


def strictest(*decisions: Decision) -> Decision:
    refused = [d for d in decisions if not d.allowed]
    return max(refused, key=lambda d: d.retry_after) if refused else ALLOWED


class LoginThrottle:
    """The streaks of one server process, behind a lock (sign-ins run on worker threads).

    An allowed attempt counts as a failure at once and is taken back on success, so
    parallel guesses cannot all slip in before the first failure is written down.
    """

    def __init__(
        self,
        user_policy: Policy = USER_POLICY,
        address_policy: Policy = ADDRESS_POLICY,
        *,
        max_keys: int = 100_000,
    ) -> None:
        self.user_policy = user_policy
        self.address_policy = address_policy
        self.max_keys = max_keys
        self._streaks: dict[tuple[str, str], Failures] = {}
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str | None) -> list[tuple[tuple[str, str], Policy]]:
        keys = [(("user", username[:200]), self.user_policy)]
        if address:
            keys.append((("address", address[:100]), self.address_policy))
        return keys

    def attempt(self, username: str, address: str | None, now: datetime) -> Decision:
        """Decide, and when allowed count the attempt as failed until ``succeeded``."""
        keys = self._keys(username, address)
        with self._lock:
            decision = strictest(*(decide(self._streaks.get(k), now, p) for k, p in keys))
            if decision.allowed:
                for key, policy in keys:
                    updated = record_failure(self._streaks.pop(key, None), now, policy)
                    self._streaks[key] = updated  # re-inserted: the map stays oldest-first
                self._trim(now)
            return decision

    def succeeded(self, username: str, address: str | None) -> None:
        """The password was right: forget the username's streak, take back the address's
        count for this attempt."""
        keys = self._keys(username, address)
        with self._lock:
            self._streaks.pop(keys[0][0], None)
            if len(keys) > 1:
                key = keys[1][0]
                history = self._streaks.get(key)
                if history is not None and history.count > 1:
                    self._streaks[key] = Failures(history.count - 1, history.last)
                else:
                    self._streaks.pop(key, None)

    def _trim(self, now: datetime) -> None:
        # Bounded memory whatever names and addresses are thrown at it: drop forgotten
        # streaks, then the oldest ones, down to 90% so the sweep runs rarely.
        if len(self._streaks) <= self.max_keys:
            return
        policies = {"user": self.user_policy, "address": self.address_policy}
        for key, history in list(self._streaks.items()):
            if remembered(history, now, policies[key[0]]) is None:
                del self._streaks[key]
        while len(self._streaks) > self.max_keys * 9 // 10:
            del self._streaks[next(iter(self._streaks))]
