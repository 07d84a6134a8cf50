"""Request dependencies: who is calling, and a context to run use cases in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from loopwise.core.context import Actor, Context
from loopwise.core.errors import Unauthenticated
from loopwise.web.state import AppState

SESSION_COOKIE = "loopwise_session"


# The dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` dependencies on
# the worker-thread pool, and three thread hops per request cost more than the request.


async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.loopwise
    return state


def _secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <token>'")
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


async def current_actor(request: Request, state: Annotated[AppState, Depends(app_state)]) -> Actor:
    """Local mode: the local user. Auth mode: the owner of the bearer token or session."""
    if not state.settings.auth:
        if state.local_actor is not None:
            return state.local_actor
        return await run_in_threadpool(state.ensure_local_actor)
    secret = _secret(request)
    if not secret:
        raise Unauthenticated("sign in or send 'Authorization: Bearer <token>'")
    return await run_in_threadpool(state.actor_for_secret, secret)


@dataclass
class Caller:
    """The caller of one request, able to open read or write contexts."""

    state: AppState
    actor: Actor

    @contextmanager
    def read(self) -> Iterator[Context]:
        with self.state.context(self.actor, write=False) as ctx:
            yield ctx

    @contextmanager
    def write(self) -> Iterator[Context]:
        with self.state.context(self.actor, write=True) as ctx:
            yield ctx


async def caller(
    state: Annotated[AppState, Depends(app_state)],
    actor: Annotated[Actor, Depends(current_actor)],
) -> Caller:
    return Caller(state, actor)


CallerDep = Annotated[Caller, Depends(caller)]
StateDep = Annotated[AppState, Depends(app_state)]
