"""REST endpoints for projects and their members."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.accounts.models import Membership
from loopwise.accounts.schemas import MemberSet
from loopwise.projects import service as projects
from loopwise.projects.models import PhaseChange, Project
from loopwise.projects.schemas import PhaseChangeIn, ProjectCreate, ProjectUpdate
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["projects"])


@router.get("/projects")
def list_projects(caller: CallerDep) -> list[Project]:
    with caller.read() as ctx:
        return projects.list_projects(ctx)


@router.post("/projects", status_code=201)
def create_project(body: ProjectCreate, caller: CallerDep) -> Project:
    with caller.write() as ctx:
        return projects.create_project(ctx, body)


@router.get("/projects/{key}")
def get_project(key: str, caller: CallerDep) -> Project:
    with caller.read() as ctx:
        return projects.resolve_project(ctx, key)


@router.patch("/projects/{key}")
def update_project(key: str, body: ProjectUpdate, caller: CallerDep) -> Project:
    with caller.write() as ctx:
        return projects.update_project(ctx, key, body)


@router.post("/projects/{key}/phase")
def change_phase(key: str, body: PhaseChangeIn, caller: CallerDep) -> Project:
    """Move to another CRISP-DM phase: refused (409, listing what is missing) while an exit
    gate has not passed, unless a project admin overrides with a reason."""
    with caller.write() as ctx:
        return projects.change_phase(
            ctx, key, body.phase, reason=body.reason, override=body.override
        )


@router.get("/projects/{key}/phases")
def phase_history(key: str, caller: CallerDep) -> list[PhaseChange]:
    with caller.read() as ctx:
        return projects.phase_history(ctx, key)


@router.get("/projects/{key}/members")
def list_members(key: str, caller: CallerDep) -> list[Membership]:
    with caller.read() as ctx:
        return projects.list_members(ctx, key)


@router.put("/projects/{key}/members")
def set_member(key: str, body: MemberSet, caller: CallerDep) -> Membership:
    with caller.write() as ctx:
        return projects.set_member(ctx, key, body)


@router.delete("/projects/{key}/members/{username}", status_code=204)
def remove_member(key: str, username: str, caller: CallerDep) -> None:
    with caller.write() as ctx:
        projects.remove_member(ctx, key, username)
