"""``loopwise.Client``: typed methods per slice over one swappable HTTP transport.

``Client("http://127.0.0.1:5080", token=...)`` talks to a server; ``Client.in_process()``
runs the same app inside this process (SDK -> API -> service -> database, no server).
Errors come back as the same exception classes the library raises (``NotFound``, ...).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx2 as httpx
from pydantic import TypeAdapter

from loopwise.accounts.models import Token
from loopwise.core import errors
from loopwise.core.settings import Settings
from loopwise.planning.hypotheses.models import Hypothesis
from loopwise.planning.items.models import ItemEvent, WorkItem
from loopwise.projects.models import Project
from loopwise.sdk.data import DataMethods
from loopwise.sdk.documents import DocumentMethods
from loopwise.sdk.explanations import ExplanationMethods
from loopwise.sdk.governance import GovernanceMethods
from loopwise.sdk.monitoring import MonitoringMethods
from loopwise.sdk.registry import RegistryMethods
from loopwise.tracking.models import ArtifactInfo, MetricPoint, Run

T = TypeVar("T")


def _error_class(code: str) -> type[errors.LoopwiseError]:
    """The library's exception for an error code: walks the whole tree, so a new subclass
    (say ``AlreadyExists``) comes back as itself rather than as the bare base class."""
    found: list[type[errors.LoopwiseError]] = [errors.LoopwiseError]
    for cls in found:
        if cls.code == code:
            return cls
        found.extend(cls.__subclasses__())
    return errors.LoopwiseError


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _parse(kind: type[T], data: Any) -> T:
    adapter: TypeAdapter[T] | None = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)
    return adapter.validate_python(data)


def _artifact_url(run_id: str, path: str) -> str:
    """The artifact URL with each path part quoted.

    Unquoted, "a?b" would become a query, "a#b" a fragment, "x%20y" would be decoded, and
    HTTP clients silently resolve "../" before sending. Quoted, the server sees the path
    as written and accepts or refuses it.
    """
    parts = [quote(part, safe="") for part in path.split("/")]
    parts = ["%2E" * len(part) if part in (".", "..") else part for part in parts]
    joined = "/".join(parts)
    return f"/api/v1/runs/{quote(run_id, safe='')}/artifacts/{joined}"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=2, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) in (40, 64) else None


class Client(
    DataMethods,
    RegistryMethods,
    MonitoringMethods,
    GovernanceMethods,
    ExplanationMethods,
    DocumentMethods,
):
    """A Loopwise client. Close it (or use ``with``) to release connections."""

    @staticmethod
    def _parse(kind: type[T], data: Any) -> T:
        return _parse(kind, data)

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        if http is None:
            url = base_url or os.environ.get("LOOPWISE_URL", "http://127.0.0.1:5080")
            token = token or os.environ.get("LOOPWISE_TOKEN")
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            http = httpx.Client(base_url=url, headers=headers, timeout=timeout)
        elif token:
            http.headers["Authorization"] = f"Bearer {token}"
        self._http = http

    @classmethod
    def in_process(cls, settings: Settings | None = None, *, token: str | None = None) -> Client:
        """Serve the app inside this process; nothing listens on a port."""
        from starlette.testclient import TestClient

        from loopwise.app import IN_PROCESS_URL, create_app, in_process

        app = create_app(in_process(settings or Settings()), sweep=False)
        client = cls(
            http=TestClient(app, base_url=IN_PROCESS_URL, raise_server_exceptions=False),
            token=token,
        )
        client._owned_db = app.state.loopwise.db  # released by close()
        return client

    def close(self) -> None:
        self._http.close()
        owned = getattr(self, "_owned_db", None)
        if owned is not None:  # an in-process app: release its database connections
            owned.dispose()
            self._owned_db = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ----------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()["error"]
                code, message = body["code"], body["message"]
            except (ValueError, KeyError, TypeError):
                code, message = "error", f"HTTP {response.status_code}: {response.text[:200]}"
            raise _error_class(code)(message)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    # --- accounts ----------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/api/v1/me")
        return result

    def create_token(self, name: str, *, expires_in: str | None = None) -> str:
        """Create an API token for the calling user; returns the secret (shown once).

        ``expires_in``: e.g. ``"90m"``, ``"12h"``, ``"30d"``; None: it never expires."""
        body = {"name": name, "expires_in": expires_in}
        result = self._request("POST", "/api/v1/tokens", json=body)
        return str(result["secret"])

    def list_tokens(self) -> list[Token]:
        """The calling user's API tokens, with expiry and last use (never the secrets)."""
        return _parse(list[Token], self._request("GET", "/api/v1/tokens"))

    def create_user(
        self, username: str, *, password: str | None = None, is_admin: bool = False
    ) -> dict[str, Any]:
        body = {"username": username, "password": password, "is_admin": is_admin}
        result: dict[str, Any] = self._request("POST", "/api/v1/users", json=body)
        return result

    def set_member(self, project: str, username: str, role: str) -> None:
        self._request(
            "PUT", f"/api/v1/projects/{project}/members", json={"username": username, "role": role}
        )

    # --- planning ----------------------------------------------------------------------

    def list_projects(self) -> list[Project]:
        return _parse(list[Project], self._request("GET", "/api/v1/projects"))

    def create_project(self, key: str, name: str, **fields: Any) -> Project:
        """Create a project; ``fields`` may hold description, phase and charter (a dict)."""
        body = {"key": key, "name": name, **fields}
        return _parse(Project, self._request("POST", "/api/v1/projects", json=body))

    def get_project(self, key: str) -> Project:
        return _parse(Project, self._request("GET", f"/api/v1/projects/{key}"))

    def update_project(self, key: str, **fields: Any) -> Project:
        return _parse(Project, self._request("PATCH", f"/api/v1/projects/{key}", json=fields))

    def create_item(self, project: str, title: str, **fields: Any) -> WorkItem:
        body = {"title": title, **fields}
        return _parse(
            WorkItem, self._request("POST", f"/api/v1/projects/{project}/items", json=body)
        )

    def list_items(self, project: str) -> list[WorkItem]:
        return _parse(list[WorkItem], self._request("GET", f"/api/v1/projects/{project}/items"))

    def move_item(self, key: str, status: str, note: str = "", *, reason: str = "") -> WorkItem:
        """Move a work item to another board column. Past a WIP limit or an unmet
        Definition of Done the move is refused (``Conflict``) unless ``reason`` says why;
        the reason is recorded in the item's history."""
        body = {"status": status, "note": note, "reason": reason}
        return _parse(WorkItem, self._request("POST", f"/api/v1/items/{key}/status", json=body))

    def item_history(self, key: str) -> list[ItemEvent]:
        return _parse(list[ItemEvent], self._request("GET", f"/api/v1/items/{key}/history"))

    def create_hypothesis(
        self,
        project: str,
        title: str,
        *,
        statement: str,
        metric: str,
        threshold: float,
        comparator: str = ">=",
        time_box_end: datetime | None = None,
        **fields: Any,
    ) -> Hypothesis:
        body = {
            "title": title,
            "statement": statement,
            "metric_key": metric,
            "comparator": comparator,
            "threshold": threshold,
            "time_box_end": time_box_end.isoformat() if time_box_end else None,
            **fields,
        }
        data = self._request("POST", f"/api/v1/projects/{project}/hypotheses", json=body)
        return _parse(Hypothesis, data)

    def get_hypothesis(self, key: str) -> Hypothesis:
        return _parse(Hypothesis, self._request("GET", f"/api/v1/hypotheses/{key}"))

    def list_hypotheses(self, project: str) -> list[Hypothesis]:
        data = self._request("GET", f"/api/v1/projects/{project}/hypotheses")
        return _parse(list[Hypothesis], data)

    def link_run(self, hypothesis: str, run_id: str) -> Hypothesis:
        data = self._request(
            "POST", f"/api/v1/hypotheses/{hypothesis}/runs", json={"run_id": run_id}
        )
        return _parse(Hypothesis, data)

    # --- tracking ----------------------------------------------------------------------

    def create_run(
        self,
        project: str,
        *,
        experiment: str = "Default",
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        hypotheses: Iterable[str] = (),
        git_commit: str | None = None,
    ) -> Run:
        body = {
            "experiment": experiment,
            "name": name,
            "params": {k: str(v) for k, v in (params or {}).items()},
            "tags": dict(tags or {}),
            "hypotheses": list(hypotheses),
            "git_commit": git_commit,
        }
        return _parse(Run, self._request("POST", f"/api/v1/projects/{project}/runs", json=body))

    def get_run(self, run_id: str) -> Run:
        return _parse(Run, self._request("GET", f"/api/v1/runs/{run_id}"))

    def list_runs(
        self, project: str, *, experiment: str | None = None, limit: int = 100
    ) -> list[Run]:
        query: dict[str, Any] = {"limit": limit}
        if experiment:
            query["experiment"] = experiment
        data = self._request("GET", f"/api/v1/projects/{project}/runs", params=query)
        return _parse(list[Run], data)

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        body = {"params": {k: str(v) for k, v in params.items()}}
        self._request("POST", f"/api/v1/runs/{run_id}/params", json=body)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._request("POST", f"/api/v1/runs/{run_id}/tags", json={"tags": dict(tags)})

    def log_metrics(self, run_id: str, points: Iterable[Mapping[str, Any]]) -> int:
        """Send metric points (dicts with key, value, step, optional timestamp in ms)."""
        body = {"metrics": [dict(p) for p in points]}
        result = self._request("POST", f"/api/v1/runs/{run_id}/metrics", json=body)
        return int(result["count"])

    def log_metric_columns(
        self,
        run_id: str,
        key: str,
        steps: Sequence[int] | Any,
        values: Sequence[float] | Any,
        timestamps: Sequence[int] | Any | None = None,
    ) -> int:
        """Log one metric as parallel arrays (lists or NumPy arrays): the fast path for
        long series. Sent in pages of ``COLUMN_PAGE`` points."""
        steps, values = _as_list(steps), [_json_value(v) for v in _as_list(values)]
        stamps = None if timestamps is None else _as_list(timestamps)
        total = 0
        for i in range(0, len(steps), COLUMN_PAGE):
            body: dict[str, Any] = {
                "key": key,
                "steps": steps[i : i + COLUMN_PAGE],
                "values": values[i : i + COLUMN_PAGE],
            }
            if stamps is not None:
                body["timestamps"] = stamps[i : i + COLUMN_PAGE]
            result = self._request("POST", f"/api/v1/runs/{run_id}/metric-columns", json=body)
            total += int(result["count"])
        return total

    def metric_columns(self, run_id: str, key: str) -> dict[str, list[Any]]:
        """A metric's whole history as parallel arrays: steps, timestamps, values
        (non-finite values as floats), read page by page."""
        out: dict[str, list[Any]] = {"steps": [], "timestamps": [], "values": []}
        offset: int | None = 0
        while offset is not None:
            page = self._request(
                "GET",
                f"/api/v1/runs/{run_id}/metric-columns",
                params={"key": key, "offset": offset},
            )
            out["steps"] += page["steps"]
            out["timestamps"] += page["timestamps"]
            out["values"] += [float(v) for v in page["values"]]
            offset = page["next_offset"]
        return out

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        data = self._request("GET", f"/api/v1/runs/{run_id}/metric-history", params={"key": key})
        return _parse(list[MetricPoint], data)

    def finish_run(self, run_id: str, status: str = "finished") -> Run:
        data = self._request("POST", f"/api/v1/runs/{run_id}/finish", json={"status": status})
        return _parse(Run, data)

    def upload_artifact(self, run_id: str, path: str, content: bytes | Path) -> ArtifactInfo:
        url = _artifact_url(run_id, path)
        if isinstance(content, Path):
            with content.open("rb") as handle:
                data = self._request("PUT", url, content=handle.read())
        else:
            data = self._request("PUT", url, content=content)
        return _parse(ArtifactInfo, data)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        data = self._request("GET", f"/api/v1/runs/{run_id}/artifacts", params={"path": path})
        return _parse(list[ArtifactInfo], data)

    def download_artifact(self, run_id: str, path: str) -> bytes:
        url = _artifact_url(run_id, path)
        response = self._http.get(url)
        if response.status_code >= 400:
            self._request("GET", url)
        return response.content

    @contextmanager
    def start_run(
        self,
        project: str,
        *,
        hypothesis: str | Iterable[str] | None = None,
        experiment: str = "Default",
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        git_commit: str | None = None,
    ) -> Iterator[ActiveRun]:
        """Start a run; it finishes when the block ends, or is marked failed on an exception."""
        linked = [hypothesis] if isinstance(hypothesis, str) else list(hypothesis or [])
        run = self.create_run(
            project,
            experiment=experiment,
            name=name,
            params=params,
            tags=tags,
            hypotheses=linked,
            git_commit=git_commit or _git_commit(),
        )
        active = ActiveRun(self, run)
        try:
            yield active
        except KeyboardInterrupt:
            active.end("killed")
            raise
        except BaseException:
            active.end("failed")
            raise
        else:
            active.end("finished")


