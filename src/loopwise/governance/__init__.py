"""Governance (issue 16): gate templates and instances (checklists attested by a role,
criteria over recorded evidence, approvals with separation of duties, waivers with an
expiry, re-review), phase exit gates, promotion gates, stored fairness audits, model
explanations (feature importances computed by the SDK); the gate criteria language and
the tamper-evident audit chain; documents generated from the record (model card,
datasheet, Annex IV, impact assessment, risk register) and the compliance calendar that
dates the gates."""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="governance",
    tables=("loopwise.governance.tables",),
    api=("loopwise.governance.api:router", "loopwise.governance.documents.api:router"),
    pages=(
        "loopwise.governance.pages:router",
        "loopwise.governance.audit_pages:router",
        "loopwise.governance.trail_pages:router",
        "loopwise.governance.documents.pages:router",
    ),
    cli=("loopwise.governance.cli", "loopwise.governance.documents.cli"),
    handlers=(
        (
            "loopwise.projects.models:ProjectCreated",
            "loopwise.governance.service:on_project_created",
        ),
        (
            "loopwise.registry.models:ModelVersionCreated",
            "loopwise.governance.service:on_model_version_created",
        ),
    ),
    promotion_checks=("loopwise.governance.service:gates_before_stage",),
    phase_checks=("loopwise.governance.service:phase_exit",),
    model_panels=(
        "loopwise.governance.pages:model_panel",
        "loopwise.governance.explanation_pages:explanations_panel",
    ),
)
