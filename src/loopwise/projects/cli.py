"""``loopwise project|member``: projects, their charters and members.

Parse -> projects service -> print. Command names mirror the service functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from loopwise.accounts.models import Membership, Role
from loopwise.accounts.schemas import MemberSet
from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.core.errors import InvalidInput
from loopwise.projects import service as projects
from loopwise.projects.models import Phase, PhaseChange, Project
from loopwise.projects.schemas import CharterIn, PhaseChangeIn, ProjectCreate

if TYPE_CHECKING:
    from loopwise.console import CliEnv

project_app = typer.Typer(
    name="project", help="Projects: charter, phase, and what they hold.", no_args_is_help=True
)
member_app = typer.Typer(
    name="member", help="Project members and their roles.", no_args_is_help=True
)


def groups() -> list[typer.Typer]:
    return [project_app, member_app]


# --- projects --------------------------------------------------------------------------


def _project_rows(env: CliEnv, projects: list[Project]) -> Any:
    if not projects:
        return "no projects yet: create one with `loopwise project create KEY NAME`"
    rows = [(p.key, p.name, p.phase.label, env.when(p.updated_at)) for p in projects]
    return env.table(["Key", "Name", "Phase", "Updated"], rows)


def _project_view(env: CliEnv, project: Project) -> list[Any]:
    charter = project.charter
    pairs: list[tuple[str, Any]] = [
        ("Key", project.key),
        ("Name", project.name),
        ("Phase", project.phase.label),
        ("Created", env.when(project.created_at)),
    ]
    if project.description:
        pairs.append(("Description", project.description))
    if charter.problem:
        pairs.append(("Problem", charter.problem))
    if charter.business_kpi:
        kpi = charter.business_kpi
        unit = f" {kpi.unit}" if kpi.unit else ""
        pairs.append(
            ("Business KPI", f"{kpi.name}: {env.num(kpi.baseline)} -> {env.num(kpi.target)}{unit}")
        )
    if charter.success_metric:
        sm = charter.success_metric
        pairs.append(("Success metric", f"{sm.key} {sm.comparator.value} {env.num(sm.threshold)}"))
    out: list[Any] = [env.fields(pairs)]
    if charter.constraints:
        constraints = [(c.name, c.value) for c in charter.constraints]
        out.append(env.table(["Constraint", "Value"], constraints, title="Constraints"))
    if charter.data_sources:
        sources = [(d.name, d.owner, d.permission.value) for d in charter.data_sources]
        out.append(env.table(["Data source", "Owner", "Permission"], sources, title="Data sources"))
    return out


@project_app.command("list")
def list_projects(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the projects."""
    env = env_of(ctx)
    with env.read() as c:
        found = projects.list_projects(c)
    env.emit(found, list[Project], as_json=as_json, render=lambda: _project_rows(env, found))


@project_app.command("create")
def create_project(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="2-10 letters or digits, starting with a letter.")],
    name: Annotated[str, typer.Argument(help="Display name.")],
    description: Annotated[str, typer.Option(help="What the project is about.")] = "",
    phase: Annotated[Phase, typer.Option(help="CRISP-DM phase.")] = Phase.BUSINESS_UNDERSTANDING,
    problem: Annotated[str | None, typer.Option(help="The charter's problem statement.")] = None,
    charter: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="JSON file with the charter: problem, business_kpi, success_metric, "
            "constraints, data_sources.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a project; you become its admin."""
    env = env_of(ctx)
    charter_in = CharterIn()
    if charter is not None:
        try:
            charter_in = CharterIn.model_validate_json(charter.read_bytes())
        except ValidationError as exc:
            problems = "; ".join(
                ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" if e["loc"] else e["msg"]
                for e in exc.errors()[:3]
            )
            raise InvalidInput(f"charter file {charter}: {problems}") from None
    if problem is not None:
        charter_in = charter_in.model_copy(update={"problem": problem})
    data = ProjectCreate(
        key=key, name=name, description=description, phase=phase, charter=charter_in
    )
    with env.write() as c:
        project = projects.create_project(c, data)
    env.emit(project, Project, as_json=as_json, render=lambda: _project_view(env, project))


@project_app.command("show")
def resolve_project(ctx: typer.Context, key: ProjectArg, as_json: JsonOption = False) -> None:
    """Show a project and its charter."""
    env = env_of(ctx)
    with env.read() as c:
        project = projects.resolve_project(c, key)
    env.emit(project, Project, as_json=as_json, render=lambda: _project_view(env, project))


@project_app.command("set-phase")
def set_phase(
    ctx: typer.Context,
    key: ProjectArg,
    phase: Annotated[Phase, typer.Argument(help="The new CRISP-DM phase.")],
    reason: Annotated[str, typer.Option(help="Why (recorded); required with --override.")] = "",
    override: Annotated[
        bool,
        typer.Option(help="Move on although an exit gate has not passed (project admins)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Move a project to another CRISP-DM phase (refused while an exit gate has not
    passed, listing what is missing; an admin may --override with a --reason)."""
    env = env_of(ctx)
    data = PhaseChangeIn(phase=phase, reason=reason, override=override)
    with env.write() as c:
        project = projects.change_phase(
            c, key, data.phase, reason=data.reason, override=data.override
        )
    env.emit(
        project,
        Project,
        as_json=as_json,
        render=lambda: f"{project.key} is now in phase {project.phase.label}",
    )


@project_app.command("phases")
def phase_history(ctx: typer.Context, key: ProjectArg, as_json: JsonOption = False) -> None:
    """The project's phase history: every change, who made it, why, and overrides."""
    env = env_of(ctx)
    with env.read() as c:
        changes = projects.phase_history(c, key)
    rows = [
        (
            env.when(p.at),
            p.from_phase.label,
            p.to_phase.label,
            p.actor or "",
            "override" if p.override else "",
            p.reason,
        )
        for p in changes
    ]
    env.emit(
        changes,
        list[PhaseChange],
        as_json=as_json,
        render=lambda: (
            env.table(["When", "From", "To", "By", "", "Reason"], rows)
            if rows
            else "no phase changes yet"
        ),
    )


# --- members ---------------------------------------------------------------------------


@member_app.command("set")
def set_member(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project key.")],
    user: Annotated[str, typer.Argument(help="Username.")],
    role: Annotated[Role, typer.Argument(help="viewer < contributor < maintainer < admin.")],
    as_json: JsonOption = False,
) -> None:
    """Add a user to a project, or change their role."""
    env = env_of(ctx)
    data = MemberSet(username=user, role=role)
    with env.write() as c:
        membership = projects.set_member(c, project, data)
    env.emit(
        membership,
        Membership,
        as_json=as_json,
        render=lambda: f"{membership.username} is {membership.role.value} on {project.upper()}",
    )


@member_app.command("list")
def list_members(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project key.")],
    as_json: JsonOption = False,
) -> None:
    """List a project's members and roles."""
    env = env_of(ctx)
    with env.read() as c:
        members = projects.list_members(c, project)
    env.emit(
        members,
        list[Membership],
        as_json=as_json,
        render=lambda: env.table(["User", "Role"], [(m.username, m.role.value) for m in members]),
    )