class ActiveRun:
    """A running run. Metrics are buffered and sent in batches."""

    BATCH = 1000

    def __init__(self, client: Client, run: Run) -> None:
        self.client = client
        self.run = run
        self.id = run.id
        self._buffer: list[dict[str, Any]] = []
        self._next_step: dict[str, int] = {}

    def log_param(self, key: str, value: Any) -> None:
        self.client.log_params(self.id, {key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.client.log_params(self.id, params)

    def set_tag(self, key: str, value: str) -> None:
        self.client.set_tags(self.id, {key: value})

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Buffer one point. Without ``step``, steps count up per key from 0."""
        if step is None:
            step = self._next_step.get(key, 0)
        self._next_step[key] = step + 1
        self._buffer.append({"key": key, "value": _json_value(value), "step": step})
        if len(self._buffer) >= self.BATCH:
            self.flush()

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.client.log_metrics(self.id, batch)

    def log_series(
        self, key: str, values: Sequence[float] | Any, steps: Sequence[int] | Any | None = None
    ) -> None:
        """Log a whole series at once (columnar fast path); steps default to 0..n-1."""
        values = _as_list(values)
        steps = list(range(len(values))) if steps is None else _as_list(steps)
        self.client.log_metric_columns(self.id, key, steps, values)

    def log_artifact(
        self, local_path: str | Path, artifact_path: str | None = None
    ) -> ArtifactInfo:
        local = Path(local_path)
        return self.client.upload_artifact(self.id, artifact_path or local.name, local)

    def use_dataset(self, version: str | Any, role: str = "input") -> None:
        """Record that this run used a dataset version (an id or a DatasetVersion)."""
        version_id = version if isinstance(version, str) else version.id
        self.client.use_dataset(self.id, version_id, role)

    def log_text(self, text: str, artifact_path: str) -> ArtifactInfo:
        return self.client.upload_artifact(self.id, artifact_path, text.encode())

    def end(self, status: str = "finished") -> Run:
        """Send buffered metrics and end the run.

        If the last metrics are refused, the run ends as failed, not finished: its
        evidence is incomplete and must not support a hypothesis.
        """
        try:
            self.flush()
        except BaseException:
            self.run = self.client.finish_run(self.id, "failed" if status == "finished" else status)
            raise
        self.run = self.client.finish_run(self.id, status)
        return self.run


COLUMN_PAGE = 200_000


def _as_list(values: Any) -> list[Any]:
    """Lists, tuples and NumPy arrays (``tolist`` gives plain Python numbers)."""
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _json_value(value: float) -> float | str:
    value = float(value)
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value
