"""Who may talk to the server, and what a browser may do with its answers.

Pure decisions, then the one ASGI middleware that applies them to every request:

- **Host**: the ``Host`` header must name this server (``LOOPWISE_ALLOWED_HOSTS``; by
  default the loopback names and the bound address). A web site whose DNS name is
  re-pointed at 127.0.0.1 (DNS rebinding) is same-origin with itself in the browser, so
  only the name it sends tells it apart: refused with 400.
- **Origin**: a state-changing request (any method but GET, HEAD, OPTIONS, TRACE) sent by
  another web site is refused with 403: a foreign or ``null`` ``Origin``, or
  ``Sec-Fetch-Site: cross-site``. Browsers send ``Origin`` on every such request; the
  mlflow client, the SDK and curl send none and pass.
- **Headers**: every response says ``nosniff`` and ``Referrer-Policy: same-origin``;
  every HTML page gets ``PAGE_CSP`` (scripts only from this server) unless its handler
  set a policy of its own; file downloads are attachments under a sandboxing policy
  (``download_headers``).

JSON endpoints also refuse bodies that are not JSON (415): the MLflow ones in
``mlflow_compat.wire``, the native ones through ``json_body``. A cross-site form or
``fetch`` can send ``text/plain`` without asking first; it cannot send JSON.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from fastapi import Request, params
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopwise.core.errors import (
    CrossSiteRefused,
    DisallowedHost,
    LoopwiseError,
    UnsupportedMediaType,
)
from loopwise.web import errors

log = logging.getLogger("loopwise")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
LOOPBACK = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "*"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def page_csp() -> str:
    """The Content-Security-Policy of a page: scripts and styles from this server only,
    no plugins, no framing, forms posted only here."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Templates carry computed style attributes (meter widths, heat-map and matrix
            # colours, interval positions, column counts). Inline style cannot run script;
            # moving each value into a class would not make the pages any safer.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",  # the empty favicon is a data: URL
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


PAGE_CSP = page_csp()
# A downloaded file, should a browser render it anyway: an opaque origin (no cookies, no
# same-origin requests), no scripts, nothing loaded.
DOWNLOAD_CSP = "sandbox; default-src 'none'"
# Types a browser cannot run as script or page; anything else is sent as bytes.
_INERT_TYPES = frozenset(
    {
        "text/plain",
        "text/csv",
        "application/json",
        "application/octet-stream",
        "application/zip",
    }
)


# --- decisions --------------------------------------------------------------------------


