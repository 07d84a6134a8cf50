"""``loopwise hypothesis``: hypotheses, their evidence and verdicts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.planning.cli_args import VERDICT_STYLE, ItemArg
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.models import Hypothesis, Verdict
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.projects.models import Comparator

if TYPE_CHECKING:
    from loopwise.console import CliEnv


hypothesis_app = typer.Typer(
    name="hypothesis",
    help="Hypotheses: a metric bar, a time-box, and a verdict computed from linked runs.",
    no_args_is_help=True,
)


def _verdict(verdict: Verdict) -> Text:
    return Text(verdict.value, style=VERDICT_STYLE.get(verdict, ""))


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
    env = env_of(ctx)
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
    env = env_of(ctx)
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
    env = env_of(ctx)
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
    env = env_of(ctx)
    with env.write() as c:
        linked = hypotheses.link_runs(c, key, run_ids)
    env.emit(linked, Hypothesis, as_json=as_json, render=lambda: _hypothesis_view(env, linked))


@hypothesis_app.command("refresh")
def refresh_due(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Re-judge open hypotheses whose time-box has passed (what the server does each minute)."""
    from loopwise.web.state import SYSTEM

    env = env_of(ctx)
    with env.state().context(SYSTEM, write=True) as c:
        changed = hypotheses.refresh_due(c)
    env.emit(
        {"changed": changed},
        dict[str, int],
        as_json=as_json,
        render=lambda: f"{changed} verdict{'s' if changed != 1 else ''} changed",
    )


def groups() -> list[typer.Typer]:
    return [hypothesis_app]
