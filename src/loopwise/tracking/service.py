"""Tracking use cases: experiments, runs, params, tags, metric series.

Artifacts live in ``tracking/artifacts.py``. Every function checks the actor's role on the
run's project: viewer to read, contributor to write.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any, cast

from sqlalchemy import delete, func, insert, or_, select, update

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.clock import to_millis
from loopwise.core.context import Actor, Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.core.limits import MAX_NAME
from loopwise.db import driver
from loopwise.db.insert import insert_missing
from loopwise.projects import service as projects
from loopwise.tracking import ingest, search
from loopwise.tracking.models import (
    RUN_FIELDS,
    Evidence,
    Experiment,
    MetricPoint,
    Run,
    RunEvidenceChanged,
    RunOffered,
    RunPage,
    RunStatus,
    RunTagged,
)
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from loopwise.tracking.tables import (
    ExperimentRow,
    LatestMetricRow,
    MetricRow,
    ParamRow,
    RunRow,
    TagRow,
)

DEFAULT_EXPERIMENT = "Default"


def _experiment(row: ExperimentRow) -> Experiment:
    return Experiment(row.id, row.project_id, row.name, row.created_at)


def _stored(point: MetricRow | LatestMetricRow) -> MetricPoint:
    value = math.nan if point.is_nan else point.value
    return MetricPoint(point.key, value, point.step, point.timestamp)


# --- experiments -----------------------------------------------------------------------


def get_or_create_experiment(ctx: Context, project_key: str, name: str) -> Experiment:
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    return _experiment(ensure_experiment_row(ctx, project.id, name))


def ensure_experiment_row(
    ctx: Context, project_id: str, name: str, *, number: int | None = None
) -> ExperimentRow:
    """The project's experiment of this name, created when missing (with ``number``, or
    the next free MLflow number). Idempotent under concurrency: requests racing to create
    it get the one row; a race lost only for the number retries with the next one."""
    query = select(ExperimentRow).where(
        ExperimentRow.project_id == project_id, ExperimentRow.name == name
    )
    for _ in range(_CREATE_TRIES):
        row = ctx.session.scalar(query)
        if row is not None:
            return row
        values = {
            "id": new_id("exp"),
            "project_id": project_id,
            "name": name,
            "created_at": ctx.clock.now(),
            "number": next_experiment_number(ctx) if number is None else number,
            "lifecycle_stage": "active",
            "tags": {},
        }
        if insert_missing(ctx.session, ExperimentRow, values):
            found = ctx.session.get(ExperimentRow, values["id"])
            assert found is not None
            return found
        # Nothing inserted: the name was taken meanwhile (the next lookup finds it), or
        # the number was (another experiment committed it; the next try takes the next).
    raise Conflict(f"experiment {name!r} could not be created; retry")


# Each failed try means another transaction committed an experiment, so a few suffice
# even for many concurrent creators.
_CREATE_TRIES = 50


def next_experiment_number(ctx: Context) -> int:
    """MLflow-style decimal experiment ids: 1, 2, ... (0 is MLflow's default)."""
    return int(ctx.session.scalar(select(func.max(ExperimentRow.number))) or 0) + 1


def list_experiments(ctx: Context, project_key: str) -> list[Experiment]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(ExperimentRow)
        .where(ExperimentRow.project_id == project.id)
        .order_by(ExperimentRow.name)
    )
    return [_experiment(r) for r in rows]


# --- runs ------------------------------------------------------------------------------


def _run_row(ctx: Context, run_id: str, needed: Role) -> RunRow:
    row = ctx.session.get(RunRow, run_id)
    if row is None:
        raise NotFound(f"run {run_id!r} not found")
    accounts.require_role(ctx, row.project_id, needed, what=f"run {run_id!r}")
    return row


_RUN_ACCESS = "SELECT project_id, experiment_id, status FROM runs WHERE id = ?"


@dataclass(frozen=True)
class _Access:
    project_id: str
    experiment_id: str
    status: RunStatus