def split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) of a ``Host`` header such as ``Example.COM:80`` or ``[::1]:5080``:
    the name lower-cased, without brackets or a trailing dot; None when malformed."""
    if not value or any(c in value for c in "/\\@?# \t"):
        return None
    try:
        parts = urlsplit("//" + value)
        port = parts.port
    except ValueError:
        return None
    name = (parts.hostname or "").rstrip(".")
    return (name, port) if name else None


def _normal_name(name: str) -> str:
    name = name.strip().lower()
    if name == "*" or (name.count(":") > 1 and not name.startswith("[")):
        return name  # the wildcard, or a bare IPv6 address such as ::1
    found = split_host(name)
    return found[0] if found else name


def allowed_hosts(configured: Iterable[str], bind_host: str) -> frozenset[str]:
    """The names a server answers to: the configured ones (``*``: any), or by default the
    loopback names plus the address it binds to, unless that is a wildcard (0.0.0.0)."""
    names = list(configured)
    if not names:
        names = [*LOOPBACK, *([] if bind_host.strip() in WILDCARD_BINDS else [bind_host])]
    return frozenset(_normal_name(name) for name in names)


def is_allowed_host(host: str | None, allowed: frozenset[str]) -> bool:
    """Whether a request's ``Host`` header names one of ``allowed`` (any port).

    A request without the header passes: browsers always send it, so its absence means a
    client that no web page controls (HTTP/1.0)."""
    if "*" in allowed or host is None:
        return True
    found = split_host(host)
    return found is not None and found[0] in allowed


def is_same_origin(origin: str, scheme: str, host: str | None) -> bool:
    """Whether ``origin`` (``scheme://name[:port]``) is the request's own: the scheme the
    request came in with and the ``Host`` header's name and port (default ports filled)."""
    if host is None:
        return False
    try:
        theirs = urlsplit(origin)
        their_port = theirs.port
    except ValueError:
        return False
    ours = split_host(host)
    if ours is None or theirs.scheme not in DEFAULT_PORTS or not theirs.hostname:
        return False
    if theirs.path or theirs.query or theirs.fragment or theirs.username is not None:
        return False
    return (
        theirs.scheme,
        theirs.hostname.rstrip("."),
        their_port or DEFAULT_PORTS[theirs.scheme],
    ) == (scheme, ours[0], ours[1] or DEFAULT_PORTS.get(scheme))


def cross_site_problem(
    method: str, scheme: str, host: str | None, origin: str | None, fetch_site: str | None
) -> str | None:
    """Why a request must be refused as cross-site, or None when it may go on."""
    if method in SAFE_METHODS:
        return None
    if fetch_site == "cross-site":
        return f"refused a {method} sent by another web site (Sec-Fetch-Site: cross-site)"
    if origin is None:
        return None  # not a browser (mlflow, the SDK, curl): nothing to compare
    if origin == "null":
        return f"refused a {method} from an opaque origin (Origin: null)"
    if not is_same_origin(origin, scheme, host):
        return f"refused a {method} sent by another web site ({origin})"
    return None


def is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/<something>+json``, parameters allowed."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def not_json(content_type: str | None) -> UnsupportedMediaType:
    got = f"its Content-Type was {content_type!r}" if content_type else "it had no Content-Type"
    return UnsupportedMediaType(f"send the body as JSON (Content-Type: application/json); {got}")


# --- downloads --------------------------------------------------------------------------


def download_type(filename: str) -> str:
    """The media type a file is sent with: its own when a browser cannot run it (images
    except SVG, plain text, CSV, JSON, archives), otherwise bytes."""
    guessed, encoding = mimetypes.guess_type(filename)
    if guessed is None or encoding is not None:  # x.csv.gz is gzip bytes, not CSV
        return "application/octet-stream"
    if guessed in _INERT_TYPES or (guessed.startswith("image/") and "svg" not in guessed):
        return guessed
    return "application/octet-stream"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", filename).strip() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_headers(filename: str, csp: str = DOWNLOAD_CSP) -> dict[str, str]:
    """Headers for a file download: saved, never rendered, never sniffed into a page."""
    return {
        "content-disposition": content_disposition(filename),
        "x-content-type-options": "nosniff",
        "content-security-policy": csp,
    }


# --- the doors --------------------------------------------------------------------------


async def json_body(request: Request) -> None:
    """Router dependency: a route that reads a JSON body refuses any other content type
    (415), so a cross-site ``text/plain`` form or fetch cannot drive it. File and form
    routes (multipart uploads) and routes without a body pass."""
    field = getattr(request.scope.get("route"), "body_field", None)
    if field is None or isinstance(field.field_info, params.Form):
        return
    headers = request.headers
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if has_body and not is_json(headers.get("content-type")):
        raise not_json(headers.get("content-type"))


_PAGE_HEADERS = [(b"content-security-policy", PAGE_CSP.encode())]
_ALL_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


def _secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    html = has_policy = has_nosniff = has_referrer = False
    for name, value in headers:
        if name == b"content-type":
            html = value.startswith(b"text/html")
        elif name == b"content-security-policy":
            has_policy = True
        elif name == b"x-content-type-options":
            has_nosniff = True
        elif name == b"referrer-policy":
            has_referrer = True
    extra = []
    if not has_nosniff:
        extra.append(_ALL_HEADERS[0])
    if not has_referrer:
        extra.append(_ALL_HEADERS[1])
    if html and not has_policy:
        extra.extend(_PAGE_HEADERS)
    headers.extend(extra)
    return headers


class Guard:
    """The Host and Origin checks before the app, the security headers after it.

    Pure ASGI (the MLflow log calls are hot): one pass over the request headers, one over
    the response headers; Host decisions are remembered per header value."""

    _REMEMBER = 256  # distinct Host values remembered (a bound: anyone can send any)

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed
        self.any_host = "*" in allowed
        self._hosts: dict[bytes, bool] = {}

    def _host_ok(self, host: bytes) -> bool:
        known = self._hosts.get(host)
        if known is None:
            known = is_allowed_host(host.decode("latin-1"), self.allowed)
            if len(self._hosts) < self._REMEMBER:
                self._hosts[host] = known
        return known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(list(message.get("headers", ())))
            await send(message)

        host = origin = fetch_site = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = value
            elif name == b"sec-fetch-site":
                fetch_site = value
        refusal: LoopwiseError | None = None
        if host is not None and not self.any_host and not self._host_ok(host):
            name = host.decode("latin-1")
            refusal = DisallowedHost(
                f"this server does not answer to the host {name!r}; "
                "add its name to LOOPWISE_ALLOWED_HOSTS (comma-separated) to serve it"
            )
        elif scope["method"] not in SAFE_METHODS and (origin or fetch_site):
            problem = cross_site_problem(
                scope["method"],
                scope["scheme"],
                host.decode("latin-1") if host is not None else None,
                origin.decode("latin-1") if origin is not None else None,
                fetch_site.decode("latin-1") if fetch_site is not None else None,
            )
            if problem:
                refusal = CrossSiteRefused(problem)
        if refusal is None:
            await self.app(scope, receive, secured_send)
            return
        log.warning("%s %s: %s", scope["method"], scope["path"], refusal.message)
        response = errors.render_error(Request(scope, receive), refusal)
        await response(scope, receive, secured_send)
