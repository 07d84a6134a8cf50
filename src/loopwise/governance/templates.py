"""The gate templates: data, versioned. A template is changed by adding a new version
(never by editing one in place), so every instance can name the definition it was made
from. ``DEFAULT_SET`` is what a new project gets. docs/governance.md ("Gates") explains
each clause mapping."""

from __future__ import annotations

from loopwise.core.errors import NotFound
from loopwise.governance.models import ChecklistItem, GateScope, GateTemplate

_AI_ACT = "EU AI Act Art. "
_RMF = "NIST AI RMF "

TEMPLATES: tuple[GateTemplate, ...] = (
    GateTemplate(
        name="intake",
        version=1,
        title="Intake and risk classification",
        description="The intended purpose is stated and the EU AI Act risk tier decided "
        "before the business understanding phase ends.",
        scope=GateScope.PHASE,
        phase="business_understanding",
        stage=None,
        checklist=(
            ChecklistItem("purpose", "Intended purpose and users documented", "maintainer"),
            ChecklistItem(
                "risk_tier",
                "EU AI Act risk tier recorded (prohibited, high, limited, minimal)",
                "admin",
            ),
        ),
        criteria=("exists charter.metric",),
        approvers=("admin",),
        valid_days=365,
        clauses=(_AI_ACT + "9", _RMF + "GOVERN", _RMF + "MAP"),
    ),
    GateTemplate(
        name="data_readiness",
        version=1,
        title="Data readiness",
        description="The data meets its quality bar and its sources are cleared before "
        "data preparation ends.",
        scope=GateScope.PHASE,
        phase="data_preparation",
        stage=None,
        checklist=(
            ChecklistItem("provenance", "Sources, owners and licences recorded", "contributor"),
        ),
        criteria=("data.quality_index >= 90",),
        approvers=("maintainer",),
        valid_days=180,
        clauses=(_AI_ACT + "10", _RMF + "MAP", _RMF + "MEASURE"),
    ),
    GateTemplate(
        name="bias_audit",
        version=1,
        title="Bias audit",
        description="A fairness audit of this version is recorded and meets the bar.",
        scope=GateScope.VERSION,
        phase=None,
        stage="canary",
        checklist=(
            ChecklistItem(
                "measure_choice", "Primary fairness measure chosen and justified", "maintainer"
            ),
        ),
        criteria=("fairness.demographic_parity_ratio >= 0.8",),
        approvers=("maintainer",),
        valid_days=180,
        clauses=(_AI_ACT + "10", _AI_ACT + "15", _RMF + "MEASURE"),
    ),
    GateTemplate(
        name="privacy_review",
        version=1,
        title="Privacy review",
        description="Personal data is handled lawfully; an impact assessment is done when "
        "the data flags personal data.",
        scope=GateScope.VERSION,
        phase=None,
        stage="canary",
        checklist=(
            ChecklistItem("legal_basis", "Legal basis and retention recorded", "maintainer"),
            ChecklistItem(
                "impact_assessment",
                "Data protection impact assessment done",
                "admin",
                when="data.personal == true",
            ),
        ),
        approvers=("admin",),
        valid_days=365,
        clauses=(_AI_ACT + "10", _RMF + "GOVERN", _RMF + "MAP"),
    ),
    GateTemplate(
        name="security_review",
        version=1,
        title="Security review",
        description="Threats to the model and its serving path are reviewed.",
        scope=GateScope.VERSION,
        phase=None,
        stage="production",
        checklist=(
            ChecklistItem("threat_model", "Threat model reviewed", "maintainer"),
            ChecklistItem("access", "Access to the model and its data limited", "maintainer"),
        ),
        approvers=("maintainer",),
        valid_days=180,
        clauses=(_AI_ACT + "15", _RMF + "MANAGE"),
    ),
    GateTemplate(
        name="ethics_checkpoint",
        version=1,
        title="Ethics checkpoint",
        description="People decide whether this version may meet users, before canary; a "
        "failure opens a critical blocker on the board.",
        scope=GateScope.VERSION,
        phase=None,
        stage="canary",
        checklist=(
            ChecklistItem("oversight", "Human oversight and appeal path in place", "maintainer"),
            ChecklistItem("harms", "Foreseeable harms and misuse reviewed", "maintainer"),
        ),
        approvers=("admin",),
        valid_days=180,
        clauses=(_AI_ACT + "9", _AI_ACT + "14", _RMF + "GOVERN"),
        blocker_on_failure=True,
    ),
    GateTemplate(
        name="production_readiness",
        version=1,
        title="Production readiness",
        description="The version meets the charter's success metric and is documented.",
        scope=GateScope.VERSION,
        phase=None,
        stage="production",
        checklist=(
            ChecklistItem("model_card", "Model card and technical documentation", "maintainer"),
            ChecklistItem("logging", "Prediction logging on (record keeping)", "maintainer"),
            ChecklistItem("instructions", "Instructions for use given to deployers", "maintainer"),
        ),
        criteria=("charter.success_metric_met == true",),
        approvers=("maintainer", "admin"),
        valid_days=90,
        clauses=(
            _AI_ACT + "11",
            _AI_ACT + "12",
            _AI_ACT + "13",
            _AI_ACT + "15",
            _RMF + "MEASURE",
            _RMF + "MANAGE",
        ),
    ),
    GateTemplate(
        name="post_market_monitoring",
        version=1,
        title="Post-market monitoring plan",
        description="A monitor watches the version and its plan names who acts on alerts.",
        scope=GateScope.VERSION,
        phase=None,
        stage="production",
        checklist=(
            ChecklistItem("plan", "Monitoring plan: metrics, owners, escalation", "maintainer"),
        ),
        criteria=("monitoring.monitors >= 1",),
        approvers=("maintainer",),
        valid_days=365,
        clauses=(_AI_ACT + "72", _RMF + "MANAGE"),
    ),
)

DEFAULT_SET: tuple[str, ...] = tuple(t.name for t in TEMPLATES)


def template(name: str, version: int | None = None) -> GateTemplate:
    """A template by name, its newest version unless ``version`` is given."""
    found = [t for t in TEMPLATES if t.name == name and (version is None or t.version == version)]
    if not found:
        names = ", ".join(sorted({t.name for t in TEMPLATES}))
        wanted = name if version is None else f"{name} v{version}"
        raise NotFound(f"no gate template {wanted!r}; templates: {names}")
    return max(found, key=lambda t: t.version)


def latest_templates() -> list[GateTemplate]:
    return [template(name) for name in DEFAULT_SET]