def _run_access(ctx: Context, run_id: str, needed: Role) -> _Access:
    """The run's project, experiment and status, with the role check: the hot paths'
    lookup (one driver statement: no ORM object, no SQLAlchemy result)."""
    found = driver.fetch_all(ctx.session, _RUN_ACCESS, (run_id,))
    if not found:
        raise NotFound(f"run {run_id!r} not found")
    project_id, experiment_id, status = found[0]
    accounts.require_role(ctx, project_id, needed, what=f"run {run_id!r}")
    return _Access(project_id, experiment_id, RunStatus(status))


_DETAIL_CHUNK = 500  # ids per IN list, far below every backend's bound-parameter limit


def _details(ctx: Context, table: str, columns: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """``columns`` of ``table`` for these runs, as driver tuples (a page of runs carries
    thousands of them: ORM rows or even Core rows would cost more than the query)."""
    out: list[tuple[Any, ...]] = []
    for at in range(0, len(ids), _DETAIL_CHUNK):
        chunk = ids[at : at + _DETAIL_CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT run_id, {columns} FROM {table} WHERE run_id IN ({marks})"
        out += driver.fetch_all(ctx.session, sql, chunk)
    return out


# A run's fields in one C-level call: by attribute from RunRow objects, by position from
# Core rows of the runs table's columns (attribute access on a Core row costs ~0.5 us).
_FROM_ORM = attrgetter(*RUN_FIELDS)
_FROM_CORE = itemgetter(*(list(RunRow.__table__.columns.keys()).index(name) for name in RUN_FIELDS))
_STATUSES = {status.value: status for status in RunStatus}


def _by_run(rows: Iterable[tuple[str, str, Any]]) -> dict[str, dict[str, Any]]:
    """{run: {key: value}} from (run, key, value) rows, keys sorted within each run."""
    grouped: dict[str, dict[str, Any]] = defaultdict(dict)
    for run, key, value in rows:
        grouped[run][key] = value
    return {run: dict(sorted(values.items())) for run, values in grouped.items()}


def _page(ctx: Context, rows: Sequence[Any], *, details: bool = True) -> RunPage:
    """The page's details in three queries, plus experiment names and project keys.
    ``rows`` are RunRow objects or Core rows with the runs table's columns."""
    fields = list(map(_FROM_ORM if rows and isinstance(rows[0], RunRow) else _FROM_CORE, rows))
    ids = [f[0] for f in fields]
    params = _by_run(_details(ctx, "params", "key, value", ids)) if details and ids else {}
    tags = _by_run(_details(ctx, "tags", "key, value", ids)) if details and ids else {}
    columns = "key, value, step, timestamp, is_nan"
    latest = _by_run(
        (run, key, (math.nan if nan else value, step, ts))
        for run, key, value, step, ts, nan in _details(ctx, "latest_metrics", columns, ids)
    )
    names: dict[str, str] = {}
    keys: dict[str, str] = {}
    if fields:
        names = dict(
            ctx.session.connection()
            .execute(
                select(ExperimentRow.id, ExperimentRow.name).where(
                    ExperimentRow.id.in_({f[2] for f in fields})
                )
            )
            .all()
        )
        keys = projects.project_keys(ctx, {f[1] for f in fields})
    return RunPage(fields, params, tags, latest, names, keys)


def _assemble(ctx: Context, rows: Sequence[Any], *, details: bool = True) -> list[Run]:
    """Run objects for RunRow objects or Core rows of the runs table."""
    page = _page(ctx, rows, details=details)
    return [
        Run(
            id=run_id,
            project_id=project_id,
            project_key=page.project_keys[project_id],
            experiment_id=experiment_id,
            experiment_name=page.experiment_names[experiment_id],
            name=name,
            status=_STATUSES[status],
            start_time=start_time,
            end_time=end_time,
            git_commit=git_commit,
            params=page.params.get(run_id) or {},
            tags=page.tags.get(run_id) or {},
            metrics={
                key: MetricPoint(key, value, step, ts)
                for key, (value, step, ts) in (page.latest.get(run_id) or {}).items()
            },
            lifecycle_stage=lifecycle_stage,
        )
        for (
            run_id,
            project_id,
            experiment_id,
            name,
            status,
            start_time,
            end_time,
            git_commit,
            lifecycle_stage,
        ) in page.fields
    ]


def create_run(
    ctx: Context,
    project_key: str,
    data: RunCreate,
    *,
    run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Run:
    """A new run; ``run_id`` keeps an id given by another store (imports), else a new one;
    ``tags`` are more tags, already checked by ``tracking.validation`` (the MLflow door).

    The hot path of every MLflow ``start_run``: a fresh run has no rows yet, so its rows
    are inserted without looking for existing ones, and the Run returned is built from
    what was written (no read back)."""
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    experiment = ensure_experiment_row(ctx, project.id, data.experiment)
    run_id = run_id or new_id("run")
    start = data.start_time or ctx.clock.now()
    row = RunRow(
        id=run_id,
        project_id=project.id,
        experiment_id=experiment.id,
        name=data.name or f"run-{run_id[4:12]}",
        status=RunStatus.RUNNING.value,
        start_time=start,
        end_time=None,
        git_commit=data.git_commit,
        created_by=ctx.actor.user_id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    all_tags = {**data.tags, **(tags or {})}
    _write_params(ctx, run_id, data.params, fresh=True)
    _write_tags(ctx, row, all_tags, fresh=True)
    if data.hypotheses:  # planning links them in this transaction (or refuses the run)
        ctx.publish(RunOffered(row.id, tuple(data.hypotheses)))
    return Run(
        id=run_id,
        project_id=project.id,
        project_key=project.key,
        experiment_id=experiment.id,
        experiment_name=experiment.name,
        name=row.name,
        status=RunStatus.RUNNING,
        start_time=start,
        end_time=None,
        git_commit=data.git_commit,
        params=dict(data.params),
        tags=all_tags,
    )


def run_project_id(ctx: Context, run_id: str, needed: Role) -> str:
    """The run's project id, once the actor is known to hold ``needed`` on it."""
    return _run_access(ctx, run_id, needed).project_id


def get_run(ctx: Context, run_id: str) -> Run:
    return _assemble(ctx, [_run_row(ctx, run_id, Role.VIEWER)])[0]


def list_runs(
    ctx: Context,
    project_key: str,
    *,
    experiment: str | None = None,
    status: RunStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Run]:
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInput("limit must be 1-1000 and offset >= 0")
    project = projects.resolve_project(ctx, project_key)
    query = select(RunRow).where(
        RunRow.project_id == project.id, RunRow.lifecycle_stage == "active"
    )
    if experiment is not None:
        query = query.join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id).where(
            ExperimentRow.name == experiment
        )
    if status is not None:
        query = query.where(RunRow.status == status.value)
    query = query.order_by(RunRow.start_time.desc(), RunRow.id).limit(limit).offset(offset)
    return _assemble(ctx, list(ctx.session.scalars(query)))


def runs_by_ids(ctx: Context, run_ids: Iterable[str]) -> list[Run]:
    """Runs for display next to planning records; callers have checked project access."""
    ids = list(run_ids)
    if not ids:
        return []
    rows = list(ctx.session.scalars(select(RunRow).where(RunRow.id.in_(ids))))
    return _assemble(ctx, rows, details=False)


def _write_params(
    ctx: Context, run_id: str, params: Mapping[str, str], *, fresh: bool = False
) -> None:
    """``fresh``: the run was made in this transaction, so it has no params yet. Params
    are immutable: an existing key with another value is a Conflict."""
    if not params:
        return
    existing = (
        {}
        if fresh
        else dict(
            ctx.session.execute(
                select(ParamRow.key, ParamRow.value).where(
                    ParamRow.run_id == run_id, ParamRow.key.in_(list(params))
                )
            ).all()
        )
    )
    new = []
    for key, value in params.items():
        if key in existing:
            if existing[key] != value:
                raise Conflict(
                    f"param {key!r} is already {existing[key]!r} on this run; params are immutable"
                )
            continue
        new.append({"run_id": run_id, "key": key, "value": value})
    if new:  # one executemany, no ORM objects: params are never read back in this request
        ctx.session.execute(insert(ParamRow), new)


def log_params(ctx: Context, run_id: str, params: Mapping[str, str]) -> None:
    _run_access(ctx, run_id, Role.CONTRIBUTOR)  # the role check, with no ORM object
    _write_params(ctx, run_id, params)


def _write_tags(ctx: Context, row: RunRow, tags: Mapping[str, str], *, fresh: bool = False) -> None:
    """``fresh``: the run was made in this transaction, so it has no tags yet."""
    if not tags:
        return
    existing = (
        {}
        if fresh
        else {
            t.key: t
            for t in ctx.session.scalars(
                select(TagRow).where(TagRow.run_id == row.id, TagRow.key.in_(list(tags)))
            )
        }
    )
    for key, value in tags.items():
        if key in existing:
            existing[key].value = value
        else:
            ctx.session.add(TagRow(run_id=row.id, key=key, value=value))
    ctx.session.flush()
    for key, value in tags.items():
        ctx.publish(RunTagged(row.id, key, value))


def set_tags(ctx: Context, run_id: str, tags: Mapping[str, str]) -> None:
    _write_tags(ctx, _run_row(ctx, run_id, Role.CONTRIBUTOR), tags)


def delete_tag(ctx: Context, run_id: str, key: str, *, strict: bool = False) -> None:
    """Remove a tag. ``strict`` (MLflow's rule): the run must be active and the tag must
    exist."""
    row = _run_row(ctx, run_id, Role.CONTRIBUTOR)
    if strict and row.lifecycle_stage != "active":
        raise InvalidInput(
            f"The run {run_id} must be in the 'active' state. "
            f"Current state is {row.lifecycle_stage}."
        )
    done = ctx.session.execute(delete(TagRow).where(TagRow.run_id == row.id, TagRow.key == key))
    if strict and not getattr(done, "rowcount", 1):
        raise NotFound(f"No tag with name: {key} in run with id {run_id}")


def log_metrics(ctx: Context, run_id: str, metrics: Sequence[MetricIn]) -> int:
    """Append metric points; keeps the latest-value summary current. Returns the count."""
    # MetricIn.value is declared as what it accepts (numbers and the non-finite names);
    # its AfterValidator leaves a float.
    points = [(m.key, m.step, m.timestamp, cast(float, m.value)) for m in metrics]
    return log_tuples(ctx, run_id, points)


def log_tuples(
    ctx: Context, run_id: str, points: Iterable[tuple[str, int, int | None, float]]
) -> int:
    """Append already-validated (key, step, timestamp or None, value) points."""
    run = _run_access(ctx, run_id, Role.CONTRIBUTOR)
    rows = ingest.points(run_id, to_millis(ctx.clock.now()), points)
    return _ingest(ctx, run_id, run, rows)


def log_columns(
    ctx: Context,
    run_id: str,
    key: str,
    steps: Sequence[int],
    values: Sequence[float],
    timestamps: Sequence[int] | None = None,
) -> int:
    """The columnar fast path: one key, parallel arrays (each value already validated)."""
    if len(values) != len(steps) or (timestamps is not None and len(timestamps) != len(steps)):
        raise InvalidInput("steps, values and timestamps must have the same length")
    times: Sequence[int | None] = [None] * len(steps) if timestamps is None else timestamps
    return log_tuples(
        ctx,
        run_id,
        ((key, s, t, v) for s, t, v in zip(steps, times, values, strict=True)),
    )


def _ingest(ctx: Context, run_id: str, run: _Access, points: list[ingest.Point]) -> int:
    ingest.insert_points(ctx.session, points)
    ingest.upsert_latest(ctx.session, ingest.latest_of(points), run.experiment_id)
    if run.status.is_terminal:
        ctx.publish(RunEvidenceChanged(run_id))
    return len(points)


def metric_history(ctx: Context, run_id: str, key: str) -> list[MetricPoint]:
    row = _run_row(ctx, run_id, Role.VIEWER)
    rows = ctx.session.scalars(
        select(MetricRow)
        .where(MetricRow.run_id == row.id, MetricRow.key == key)
        .order_by(MetricRow.step, MetricRow.timestamp, MetricRow.id)
    )
    points = [_stored(m) for m in rows]
    if not points and not ctx.session.get(LatestMetricRow, (row.id, key)):
        raise NotFound(f"run {run_id!r} has no metric {key!r}")
    return points


def search_runs(
    ctx: Context,
    experiment_ids: Sequence[str],
    *,
    filter_string: str | None = None,
    order_by: Sequence[str] = (),
    lifecycle: Sequence[str] = ("active",),
    limit: int = 1000,
    offset: int = 0,
) -> tuple[list[Run], bool]:
    """Runs of these experiments matching the filter grammar (tracking.search); returns
    the page and whether more follow. The caller checked access to the experiments."""
    rows, more = _search(ctx, experiment_ids, filter_string, order_by, lifecycle, limit, offset)
    return _assemble(ctx, rows), more


def search_page(
    ctx: Context,
    experiment_ids: Sequence[str],
    *,
    filter_string: str | None = None,
    order_by: Sequence[str] = (),
    lifecycle: Sequence[str] = ("active",),
    limit: int = 1000,
    offset: int = 0,
) -> tuple[RunPage, bool]:
    """``search_runs`` as plain values (see RunPage), for wire formats."""
    rows, more = _search(ctx, experiment_ids, filter_string, order_by, lifecycle, limit, offset)
    return _page(ctx, rows), more


def _search(
    ctx: Context,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    order_by: Sequence[str],
    lifecycle: Sequence[str],
    limit: int,
    offset: int,
) -> tuple[list[Any], bool]:
    clauses = search.parse_filter(filter_string)
    orders = search.parse_order(order_by)
    base = search.filtered(
        select(*RunRow.__table__.columns).where(
            RunRow.experiment_id.in_(experiment_ids), RunRow.lifecycle_stage.in_(lifecycle)
        ),
        clauses,
    )
    wanted = limit + 1  # one more tells whether another page follows
    # Core statements on the session's connection: Session.execute's ORM layer adds
    # ~0.15 ms to a query that returns plain rows anyway
    conn = ctx.session.connection()
    if orders and orders[0].entity == "metric":
        # Runs with the leading metric come first, read in the summary index's order, so
        # the cost follows the page, not the number of runs; runs without it follow.
        lead, rest = orders[0], orders[1:]
        having = search.having_metric(base, lead, experiment_ids)
        first = list(conn.execute(search.ordered(having, rest).limit(offset + wanted)))
        rows = first[offset:]
        if len(rows) < wanted:  # ``first`` holds every run with the metric
            skip = max(0, offset - len(first))
            rows += conn.execute(
                search.ordered(search.lacking_metric(base, lead), rest)
                .offset(skip)
                .limit(wanted - len(rows))
            )
    else:
        query = search.ordered(base, orders).offset(offset).limit(wanted)
        rows = list(conn.execute(query))
    return rows[:limit], len(rows) > limit


def finish_run(ctx: Context, run_id: str, data: RunFinish) -> Run:
    row = _run_row(ctx, run_id, Role.CONTRIBUTOR)
    if RunStatus(row.status).is_terminal:
        if row.status != data.status.value:
            raise Conflict(f"run {run_id!r} already ended as {row.status}")
        # Finishing again is a no-op: moving end_time could flip a decided verdict.
        return get_run(ctx, run_id)
    end = data.end_time or ctx.clock.now()
    if end < row.start_time:
        raise InvalidInput("end_time is before the run's start_time")
    row.status = data.status.value
    row.end_time = end
    ctx.session.flush()
    ctx.publish(RunEvidenceChanged(row.id))
    return get_run(ctx, run_id)


def evidence(ctx: Context, run_ids: Sequence[str], metric_key: str) -> list[Evidence]:
    """Each run's status, end and latest ``metric_key`` value (None when never logged).

    For planning's verdicts; the caller has already checked access to the project.
    """
    if not run_ids:
        return []
    values = {
        m.run_id: (math.nan if m.is_nan else m.value)
        for m in ctx.session.scalars(
            select(LatestMetricRow).where(
                LatestMetricRow.run_id.in_(run_ids), LatestMetricRow.key == metric_key
            )
        )
    }
    rows = ctx.session.scalars(
        select(RunRow).where(RunRow.id.in_(run_ids)).order_by(RunRow.start_time, RunRow.id)
    )
    return [Evidence(r.id, RunStatus(r.status), r.end_time, values.get(r.id), r.name) for r in rows]


def run_counts(ctx: Context, project_ids: Collection[str]) -> dict[str, int]:
    """How many runs each project has, in one query.

    For list pages; the caller has already limited ``project_ids`` to visible projects.
    """
    counts = dict.fromkeys(project_ids, 0)
    if counts:
        rows = ctx.session.execute(
            select(RunRow.project_id, func.count())
            .where(RunRow.project_id.in_(list(counts)))
            .group_by(RunRow.project_id)
        )
        counts.update({project_id: count for project_id, count in rows})
    return counts


def run_exists(ctx: Context, run_id: str) -> bool:
    """Whether a run with this id exists (whoever may see it: for imports)."""
    return ctx.session.get(RunRow, run_id) is not None


def any_run_tagged(ctx: Context, key: str, value: str) -> bool:
    """Whether some run carries the tag ``key=value`` (whoever may see it: for imports
    that must not copy a run twice)."""
    found = ctx.session.scalar(
        select(TagRow.run_id).where(TagRow.key == key, TagRow.value == value).limit(1)
    )
    return found is not None


def runs_tagged(ctx: Context, project_id: str, key: str) -> dict[str, str]:
    """{run id: value} of the project's runs carrying tag ``key`` (for planning, which
    links runs tagged with a hypothesis key once that hypothesis exists; the caller has
    checked access to the project)."""
    rows = ctx.session.execute(
        select(TagRow.run_id, TagRow.value)
        .join(RunRow, RunRow.id == TagRow.run_id)
        .where(RunRow.project_id == project_id, TagRow.key == key)
    )
    return {run_id: value for run_id, value in rows}


def set_git_commit(ctx: Context, run_id: str, commit: str) -> None:
    """Record the run's source commit (hex, 4 to 64 characters; anything else is left
    unrecorded: a tag that is not a commit id must not fail the call that set it)."""
    commit = commit.strip()
    if _COMMIT.fullmatch(commit):
        _update_if_changed(ctx, run_id, RunRow.git_commit, commit)


def sync_name(ctx: Context, run_id: str, name: str) -> None:
    """Rename the run to ``name`` if it is a valid run name and differs (for tags that
    carry the name, such as MLflow's: an invalid one is left as a tag only)."""
    name = name.strip()
    if 0 < len(name) <= MAX_NAME and "\x00" not in name:
        _update_if_changed(ctx, run_id, RunRow.name, name)


def _update_if_changed(ctx: Context, run_id: str, column: Any, value: str) -> None:
    """One column of a run, in one statement that writes only when the value differs
    (these run on every tag event that carries the field, e.g. each MLflow create_run)."""
    _run_access(ctx, run_id, Role.CONTRIBUTOR)
    ctx.session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, or_(column.is_(None), column != value))
        .values({column: value})
        .execution_options(synchronize_session="fetch")
    )


_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")


def set_author(ctx: Context, run_id: str, username: str) -> bool:
    """Make ``username`` the run's author when that user exists and may write to the
    run's project (nobody can sign a run as an outsider). Whether it changed."""
    try:  # most MLflow users are OS account names no Loopwise user has: one query
        user = accounts.get_user(ctx.session, username.strip())
    except NotFound:
        return False
    row = _run_row(ctx, run_id, Role.CONTRIBUTOR)
    author = Actor(user_id=user.id, username=user.username, is_admin=user.is_admin)
    role = accounts.role_in(ctx.session, author, row.project_id)
    if role is None or not role.allows(Role.CONTRIBUTOR) or row.created_by == user.id:
        return False
    row.created_by = user.id
    ctx.session.flush()
    return True


def run_author(ctx: Context, run_id: str) -> str | None:
    """The username of whoever created (or, through ``set_author``, signed) the run."""
    row = _run_row(ctx, run_id, Role.VIEWER)
    if row.created_by is None:
        return None
    return accounts.usernames(ctx.session, {row.created_by}).get(row.created_by)
