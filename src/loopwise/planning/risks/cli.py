"""``loopwise risk``: the risk register and its heat map."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.planning.cli_args import DATE, ItemKeysArg, day
from loopwise.planning.items.schemas import ItemKeys
from loopwise.planning.risks import service as risks
from loopwise.planning.risks.models import Risk, RiskCategory, RiskStatus, risk_level
from loopwise.planning.risks.schemas import RiskCreate, RiskUpdate

if TYPE_CHECKING:
    from loopwise.console import CliEnv


risk_app = typer.Typer(
    name="risk", help="The risk register: likelihood x impact, owners.", no_args_is_help=True
)


_LEVEL_STYLE = {"high": "red", "medium": "yellow", "low": "green"}


def _level(level: str) -> Text:
    return Text(level, style=_LEVEL_STYLE.get(level, ""))


def _risk_rows(env: CliEnv, found: list[Risk]) -> Any:
    if not found:
        return "no risks recorded"
    rows = [
        (
            r.key,
            r.title,
            r.category.value,
            f"{r.likelihood}x{r.impact}={r.score}",
            _level(r.level),
            r.status.value,
            r.owner or "—",
            Text(f"{r.next_review}", style="red" if r.review_overdue else "")
            if r.next_review
            else "—",
        )
        for r in found
    ]
    return env.table(
        ["Key", "Title", "Category", "L x I", "Level", "Status", "Owner", "Next review"], rows
    )


def _risk_view(env: CliEnv, r: Risk) -> Any:
    residual = (
        f"{r.residual_likelihood}x{r.residual_impact}={r.residual_score}"
        if r.residual_score is not None
        else "—"
    )
    review = f"{r.next_review}" if r.next_review else "—"
    if r.review_overdue:
        review += " (overdue)"
    return env.fields(
        [
            ("Key", r.key),
            ("Title", r.title),
            ("Category", r.category.value),
            ("Likelihood x impact", f"{r.likelihood} x {r.impact} = {r.score}"),
            ("Level", _level(r.level)),
            ("Residual", residual),
            ("Status", r.status.value),
            ("Owner", r.owner or "—"),
            ("Mitigation", r.mitigation or "—"),
            ("Next review", review),
            ("Items", ", ".join(r.item_keys) or "—"),
            ("Description", r.description or "—"),
        ]
    )


@risk_app.command("list")
def list_risks(
    ctx: typer.Context,
    project: ProjectArg,
    open_only: Annotated[bool, typer.Option("--open", help="Leave out closed risks.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List a project's risks, highest score first."""
    env = env_of(ctx)
    with env.read() as c:
        found = risks.list_risks(c, project, include_closed=not open_only)
    env.emit(found, list[Risk], as_json=as_json, render=lambda: _risk_rows(env, found))


