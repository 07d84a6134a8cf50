"""REST endpoints for users, tokens and project members."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from loopwise.accounts import identity, service
from loopwise.accounts.models import Token, User, parse_duration
from loopwise.accounts.schemas import LoginIn, TokenCreate, TokenCreated, UserCreate
from loopwise.core.context import Actor
from loopwise.web.deps import SESSION_COOKIE, CallerDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/me")
def me(caller: CallerDep) -> Actor:
    return caller.actor


@router.post("/login")
def login(body: LoginIn, state: StateDep, request: Request, response: Response) -> dict[str, str]:
    """Exchange a password for a session token (also set as a cookie).

    Repeated failures for a username or from an address answer 429 with Retry-After."""
    secret = service.login(
        state.db,
        state.clock,
        identity.of(state).throttle,
        body.username,
        body.password,
        address=request.client.host if request.client else None,
    )
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="lax")
    return {"token": secret}


@router.get("/users")
def list_users(caller: CallerDep) -> list[User]:
    with caller.read() as ctx:
        service.require_workspace_admin(ctx)
        return service.list_users(ctx.session)


@router.post("/users", status_code=201)
def create_user(body: UserCreate, caller: CallerDep) -> User:
    with caller.write() as ctx:
        service.require_workspace_admin(ctx)
        return service.create_user(
            ctx.session,
            ctx.clock,
            body.username,
            display_name=body.display_name,
            password=body.password,
            is_admin=body.is_admin,
            by=ctx.actor.user_id,
        )


@router.get("/tokens")
def list_tokens(caller: CallerDep) -> list[Token]:
    with caller.read() as ctx:
        return service.list_tokens(ctx.session, ctx.actor.user_id)


@router.post("/tokens", status_code=201)
def create_token(body: TokenCreate, caller: CallerDep) -> TokenCreated:
    """Create an API token for yourself. The secret is shown only in this response.

    ``expires_in`` (e.g. ``90m``, ``12h``, ``30d``) makes it stop working after that long."""
    ttl = parse_duration(body.expires_in) if body.expires_in else None
    with caller.write() as ctx:
        token, secret = service.create_token(
            ctx.session, ctx.clock, ctx.actor.user_id, body.name, ttl=ttl
        )
    return TokenCreated(token=token, secret=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: str, caller: CallerDep) -> None:
    with caller.write() as ctx:
        service.revoke_token(ctx, token_id)
