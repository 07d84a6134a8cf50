"""The review of a gate: a pure function of its definition, the evidence, its sign-offs
and waivers, and the time. Callers look the record up and do the I/O.

Rules (docs/governance.md, "Gates"):

- A **criterion** is judged three-valued (governance.criteria): passed is met, failed
  fails the gate, missing evidence leaves it pending and names the missing paths.
- A **checklist item** is met by an attestation; an item with a ``when`` condition
  applies unless the condition is known to fail (missing evidence: it applies).
- Each entry of ``approvers`` needs an approval by a holder of that role (or a higher
  one). With separation of duties (auth mode) the approvals come from distinct users and
  never from the author of the model version; without it (local single-user mode) one
  approval covers every entry its role allows.
- A **rejection** fails the gate.
- A sign-off **counts** only while it is current: given for the gate's present model and
  dataset version, and younger than ``valid_days``. So a change of subject, or time,
  returns a passed gate to pending with no stored status to go stale (re-review).
- A **waiver** meets one requirement (criterion, checklist item or approval) until it
  expires; an expired waiver stops counting.
- Status: failed if anything failed, else pending if anything is missing, else passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loopwise.accounts.models import Role
from loopwise.governance import criteria
from loopwise.governance.models import (
    GateReview,
    GateStatus,
    GateTemplate,
    Requirement,
    RequirementState,
    Signoff,
    SignoffKind,
    Waiver,
)


@dataclass(frozen=True)
class Subject:
    """What the gate is about now: sign-offs for another subject do not count."""

    model_version_id: str | None
    dataset_version_id: str | None
    author_id: str | None = None  # who registered the model version (SoD)


def current(signoff: Signoff, subject: Subject, valid_days: int | None, now: datetime) -> bool:
    if signoff.model_version_id != subject.model_version_id:
        return False
    if signoff.dataset_version_id != subject.dataset_version_id:
        return False
    return valid_days is None or now - signoff.at < timedelta(days=valid_days)


def active_waivers(waivers: Sequence[Waiver], now: datetime) -> dict[str, Waiver]:
    return {w.target: w for w in sorted(waivers, key=lambda w: w.at) if w.expires_at > now}


def review_gate(
    definition: GateTemplate,
    evidence: criteria.Evidence,
    signoffs: Sequence[Signoff],
    waivers: Sequence[Waiver],
    subject: Subject,
    now: datetime,
    *,
    separation_of_duties: bool,
) -> GateReview:
    """The gate's status and one requirement line each (see the module docstring)."""
    live = [s for s in signoffs if current(s, subject, definition.valid_days, now)]
    waived = active_waivers(waivers, now)
    out: list[Requirement] = []
    for i, text in enumerate(definition.criteria, start=1):
        out.append(_criterion(f"criterion:{i}", text, evidence, waived))
    for item in definition.checklist:
        out.append(_checklist(item.key, item.text, item.role, item.when, evidence, live, waived))
    out.extend(_approvals(definition.approvers, live, waived, subject, separation_of_duties))
    for s in live:
        if s.kind is SignoffKind.REJECT:
            who = s.username or "a deleted user"
            out.append(
                Requirement(
                    f"rejection:{s.id}",
                    f"rejected by {who}",
                    RequirementState.FAILED,
                    s.note,
                )
            )
    states = {r.state for r in out}
    if RequirementState.FAILED in states:
        status = GateStatus.FAILED
    elif RequirementState.MISSING in states:
        status = GateStatus.PENDING
    else:
        status = GateStatus.PASSED
    return GateReview(status, tuple(out))


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _waived(rid: str, text: str, waived: dict[str, Waiver]) -> Requirement | None:
    w = waived.get(rid)
    if w is None:
        return None
    detail = f"waived until {w.expires_at:%Y-%m-%d %H:%M} UTC: {w.reason}"
    return Requirement(rid, text, RequirementState.WAIVED, detail)


def _criterion(
    rid: str, text: str, evidence: criteria.Evidence, waived: dict[str, Waiver]
) -> Requirement:
    label = f"criterion {text}"
    outcome = criteria.evaluate(criteria.parse(text), evidence)
    if outcome.status is criteria.Status.PASSED:
        why = "; ".join(leaf.explanation for leaf in outcome.leaves)
        return Requirement(rid, label, RequirementState.MET, why)
    skip = _waived(rid, label, waived)
    if skip is not None:
        return skip
    if outcome.status is criteria.Status.FAILED:
        why = "; ".join(leaf.explanation for leaf in outcome.failures)
        return Requirement(rid, label, RequirementState.FAILED, why)
    return Requirement(
        rid, label, RequirementState.MISSING, "no recorded " + ", ".join(outcome.missing)
    )


def _checklist(
    key: str,
    text: str,
    role: str,
    when: str,
    evidence: criteria.Evidence,
    live: Sequence[Signoff],
    waived: dict[str, Waiver],
) -> Requirement:
    rid = f"checklist:{key}"
    label = f"checklist {text}"
    if when:
        condition = criteria.evaluate(criteria.parse(when), evidence)
        if condition.status is criteria.Status.FAILED:
            return Requirement(rid, label, RequirementState.NOT_APPLICABLE, f"only when {when}")
    done = [s for s in live if s.kind is SignoffKind.ATTEST and s.target == key]
    if done:
        last = done[-1]
        who = last.username or "a deleted user"
        return Requirement(rid, label, RequirementState.MET, f"attested by {who}")
    skip = _waived(rid, label, waived)
    if skip is not None:
        return skip
    return Requirement(rid, label, RequirementState.MISSING, f"needs an attestation by {_a(role)}")


def _approvals(
    roles: Sequence[str],
    live: Sequence[Signoff],
    waived: dict[str, Waiver],
    subject: Subject,
    separation_of_duties: bool,
) -> list[Requirement]:
    approvals = [s for s in live if s.kind is SignoffKind.APPROVE]
    if separation_of_duties:
        approvals = [s for s in approvals if s.user_id != subject.author_id]
    # The most demanding entries are filled first, each by the weakest approval that
    # suffices: with nested roles this greedy matching fills as many entries as any.
    approvals.sort(key=lambda s: Role(s.target).rank)
    used: set[str] = set()
    out: list[Requirement] = []
    order = sorted(enumerate(roles, start=1), key=lambda p: -Role(p[1]).rank)
    found: dict[int, Requirement] = {}
    for i, role in order:
        rid = f"approval:{i}"
        label = f"approval by {_a(role)}"
        match = next(
            (
                s
                for s in approvals
                if Role(s.target).allows(Role(role))
                and (not separation_of_duties or (s.user_id or s.id) not in used)
            ),
            None,
        )
        if match is not None:
            used.add(match.user_id or match.id)
            who = match.username or "a deleted user"
            found[i] = Requirement(rid, label, RequirementState.MET, f"approved by {who}")
            continue
        skip = _waived(rid, label, waived)
        if skip is not None:
            found[i] = skip
            continue
        why = "not the author of the model version" if separation_of_duties else ""
        if subject.author_id is None or not separation_of_duties:
            why = ""
        found[i] = Requirement(rid, label, RequirementState.MISSING, why or "not given yet")
    for i in sorted(found):
        out.append(found[i])
    return out
