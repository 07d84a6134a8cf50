"""Setting RACI from the project page."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.accounts.models import Role
from loopwise.core.errors import InvalidInput
from loopwise.planning.overview.pages import project_page_response
from loopwise.planning.raci import service as raci
from loopwise.planning.raci.models import RaciRole
from loopwise.projects import service as projects
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    pick,
    redirect,
)

router = APIRouter(include_in_schema=False)


RACI_FIELDS = ("deliverable", "R", "A", "C", "I")


def raci_people(values: dict[str, str]) -> tuple[dict[str, RaciRole], list[str]]:
    """The form's four name lists -> {person: role}; one role per person."""
    people: dict[str, RaciRole] = {}
    errors = []
    for role in RaciRole:
        for name in (n.strip() for n in re.split(r"[,;\n]+", values[role.value])):
            if not name:
                continue
            if name in people and people[name] is not role:
                errors.append(
                    f"{name} is listed as both {people[name].value} and {role.value}; "
                    "give each person one role"
                )
                continue
            people[name] = role
    return people, errors


@router.post("/projects/{key}/raci")
def set_raci(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.MAINTAINER)
    values = pick(form, RACI_FIELDS)
    people, errors = raci_people(values)
    if not errors:
        try:
            with caller.write() as ctx:
                raci.set_raci(ctx, project.key, values["deliverable"], people)
        except InvalidInput as exc:
            errors = [exc.message]
    if errors:
        return project_page_response(
            request, caller, project.key, raci_values=values, raci_errors=errors, status=400
        )
    return redirect(f"/projects/{project.key}#raci")
