"""Governance domain: gate templates and instances, sign-offs, waivers, the review of a
gate, and stored fairness audits. No SQLAlchemy, no FastAPI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from loopwise.numeric.fairness import FairnessAudit


class GateScope(StrEnum):
    PHASE = "phase"  # the exit gate of a CRISP-DM phase of a project
    VERSION = "version"  # attached to one model version, guarding a stage


class GateStatus(StrEnum):
    PASSED = "passed"
    PENDING = "pending"  # something is missing: evidence, an attestation, an approval
    FAILED = "failed"  # a criterion failed (unwaived) or an approver rejected


class SignoffKind(StrEnum):
    ATTEST = "attest"  # a checklist item attested
    APPROVE = "approve"
    REJECT = "reject"


class RequirementState(StrEnum):
    MET = "met"
    MISSING = "missing"
    FAILED = "failed"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"  # a checklist item whose condition does not hold


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # stable within the template: risk_tier
    text: str
    role: str  # the least project role that may attest it (accounts.Role value)
    when: str = ""  # a criterion; the item applies only unless it is known to fail


@dataclass(frozen=True)
class GateTemplate:
    """A versioned gate definition; instances keep the version they were made from."""

    name: str  # ethics_checkpoint
    version: int
    title: str
    description: str
    scope: GateScope
    phase: str | None  # PHASE scope: the phase this gate is the exit of
    stage: str | None  # VERSION scope: the first stage it guards (canary or production)
    checklist: tuple[ChecklistItem, ...] = ()
    criteria: tuple[str, ...] = ()  # governance.criteria text, canonical
    approvers: tuple[str, ...] = ()  # one approval per entry, by a holder of that role
    valid_days: int | None = None  # sign-offs older than this stop counting (re-review)
    clauses: tuple[str, ...] = ()  # framework clauses it serves
    blocker_on_failure: bool = False  # a failure opens a critical blocker on the board


@dataclass(frozen=True)
class Signoff:
    id: str
    kind: SignoffKind
    target: str  # the checklist item key (attest) or the role held (approve, reject)
    user_id: str | None
    username: str | None
    at: datetime
    model_version_id: str | None  # the subject when it was given
    dataset_version_id: str | None
    note: str


@dataclass(frozen=True)
class Waiver:
    id: str
    target: str  # a requirement id: criterion:1, checklist:risk_tier, approval:1
    reason: str
    expires_at: datetime
    username: str | None
    at: datetime


@dataclass(frozen=True)
class Requirement:
    id: str  # criterion:1, checklist:<key>, approval:1, rejection:<signoff id>
    text: str
    state: RequirementState
    detail: str = ""


@dataclass(frozen=True)
class GateReview:
    status: GateStatus
    requirements: tuple[Requirement, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """One line per requirement that holds the gate back."""
        return tuple(
            f"{r.text}: {r.detail}" if r.detail else r.text
            for r in self.requirements
            if r.state in (RequirementState.MISSING, RequirementState.FAILED)
        )


@dataclass(frozen=True)
class Gate:
    id: str
    project_key: str
    template: str
    template_version: int
    title: str
    scope: GateScope
    phase: str | None
    stage: str | None
    model: str | None
    version: int | None
    model_version_id: str | None
    dataset_version_id: str | None
    definition: GateTemplate
    signoffs: tuple[Signoff, ...]
    waivers: tuple[Waiver, ...]
    review: GateReview
    blocker_item: str | None  # key of the blocker item its failure opened
    created_at: datetime
    due: GateDue | None = None  # from the compliance calendar; None: no dated clause


@dataclass(frozen=True)
class FairnessAuditRecord:
    """A fairness audit of a model version's predictions on a dataset version, kept as
    evidence (``fairness.<measure>`` in gate criteria)."""

    id: str
    project_key: str
    model: str
    version: int
    model_version_id: str
    model_source: str  # what the version was built from, pinned: run id or source uri
    dataset_version_id: str
    dataset_hash: str  # the dataset version's content hash, pinned
    label_col: str
    prediction_col: str
    sensitive_cols: tuple[str, ...]
    rows: int
    values: dict[str, float | bool | None]
    primary_measure: str
    justification: str
    warnings: tuple[str, ...]
    created_by: str | None
    created_at: datetime
    # the whole result: per-group metrics, each grouping's measures with their bootstrap
    # intervals, the settings (None for audits stored before migration 0013)
    detail: FairnessAudit | None = None


class ExplanationMethod(StrEnum):
    PERMUTATION = "permutation"  # sklearn.inspection.permutation_importance
    SHAP = "shap"  # mean |SHAP value| per feature over a sample of rows


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    mean: float  # permutation: mean score drop; shap: mean |SHAP value|
    std: float  # over the repeats (permutation) or the rows explained (shap)
    raw: tuple[float, ...] = ()  # permutation: the score drop of each repeat


@dataclass(frozen=True)
class Explanation:
    """Feature importances of a model version on a dataset version, computed where the
    model is (the SDK) and kept here: the server never loads a model."""

    id: str
    project_key: str
    model: str
    version: int
    model_version_id: str
    model_source: str  # what the version was built from, pinned: run id or source uri
    method: ExplanationMethod
    scoring: str  # the score permuted against (accuracy, r2, roc_auc...); "" for shap
    n_repeats: int | None
    random_state: int | None
    baseline_score: float | None  # the model's score on the unpermuted rows, if given
    rows: int | None  # rows the importances were computed on
    dataset_version_id: str
    dataset_hash: str  # the dataset version's content hash, pinned
    features: tuple[FeatureImportance, ...]  # in the order they were given
    created_by: str | None
    created_at: datetime

    @property
    def ranked(self) -> tuple[FeatureImportance, ...]:
        """The features, most important first (ties by name)."""
        return tuple(sorted(self.features, key=lambda f: (-f.mean, f.feature)))


class DueState(StrEnum):
    MET = "met"  # the gate has passed
    OVERDUE = "overdue"  # its obligations apply and it has not passed
    UPCOMING = "upcoming"  # its obligations apply from a later date


@dataclass(frozen=True)
class GateDue:
    """When a gate is due: the date the obligations of the clauses it serves apply
    (compliance_calendar.yaml), and where the gate stands against it."""

    date: date
    milestone: str  # the calendar entry's key: general_application
    title: str
    clauses: tuple[str, ...]  # the gate's clauses that apply on that date
    state: DueState
    days: int  # days from today to the date; negative once it has passed
    source: str  # the legal text the date comes from
