"""Use cases called without a door (the ``do`` fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from loopwise.core.context import Actor, Context
from loopwise.web.state import AppState

P = ParamSpec("P")
T = TypeVar("T")


class UseCases:
    """Calls use cases the way every door does, without a door: each call is one
    transaction (committed on success, rolled back when it raises) run as ``actor``, with
    the wiring the app and the CLI build (``app.build_state``: event bus, hooks, identity).

    ``do(service.fn, *args)`` calls ``service.fn(ctx, *args)`` in a write transaction;
    ``do.read(...)`` in a read one (as the doors do for reads); ``do.as_(actor)`` is
    another caller on the same store.
    """

    def __init__(self, state: AppState, actor: Actor) -> None:
        self.state = state
        self.actor = actor

    def __call__(
        self, fn: Callable[Concatenate[Context, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        with self.state.context(self.actor, write=True) as ctx:
            return fn(ctx, *args, **kwargs)

    def read(
        self, fn: Callable[Concatenate[Context, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        with self.state.context(self.actor, write=False) as ctx:
            return fn(ctx, *args, **kwargs)

    def as_(self, actor: Actor) -> UseCases:
        return UseCases(self.state, actor)
