"""One view across every project the caller can see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from loopwise.core.context import Context
from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.hypotheses.tables import HypothesisRow
from loopwise.planning.items.tables import WorkItemRow
from loopwise.planning.milestones import service as milestones
from loopwise.planning.risks import service as risks
from loopwise.planning.risks.models import RiskStatus
from loopwise.projects import service as projects
from loopwise.projects.models import Phase


@dataclass(frozen=True)
class ProjectSummary:
    key: str
    name: str
    phase: Phase
    open_hypotheses: int
    supported: int
    refuted: int
    next_milestone: str | None
    next_milestone_target: date | None
    next_milestone_p85: date | None
    next_milestone_probability: float | None
    open_high_risks: int
    success_rate: float | None  # supported / (supported + refuted); None before any verdict


def portfolio(ctx: Context, *, seed: int | None = None) -> list[ProjectSummary]:
    visible = projects.list_projects(ctx)
    counts: dict[tuple[str, str], int] = {}
    if visible:
        for project_id, verdict, n in ctx.session.execute(
            select(WorkItemRow.project_id, HypothesisRow.verdict, func.count())
            .join(HypothesisRow, HypothesisRow.item_id == WorkItemRow.id)
            .where(WorkItemRow.project_id.in_([p.id for p in visible]))
            .group_by(WorkItemRow.project_id, HypothesisRow.verdict)
        ):
            counts[(project_id, verdict)] = n
    today = ctx.clock.now().date()
    out = []
    for p in visible:
        upcoming = [m for m in milestones.list_milestones(ctx, p.key) if m.remaining]
        upcoming.sort(key=lambda m: (m.target_date < today, m.target_date))
        nxt = upcoming[0] if upcoming else None
        fc = milestones.forecast(ctx, nxt.id, trials=2000, seed=seed) if nxt else None
        high = sum(
            1
            for r in risks.list_risks(ctx, p.key, include_closed=False)
            if r.level == "high" and r.status in (RiskStatus.OPEN, RiskStatus.MITIGATING)
        )
        out.append(
            ProjectSummary(
                key=p.key,
                name=p.name,
                phase=p.phase,
                open_hypotheses=counts.get((p.id, Verdict.OPEN.value), 0),
                supported=counts.get((p.id, Verdict.SUPPORTED.value), 0),
                refuted=counts.get((p.id, Verdict.REFUTED.value), 0),
                next_milestone=nxt.name if nxt else None,
                next_milestone_target=nxt.target_date if nxt else None,
                next_milestone_p85=fc.forecast.dates[85] if fc and fc.forecast else None,
                next_milestone_probability=fc.probability if fc else None,
                open_high_risks=high,
                success_rate=_rate(counts, p.id),
            )
        )
    return out


def _rate(counts: dict[tuple[str, str], int], project_id: str) -> float | None:
    supported = counts.get((project_id, Verdict.SUPPORTED.value), 0)
    resolved = supported + counts.get((project_id, Verdict.REFUTED.value), 0)
    return supported / resolved if resolved else None
