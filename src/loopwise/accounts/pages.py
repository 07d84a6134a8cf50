"""Server-rendered pages for accounts: sign in and sign out (auth mode only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from loopwise.accounts import identity, service
from loopwise.core.errors import TooManyRequests, Unauthenticated
from loopwise.web.deps import SESSION_COOKIE, StateDep
from loopwise.web.pages import FormDep, redirect, render, safe_next

router = APIRouter(include_in_schema=False)


def _login_page(
    request: Request, target: str, *, username: str = "", error: str = "", status: int = 200
) -> Response:
    context = {"next": target, "username": username, "errors": [error] if error else []}
    return render(request, "accounts/login.html", context, status=status)


@router.get("/login")
def login_page(
    request: Request,
    state: StateDep,
    next: Annotated[str, Query(max_length=2000)] = "/",
) -> Response:
    if not state.settings.auth:  # local mode: nobody needs to sign in
        return redirect(safe_next(next))
    return _login_page(request, safe_next(next))


@router.post("/login")
def login(request: Request, state: StateDep, form: FormDep) -> Response:
    target = safe_next(form.get("next"))
    if not state.settings.auth:
        return redirect(target)
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return _login_page(
            request,
            target,
            username=username,
            error="Enter both your username and your password.",
            status=400,
        )
    try:
        secret = service.login(
            state.db,
            state.clock,
            identity.of(state).throttle,
            username,
            password,
            address=request.client.host if request.client else None,
        )
    except Unauthenticated:
        return _login_page(
            request, target, username=username, error="Wrong username or password.", status=401
        )
    except TooManyRequests as exc:
        message = exc.message[:1].upper() + exc.message[1:] + "."
        page = _login_page(request, target, username=username, error=message, status=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(service.SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/logout")
def logout_page(request: Request, state: StateDep) -> Response:
    """Signing out changes state, so it takes a POST; this page offers the button."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not state.settings.auth or not secret:
        return redirect("/login" if state.settings.auth else "/")
    try:
        request.state.actor = state.actor_for_secret(secret)
    except Unauthenticated:
        return redirect("/login")
    return render(request, "accounts/logout.html")


@router.post("/logout")
def logout(request: Request, state: StateDep, form: FormDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with state.db.session(write=True) as session:
            service.revoke_secret(session, state.clock, secret)
    response = redirect("/login" if state.settings.auth else "/")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response
