"""Import experiments, runs, params, metric histories, tags and artifacts from an existing
MLflow store (a ``mlruns`` folder, ``sqlite:///...`` or a tracking server URL).

The store is read with MLflow's own client (``pip install loopwise[mlflow]``).

Where each experiment goes is decided before anything is written (``route``), and shown
(``--dry-run`` shows only that). In order: the mapping file's entry for the experiment
(a JSON object ``{"experiment name": "KEY" or "KEY/experiment", "*": "KEY"}``; ``"*"``
catches the experiments it does not name), then ``--project KEY``, then MLflow's name rule
(``KEY/name`` -> project KEY when it exists; a name that is a project key -> that
project's Default; another name without ``/`` -> project MLFLOW). An experiment none of
them places (``AUDIT3/x`` with no project AUDIT3, a target project that does not exist)
stops the import before it writes anything: nothing is routed silently.

Every imported run keeps its MLflow run id: it becomes the Loopwise run id (so
``runs:/<id>/...`` links and ``get_run(<id>)`` from notebooks resolve against Loopwise),
and is kept in the tag ``loopwise.import.run_id``; the tag ``loopwise.import.source =
<store>#<run id>`` records where it came from. A run already present is skipped, so
importing twice imports nothing twice.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, LoopwiseError, NotFound
from loopwise.projects import service as projects
from loopwise.tracking import artifacts, experiments
from loopwise.tracking import service as tracking
from loopwise.tracking.experiments import DEFAULT_EXPERIMENT, MLFLOW_PROJECT
from loopwise.tracking.models import RunStatus
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish

SOURCE_TAG = "loopwise.import.source"
RUN_ID_TAG = "loopwise.import.run_id"
_MLFLOW_RUN_ID = re.compile(r"[0-9a-f]{32}")
STATUS = {"FINISHED": RunStatus.FINISHED, "FAILED": RunStatus.FAILED, "KILLED": RunStatus.KILLED}
BATCH = 5_000


@dataclass
class ImportReport:
    experiments: int = 0
    runs: int = 0
    skipped: int = 0
    metric_points: int = 0
    artifacts: int = 0
    problems: list[str] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    """Where one source experiment goes: ``project`` is None when it cannot be placed,
    and ``why`` then says why; else it names the rule that placed it."""

    experiment: str
    project: str | None
    name: str
    why: str
    runs: int = 0

    def line(self) -> str:
        where = f"{self.project} / {self.name}" if self.project else "NOT IMPORTED"
        return f"{self.experiment!r} -> {where} ({self.runs} runs; {self.why})"


def route(
    mlflow_name: str,
    *,
    mapping: Mapping[str, str],
    project: str | None,
    exists: Callable[[str], bool],
) -> Route:
    """Pure: the target of one experiment (see the module doc for the order of rules);
    ``exists(KEY)`` says whether a project exists."""
    target, why = None, ""
    if mlflow_name in mapping:
        target, why = mapping[mlflow_name], "mapping file"
    elif "*" in mapping:
        target, why = mapping["*"], "mapping file, '*'"
    elif project:
        target, why = project, "--project"
    if target is not None:
        key, _, renamed = target.partition("/")
        key = key.strip().upper()
        name = renamed.strip() or _within(mlflow_name, key)
        if key != MLFLOW_PROJECT and not exists(key):
            return Route(
                mlflow_name, None, name, f"{why} names project {key}, which does not exist"
            )
        return Route(mlflow_name, key, name, why)
    head, sep, rest = mlflow_name.strip().partition("/")
    if sep:
        if rest.strip() and exists(head.upper()):
            return Route(mlflow_name, head.upper(), rest.strip(), "name rule KEY/name")
        return Route(
            mlflow_name,
            None,
            mlflow_name,
            f"no project {head.upper()!r}: create it, or choose with --project or a mapping file",
        )
    key = mlflow_name.strip().upper()
    if key != MLFLOW_PROJECT and exists(key):
        return Route(mlflow_name, key, DEFAULT_EXPERIMENT, "name rule: a project key")
    return Route(mlflow_name, MLFLOW_PROJECT, mlflow_name.strip(), "name rule: no project named")


def _within(mlflow_name: str, key: str) -> str:
    """The experiment's name inside project ``key``: a leading ``KEY/`` is dropped."""
    head, sep, rest = mlflow_name.strip().partition("/")
    if sep and head.upper() == key and rest.strip():
        return rest.strip()
    return mlflow_name.strip()


def load_mapping(path: Path) -> dict[str, str]:
    """The mapping file: a JSON object from experiment name to ``KEY`` or ``KEY/name``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read mapping file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidInput(f"mapping file {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in data.items()
    ):
        raise InvalidInput(
            f"mapping file {path} must be a JSON object from experiment name to "
            '"KEY" or "KEY/experiment"'
        )
    return data


def source_client(uri: str) -> Any:
    """An MlflowClient for a folder, a database URI or a server URL."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise InvalidInput(
            "reading MLflow stores needs mlflow: pip install 'loopwise[mlflow]'"
        ) from exc
    if "://" not in uri:
        folder = Path(uri).expanduser()
        if not folder.is_dir():
            raise InvalidInput(f"{uri} is neither a folder nor a tracking URI")
        uri = folder.resolve().as_uri()
    if uri.startswith("file:"):
        # MLflow 3 keeps its file store read-only behind this switch; reading legacy
        # mlruns folders is what an import is for.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MlflowClient(tracking_uri=uri)


def _already(ctx: Context, marker: str) -> bool:
    return tracking.any_run_tagged(ctx, SOURCE_TAG, marker)