@risk_app.command("create")
def create_risk(
    ctx: typer.Context,
    project: ProjectArg,
    title: Annotated[str, typer.Argument(help="Short title.")],
    category: Annotated[RiskCategory, typer.Option(help="Kind of risk.")],
    likelihood: Annotated[int, typer.Option(help="1 (rare) to 5 (almost certain).")],
    impact: Annotated[int, typer.Option(help="1 (minor) to 5 (severe).")],
    description: Annotated[str, typer.Option(help="Longer notes.")] = "",
    owner: Annotated[str, typer.Option(help="Who watches it.")] = "",
    mitigation: Annotated[str, typer.Option(help="What reduces it.")] = "",
    residual_likelihood: Annotated[
        int | None, typer.Option(help="Likelihood after mitigation.")
    ] = None,
    residual_impact: Annotated[int | None, typer.Option(help="Impact after mitigation.")] = None,
    next_review: Annotated[
        datetime | None, typer.Option(formats=DATE, help="Next review date (YYYY-MM-DD).")
    ] = None,
    item: Annotated[list[str] | None, typer.Option(help="A linked work item; repeat.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a risk."""
    env = env_of(ctx)
    data = RiskCreate(
        title=title,
        category=category,
        likelihood=likelihood,
        impact=impact,
        description=description,
        owner=owner,
        mitigation=mitigation,
        residual_likelihood=residual_likelihood,
        residual_impact=residual_impact,
        next_review=day(next_review),
        items=item or [],
    )
    with env.write() as c:
        created = risks.create_risk(c, project, data)
    env.emit(created, Risk, as_json=as_json, render=lambda: _risk_view(env, created))


@risk_app.command("show")
def get_risk(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Risk key, e.g. CHURN-R3.")],
    as_json: JsonOption = False,
) -> None:
    """Show a risk."""
    env = env_of(ctx)
    with env.read() as c:
        found = risks.get_risk(c, key)
    env.emit(found, Risk, as_json=as_json, render=lambda: _risk_view(env, found))


@risk_app.command("update")
def update_risk(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Risk key, e.g. CHURN-R3.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    category: Annotated[RiskCategory | None, typer.Option(help="New category.")] = None,
    likelihood: Annotated[int | None, typer.Option(help="1 to 5.")] = None,
    impact: Annotated[int | None, typer.Option(help="1 to 5.")] = None,
    residual_likelihood: Annotated[int | None, typer.Option(help="1 to 5.")] = None,
    residual_impact: Annotated[int | None, typer.Option(help="1 to 5.")] = None,
    status: Annotated[RiskStatus | None, typer.Option(help="New status.")] = None,
    owner: Annotated[str | None, typer.Option(help="New owner.")] = None,
    mitigation: Annotated[str | None, typer.Option(help="New mitigation.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    next_review: Annotated[
        datetime | None, typer.Option(formats=DATE, help="Next review date (YYYY-MM-DD).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a risk: scores, status, owner, mitigation, next review. Only given fields
    change."""
    env = env_of(ctx)
    given = {
        "title": title,
        "category": category,
        "likelihood": likelihood,
        "impact": impact,
        "residual_likelihood": residual_likelihood,
        "residual_impact": residual_impact,
        "status": status,
        "owner": owner,
        "mitigation": mitigation,
        "description": description,
        "next_review": day(next_review),
    }
    data = RiskUpdate.model_validate({k: v for k, v in given.items() if v is not None})
    if not data.model_fields_set:
        raise typer.BadParameter("nothing to change: give at least one option")
    with env.write() as c:
        updated = risks.update_risk(c, key, data)
    env.emit(updated, Risk, as_json=as_json, render=lambda: _risk_view(env, updated))


def _heat_view(env: CliEnv, project_key: str, heat: risks.HeatMap) -> list[Any]:
    grid = Table(
        title=f"{project_key}: active risks by likelihood (rows) and impact (columns)",
        title_justify="left",
        show_lines=True,
    )
    grid.add_column("Likelihood", justify="right", no_wrap=True)
    for impact in risks.SCALE:
        grid.add_column(f"Impact {impact}", justify="center", min_width=9)
    for likelihood in reversed(risks.SCALE):
        cells = []
        for impact in risks.SCALE:
            keys = heat.cells[likelihood - 1][impact - 1]
            style = _LEVEL_STYLE[risk_level(likelihood * impact)]
            text = "\n".join(k.rpartition("-")[2] for k in keys) if keys else "·"
            cells.append(Text(text, style=style if keys else "dim"))
        grid.add_row(Text(str(likelihood)), *cells)
    total = sum(len(cell) for row in heat.cells for cell in row)
    return [
        grid,
        Text(f"{total} active risk{'s' if total != 1 else ''}; R<n> is {project_key}-R<n>"),
    ]


@risk_app.command("heatmap")
def heat_map(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """Active risks on the 5x5 likelihood x impact grid."""
    env = env_of(ctx)
    with env.read() as c:
        found = risks.list_risks(c, project, include_closed=False)
        key = found[0].project_key if found else project.upper()
    heat = risks.heat_map(found)
    env.emit(heat, risks.HeatMap, as_json=as_json, render=lambda: _heat_view(env, key, heat))


@risk_app.command("link")
def link_items(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Risk key, e.g. CHURN-R3.")],
    items: ItemKeysArg,
    as_json: JsonOption = False,
) -> None:
    """Link work items to a risk (e.g. the items that mitigate it)."""
    env = env_of(ctx)
    data = ItemKeys(items=items)
    with env.write() as c:
        found = risks.link_items(c, key, data.items)
    env.emit(found, Risk, as_json=as_json, render=lambda: _risk_view(env, found))


def groups() -> list[typer.Typer]:
    return [risk_app]
