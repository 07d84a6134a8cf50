"""``loopwise portfolio``: every project at a glance."""

from __future__ import annotations

from typing import Any

import typer

from loopwise.console import JsonOption, env_of
from loopwise.planning.cli_args import SeedOption, pct
from loopwise.planning.portfolio import service as portfolio


def show_portfolio(
    ctx: typer.Context,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every project at a glance: hypotheses, next milestone and its forecast, high risks."""
    env = env_of(ctx)
    with env.working("Forecasting milestones ..."), env.read() as c:
        found = portfolio.portfolio(c, seed=seed)

    def render() -> Any:
        if not found:
            return "no projects yet"
        rows = [
            (
                p.key,
                p.phase.label,
                f"{p.open_hypotheses} open, {p.supported} supported, {p.refuted} refuted"
                + (f" ({p.success_rate:.0%})" if p.success_rate is not None else ""),
                f"{p.next_milestone} by {p.next_milestone_target}" if p.next_milestone else "—",
                f"{p.next_milestone_p85}" if p.next_milestone_p85 else "—",
                pct(p.next_milestone_probability),
                p.open_high_risks,
            )
            for p in found
        ]
        return env.table(
            ["Key", "Phase", "Hypotheses", "Next milestone", "P85", "Chance", "High risks"], rows
        )

    env.emit(found, list[portfolio.ProjectSummary], as_json=as_json, render=render)


def groups() -> list[typer.Typer]:
    return []


def commands() -> list[tuple[str, Any]]:
    return [("portfolio", show_portfolio)]
