"""Hypotheses: creation, run links, and keeping the stored verdict in step with evidence.

The decision itself is the pure ``verdict.compute_verdict``; this module feeds it the
linked runs and the clock, stores what changed, and writes the change into the item's
history. It runs when a linked run finishes (event), when a run is linked, and when the
server's periodic sweep sees a time-box pass.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, LoopwiseError, NotFound, PermissionDenied
from loopwise.planning.hypotheses.models import Hypothesis, Verdict
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.planning.hypotheses.tables import HypothesisRow, HypothesisRunRow
from loopwise.planning.hypotheses.verdict import Criteria, VerdictResult, compute_verdict
from loopwise.planning.items import service as planning
from loopwise.planning.items.models import ItemKind, WorkItem
from loopwise.planning.items.schemas import ItemCreate
from loopwise.planning.items.tables import WorkItemRow
from loopwise.projects import service as projects
from loopwise.projects.models import Comparator
from loopwise.tracking import service as tracking
from loopwise.tracking.models import Evidence, RunEvidenceChanged, RunOffered, RunTagged


def _criteria(h: HypothesisRow) -> Criteria:
    return Criteria(
        metric_key=h.metric_key,
        comparator=Comparator(h.comparator),
        threshold=h.threshold,
        time_box_end=h.time_box_end,
        kill_after_runs=h.kill_after_runs,
        kill_threshold=h.kill_threshold,
    )


def _linked_run_ids(ctx: Context, item_id: str) -> list[str]:
    return list(
        ctx.session.scalars(
            select(HypothesisRunRow.run_id).where(HypothesisRunRow.item_id == item_id)
        )
    )


def _refresh(ctx: Context, h: HypothesisRow) -> VerdictResult:
    """Recompute one verdict; store it and log it in history when it changed."""
    evidence = tracking.evidence(ctx, _linked_run_ids(ctx, h.item_id), h.metric_key)
    # Judge no earlier than the latest reported end: a client whose clock runs ahead of
    # the server's must not have its finished runs ignored until someone looks again.
    ends = [e.end_time for e in evidence if e.end_time is not None]
    now = max([ctx.clock.now(), *ends])
    result = compute_verdict(_criteria(h), evidence, now)
    changed = (
        result.verdict.value != h.verdict
        or result.run_id != h.verdict_run_id
        or result.reason != h.verdict_reason
    )
    if changed:
        if result.verdict.value != h.verdict:
            planning.record_event(
                ctx,
                h.item_id,
                "verdict",
                h.verdict,
                result.verdict.value,
                result.reason,
                system=True,
            )
            audit.append(
                ctx.session,
                ctx.clock.now(),
                audit.SYSTEM,
                f"hypothesis.verdict:{result.verdict.value}",
                f"item:{h.item_id}",
                payload={"from": h.verdict, "run": result.run_id, "reason": result.reason},
            )
        h.verdict = result.verdict.value
        h.verdict_run_id = result.run_id
        h.verdict_value = result.value
        h.verdict_at = result.decided_at
        h.verdict_reason = result.reason
        ctx.session.flush()
    return result


def _to_model(ctx: Context, item: WorkItemRow, h: HypothesisRow) -> Hypothesis:
    project_key = projects.project_keys(ctx, {item.project_id})[item.project_id]
    assignee = None
    if item.assignee_id:
        assignee = accounts.usernames(ctx.session, {item.assignee_id}).get(item.assignee_id)
    evidence = tracking.evidence(ctx, _linked_run_ids(ctx, h.item_id), h.metric_key)
    return _model(planning.item_from_row(item, project_key, assignee), h, evidence)


def _model(item: WorkItem, h: HypothesisRow, evidence: Sequence[Evidence]) -> Hypothesis:
    return Hypothesis(
        item=item,
        statement=h.statement,
        metric_key=h.metric_key,
        comparator=Comparator(h.comparator),
        threshold=h.threshold,
        baseline=h.baseline,
        time_box_end=h.time_box_end,
        kill_criterion=h.kill_criterion,
        kill_threshold=h.kill_threshold,
        kill_after_runs=h.kill_after_runs,
        verdict=Verdict(h.verdict),
        verdict_run_id=h.verdict_run_id,
        verdict_value=h.verdict_value,
        verdict_at=h.verdict_at,
        verdict_reason=h.verdict_reason,
        evidence=tuple(evidence),
    )


def create_hypothesis(ctx: Context, project_key: str, data: HypothesisCreate) -> Hypothesis:
    if data.kill_threshold is not None and data.kill_after_runs is None:
        raise InvalidInput("kill_threshold needs kill_after_runs: after how many runs to judge")
    item = planning.add_item_row(
        ctx,
        project_key,
        ItemCreate(
            kind=ItemKind.HYPOTHESIS,
            title=data.title,
            description=data.description,
            assignee=data.assignee,
            labels=data.labels,
        ),
    )
    h = HypothesisRow(
        item_id=item.id,
        statement=data.statement,
        metric_key=data.metric_key,
        comparator=data.comparator.value,
        threshold=data.threshold,
        baseline=data.baseline,
        time_box_end=data.time_box_end,
        kill_criterion=data.kill_criterion,
        kill_threshold=data.kill_threshold,
        kill_after_runs=data.kill_after_runs,
        verdict=Verdict.OPEN.value,
        verdict_reason="",
    )
    ctx.session.add(h)
    ctx.session.flush()
    _refresh(ctx, h)
    _link_waiting_runs(ctx, item)
    return _to_model(ctx, item, h)


def _rows(ctx: Context, key: str, needed: Role) -> tuple[WorkItemRow, HypothesisRow]:
    item = planning.item_row(ctx, key, needed)
    h = ctx.session.get(HypothesisRow, item.id)
    if h is None:
        raise NotFound(f"{key!r} is a {item.kind}, not a hypothesis")
    return item, h


def get_hypothesis(ctx: Context, key: str) -> Hypothesis:
    item, h = _rows(ctx, key, Role.VIEWER)
    return _to_model(ctx, item, h)


def list_hypotheses(ctx: Context, project_key: str) -> list[Hypothesis]:
    """All of a project's hypotheses with their evidence, in a fixed number of queries."""
    project = projects.resolve_project(ctx, project_key)
    pairs = [
        (item, h)
        for item, h in ctx.session.execute(
            select(WorkItemRow, HypothesisRow)
            .join(HypothesisRow, HypothesisRow.item_id == WorkItemRow.id)
            .where(WorkItemRow.project_id == project.id)
            .order_by(WorkItemRow.number)
        )
    ]
    links: dict[str, set[str]] = defaultdict(set)
    for item_id, run_id in ctx.session.execute(
        select(HypothesisRunRow.item_id, HypothesisRunRow.run_id).where(
            HypothesisRunRow.item_id.in_([item.id for item, _h in pairs])
        )
    ):
        links[item_id].add(run_id)
    # One evidence query per distinct metric key, then split per hypothesis (order kept).
    by_key: dict[str, list[Evidence]] = {}
    for key in {h.metric_key for _item, h in pairs}:
        run_ids = sorted(set().union(*(links[h.item_id] for _i, h in pairs if h.metric_key == key)))
        by_key[key] = tracking.evidence(ctx, run_ids, key)
    names = accounts.usernames(ctx.session, {i.assignee_id for i, _h in pairs if i.assignee_id})
    return [
        _model(
            planning.item_from_row(item, project.key, names.get(item.assignee_id or "")),
            h,
            [e for e in by_key[h.metric_key] if e.run_id in links[h.item_id]],
        )
        for item, h in pairs
    ]


