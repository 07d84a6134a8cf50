"""Server-rendered pages for tracking: the runs table (filter grammar, sorting, paging),
the run page with its charts, and the comparison of several runs.

Charts come from ``series.chart``: the database buckets each series, so a page never
loads a whole metric history.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.projects import service as projects
from loopwise.projects.models import Project
from loopwise.tracking import artifacts, search, series, service
from loopwise.tracking import charts as run_charts
from loopwise.tracking.models import Run, RunStatus
from loopwise.web.pages import PageCaller, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
MAX_METRIC_COLUMNS = 12
MAX_PARAM_COLUMNS = 6
MAX_CHARTS = 24
CHART_POINTS = 1000  # buckets per run-page chart: about two per pixel of plot width
MAX_FILTER = 2000
MIN_COMPARE, MAX_COMPARE = 2, 20
MAX_COMPARE_CHARTS = 12
COMPARE_POINTS = 500
RUN_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_ORDER_SPLIT = re.compile(r""",(?=(?:[^'"`]|'[^']*'|"[^"]*"|`[^`]*`)*$)""")


# --- the runs table ----------------------------------------------------------------------


@dataclass(frozen=True)
class TableState:
    """What the runs table shows: the filter, sort, experiment, status and page."""

    filter: str = ""
    order: str = ""
    experiment: str = ""
    status: str = ""
    offset: int = 0

    def url(self, key: str, **changes: Any) -> str:
        """This table's address with some fields changed (the page resets unless given)."""
        fields = {
            "filter": self.filter,
            "order": self.order,
            "experiment": self.experiment,
            "status": self.status,
            "offset": 0,
        }
        fields.update(changes)
        query = {k: v for k, v in fields.items() if v not in ("", 0, None)}
        return f"/projects/{key}/runs" + (f"?{urlencode(query)}" if query else "")


def split_order(text: str) -> list[str]:
    """``metrics.acc DESC, params.lr`` -> two sort keys (commas in quotes stay)."""
    return [part.strip() for part in _ORDER_SPLIT.split(text) if part.strip()]


def _problems(filter_text: str, order: Sequence[str]) -> list[str]:
    """What is wrong with the filter and sort, in the grammar's words (no database)."""
    problems = []
    if len(filter_text) > MAX_FILTER:
        problems.append(f"Filter: at most {MAX_FILTER:,} characters")
    elif "\x00" in filter_text:
        problems.append("Filter: contains a NUL character")
    else:
        try:
            search.parse_filter(filter_text)
        except InvalidInput as exc:
            problems.append(f"Filter: {exc.message}")
    if len(order) > 5 or any("\x00" in o or len(o) > 300 for o in order):
        problems.append("Sort: at most five sort keys of up to 300 characters")
    else:
        try:
            search.parse_order(order)
        except InvalidInput as exc:
            problems.append(f"Sort: {exc.message}")
    return problems


@dataclass(frozen=True)
class Column:
    """A sortable header: its sort key, and the link a click follows."""

    label: str
    sort_key: str  # e.g. metrics.acc
    direction: str  # "descending", "ascending" or "" (not the current sort)
    href: str


def _column(
    state: TableState,
    project_key: str,
    label: str,
    sort_key: str,
    current: search.Order | None,
    *,
    first: str,
) -> Column:
    """Clicking a header sorts by it (``first`` direction); clicking again flips it."""
    try:
        wanted = search.parse_order([sort_key])[0]
    except InvalidInput:  # a key the grammar cannot spell (a backtick in it): not sortable
        return Column(label, sort_key, "", "")
    direction = ""
    if current is not None and (current.entity, current.key) == (wanted.entity, wanted.key):
        direction = "descending" if current.descending else "ascending"
    flip = {"descending": "ASC", "ascending": "DESC"}.get(direction, first)
    return Column(label, sort_key, direction, state.url(project_key, order=f"{sort_key} {flip}"))


def _quoted(key: str) -> str:
    """A key as the grammar reads it: bare when simple, else in backticks."""
    return key if re.fullmatch(r"[A-Za-z_][\w\-:/]*(?:\.[A-Za-z_][\w\-:/]*)*", key) else f"`{key}`"


@router.get("/projects/{key}/runs")
def runs_page(
    key: str,
    request: Request,
    caller: PageCaller,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    status: Annotated[str, Query(max_length=20)] = "",  # "" (the form's "any"): every status
    filter: str = "",  # noqa: A002 - the query parameter's name
    order: str = "",
    experiment: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    q = TableState(filter.strip(), order.strip(), experiment, status, offset)
    orders = split_order(q.order)
    problems = _problems(q.filter, orders)
    statuses = {s.value: s for s in RunStatus}
    if status and status not in statuses:
        problems.append(f"Status: one of {', '.join(statuses)}")
    runs: list[Run] = []
    has_next = False
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        experiments = service.list_experiments(ctx, project.key)
        total = service.run_counts(ctx, [project.id])[project.id]
        chosen = [e for e in experiments if e.id == experiment] if experiment else experiments
        if experiment and not chosen:
            problems.append("Experiment: not an experiment of this project")
        if not problems:
            clauses = [q.filter] if q.filter else []
            if status:
                clauses.append(f"attributes.status = '{statuses[status].value}'")
            try:
                runs, has_next = service.search_runs(
                    ctx,
                    [e.id for e in chosen],
                    filter_string=" and ".join(clauses),
                    order_by=orders,
                    limit=PAGE_SIZE,
                    offset=offset,
                )
            except InvalidInput as exc:  # a sort key the grammar parses but SQL cannot
                problems.append(f"Sort: {exc.message}")
            except (ValueError, OverflowError, OSError):  # times beyond the calendar
                problems.append("Filter: a time is out of range (use milliseconds since 1970)")
    parsed = search.parse_order(orders) if not problems else []
    sort_entities = {(o.entity, o.key) for o in parsed}
    # The first sort key marks its header; none given means newest first.
    current = parsed[0] if parsed else search.Order("attribute", "start_time", True)
    metric_keys = _columns_keys(
        [k for r in runs for k in r.metrics], {k for e, k in sort_entities if e == "metric"}
    )[:MAX_METRIC_COLUMNS]
    param_keys = _columns_keys(
        [k for r in runs for k in r.params], {k for e, k in sort_entities if e == "param"}
    )[:MAX_PARAM_COLUMNS]
    all_metric_keys = {k for r in runs for k in r.metrics}
    pk = project.key
    return render(
        request,
        "tracking/runs.html",
        {
            "nav": "projects",
            "project": project,
            "runs": runs,
            "total": total,
            "q": q,
            "problems": problems,
            "experiments": experiments,
            "metric_columns": [
                _column(q, pk, k, f"metrics.{_quoted(k)}", current, first="DESC")
                for k in metric_keys
            ],
            "param_columns": [
                _column(q, pk, k, f"params.{_quoted(k)}", current, first="ASC") for k in param_keys
            ],
            "name_column": _column(q, pk, "Run", "attributes.run_name", current, first="ASC"),
            "start_column": _column(
                q, pk, "Started (UTC)", "attributes.start_time", current, first="DESC"
            ),
            "other_params": any(k not in param_keys for r in runs for k in r.params),
            "hidden_metrics": len(all_metric_keys) - len(metric_keys),
            "page_size": PAGE_SIZE,
            "has_next": has_next,
            "statuses": list(RunStatus),
            "max_compare": MAX_COMPARE,
            "now": caller.state.clock.now(),
        },
        status=400 if problems else 200,
    )


def _columns_keys(keys: Sequence[str], pinned: set[str]) -> list[str]:
    """Keys by how many runs on the page have them (then by name); sorted-by keys first."""
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    ranked = sorted(counts, key=lambda k: (k not in pinned, -counts[k], k))
    return [k for k in pinned if k not in counts] + ranked


# --- the run page ------------------------------------------------------------------------


@router.get("/runs/{run_id}")
def run_page(
    run_id: str,
    request: Request,
    caller: PageCaller,
    path: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    with caller.read() as ctx:
        run = service.get_run(ctx, run_id)
        project = projects.resolve_project(ctx, run.project_key)
        files = artifacts.list_artifacts(ctx, run.id, path)
        author = service.run_author(ctx, run.id)
        keys = list(run.metrics)[:MAX_CHARTS]
        charts = [
            run_charts.bucket_chart(
                series.chart(ctx, run.id, k, points=CHART_POINTS), last=run.metrics[k].value
            )
            for k in keys
        ]
        # What other slices show about this run (datasets used, ...): get_run checked the
        # access to it
        panels = [p for panel in ctx.hooks.run_panels if (p := panel(ctx, run)) is not None]
    parent = path.rstrip("/").rpartition("/")[0] if path.strip("/") else None
    return render(
        request,
        "tracking/run.html",
        {
            "nav": "projects",
            "run": run,
            "project": project,
            "author": author,
            "files": files,
            "path": path.strip("/"),
            "parent": parent,
            "charts": charts,
            "panels": panels,
            "hidden_charts": len(run.metrics) - len(keys),
            "now": caller.state.clock.now(),
        },
    )


# --- comparing runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    key: str
    values: tuple[Any, ...]  # one per run, None when the run lacks the key
    differs: bool


def requested_ids(values: Sequence[str]) -> list[str]:
    """``?runs=a,b&runs=c`` -> [a, b, c], duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            if part.strip():
                seen.setdefault(part.strip(), None)
    return list(seen)


def _runs_of_project(ctx: Context, project: Project, ids: Sequence[str]) -> list[Run]:
    """The runs, in the order asked, through the project's experiments (access checked)."""
    experiments = service.list_experiments(ctx, project.key)
    listed = ", ".join(f"'{i}'" for i in ids)  # ids match RUN_ID: no quotes inside
    found, _more = service.search_runs(
        ctx,
        [e.id for e in experiments],
        filter_string=f"attributes.run_id IN ({listed})",
        lifecycle=("active", "deleted"),
        limit=len(ids),
    )
    by_id = {r.id: r for r in found}
    missing = [i for i in ids if i not in by_id and f"run_{i}" not in by_id]
    if missing:
        raise NotFound(f"no run {', '.join(missing)} in project {project.key}")
    return [by_id.get(i) or by_id[f"run_{i}"] for i in ids]


def _diff(keys: Sequence[str], columns: Sequence[dict[str, Any]]) -> list[DiffRow]:
    rows = []
    for k in keys:
        values = tuple(c.get(k) for c in columns)
        comparable = {_same(v) for v in values}
        rows.append(DiffRow(k, values, len(comparable) > 1))
    return rows


def _same(value: Any) -> Any:
    """What "equal" means in the diff: metric points by value (NaN equals NaN)."""
    if value is None or isinstance(value, str):
        return value
    v = value.value
    return "nan" if math.isnan(v) else v


def _pick_metric(requested: str, choices: Sequence[str], project: Project) -> str:
    if requested in choices:
        return requested
    success = project.charter.success_metric
    if success is not None and success.key in choices:
        return success.key
    return choices[0] if choices else ""


@router.get("/projects/{key}/compare")
def compare_page(
    key: str,
    request: Request,
    caller: PageCaller,
    runs: Annotated[list[str] | None, Query()] = None,
    metric: Annotated[str, Query(max_length=250)] = "",
    params: str = "all",
) -> Response:
    ids = requested_ids(runs or [])
    problems = []
    if not MIN_COMPARE <= len(ids) <= MAX_COMPARE:
        problems.append(
            f"Pick {MIN_COMPARE} to {MAX_COMPARE} runs to compare ({len(ids)} given): tick "
            "them in the runs table."
        )
    bad = [i for i in ids if not RUN_ID.fullmatch(i)]
    if bad:
        problems.append(f"Not a run id: {bad[0][:80]!r}")
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        if problems:
            return render(
                request,
                "tracking/compare.html",
                {"nav": "projects", "project": project, "problems": problems, "picked": []},
                status=400,
            )
        picked = _runs_of_project(ctx, project, ids)
        styles = [run_charts.run_style(i) for i in range(len(picked))]
        common = sorted(set.intersection(*(set(r.metrics) for r in picked)))
        overlays = [
            run_charts.overlay_chart(
                k,
                [
                    run_charts.Line(
                        r.id, r.name, style, series.chart(ctx, r.id, k, points=COMPARE_POINTS)
                    )
                    for r, style in zip(picked, styles, strict=True)
                ],
            )
            for k in common[:MAX_COMPARE_CHARTS]
        ]
    param_rows = _diff(sorted({k for r in picked for k in r.params}), [r.params for r in picked])
    metric_rows = _diff(sorted({k for r in picked for k in r.metrics}), [r.metrics for r in picked])
    only_diff = params == "diff"
    # parallel coordinates: numeric params against one metric
    axes = []
    not_numeric = []
    for row in param_rows:
        present = {r.id: v for r, v in zip(picked, row.values, strict=True) if v is not None}
        numbers = run_charts.numeric_values(present)
        if numbers is None:
            not_numeric.append(row.key)
        elif len(numbers) >= 2:
            axes.append(run_charts.Axis(row.key, numbers))
    metric_values = {
        k: {
            r.id: r.metrics[k].value
            for r in picked
            if k in r.metrics and math.isfinite(r.metrics[k].value)
        }
        for k in (row.key for row in metric_rows)
    }
    metric_choices = [k for k, values in metric_values.items() if values]
    chosen_metric = _pick_metric(metric, metric_choices, project)
    parallel = None
    if axes and chosen_metric:
        parallel = run_charts.parallel_coordinates(
            axes,
            [(r.id, r.name) for r in picked],
            metric=run_charts.Axis(chosen_metric, metric_values[chosen_metric], is_metric=True),
        )
    return render(
        request,
        "tracking/compare.html",
        {
            "nav": "projects",
            "project": project,
            "problems": [],
            "picked": list(zip(picked, styles, strict=True)),
            "ids": ",".join(r.id for r in picked),
            "overlays": overlays,
            "hidden_charts": max(0, len(common) - MAX_COMPARE_CHARTS),
            "uncommon_metrics": len(metric_rows) - len(common),
            "param_rows": [r for r in param_rows if r.differs] if only_diff else param_rows,
            "param_total": len(param_rows),
            "param_differ": sum(1 for r in param_rows if r.differs),
            "only_diff": only_diff,
            "metric_rows": metric_rows,
            "parallel": parallel,
            "axes": [a.key for a in axes],
            "not_numeric": not_numeric,
            "metric_choices": metric_choices,
            "metric": chosen_metric,
        },
    )
