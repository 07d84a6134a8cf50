"""MLflow's error body and codes for Loopwise errors (see shared reference, section 4).

Client mistakes are always 4xx: the MLflow client retries 5xx, 429 and 408.
"""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse

from loopwise.core import errors
from loopwise.web.errors import ErrorShape

PREFIXES = ("/api/2.0/mlflow", "/api/3.0/mlflow", "/ajax-api/2.0/mlflow")

_CODES: list[tuple[type[errors.LoopwiseError], int, str]] = [
    (errors.NotFound, 404, "RESOURCE_DOES_NOT_EXIST"),
    (errors.AlreadyExists, 400, "RESOURCE_ALREADY_EXISTS"),
    (errors.UnsupportedMediaType, 415, "INVALID_PARAMETER_VALUE"),
    (errors.Conflict, 400, "INVALID_PARAMETER_VALUE"),
    (errors.TooLarge, 413, "INVALID_PARAMETER_VALUE"),  # 4xx: the client does not retry
    (errors.InvalidInput, 400, "INVALID_PARAMETER_VALUE"),
    (errors.Unauthenticated, 401, "UNAUTHENTICATED"),
    (errors.PermissionDenied, 403, "PERMISSION_DENIED"),
    (errors.TooManyRequests, 429, "REQUEST_LIMIT_EXCEEDED"),
    (errors.DatabaseOutOfDate, 503, "TEMPORARILY_UNAVAILABLE"),
]
_BY_STATUS = {
    404: "ENDPOINT_NOT_FOUND",
    405: "ENDPOINT_NOT_FOUND",
    401: "UNAUTHENTICATED",
    400: "INVALID_PARAMETER_VALUE",
    403: "PERMISSION_DENIED",
    413: "INVALID_PARAMETER_VALUE",
    415: "INVALID_PARAMETER_VALUE",
    429: "REQUEST_LIMIT_EXCEEDED",
}


def is_mlflow(path: str) -> bool:
    return path.startswith(PREFIXES)


def status_and_code(error: errors.LoopwiseError) -> tuple[int, str]:
    for cls, status, code in _CODES:
        if isinstance(error, cls):
            return status, code
    return 500, "INTERNAL_ERROR"


def render(status: int, message: str, code: str | None = None) -> JSONResponse:
    code = code or _BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    return JSONResponse({"error_code": code, "message": message}, status_code=status)


_RUN_NOT_FOUND = re.compile(r"^run '?run_(.*?)'? not found$")
_RUN_ID = re.compile(r"\brun_([0-9a-f]{32})\b")


def mlflow_message(message: str) -> str:
    """A service's message in MLflow's words: runs by their MLflow id (no ``run_``)."""
    found = _RUN_NOT_FOUND.match(message)
    if found:
        return f"Run with id={found.group(1)} not found"
    return _RUN_ID.sub(r"\1", message)


def _render_error(status: int, message: str, error: errors.LoopwiseError | None) -> JSONResponse:
    if error is None:
        return render(status, message)
    mlflow_status, code = status_and_code(error)
    return render(mlflow_status, mlflow_message(message), code)


# The MLflow door's errors (declared in mlflow_compat.SLICE; web.errors applies it)
SHAPE = ErrorShape(PREFIXES, _render_error)
