"""Import experiments, runs, params, metric histories, tags and artifacts from an existing
MLflow store (a ``mlruns`` folder, ``sqlite:///...`` or a tracking server URL).

The store is read with MLflow's own client (``pip install loopwise[mlflow]``). Every
imported run carries the tag ``loopwise.import.source = <store>#<run id>``; a run whose
tag is already present is skipped, so importing twice imports nothing twice.
Experiments map to projects by the documented MLflow rule (``KEY/name`` -> project KEY).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, LoopwiseError
from loopwise.tracking import artifacts, experiments
from loopwise.tracking import service as tracking
from loopwise.tracking.models import RunStatus
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish

SOURCE_TAG = "loopwise.import.source"
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
    ctx: Context, client: Any, uri: str, exp: Any, src: Any, report: ImportReport
) -> None:
    marker = f"{uri}#{src.info.run_id}"
    if _already(ctx, marker):
        report.skipped += 1
        return
    info = (
        experiments.by_name(ctx, exp.name)
        if _exists(ctx, exp.name)
        else experiments.create(ctx, exp.name, dict(exp.tags or {}))
    )
    tags = {k: v for k, v in src.data.tags.items() if not k.startswith("loopwise.hypothesis")}
    tags[SOURCE_TAG] = marker
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


def _exists(ctx: Context, name: str) -> bool:
    try:
        experiments.by_name(ctx, name)
        return True
    except LoopwiseError:
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


def import_store(
    context: Callable[[], Any],
    uri: str,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportReport:
    """Import every run of the store at ``uri``; ``context()`` opens a write context
    (one transaction per run, so an interruption keeps what was imported)."""
    client = source_client(uri)
    report = ImportReport()
    work = plan(client)
    total = sum(len(runs) for _, runs in work)
    done = 0
    for exp, runs in work:
        report.experiments += 1
        for src in runs:
            try:
                with context() as ctx:
                    import_run(ctx, client, uri, exp, src, report)
            except LoopwiseError as exc:
                report.problems.append(f"run {src.info.run_id}: {exc.message}")
            done += 1
            if progress is not None:
                progress(done, total, exp.name)
    return report
