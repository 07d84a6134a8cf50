"""The gate review as a pure function: what counts, what is missing, what fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loopwise.governance.criteria import MISSING, Missing, Value
from loopwise.governance.decision import Subject, review_gate
from loopwise.governance.models import (
    ChecklistItem,
    GateScope,
    GateStatus,
    GateTemplate,
    RequirementState,
    Signoff,
    SignoffKind,
    Waiver,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GATE = GateTemplate(
    name="t",
    version=1,
    title="T",
    description="",
    scope=GateScope.VERSION,
    phase=None,
    stage="canary",
    checklist=(
        ChecklistItem("a", "Item A", "maintainer"),
        ChecklistItem("dpia", "Impact assessment", "admin", when="data.personal == true"),
    ),
    criteria=("fairness.demographic_parity_ratio >= 0.8",),
    approvers=("maintainer", "admin"),
    valid_days=30,
)
SUBJECT = Subject("mv_1", "dv_1", author_id="u_author")


def evidence(**values: Value) -> object:
    def lookup(path: str) -> Value | Missing:
        return values.get(path.replace(".", "__"), MISSING)

    return lookup


def sign(kind: SignoffKind, target: str, user: str, *, days_ago: float = 1, dv: str = "dv_1"):  # noqa: ANN201
    return Signoff(
        f"s_{user}_{target}_{kind}",
        kind,
        target,
        user,
        user,
        NOW - timedelta(days=days_ago),
        "mv_1",
        dv,
        "",
    )


GOOD = evidence(fairness__demographic_parity_ratio=0.9, data__personal=False)
DONE = [
    sign(SignoffKind.ATTEST, "a", "u_m"),
    sign(SignoffKind.APPROVE, "maintainer", "u_m"),
    sign(SignoffKind.APPROVE, "admin", "u_a"),
]


def review(ev: object = GOOD, signoffs=DONE, waivers=(), *, sod: bool = True, now=NOW):  # noqa: ANN001, ANN201
    return review_gate(GATE, ev, signoffs, waivers, SUBJECT, now, separation_of_duties=sod)  # type: ignore[arg-type]


def states(r) -> dict[str, RequirementState]:  # noqa: ANN001
    return {q.id: q.state for q in r.requirements}


def test_all_met_passes_and_a_condition_that_fails_skips_its_item() -> None:
    r = review()
    assert r.status is GateStatus.PASSED and r.missing == ()
    assert states(r)["checklist:dpia"] is RequirementState.NOT_APPLICABLE


def test_missing_evidence_and_sign_offs_are_listed_and_leave_it_pending() -> None:
    r = review(evidence(), [])
    assert r.status is GateStatus.PENDING
    assert r.missing == (
        "criterion fairness.demographic_parity_ratio >= 0.8: "
        "no recorded fairness.demographic_parity_ratio",
        "checklist Item A: needs an attestation by a maintainer",
        # unknown whether personal data is flagged: the assessment applies
        "checklist Impact assessment: needs an attestation by an admin",
        "approval by a maintainer: not the author of the model version",
        "approval by an admin: not the author of the model version",
    )


def test_a_failed_criterion_fails_the_gate_with_its_explanation() -> None:
    r = review(evidence(fairness__demographic_parity_ratio=0.7, data__personal=False))
    assert r.status is GateStatus.FAILED
    assert r.missing == (
        "criterion fairness.demographic_parity_ratio >= 0.8: "
        "fairness.demographic_parity_ratio = 0.7 < 0.8",
    )


def test_a_waiver_counts_until_it_expires() -> None:
    bad = evidence(fairness__demographic_parity_ratio=0.7, data__personal=False)
    waiver = Waiver("w", "criterion:1", "known gap, fix in v2", NOW + timedelta(days=1), "ad", NOW)
    r = review(bad, waivers=[waiver])
    assert r.status is GateStatus.PASSED
    assert states(r)["criterion:1"] is RequirementState.WAIVED
    assert review(bad, waivers=[waiver], now=NOW + timedelta(days=2)).status is GateStatus.FAILED


def test_re_review_when_the_data_version_changes_or_sign_offs_expire() -> None:
    other_data = [sign(s.kind, s.target, s.user_id or "", dv="dv_0") for s in DONE]
    assert review(signoffs=other_data).status is GateStatus.PENDING
    assert review(now=NOW + timedelta(days=29)).status is GateStatus.PENDING  # 30-day validity
    assert review(now=NOW + timedelta(days=28)).status is GateStatus.PASSED


def test_separation_of_duties() -> None:
    by_author = [DONE[0], sign(SignoffKind.APPROVE, "admin", "u_author"), DONE[2]]
    r = review(signoffs=by_author)
    assert r.status is GateStatus.PENDING
    assert states(r)["approval:1"] is RequirementState.MISSING
    # one person cannot fill two approver entries
    one_admin = [DONE[0], DONE[2]]
    assert review(signoffs=one_admin).status is GateStatus.PENDING
    # without separation of duties (local single-user mode) one approval covers both,
    # the author's included
    only_author = [DONE[0], sign(SignoffKind.APPROVE, "admin", "u_author")]
    assert review(signoffs=only_author, sod=False).status is GateStatus.PASSED


def test_an_approval_fills_only_entries_its_role_allows() -> None:
    two_maintainers = [DONE[0], DONE[1], sign(SignoffKind.APPROVE, "maintainer", "u_m2")]
    r = review(signoffs=two_maintainers)
    assert states(r)["approval:1"] is RequirementState.MET
    assert states(r)["approval:2"] is RequirementState.MISSING


def test_a_current_rejection_fails_the_gate() -> None:
    rejected = [*DONE, sign(SignoffKind.REJECT, "admin", "u_a2")]
    assert review(signoffs=rejected).status is GateStatus.FAILED
    stale = [*DONE, sign(SignoffKind.REJECT, "admin", "u_a2", days_ago=40)]
    assert review(signoffs=stale).status is GateStatus.PASSED
