"""Research planning: work items, hypotheses and their verdicts, the board, cycles,
flow metrics and forecasts, milestones, risks and RACI."""

from loopwise.core.slice import Periodic, Slice

# Cut by concept: each folder keeps its concept's models, tables, schemas, service and doors.
_CONCEPTS = ("items", "hypotheses", "board", "cycles", "flow", "milestones", "risks", "raci")

SLICE = Slice(
    name="planning",
    tables=tuple(f"loopwise.planning.{c}.tables" for c in _CONCEPTS if c != "flow"),
    api=(
        *(f"loopwise.planning.{c}.api:router" for c in _CONCEPTS),
        "loopwise.planning.portfolio.api:router",
    ),
    pages=(
        "loopwise.planning.overview.pages:router",
        "loopwise.planning.hypotheses.pages:router",
        "loopwise.planning.board.pages:router",
        "loopwise.planning.flow.pages:router",
        "loopwise.planning.milestones.pages:router",
        "loopwise.planning.cycles.pages:router",
        "loopwise.planning.risks.pages:router",
        "loopwise.planning.raci.pages:router",
        "loopwise.planning.portfolio.pages:router",
    ),
    cli=(
        *(f"loopwise.planning.{c}.cli" for c in ("hypotheses", "items", "board", "cycles", "flow")),
        *(f"loopwise.planning.{c}.cli" for c in ("milestones", "risks", "raci", "portfolio")),
    ),
    handlers=(
        (
            "loopwise.tracking.models:RunEvidenceChanged",
            "loopwise.planning.hypotheses.service:on_run_evidence_changed",
        ),
        (
            "loopwise.tracking.models:RunTagged",
            "loopwise.planning.hypotheses.service:on_run_tagged",
        ),
        (
            "loopwise.tracking.models:RunOffered",
            "loopwise.planning.hypotheses.service:on_run_offered",
        ),
    ),
    run_panels=("loopwise.planning.hypotheses.pages:run_panel",),
    done_rules=(("verdict_decided", "loopwise.planning.board.done:verdict_decided"),),
    periodic=(
        Periodic(
            name="time-box sweep",
            job="loopwise.planning.hypotheses.service:refresh_due",
            every_setting="verdict_refresh_seconds",
        ),
    ),
)