def verdict_counts(ctx: Context, project_ids: Collection[str]) -> dict[str, dict[Verdict, int]]:
    """How many hypotheses each project has per verdict, in one query.

    For list pages; the caller has already limited ``project_ids`` to visible projects.
    """
    counts: dict[str, dict[Verdict, int]] = {pid: dict.fromkeys(Verdict, 0) for pid in project_ids}
    if not counts:
        return counts
    rows = ctx.session.execute(
        select(WorkItemRow.project_id, HypothesisRow.verdict, func.count())
        .join(HypothesisRow, HypothesisRow.item_id == WorkItemRow.id)
        .where(WorkItemRow.project_id.in_(list(counts)))
        .group_by(WorkItemRow.project_id, HypothesisRow.verdict)
    )
    for project_id, verdict, count in rows:
        counts[project_id][Verdict(verdict)] = count
    return counts


def link_runs(ctx: Context, key: str, run_ids: Sequence[str]) -> Hypothesis:
    """Make runs evidence for a hypothesis. Runs must belong to the same project."""
    item, h = _rows(ctx, key, Role.CONTRIBUTOR)
    linked = set(_linked_run_ids(ctx, item.id))
    for run_id in run_ids:
        run = tracking.get_run(ctx, run_id)
        if run.project_id != item.project_id:
            raise InvalidInput(
                f"run {run_id!r} belongs to project {run.project_key}, not to {item.key}'s project"
            )
        if run_id not in linked:
            ctx.session.add(
                HypothesisRunRow(item_id=item.id, run_id=run_id, linked_at=ctx.clock.now())
            )
            planning.record_event(ctx, item.id, "run_linked", None, run_id)
            linked.add(run_id)
    ctx.session.flush()
    _refresh(ctx, h)
    return _to_model(ctx, item, h)


