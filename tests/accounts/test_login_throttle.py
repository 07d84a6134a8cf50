"""The sign-in rate limit as a pure rule (``decide``) and its in-memory keeper, on a frozen
clock. The door tests (HTTP 429 with Retry-After) are in test_accounts_api.py and
tests/web/test_web_login.py; sign-in with the throttle in test_login_passwords.py."""

from __future__ import annotations

from datetime import timedelta

from loopwise.accounts.throttle import (
    ALLOWED,
    Decision,
    Failures,
    LoginThrottle,
    Policy,
    decide,
    record_failure,
)
from loopwise.core.clock import FrozenClock

POLICY = Policy(
    max_failures=5,
    base_lock=timedelta(seconds=30),
    max_lock=timedelta(minutes=15),
    forget_after=timedelta(minutes=15),
)
S = timedelta(seconds=1)


def fail_times(clock: FrozenClock, count: int, history: Failures | None = None) -> Failures:
    for _ in range(count):
        history = record_failure(history, clock.now(), POLICY)
    assert history is not None
    return history


def test_four_failures_are_free_the_fifth_locks_for_the_base_time() -> None:
    clock = FrozenClock()
    assert decide(None, clock.now(), POLICY) == ALLOWED
    history = fail_times(clock, 4)
    assert decide(history, clock.now(), POLICY) == ALLOWED
    history = fail_times(clock, 1, history)
    assert history.count == 5
    assert decide(history, clock.now(), POLICY) == Decision(False, 30 * S)
    clock.advance(29 * S)
    assert decide(history, clock.now(), POLICY) == Decision(False, 1 * S)
    clock.advance(1 * S)
    assert decide(history, clock.now(), POLICY) == ALLOWED


def test_each_further_failure_doubles_the_lock_up_to_the_cap() -> None:
    clock = FrozenClock()
    history = fail_times(clock, 5)
    locks = []
    for _ in range(8):
        until_free = decide(history, clock.now(), POLICY).retry_after
        locks.append(until_free)
        clock.advance(until_free)  # the attacker tries again the moment the lock ends
        assert decide(history, clock.now(), POLICY) == ALLOWED
        history = record_failure(history, clock.now(), POLICY)
    minutes = [lock / timedelta(minutes=1) for lock in locks]
    assert minutes == [0.5, 1, 2, 4, 8, 15, 15, 15]


def test_a_streak_is_forgotten_after_a_quiet_spell_past_its_lock() -> None:
    clock = FrozenClock()
    below = fail_times(clock, 4)
    clock.advance(timedelta(minutes=15))
    assert record_failure(below, clock.now(), POLICY) == Failures(1, clock.now())

    locked = fail_times(clock, 7)  # locked for 2 minutes
    clock.advance(timedelta(minutes=2) + timedelta(minutes=15) - S)
    assert record_failure(locked, clock.now(), POLICY).count == 8  # still remembered
    clock.advance(S)
    assert record_failure(locked, clock.now(), POLICY) == Failures(1, clock.now())


def test_huge_streaks_stay_at_the_cap() -> None:
    history = Failures(count=10_000, last=FrozenClock().now())
    assert decide(history, history.last, POLICY) == Decision(False, timedelta(minutes=15))


# --- the keeper: per username, per address ----------------------------------------------


def test_attempts_count_until_they_succeed_and_success_resets_the_username() -> None:
    clock, throttle = FrozenClock(), LoginThrottle(POLICY, Policy(max_failures=100))
    for _ in range(5):  # five attempts (their passwords never checked here) are allowed
        assert throttle.attempt("vic", "10.0.0.1", clock.now()).allowed
    # The sixth is refused before anyone reports the fifth as failed: an attempt counts as
    # a failure until it succeeds, so parallel guesses cannot slip past the limit.
    assert throttle.attempt("vic", "10.0.0.1", clock.now()) == Decision(False, 30 * S)
    # Other usernames are not locked by vic's streak.
    assert throttle.attempt("olga", "10.0.0.1", clock.now()).allowed

    clock.advance(30 * S)
    assert throttle.attempt("vic", "10.0.0.1", clock.now()).allowed
    throttle.succeeded("vic", "10.0.0.1")
    for _ in range(5):
        assert throttle.attempt("vic", "10.0.0.1", clock.now()).allowed


def test_an_address_guessing_at_many_usernames_is_locked() -> None:
    clock = FrozenClock()
    throttle = LoginThrottle(POLICY, Policy(max_failures=20, base_lock=timedelta(minutes=1)))
    for i in range(20):
        assert throttle.attempt(f"user{i}", "10.0.0.9", clock.now()).allowed
    refused = throttle.attempt("someone-new", "10.0.0.9", clock.now())
    assert refused == Decision(False, timedelta(minutes=1))
    # Another address, and sign-ins without a known address, go on.
    assert throttle.attempt("someone-new", "10.0.0.10", clock.now()).allowed
    assert throttle.attempt("someone-else", None, clock.now()).allowed


def test_a_success_takes_back_only_its_own_attempt_from_the_address() -> None:
    clock = FrozenClock()
    throttle = LoginThrottle(POLICY, Policy(max_failures=3))
    for name in ("a", "b"):
        assert throttle.attempt(name, "10.0.0.9", clock.now()).allowed  # two failures
    assert throttle.attempt("mine", "10.0.0.9", clock.now()).allowed
    throttle.succeeded("mine", "10.0.0.9")  # my right password: the address is back to 2
    assert throttle.attempt("c", "10.0.0.9", clock.now()).allowed  # 3: now locked
    assert not throttle.attempt("d", "10.0.0.9", clock.now()).allowed


def test_the_map_of_streaks_stays_bounded() -> None:
    clock = FrozenClock()
    throttle = LoginThrottle(POLICY, POLICY, max_keys=100)
    for i in range(1_000):
        throttle.attempt(f"user{i}", f"10.0.{i // 250}.{i % 250}", clock.now())
    assert len(throttle._streaks) <= 100
    # The newest streaks are the ones kept.
    for _ in range(4):
        throttle.attempt("user999", None, clock.now())
    assert not throttle.attempt("user999", None, clock.now()).allowed
