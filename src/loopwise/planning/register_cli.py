"""``loopwise risk|raci|portfolio``: the risk register, accountability and the view
across projects, from the command line. Parse -> planning service -> print."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from loopwise.core.errors import InvalidInput
from loopwise.planning import portfolio, raci, risks
from loopwise.planning.board_cli import (
    DATE,
    ItemKeysArg,
    JsonOption,
    ProjectArg,
    SeedOption,
    _day,
    _env,
    _pct,
)
from loopwise.planning.models import RaciEntry, RaciRole, Risk, RiskCategory, RiskStatus, risk_level
from loopwise.planning.schemas import ItemKeys, RaciSet, RiskCreate, RiskUpdate

if TYPE_CHECKING:
    from loopwise.console import CliEnv

risk_app = typer.Typer(
    name="risk", help="The risk register: likelihood x impact, owners.", no_args_is_help=True
)
raci_app = typer.Typer(
    name="raci",
    help="Who is Responsible, Accountable, Consulted, Informed per deliverable.",
    no_args_is_help=True,
)


def groups() -> list[typer.Typer]:
    return [risk_app, raci_app]


def commands() -> list[tuple[str, Any]]:
    return [("portfolio", show_portfolio)]


# --- risks -----------------------------------------------------------------------------

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
    env = _env(ctx)
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
    env = _env(ctx)
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
        next_review=_day(next_review),
        items=item or [],
    )
    with env.write() as c:
        created = risks.create_risk(
            c, project, **data.model_dump(exclude={"items"}), item_keys=data.items
        )
    env.emit(created, Risk, as_json=as_json, render=lambda: _risk_view(env, created))


@risk_app.command("show")
def get_risk(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Risk key, e.g. CHURN-R3.")],
    as_json: JsonOption = False,
) -> None:
    """Show a risk."""
    env = _env(ctx)
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
    env = _env(ctx)
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
        "next_review": _day(next_review),
    }
    data = RiskUpdate.model_validate({k: v for k, v in given.items() if v is not None})
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise typer.BadParameter("nothing to change: give at least one option")
    with env.write() as c:
        updated = risks.update_risk(c, key, **changes)
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
    env = _env(ctx)
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
    env = _env(ctx)
    data = ItemKeys(items=items)
    with env.write() as c:
        found = risks.link_items(c, key, data.items)
    env.emit(found, Risk, as_json=as_json, render=lambda: _risk_view(env, found))


# --- RACI ------------------------------------------------------------------------------


def _raci_view(env: CliEnv, entries: list[RaciEntry]) -> Any:
    if not entries:
        return "no RACI assignments yet"
    by: dict[str, dict[RaciRole, list[str]]] = {}
    for e in entries:
        by.setdefault(e.deliverable, {}).setdefault(e.role, []).append(e.person)
    rows = [
        (deliverable, *(", ".join(roles.get(r, [])) or "—" for r in RaciRole))
        for deliverable, roles in by.items()
    ]
    return env.table(["Deliverable", "Responsible", "Accountable", "Consulted", "Informed"], rows)


@raci_app.command("list")
def list_raci(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """The RACI matrix of a project."""
    env = _env(ctx)
    with env.read() as c:
        entries = raci.list_raci(c, project)
    env.emit(entries, list[RaciEntry], as_json=as_json, render=lambda: _raci_view(env, entries))


@raci_app.command("set")
def set_raci(
    ctx: typer.Context,
    project: ProjectArg,
    deliverable: Annotated[str, typer.Argument(help="A phase or deliverable, e.g. 'Model card'.")],
    people: Annotated[
        list[str] | None,
        typer.Argument(help="PERSON=ROLE pairs, ROLE one of R, A, C, I; none clears it."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Replace who is R, A, C and I for one deliverable (at most one A)."""
    env = _env(ctx)
    pairs: dict[str, str] = {}
    for given in people or []:
        person, sep, role = given.rpartition("=")
        if not sep or not person.strip():
            raise InvalidInput(f"expected PERSON=ROLE, got {given!r}")
        pairs[person.strip()] = role.strip().upper()
    data = RaciSet.model_validate({"deliverable": deliverable, "people": pairs})
    with env.write() as c:
        entries = raci.set_raci(c, project, data.deliverable, data.people)
    env.emit(
        entries,
        list[RaciEntry],
        as_json=as_json,
        render=lambda: (
            _raci_view(env, entries)
            if entries
            else f"cleared the assignments for {data.deliverable!r}"
        ),
    )


# --- portfolio -------------------------------------------------------------------------


def show_portfolio(
    ctx: typer.Context,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every project at a glance: hypotheses, next milestone and its forecast, high risks."""
    env = _env(ctx)
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
                _pct(p.next_milestone_probability),
                p.open_high_risks,
            )
            for p in found
        ]
        return env.table(
            ["Key", "Phase", "Hypotheses", "Next milestone", "P85", "Chance", "High risks"], rows
        )

    env.emit(found, list[portfolio.ProjectSummary], as_json=as_json, render=render)
