"""Research planning: work items, hypotheses and their verdicts, the board, cycles,
flow metrics and forecasts, milestones, risks and RACI."""

from loopwise.core.slice import Periodic, Slice

SLICE = Slice(
    name="planning",
    tables=("loopwise.planning.tables",),
    api=("loopwise.planning.api:router", "loopwise.planning.board_api:router"),
    pages=(
        "loopwise.planning.pages:router",
        "loopwise.planning.board_pages:router",
        "loopwise.planning.flow_pages:router",
        "loopwise.planning.register_pages:router",
    ),
    cli=("loopwise.planning.cli", "loopwise.planning.board_cli", "loopwise.planning.register_cli"),
    handlers=(
        (
            "loopwise.tracking.models:RunEvidenceChanged",
            "loopwise.planning.hypotheses:on_run_evidence_changed",
        ),
        ("loopwise.tracking.models:RunTagged", "loopwise.planning.hypotheses:on_run_tagged"),
        ("loopwise.tracking.models:RunOffered", "loopwise.planning.hypotheses:on_run_offered"),
    ),
    done_rules=(("verdict_decided", "loopwise.planning.done:verdict_decided"),),
    periodic=(
        Periodic(
            name="time-box sweep",
            job="loopwise.planning.hypotheses:refresh_due",
            every_setting="verdict_refresh_seconds",
        ),
    ),
)
