"""One exception tree. Each class carries its HTTP status and CLI exit code, mapped once.

The web layer turns any ``LoopwiseError`` into ``{"error": {"code", "message"}}`` with
``http_status``; the CLI prints ``message`` on one line and exits with ``exit_code``.
"""

from __future__ import annotations


class LoopwiseError(Exception):
    """Base of every error Loopwise raises on purpose."""

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(LoopwiseError):
    """The caller sent something malformed or out of range."""

    code = "invalid_input"
    http_status = 400
    exit_code = 2


class TooLarge(InvalidInput):
    """A body, file or value is larger than the configured limit."""

    code = "too_large"
    http_status = 413


class QueryTimeout(InvalidInput):
    """A database statement ran past the server's statement timeout and was cancelled:
    the request asked for too much work at once (a 400, never retried as a 5xx is)."""

    code = "query_timeout"


class UnsupportedMediaType(InvalidInput):
    """A JSON endpoint got a body whose ``Content-Type`` is not JSON."""

    code = "unsupported_media_type"
    http_status = 415


class DisallowedHost(InvalidInput):
    """The ``Host`` header names a host this server does not answer to (DNS rebinding)."""

    code = "disallowed_host"


class NotFound(LoopwiseError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"
    http_status = 404
    exit_code = 3


class Conflict(LoopwiseError):
    """The request clashes with stored state (a duplicate key, an illegal transition)."""

    code = "conflict"
    http_status = 409
    exit_code = 4


class AlreadyExists(Conflict):
    """A create collided with something of the same name or key."""

    code = "already_exists"


class Unauthenticated(LoopwiseError):
    """No valid token or session was presented."""

    code = "unauthenticated"
    http_status = 401
    exit_code = 5


class PermissionDenied(LoopwiseError):
    """The caller is known but their role does not allow this."""

    code = "permission_denied"
    http_status = 403
    exit_code = 6


class TooManyRequests(LoopwiseError):
    """Refused for now after too many failed attempts; the answer says when to retry."""

    code = "too_many_requests"
    http_status = 429
    exit_code = 8

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)  # whole seconds, for the Retry-After header


class CrossSiteRefused(PermissionDenied):
    """A state-changing request came from another web site (``Origin``/``Sec-Fetch-Site``)."""

    code = "cross_site_refused"


class DatabaseOutOfDate(LoopwiseError):
    """The database schema is older than this release: run ``loopwise db upgrade``."""

    code = "database_out_of_date"
    http_status = 503
    exit_code = 7


class MigrationFailed(DatabaseOutOfDate):
    """An upgrade would have broken the data; it was rolled back and nothing changed."""

    code = "migration_failed"