def unlink_run(ctx: Context, key: str, run_id: str) -> Hypothesis:
    item, h = _rows(ctx, key, Role.CONTRIBUTOR)
    link = ctx.session.get(HypothesisRunRow, (item.id, run_id))
    if link is None:
        raise NotFound(f"run {run_id!r} is not linked to {key}")
    ctx.session.delete(link)
    planning.record_event(ctx, item.id, "run_unlinked", run_id, None)
    ctx.session.flush()
    _refresh(ctx, h)
    return _to_model(ctx, item, h)


def on_run_evidence_changed(ctx: Context, event: RunEvidenceChanged) -> None:
    """Event handler: a run finished or changed after finishing."""
    rows = ctx.session.scalars(
        select(HypothesisRow)
        .join(HypothesisRunRow, HypothesisRunRow.item_id == HypothesisRow.item_id)
        .where(HypothesisRunRow.run_id == event.run_id)
    )
    for h in rows:
        _refresh(ctx, h)


HYPOTHESIS_TAG = "loopwise.hypothesis"
# Set by the server next to HYPOTHESIS_TAG: what became of each key ("linked: KEY" or
# "unlinked: why"), so the run's tags and page say why a run is not in the plan.
LINK_TAG = "loopwise.hypothesis.link"
log = logging.getLogger(__name__)


def tag_keys(value: str) -> list[str]:
    """The hypothesis keys a ``loopwise.hypothesis`` tag names (comma-separated), upper
    case as work item keys are, each once, in order."""
    keys = (k.strip().upper() for k in value.split(","))
    return list(dict.fromkeys(k for k in keys if k))


def _unlinked_reason(ctx: Context, key: str, run_id: str, exc: LoopwiseError) -> str:
    if isinstance(exc, NotFound) and "not a hypothesis" in exc.message:
        return exc.message.replace(repr(key), key)  # "KEY is a task, not a hypothesis"
    if isinstance(exc, NotFound):
        return f"no such hypothesis {key}"
    if isinstance(exc, InvalidInput):
        return f"{key} belongs to another project"
    return f"{key} cannot be linked: {exc.message}"


