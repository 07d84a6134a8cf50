"""``loopwise raci``: who is responsible for what."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.core.errors import InvalidInput
from loopwise.planning.raci import service as raci
from loopwise.planning.raci.models import RaciEntry, RaciRole
from loopwise.planning.raci.schemas import RaciSet

if TYPE_CHECKING:
    from loopwise.console import CliEnv


raci_app = typer.Typer(
    name="raci",
    help="Who is Responsible, Accountable, Consulted, Informed per deliverable.",
    no_args_is_help=True,
)


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
    env = env_of(ctx)
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
    env = env_of(ctx)
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


def groups() -> list[typer.Typer]:
    return [raci_app]
