"""``loopwise hypothesis|item``: planning from the command line.

Parse -> planning service -> print. Command names mirror the service functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.planning import board, done, hypotheses, service
from loopwise.planning.models import Hypothesis, ItemCheck, ItemEvent, ItemKind, Verdict, WorkItem
from loopwise.planning.schemas import CheckIn, HypothesisCreate, ItemCreate, StatusChange
from loopwise.projects.models import Comparator

if TYPE_CHECKING:
    from loopwise.console import CliEnv

hypothesis_app = typer.Typer(
    name="hypothesis",
    help="Hypotheses: a metric bar, a time-box, and a verdict computed from linked runs.",
    no_args_is_help=True,
)
item_app = typer.Typer(
    name="item", help="Work items and their status history.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProjectArg = Annotated[str, typer.Argument(help="Project key, e.g. CHURN.")]
ItemArg = Annotated[str, typer.Argument(help="Work item key, e.g. CHURN-12.")]


def groups() -> list[typer.Typer]:
    return [hypothesis_app, item_app]


def _env(ctx: typer.Context) -> CliEnv:
    env: CliEnv = ctx.obj
    return env


_VERDICT_STYLE = {Verdict.SUPPORTED: "green", Verdict.REFUTED: "red", Verdict.OPEN: "yellow"}


def _verdict(verdict: Verdict) -> Text:
    return Text(verdict.value, style=_VERDICT_STYLE.get(verdict, ""))


# --- hypotheses ------------------------------------------------------------------------


def _bar(h: Hypothesis) -> str:
    return f"{h.metric_key} {h.comparator.value} {h.threshold:g}"


def _hypothesis_rows(env: CliEnv, items: list[Hypothesis]) -> Any:
    if not items:
        return "no hypotheses yet"
    rows = [
        (
            h.item.key,
            h.item.title,
            _bar(h),
            _verdict(h.verdict),
            len(h.evidence),
            env.when(h.time_box_end),
            h.item.status,
        )
        for h in items
    ]
    return env.table(["Key", "Title", "Bar", "Verdict", "Runs", "Time-box end", "Status"], rows)


def _hypothesis_view(env: CliEnv, h: Hypothesis) -> list[Any]:
    pairs: list[tuple[str, Any]] = [
        ("Key", h.item.key),
        ("Title", h.item.title),
        ("Statement", h.statement),
        ("Bar", _bar(h)),
        ("Baseline", env.num(h.baseline)),
        ("Time-box end", env.when(h.time_box_end)),
        ("Verdict", _verdict(h.verdict)),
        ("Reason", h.verdict_reason or "—"),
        ("Status", h.item.status),
    ]
    if h.kill_after_runs is not None or h.kill_criterion:
        kill = h.kill_criterion or ""
        if h.kill_after_runs is not None:
            bar = h.threshold if h.kill_threshold is None else h.kill_threshold
            kill = f"{kill} (after {h.kill_after_runs} runs below {bar:g})".strip()
        pairs.append(("Kill criterion", kill))
    out: list[Any] = [env.fields(pairs)]
    if h.evidence:
        rows = [
            (e.run_id, e.run_name, e.status, env.when(e.end_time), env.num(e.value))
            for e in h.evidence
        ]
        out.append(
            env.table(["Run", "Name", "Status", "Ended", h.metric_key], rows, title="Evidence")
        )
    return out


@hypothesis_app.command("list")
def list_hypotheses(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List a project's hypotheses with their verdicts."""
    env = _env(ctx)
    with env.read() as c:
        found = hypotheses.list_hypotheses(c, project)
    env.emit(found, list[Hypothesis], as_json=as_json, render=lambda: _hypothesis_rows(env, found))


