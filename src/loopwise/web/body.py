"""Request bodies are bounded before anything reads them.

A body larger than ``LOOPWISE_MAX_BODY_BYTES`` is refused with 413 ``too_large``: at once
when its ``Content-Length`` says so (nothing is read), and for a chunked body as soon as
the bytes read pass the limit. Without this a 40 MB JSON body was parsed whole (~250 MB)
before being refused. Streamed uploads (artifacts, dataset files) are written to disk in
chunks and have their own limit, ``LOOPWISE_MAX_ARTIFACT_BYTES`` (plus room for multipart
framing here; the handlers check the file size exactly).

Pure ASGI: per request one pass over the header list; receive is wrapped only for chunked
bodies, which no MLflow or SDK call sends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopwise.core.errors import InvalidInput, TooLarge
from loopwise.web import errors

MULTIPART_ROOM = 1024 * 1024  # form fields and part headers around an uploaded file


class BodyLimit:
    """``streamed``: (method, path regex) of the routes that stream their body to disk,
    as the slices declare them (``Slice.streamed``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        streamed: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes + MULTIPART_ROOM
        self.always_fits = min(self.max_body, self.max_upload)
        self.streamed = [(method, re.compile(pattern)) for method, pattern in streamed]

    def is_streamed(self, method: str, path: str) -> bool:
        return any(method == m and pattern.match(path) for m, pattern in self.streamed)

    def limit_for(self, scope: Scope) -> tuple[int, str]:
        if self.is_streamed(scope["method"], scope["path"]):
            return self.max_upload, "LOOPWISE_MAX_ARTIFACT_BYTES"
        return self.max_body, "LOOPWISE_MAX_BODY_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = value
        if length is not None:
            # The server reads exactly Content-Length bytes, so the header bounds the body.
            if length.isdigit() and int(length) > self.always_fits:
                limit, setting = self.limit_for(scope)
                if int(length) > limit:
                    message = _message(f"is {int(length):,} bytes;", limit, setting)
                    response = errors.render_error(Request(scope), TooLarge(message))
                    await response(scope, receive, send)
                    return
            await self.app(scope, receive, send)
            return
        if chunked is None:  # no body at all
            await self.app(scope, receive, send)
            return
        (limit, setting), read = self.limit_for(scope), 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    # An HTTPException passes through FastAPI's body parsing unchanged and
                    # the one error mapping renders it (MLflow shape on MLflow paths).
                    raise HTTPException(
                        413, _message(f"is more than {limit:,} bytes;", limit, setting)
                    )
            return message

        await self.app(scope, counted, send)


def _message(size: str, limit: int, setting: str) -> str:
    return f"the request body {size} this server accepts at most {limit:,} bytes ({setting})"


def check_declared_size(request: Request, limit: int) -> None:
    """Refuse an upload whose ``Content-Length`` is over ``limit`` before reading it."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise InvalidInput("Content-Length must be a whole number")
    if int(declared) > limit:
        raise TooLarge(f"artifact is {declared} bytes; the limit is {limit}")
