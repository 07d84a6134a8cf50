"""What a person reading a gate needs first, as a pure function of the gate and the time:
one label (passed, waived, blocked, needs re-review, expired), why earlier sign-offs stopped
counting, which waivers ran out, and where each criterion reads its evidence.

The review (``decision.review_gate``) says passed, pending or failed; this tells apart the
ways a gate can be held back or let through:

- **waived**: passed, but at least one requirement holds only by a waiver;
- **expired**: held back, and a waiver of a requirement that is now unmet ran out;
- **needs re-review**: held back, and sign-offs were given that no longer count (for
  another model or dataset version, or older than the template's ``valid_days``);
- **blocked**: held back otherwise (evidence, attestations or approvals missing, a
  criterion failed, a rejection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loopwise.governance.decision import Subject, current
from loopwise.governance.models import (
    Gate,
    GateStatus,
    RequirementState,
    Signoff,
    SignoffKind,
    Waiver,
)


class GateLabel(StrEnum):
    PASSED = "passed"
    WAIVED = "waived"
    BLOCKED = "blocked"
    RE_REVIEW = "needs re-review"
    EXPIRED = "expired"


# Where a criterion's path is looked up (governance.evidence), said for people.
SOURCES: dict[str, str] = {
    "fairness": "the newest fairness audit of this version",
    "eval": "the version's metrics, else its newest evaluation",
    "charter": "the project charter",
    "data": "the gate's dataset version, else the project's newest",
    "hypothesis": "the hypothesis verdict",
    "monitoring": "the monitors watching this version",
}
_PATH = re.compile(r"\b(" + "|".join(SOURCES) + r")\.")


_UNMET = (RequirementState.MISSING, RequirementState.FAILED)


@dataclass(frozen=True)
class GateSummary:
    label: GateLabel
    rereview: tuple[str, ...]  # one line per sign-off that stopped counting
    expired: tuple[Waiver, ...]  # waivers of now unmet requirements that ran out


def _why_stale(s: Signoff, gate: Gate, valid_days: int | None, now: datetime) -> str:
    who = s.username or "a deleted user"
    what = {
        SignoffKind.ATTEST: f"attestation of {s.target}",
        SignoffKind.APPROVE: f"approval as {s.target}",
        SignoffKind.REJECT: f"rejection as {s.target}",
    }[s.kind]
    if s.model_version_id != gate.model_version_id:
        reason = "was given for another model version"
    elif s.dataset_version_id != gate.dataset_version_id:
        reason = "was given for another dataset version"
    else:
        reason = f"is older than {valid_days} days"
    return f"{who}'s {what} ({s.at:%Y-%m-%d}) {reason}"


def summarize(gate: Gate, now: datetime) -> GateSummary:
    """The gate's label, re-review reasons and expired waivers (see the module docstring)."""
    subject = Subject(gate.model_version_id, gate.dataset_version_id)
    valid_days = gate.definition.valid_days
    stale = tuple(
        _why_stale(s, gate, valid_days, now)
        for s in gate.signoffs
        if not current(s, subject, valid_days, now)
    )
    states = {r.id: r.state for r in gate.review.requirements}
    unmet = {rid for rid, st in states.items() if st in _UNMET}
    expired = tuple(w for w in gate.waivers if w.expires_at <= now and w.target in unmet)
    if gate.review.status is GateStatus.PASSED:
        waived = RequirementState.WAIVED in states.values()
        return GateSummary(GateLabel.WAIVED if waived else GateLabel.PASSED, stale, expired)
    if expired:
        return GateSummary(GateLabel.EXPIRED, stale, expired)
    if stale:
        return GateSummary(GateLabel.RE_REVIEW, stale, expired)
    return GateSummary(GateLabel.BLOCKED, stale, expired)


def sources(criterion: str) -> tuple[str, ...]:
    """Where a criterion's paths are read from, one phrase per kind of path, in order."""
    kinds = dict.fromkeys(m.group(1) for m in _PATH.finditer(criterion))
    return tuple(SOURCES[k] for k in kinds)