@hypothesis_app.command("create")
def create_hypothesis(
    ctx: typer.Context,
    project: ProjectArg,
    title: Annotated[str, typer.Argument(help="Short title.")],
    statement: Annotated[str, typer.Option(help="The claim, in one or two sentences.")],
    metric: Annotated[str, typer.Option(help="Metric key the runs log, e.g. recall.")],
    threshold: Annotated[float, typer.Option(help="The bar the metric must meet.")],
    comparator: Annotated[Comparator, typer.Option(help="How the metric meets the bar.")] = (
        Comparator.GE
    ),
    baseline: Annotated[float | None, typer.Option(help="Today's value, for context.")] = None,
    time_box_end: Annotated[
        datetime | None, typer.Option(help="Deadline (UTC when no zone is given).")
    ] = None,
    time_box_days: Annotated[
        float | None, typer.Option(min=0, help="Deadline as days from now.")
    ] = None,
    kill_criterion: Annotated[str, typer.Option(help="When to give up, in words.")] = "",
    kill_after_runs: Annotated[
        int | None, typer.Option(help="Refute after this many finished runs below the bar.")
    ] = None,
    kill_threshold: Annotated[
        float | None, typer.Option(help="Kill bar, if lower than the threshold.")
    ] = None,
    description: Annotated[str, typer.Option(help="Longer notes.")] = "",
    assignee: Annotated[str | None, typer.Option(help="Username.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="A label; repeat for more.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a hypothesis: a claim with a metric bar, judged by the runs linked to it."""
    env = _env(ctx)
    if time_box_end is not None and time_box_days is not None:
        raise typer.BadParameter(
            "give --time-box-end or --time-box-days, not both", param_hint="--time-box-days"
        )
    with env.write() as c:
        if time_box_days is not None:
            time_box_end = c.clock.now() + timedelta(days=time_box_days)
        data = HypothesisCreate(
            title=title,
            statement=statement,
            metric_key=metric,
            comparator=comparator,
            threshold=threshold,
            baseline=baseline,
            time_box_end=time_box_end,
            kill_criterion=kill_criterion,
            kill_after_runs=kill_after_runs,
            kill_threshold=kill_threshold,
            description=description,
            assignee=assignee,
            labels=label or [],
        )
        created = hypotheses.create_hypothesis(c, project, data)
    env.emit(created, Hypothesis, as_json=as_json, render=lambda: _hypothesis_view(env, created))


@hypothesis_app.command("show")
def get_hypothesis(ctx: typer.Context, key: ItemArg, as_json: JsonOption = False) -> None:
    """Show a hypothesis, its verdict and the evidence behind it."""
    env = _env(ctx)
    with env.read() as c:
        found = hypotheses.get_hypothesis(c, key)
    env.emit(found, Hypothesis, as_json=as_json, render=lambda: _hypothesis_view(env, found))


@hypothesis_app.command("link")
def link_runs(
    ctx: typer.Context,
    key: ItemArg,
    run_ids: Annotated[list[str], typer.Argument(help="Run ids, e.g. run_3f2a...")],
    as_json: JsonOption = False,
) -> None:
    """Link runs as evidence; the verdict is recomputed at once."""
    env = _env(ctx)
    with env.write() as c:
        linked = hypotheses.link_runs(c, key, run_ids)
    env.emit(linked, Hypothesis, as_json=as_json, render=lambda: _hypothesis_view(env, linked))


@hypothesis_app.command("refresh")
def refresh_due(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Re-judge open hypotheses whose time-box has passed (what the server does each minute)."""
    from loopwise.web.state import SYSTEM

    env = _env(ctx)
    with env.state().context(SYSTEM, write=True) as c:
        changed = hypotheses.refresh_due(c)
    env.emit(
        {"changed": changed},
        dict[str, int],
        as_json=as_json,
        render=lambda: f"{changed} verdict{'s' if changed != 1 else ''} changed",
    )


# --- work items ------------------------------------------------------------------------


def _item_rows(env: CliEnv, items: list[WorkItem]) -> Any:
    if not items:
        return "no work items yet"
    rows = [
        (i.key, i.kind.value, i.status, i.title, i.assignee or "—", ", ".join(i.labels))
        for i in items
    ]
    return env.table(["Key", "Kind", "Status", "Title", "Assignee", "Labels"], rows)


def _item_view(env: CliEnv, item: WorkItem) -> Any:
    return env.fields(
        [
            ("Key", item.key),
            ("Kind", item.kind.value),
            ("Title", item.title),
            ("Status", item.status),
            ("Assignee", item.assignee or "—"),
            ("Estimate", env.num(item.estimate)),
            ("Labels", ", ".join(item.labels) or "—"),
            ("Updated", env.when(item.updated_at)),
        ]
    )


@item_app.command("list")
def list_items(
    ctx: typer.Context,
    project: ProjectArg,
    kind: Annotated[ItemKind | None, typer.Option(help="Only items of this kind.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List a project's work items."""
    env = _env(ctx)
    with env.read() as c:
        items = service.list_items(c, project, kind=kind)
    env.emit(items, list[WorkItem], as_json=as_json, render=lambda: _item_rows(env, items))


@item_app.command("create")
def create_item(
    ctx: typer.Context,
    project: ProjectArg,
    title: Annotated[str, typer.Argument(help="Short title.")],
    kind: Annotated[ItemKind, typer.Option(help="Kind (hypotheses: `hypothesis create`).")] = (
        ItemKind.TASK
    ),
    description: Annotated[str, typer.Option(help="Longer notes.")] = "",
    status: Annotated[
        str | None, typer.Option(help="Board column key to start in; default: the first.")
    ] = None,
    assignee: Annotated[str | None, typer.Option(help="Username.")] = None,
    estimate: Annotated[float | None, typer.Option(help="Estimate, e.g. in days.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="A label; repeat for more.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a work item."""
    env = _env(ctx)
    data = ItemCreate(
        kind=kind,
        title=title,
        description=description,
        status=status,
        assignee=assignee,
        estimate=estimate,
        labels=label or [],
    )
    with env.write() as c:
        item = service.create_item(c, project, data)
    env.emit(item, WorkItem, as_json=as_json, render=lambda: _item_view(env, item))


@item_app.command("show")
def get_item(ctx: typer.Context, key: ItemArg, as_json: JsonOption = False) -> None:
    """Show a work item."""
    env = _env(ctx)
    with env.read() as c:
        item = service.get_item(c, key)
    env.emit(item, WorkItem, as_json=as_json, render=lambda: _item_view(env, item))


@item_app.command("move")
def move_item(
    ctx: typer.Context,
    key: ItemArg,
    status: Annotated[
        str, typer.Argument(help="Board column key, e.g. backlog, ready, in_progress, done.")
    ],
    note: Annotated[str, typer.Option(help="A note for the history.")] = "",
    reason: Annotated[
        str, typer.Option(help="Move past a WIP limit or an unmet Definition of Done anyway.")
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Move a work item to another board column (recorded in its history)."""
    env = _env(ctx)
    data = StatusChange(status=status, note=note, reason=reason)
    with env.write() as c:
        item = board.move_item(c, key, data.status, reason=data.reason, note=data.note)
    env.emit(item, WorkItem, as_json=as_json, render=lambda: f"{item.key} is now {item.status}")


@item_app.command("history")
def item_history(ctx: typer.Context, key: ItemArg, as_json: JsonOption = False) -> None:
    """Show a work item's history: status moves, verdict changes, edits, links."""
    env = _env(ctx)
    with env.read() as c:
        events = service.item_history(c, key)
    rows = [
        (env.when(e.at), e.kind, e.from_value or "", e.to_value or "", e.actor or "system", e.note)
        for e in events
    ]
    env.emit(
        events,
        list[ItemEvent],
        as_json=as_json,
        render=lambda: env.table(["At", "Event", "From", "To", "By", "Note"], rows),
    )


def _checks_view(env: CliEnv, key: str, checks: list[ItemCheck]) -> Any:
    if not checks:
        return f"{key.upper()} has no Definition of Done for its kind"
    rows = [
        (
            Text("✓", style="green") if c.checked else Text("✗", style="red"),
            c.text,
            "computed" if c.rule else (c.checked_by or ""),
            env.when(c.checked_at) if c.checked_at else "",
        )
        for c in checks
    ]
    return [
        Text(f"{key.upper()}: Definition of Done", style="bold"),
        env.table(["", "Check", "By", "At"], rows),
    ]


@item_app.command("checks")
def get_checks(ctx: typer.Context, key: ItemArg, as_json: JsonOption = False) -> None:
    """Show a work item's Definition-of-Done checklist."""
    env = _env(ctx)
    with env.read() as c:
        checks = done.get_checks(c, key)
    env.emit(
        checks, list[ItemCheck], as_json=as_json, render=lambda: _checks_view(env, key, checks)
    )


@item_app.command("check")
def set_check(
    ctx: typer.Context,
    key: ItemArg,
    text: Annotated[str, typer.Argument(help="The check's text, as `item checks` shows it.")],
    uncheck: Annotated[bool, typer.Option("--uncheck", help="Untick it instead.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Tick (or untick) a Definition-of-Done check of a work item."""
    env = _env(ctx)
    data = CheckIn(text=text, checked=not uncheck)
    with env.write() as c:
        checks = done.set_check(c, key, data.text, data.checked)
    env.emit(
        checks, list[ItemCheck], as_json=as_json, render=lambda: _checks_view(env, key, checks)
    )
