"""Shared page plumbing: template filters, rendering, form helpers, the slice page routers.

Page handlers follow the API handlers' shape (parse -> service -> template) and raise the
same ``LoopwiseError``s; ``web/errors.py`` turns those into the HTML error page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from loopwise.core.context import Actor
from loopwise.core.errors import Conflict, CrossSiteRefused, InvalidInput, NotFound
from loopwise.web import security
from loopwise.web.deps import Caller, CallerDep

COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


# --- filters -----------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.4g}"


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "—"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"  # pragma: no cover


def _sign(comparator: object) -> str:
    text = str(getattr(comparator, "value", comparator))
    return COMPARATOR_SIGNS.get(text, text)


def _label(value: object) -> str:
    """``data_understanding`` -> ``Data understanding``."""
    text = str(getattr(value, "value", value))
    return text.replace("_", " ").capitalize()


def _urlpath(value: str) -> str:
    return quote(value, safe="/")


def _chrome(request: Request) -> dict[str, Any]:
    """Who is signed in and whether sign-in exists, for the top bar of every page."""
    state = request.app.state.loopwise
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None and not state.settings.auth:
        actor = state.local_actor
    return {"current_user": actor, "auth_enabled": state.settings.auth}


TEMPLATES = Path(__file__).parent / "templates"


def templates() -> Jinja2Templates:
    """The pages' templates with Loopwise's filters and the top bar's context."""
    found = Jinja2Templates(directory=str(TEMPLATES))
    configure(found)
    return found


def configure(templates: Jinja2Templates) -> None:
    templates.env.filters.update(
        when=_when,
        num=_num,
        duration=_duration,
        size=_size,
        sign=_sign,
        label=_label,
        urlpath=_urlpath,
    )
    templates.context_processors.append(_chrome)


@dataclass(frozen=True)
class Panel:
    """A section one slice adds to another slice's page (declared as a run, dataset or
    model panel in its SLICE): the page includes ``template`` with ``panel`` in its context."""

    template: str
    data: dict[str, Any]


# --- handlers' helpers -------------------------------------------------------------------


async def _page_caller(request: Request, caller: CallerDep) -> Caller:
    # Remembered so that an error page raised later in the handler still shows the user.
    request.state.actor = caller.actor
    return caller


PageCaller = Annotated[Caller, Depends(_page_caller)]


def render(
    request: Request, name: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, dict(context or {}), status_code=status)


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: see the result with a GET (303)."""
    return RedirectResponse(url, status_code=303)


def check_origin(request: Request) -> None:
    """Refuse form posts sent by another site (browsers send ``Origin`` on POST).

    In local mode there is no session cookie to protect the pages, so without this any
    web page could post forms to a Loopwise on localhost. The app's ``security.Guard``
    refuses such requests before any handler runs; this keeps a form handler safe on its
    own, by the same rule.
    """
    headers = request.headers
    problem = security.cross_site_problem(
        request.method,
        request.url.scheme,
        headers.get("host"),
        headers.get("origin"),
        headers.get("sec-fetch-site"),
    )
    if problem:
        raise CrossSiteRefused(problem)


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other hosts, schemes) goes home."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\x00"):
        return "/"
    return target


async def _form(request: Request) -> dict[str, str]:
    """A posted form's text fields, stripped, once its origin is checked."""
    check_origin(request)
    form = await request.form()
    return {name: value.strip() for name, value in form.items() if isinstance(value, str)}


# Handlers taking a form stay plain ``def`` (run in the thread pool: the services block).
FormDep = Annotated[dict[str, str], Depends(_form)]


def pick(form: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    """The named fields, missing ones as empty strings."""
    return {name: form.get(name, "") for name in names}


def optional(value: str) -> str | None:
    """Blank form fields mean "not given"."""
    return value or None


# Pydantic's wording, rephrased for people filling in a form: by (field, type) or type.
FRIENDLY: dict[str | tuple[str, str], str] = {
    ("key", "string_pattern_mismatch"): "use 2 to 10 letters or digits, starting with a letter",
    "missing": "required",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
}


def validation_messages(exc: ValidationError, labels: Mapping[str, str] | None = None) -> list[str]:
    """One line per problem, named by the form's field labels."""
    labels = labels or {}
    messages = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err.get("loc", ()))
        field = ".".join(loc) or "form"
        name = labels.get(field) or labels.get(loc[-1] if loc else "", field)
        kind = err.get("type", "")
        text = FRIENDLY.get((loc[-1] if loc else "", kind)) or FRIENDLY.get(kind) or err["msg"]
        if kind == "string_too_short" and err.get("ctx", {}).get("min_length") == 1:
            text = "required"
        elif kind == "value_error":
            text = str(err.get("msg", "")).removeprefix("Value error, ")
        messages.append(f"{name}: {text}")
    return messages


T = TypeVar("T")


def submit(
    parse: Callable[[], T],
    act: Callable[[T], str],
    again: Callable[[list[str]], Response],
    *,
    labels: Mapping[str, str] | None = None,
    wording: Callable[[list[str]], list[str]] | None = None,
) -> Response:
    """A form post, the same way on every page: ``parse`` builds the API's own schema from
    the form's values, ``act`` runs the use case and says where to go (303); a schema
    problem or a refused use case shows the form ``again`` with one line per problem
    (its status is the caller's: 400). ``wording`` rephrases messages for the form."""
    try:
        data = parse()
    except ValidationError as exc:
        messages = validation_messages(exc, labels)
        return again(wording(messages) if wording else messages)
    try:
        target = act(data)
    except (InvalidInput, Conflict, NotFound) as exc:
        return again([exc.message])
    return redirect(target)