def link_from_tag(ctx: Context, run_id: str, value: str) -> list[str]:
    """Link the run to each hypothesis the tag names. A key that names no hypothesis (a
    typo, a hypothesis not written yet) never fails the call: the run keeps its tag, the
    reason goes to the log and to the run's LINK_TAG, and the link is made when the
    hypothesis is created (``create_hypothesis``). Returns one outcome per key."""
    outcomes: list[str] = []
    for key in tag_keys(value):
        try:
            link_runs(ctx, key, [run_id])
            outcomes.append(f"linked: {key}")
        except (NotFound, InvalidInput, PermissionDenied) as exc:
            reason = _unlinked_reason(ctx, key, run_id, exc)
            log.warning("run %s is not linked to a hypothesis: %s", run_id, reason)
            outcomes.append(f"unlinked: {reason}")
    if not outcomes:
        outcomes.append("unlinked: the tag names no hypothesis")
    tracking.set_tags(ctx, run_id, {LINK_TAG: "; ".join(outcomes)})
    return outcomes


def on_run_tagged(ctx: Context, event: RunTagged) -> None:
    """Event handler: the tag ``loopwise.hypothesis=KEY[,KEY...]`` links the run to
    those hypotheses (how MLflow-logged runs join the plan); unknown keys are recorded,
    never refused (a typo must not stop a training run)."""
    if event.key == HYPOTHESIS_TAG:
        link_from_tag(ctx, event.run_id, event.value)


def _link_waiting_runs(ctx: Context, item: WorkItemRow) -> None:
    """Runs tagged with this hypothesis's key before it existed: link them now."""
    for run_id, value in tracking.runs_tagged(ctx, item.project_id, HYPOTHESIS_TAG).items():
        if item.key in tag_keys(value):
            link_from_tag(ctx, run_id, value)


@dataclass(frozen=True)
class RunPlanLink:
    """One line of a run's place in the plan: a hypothesis it is evidence for, or a key
    its tag names that is not linked (and why)."""

    key: str
    title: str | None  # None: not linked
    verdict: Verdict | None
    reason: str = ""


def plan_links(ctx: Context, run_id: str, tags: Mapping[str, str]) -> list[RunPlanLink]:
    """The hypotheses a run is evidence for, then the keys of its ``loopwise.hypothesis``
    tag that are not linked, with the reason recorded in its LINK_TAG. For the run page,
    which has checked access to the run (links stay within its project)."""
    rows = ctx.session.execute(
        select(WorkItemRow.key, WorkItemRow.title, HypothesisRow.verdict)
        .join(HypothesisRow, HypothesisRow.item_id == WorkItemRow.id)
        .join(HypothesisRunRow, HypothesisRunRow.item_id == WorkItemRow.id)
        .where(HypothesisRunRow.run_id == run_id)
        .order_by(WorkItemRow.number)
    )
    out = [RunPlanLink(key, title, Verdict(verdict)) for key, title, verdict in rows]
    linked = {link.key for link in out}
    outcomes = (o.partition(": ") for o in tags.get(LINK_TAG, "").split("; "))
    unlinked = [why for state, _, why in outcomes if state == "unlinked"]
    for key in tag_keys(tags.get(HYPOTHESIS_TAG, "")):
        if key not in linked:
            missing = f"no such hypothesis {key}"
            why = next((w for w in unlinked if w == missing or w.startswith(f"{key} ")), missing)
            out.append(RunPlanLink(key, None, None, why))
    return out


def on_run_offered(ctx: Context, event: RunOffered) -> None:
    """Event handler: a run was created to test these hypotheses; unknown keys refuse it."""
    for key in event.hypothesis_keys:
        link_runs(ctx, key, [event.run_id])


def refresh_due(ctx: Context) -> int:
    """Re-check open hypotheses whose time-box has passed; returns how many changed.

    Called by the server's periodic sweep and ``loopwise hypothesis refresh``.
    """
    now = ctx.clock.now()
    due = list(
        ctx.session.scalars(
            select(HypothesisRow).where(
                HypothesisRow.verdict == Verdict.OPEN.value,
                HypothesisRow.time_box_end.is_not(None),
                HypothesisRow.time_box_end <= now,
            )
        )
    )
    return sum(1 for h in due if _refresh(ctx, h).verdict is not Verdict.OPEN)
