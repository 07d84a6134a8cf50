"""Where each source record lives (its page), how a figure is written, and the tables more
than one document shows (gates with their due dates, the compliance calendar)."""

from __future__ import annotations

import math
from datetime import date, datetime
from urllib.parse import quote

from loopwise.governance.calendar import Calendar
from loopwise.governance.documents.model import Cell, Table
from loopwise.governance.models import Gate, SignoffKind


class Links:
    """Page URLs of source records; absolute when a public URL is configured."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def _u(self, *parts: str) -> str:
        return self.base + "/" + "/".join(quote(p, safe="") for p in parts)

    def project(self, key: str) -> str:
        return self._u("projects", key)

    def risks(self, key: str) -> str:
        return self._u("projects", key, "risks")

    def documents(self, key: str) -> str:
        return self._u("projects", key, "documents")

    def run(self, run_id: str) -> str:
        return self._u("runs", run_id)

    def evaluation(self, evaluation_id: str) -> str:
        return self._u("evaluations", evaluation_id)

    def dataset_version(self, version_id: str) -> str:
        return self._u("datasets", "versions", version_id)

    def readiness(self, version_id: str) -> str:
        return self._u("datasets", "versions", version_id, "readiness")

    def model(self, name: str) -> str:
        return self._u("models", name)

    def model_version(self, version_id: str) -> str:
        return self._u("model-versions", version_id)

    def gate(self, gate_id: str) -> str:
        return self._u("gates", gate_id)

    def risk(self, key: str) -> str:
        return self._u("risks", key)

    def hypothesis(self, key: str) -> str:
        return self._u("hypotheses", key)

    def monitor(self, project_key: str, name: str) -> str:
        return self._u("projects", project_key, "monitors", name)

    def deployment(self, deployment_id: str) -> str:
        return self._u("lineage", "deployments", deployment_id)


def num(value: object) -> str:
    """A figure as stored, shortened for reading: floats to 4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def interval(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"[{num(low)}, {num(high)}]"


def when(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def attestation(gates: tuple[Gate, ...], template: str, item: str) -> tuple[str, str] | None:
    """The newest note attesting ``item`` on a gate made from ``template``, with the gate."""
    for gate in gates:
        if gate.template != template:
            continue
        notes = [
            s.note
            for s in gate.signoffs
            if s.kind is SignoffKind.ATTEST and s.target == item and s.note
        ]
        if notes:
            return notes[-1], gate.id
    return None


def due_text(gate: Gate) -> str:
    if gate.due is None:
        return "no dated obligation"
    days = gate.due.days
    ago = f"{-days} days ago" if days < 0 else f"in {days} days" if days > 0 else "today"
    return f"{gate.due.date.isoformat()} ({ago})"


def gates_table(gates: tuple[Gate, ...], links: Links, title: str = "Gates") -> Table:
    rows = tuple(
        (
            Cell(g.title, links.gate(g.id)),
            Cell(f"{g.model} v{g.version}" if g.model else f"exit of {g.phase}"),
            Cell(g.review.status.value),
            Cell(due_text(g)),
            Cell(g.due.state.value if g.due else "—"),
            Cell(", ".join(g.definition.clauses)),
        )
        for g in gates
    )
    return Table(
        title, ("Gate", "Subject", "Status", "Due", "Due state", "Clauses"), rows, "no gates"
    )


def calendar_table(calendar: Calendar, today: date) -> Table:
    rows = tuple(
        (
            Cell(m.date.isoformat()),
            Cell(m.title),
            Cell("applies" if m.date <= today else f"in {(m.date - today).days} days"),
        )
        for m in calendar.milestones
    )
    return Table(f"{calendar.framework} application dates", ("Date", "What applies", "Now"), rows)
