"""The role ladder (viewer < contributor < maintainer < admin), outsiders and workspace
admins: use cases called as each person. Refusals are PermissionDenied for members who
lack the role and NotFound for non-members (project names do not leak); a refused use
case stores nothing. How the doors answer them (403, 404) is in test_accounts_api.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from accounts_support import ROLES, People, make_user, snapshot

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.accounts.schemas import MemberSet, UserCreate
from loopwise.core.errors import NotFound, PermissionDenied
from loopwise.planning.items import service as items
from loopwise.planning.items.schemas import ItemCreate
from loopwise.projects import service as projects
from loopwise.projects.models import Phase
from loopwise.projects.schemas import ProjectCreate, ProjectUpdate
from loopwise.tracking import artifacts
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store


def keys(person: UseCases) -> list[str]:
    return sorted(p.key for p in person.read(projects.list_projects))


def writes(run_id: str) -> list[tuple[str, Callable[[UseCases], Any]]]:
    modeling = ProjectUpdate(phase=Phase.MODELING)
    olga = MemberSet(username="olga", role=Role.VIEWER)
    return [
        ("start a run", lambda p: p(tracking.create_run, "CHURN", RunCreate())),
        ("log metrics", lambda p: p(tracking.log_metrics, run_id, [MetricIn(key="a", value=1)])),
        ("log params", lambda p: p(tracking.log_params, run_id, {"depth": "3"})),
        ("set tags", lambda p: p(tracking.set_tags, run_id, {"t": "1"})),
        ("finish the run", lambda p: p(tracking.finish_run, run_id, RunFinish())),
        ("store an artifact", lambda p: p(artifacts.save, run_id, "a.txt", b"x")),
        ("add an experiment", lambda p: p(tracking.get_or_create_experiment, "CHURN", "e")),
        ("create an item", lambda p: p(items.create_item, "CHURN", ItemCreate(title="t"))),
        ("change the phase", lambda p: p(projects.update_project, "CHURN", modeling)),
        ("add a member", lambda p: p(projects.set_member, "CHURN", olga)),
    ]  # fmt: skip


def test_a_viewer_can_read_but_not_write(people: People) -> None:
    vic, run = people["vic"], people.run_id
    assert vic.read(projects.resolve_project, "CHURN").key == "CHURN"
    assert vic.read(tracking.get_run, run).params == {"lr": "0.1"}
    assert "vic" in {m.username for m in vic.read(projects.list_members, "CHURN")}
    before = snapshot(people.state)
    for what, write in writes(run):
        with pytest.raises(PermissionDenied, match="vic is viewer"):
            write(vic)
        assert snapshot(people.state) == before, what


def test_an_outsider_cannot_see_the_project(people: People) -> None:
    olga = people["olga"]
    olga(projects.create_project, ProjectCreate(key="MINE", name="Mine"))
    assert keys(olga) == ["MINE"]
    with pytest.raises(NotFound) as hidden:
        olga.read(projects.resolve_project, "CHURN")
    with pytest.raises(NotFound) as missing:
        olga.read(projects.resolve_project, "NOSUCH")
    # Same answer as for a project that does not exist: nothing leaks.
    assert str(hidden.value) == "project 'CHURN' not found"
    assert str(missing.value) == "project 'NOSUCH' not found"
    before = snapshot(people.state)
    for reach in [
        lambda: olga.read(tracking.get_run, people.run_id),
        lambda: olga.read(tracking.list_runs, "CHURN"),
        lambda: olga.read(projects.list_members, "CHURN"),
        lambda: olga(projects.set_member, "CHURN", MemberSet(username="olga", role=Role.ADMIN)),
        *[lambda write=write: write(olga) for _what, write in writes(people.run_id)],
    ]:
        with pytest.raises(NotFound):
            reach()
    assert snapshot(people.state) == before


def test_members_see_the_project_in_their_list(people: People) -> None:
    for name in ("vic", "carl", "maia", "adam", "alice"):
        assert keys(people[name]) == ["CHURN"], name


def test_a_workspace_admin_sees_and_manages_every_project(people: People) -> None:
    people["olga"](projects.create_project, ProjectCreate(key="MINE", name="M"))
    root = people["root"]
    assert keys(root) == ["CHURN", "MINE"]
    assert root.read(projects.resolve_project, "MINE").key == "MINE"
    phase = ProjectUpdate(phase=Phase.MODELING)
    assert root(projects.update_project, "MINE", phase).phase is Phase.MODELING
    root(projects.set_member, "MINE", MemberSet(username="vic", role=Role.VIEWER))
    assert "MINE" in keys(people["vic"])


def test_only_workspace_admins_manage_users(people: People) -> None:
    body = UserCreate(username="newbie", password="long enough")
    with pytest.raises(PermissionDenied, match="only a workspace admin"):
        people["alice"](accounts.add_user, body)
    with pytest.raises(PermissionDenied, match="only a workspace admin"):
        people["alice"].read(accounts.workspace_users)
    assert people["root"](accounts.add_user, body).username == "newbie"
    names = [u.username for u in people["root"].read(accounts.workspace_users)]
    assert names == sorted([*people.actors, "newbie"])


# What each action needs, as the lowest role in ROLES that may do it.
ACTIONS: dict[str, tuple[str, Callable[[People, UseCases], Any]]] = {
    "read the project": ("viewer", lambda ps, p: p.read(projects.resolve_project, "CHURN")),
    "list runs": ("viewer", lambda ps, p: p.read(tracking.list_runs, "CHURN")),
    "start a run": ("contributor", lambda ps, p: p(tracking.create_run, "CHURN", RunCreate())),
    "log metrics": (
        "contributor",
        lambda ps, p: p(tracking.log_metrics, ps.run_id, [MetricIn(key="auc", value=0.5)]),
    ),
    "create an item": (
        "contributor",
        lambda ps, p: p(items.create_item, "CHURN", ItemCreate(title="Clean data")),
    ),
    "edit the charter": (
        "maintainer",
        lambda ps, p: p(
            projects.update_project,
            "CHURN",
            ProjectUpdate.model_validate({"charter": {"problem": "churn"}}),
        ),
    ),
    "change the phase": (
        "maintainer",
        lambda ps, p: p(projects.update_project, "CHURN", ProjectUpdate(phase=Phase.MODELING)),
    ),
    "add a member": (
        "admin",
        lambda ps, p: p(projects.set_member, "CHURN", MemberSet(username="olga", role=Role.VIEWER)),
    ),
    "remove a member": ("admin", lambda ps, p: p(projects.remove_member, "CHURN", "olga")),
}
ROLE_OF = {"vic": "viewer", "carl": "contributor", "maia": "maintainer", "adam": "admin"}


def test_each_role_can_do_exactly_what_its_rank_allows(people: People) -> None:
    allowed_to: dict[tuple[str, str], bool] = {}
    for user, role in ROLE_OF.items():
        for action, (needed, act) in ACTIONS.items():
            if action == "remove a member":  # make sure there is someone to remove
                member = MemberSet(username="olga", role=Role.VIEWER)
                people["alice"](projects.set_member, "CHURN", member)
            allowed = ROLES.index(role) >= ROLES.index(needed)
            if allowed:
                act(people, people[user])
            else:
                with pytest.raises(PermissionDenied, match=f"needs the {needed} role"):
                    act(people, people[user])
            allowed_to[(user, action)] = allowed
    # The ladder is strict: each step up allows something the step below does not.
    for lower, higher in zip(ROLE_OF, list(ROLE_OF)[1:], strict=False):
        gained = [a for a in ACTIONS if allowed_to[(higher, a)] and not allowed_to[(lower, a)]]
        lost = [a for a in ACTIONS if allowed_to[(lower, a)] and not allowed_to[(higher, a)]]
        assert gained and not lost, (lower, higher)


def test_project_admin_manages_members_and_a_removed_member_loses_access(
    people: People,
) -> None:
    alice, carl = people["alice"], people["carl"]
    members = {m.username: m.role.value for m in alice.read(projects.list_members, "CHURN")}
    assert members == {
        "adam": "admin", "alice": "admin", "carl": "contributor", "maia": "maintainer",
        "vic": "viewer",
    }  # fmt: skip
    # Demote carl: he can read but no longer log.
    alice(projects.set_member, "CHURN", MemberSet(username="carl", role=Role.VIEWER))
    with pytest.raises(PermissionDenied):
        carl(tracking.create_run, "CHURN", RunCreate())
    # Remove him: the project disappears for him.
    alice(projects.remove_member, "CHURN", "carl")
    with pytest.raises(NotFound):
        carl.read(projects.resolve_project, "CHURN")
    assert keys(carl) == []
    with pytest.raises(NotFound, match="'carl' is not a member"):
        alice(projects.remove_member, "CHURN", "carl")
    with pytest.raises(NotFound, match="user 'ghost' not found"):
        alice(projects.set_member, "CHURN", MemberSet(username="ghost", role=Role.VIEWER))
    # A new user with a token and no membership sees nothing either.
    newcomer, _secret = make_user(people.state, people.state.clock, "newcomer")
    assert keys(UseCases(people.state, newcomer)) == []