def plan(client: Any) -> list[tuple[Any, list[Any]]]:
    """(experiment, runs) pairs in the source, all lifecycle stages included."""
    from mlflow.entities import ViewType

    out = []
    for exp in client.search_experiments(view_type=ViewType.ALL):
        runs, token = [], None
        while True:
            page = client.search_runs(
                [exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000, page_token=token
            )
            runs += list(page)
            token = page.token
            if not token:
                break
        out.append((exp, runs))
    return out


def import_run(
    ctx: Context, client: Any, uri: str, exp: Any, src: Any, to: Route, report: ImportReport
) -> None:
    original = src.info.run_id
    marker = f"{uri}#{original}"
    keep = f"run_{original}" if _MLFLOW_RUN_ID.fullmatch(original) else None
    if (keep and tracking.run_exists(ctx, keep)) or _already(ctx, marker):
        report.skipped += 1
        return
    assert to.project is not None
    info = experiments.ensure_in(ctx, to.project, to.name, dict(exp.tags or {}))
    tags = {k: v for k, v in src.data.tags.items() if not k.startswith("loopwise.hypothesis")}
    tags[SOURCE_TAG] = marker
    tags[RUN_ID_TAG] = original
    start = src.info.start_time
    run = tracking.create_run(
        ctx,
        info.project_key,
        RunCreate(
            experiment=info.name,
            name=src.info.run_name or None,
            params={k: v[:6000] for k, v in src.data.params.items()},
            tags=tags,
            start_time=_when(start) if start else None,
        ),
        run_id=keep,
    )
    for key in src.data.metrics:
        history = client.get_metric_history(src.info.run_id, key)
        for i in range(0, len(history), BATCH):
            points = [
                MetricIn(
                    key=m.key, value=float(m.value), step=int(m.step), timestamp=int(m.timestamp)
                )
                for m in history[i : i + BATCH]
            ]
            report.metric_points += tracking.log_metrics(ctx, run.id, points)
    report.artifacts += _copy_artifacts(ctx, client, src.info.run_id, run.id)
    status = STATUS.get(src.info.status)
    if status is not None:
        end = _when(src.info.end_time) if src.info.end_time else None
        tracking.finish_run(ctx, run.id, RunFinish(status=status, end_time=end))
    if src.info.lifecycle_stage == "deleted":
        experiments.set_run_lifecycle(ctx, run.id, "deleted")
    report.runs += 1


def _project_exists(ctx: Context, key: str) -> bool:
    try:
        projects.resolve_project(ctx, key, Role.VIEWER)
        return True
    except NotFound:
        return False


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _copy_artifacts(ctx: Context, client: Any, src_run: str, run_id: str) -> int:
    from mlflow.exceptions import MlflowException

    root = artifacts.run_folder(ctx, run_id, Role.CONTRIBUTOR)
    copied = 0
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = Path(client.download_artifacts(src_run, "", tmp))
        except (MlflowException, OSError):  # a store without artifacts for this run
            return 0
        for file in sorted(p for p in local.rglob("*") if p.is_file()):
            rel = file.relative_to(local).as_posix()
            artifacts.store_in(root, rel, file.read_bytes(), ctx.settings.max_artifact_bytes)
            copied += 1
    return copied


@dataclass
class Plan:
    """What an import will do: the source's experiments with their runs, and where each
    experiment goes (in the same order)."""

    uri: str
    client: Any
    work: list[tuple[Any, list[Any]]]
    routes: list[Route]

    @property
    def unplaced(self) -> list[Route]:
        return [r for r in self.routes if r.project is None]


def prepare(
    context: Callable[[], Any],
    uri: str,
    *,
    project: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Plan:
    """Read the source and decide where each experiment goes; writes nothing."""
    client = source_client(uri)
    work = plan(client)
    with context() as ctx:
        known: dict[str, bool] = {}

        def exists(key: str) -> bool:
            if key not in known:
                known[key] = _project_exists(ctx, key)
            return known[key]

        routes = [
            Route(**{**asdict(found), "runs": len(runs)})
            for exp, runs in work
            for found in [route(exp.name, mapping=mapping or {}, project=project, exists=exists)]
        ]
    return Plan(uri, client, work, routes)


def run_plan(
    context: Callable[[], Any],
    prepared: Plan,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportReport:
    """Import every run of a prepared plan; ``context()`` opens a write context (one
    transaction per run, so an interruption keeps what was imported). Refused, before
    anything is written, when some experiment has nowhere to go."""
    if prepared.unplaced:
        raise InvalidInput(
            "not imported, some experiments have no target project: "
            + "; ".join(r.line() for r in prepared.unplaced)
        )
    report = ImportReport(routes=[asdict(r) for r in prepared.routes])
    total = sum(len(runs) for _, runs in prepared.work)
    done = 0
    for (exp, runs), to in zip(prepared.work, prepared.routes, strict=True):
        report.experiments += 1
        for src in runs:
            try:
                with context() as ctx:
                    import_run(ctx, prepared.client, prepared.uri, exp, src, to, report)
            except LoopwiseError as exc:
                report.problems.append(f"run {src.info.run_id}: {exc.message}")
            done += 1
            if progress is not None:
                progress(done, total, exp.name)
    return report


def import_store(
    context: Callable[[], Any],
    uri: str,
    *,
    project: str | None = None,
    mapping: Mapping[str, str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportReport:
    """Decide where each experiment goes, then import every run (see ``run_plan``)."""
    prepared = prepare(context, uri, project=project, mapping=mapping)
    return run_plan(context, prepared, progress=progress)
