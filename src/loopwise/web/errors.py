"""The one place errors become HTTP responses.

API paths get ``{"error": {"code": ..., "message": ...}}``; paths a slice claims with an
``ErrorShape`` get that slice's body (MLflow-compatible paths: MLflow's
``{"error_code", "message"}`` and status codes); pages get an HTML error page, or a
redirect to the login page when the caller is not signed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from loopwise.core.errors import InvalidInput, LoopwiseError, TooManyRequests, Unauthenticated
from loopwise.core.limits import MAX_JSON_DEPTH

log = logging.getLogger("loopwise")

_HTTP_CODES = {
    400: "invalid_input",  # e.g. a body the framework cannot parse (nested too deeply)
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


@dataclass(frozen=True)
class ErrorShape:
    """How the paths under ``prefixes`` answer errors: ``render(status, message, error)``
    where ``error`` is the Loopwise error when there is one (None for framework errors
    such as an unknown path)."""

    prefixes: tuple[str, ...]
    render: Callable[[int, str, LoopwiseError | None], Response]


def _shape(request: Request) -> ErrorShape | None:
    path = request.url.path
    shapes: tuple[ErrorShape, ...] = getattr(request.app.state, "error_shapes", ())
    for shape in shapes:
        if path.startswith(shape.prefixes):
            return shape
    return None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _render(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    error: LoopwiseError | None = None,
) -> Response:
    shape = _shape(request)
    if shape is not None:
        return shape.render(status, message, error)
    if _is_api(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    if status == 401:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "code": code, "message": message},
        status_code=status,
    )


def render_error(request: Request, exc: LoopwiseError) -> Response:
    """The answer to a Loopwise error on this request's door (also used by middleware,
    which runs outside the exception handlers)."""
    response = _render(request, exc.http_status, exc.code, exc.message, error=exc)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def describe_validation(exc: RequestValidationError) -> str:
    """One readable line per problem, e.g. ``body.name: String should have at most 200``."""
    parts = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return f"malformed JSON body: {err.get('ctx', {}).get('error', 'cannot parse')}"
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {message}")
    return "; ".join(parts[:10]) or "invalid request"


def install(app: FastAPI, shapes: Sequence[ErrorShape] = ()) -> None:
    app.state.error_shapes = tuple(shapes)

    @app.exception_handler(LoopwiseError)
    async def _loopwise(request: Request, exc: LoopwiseError) -> Response:
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return _render(
            request, InvalidInput.http_status, InvalidInput.code, describe_validation(exc)
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        # The database refused a value the schemas let through (PostgreSQL: NUL characters
        # in text, numbers out of range). The transaction rolled back; nothing was stored.
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else "value refused"
        message = f"a value in this request cannot be stored: {detail}"
        return _render(request, InvalidInput.http_status, InvalidInput.code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        if exc.status_code == 401:
            code = Unauthenticated.code
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such path: {request.url.path}"
        if isinstance(exc.__cause__, RecursionError):  # the JSON parser ran out of stack
            message = f"malformed JSON body: nested deeper than {MAX_JSON_DEPTH} levels"
        return _render(request, exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _render(request, 500, "internal", "internal error; see the server log")
