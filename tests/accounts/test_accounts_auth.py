"""Accounts in auth mode: hashed tokens, 401/403/404, and the role ladder.

Roles: viewer < contributor < maintainer < admin. Checked through the raw API and the SDK.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from accounts_support import ROLES, People, bearer, make_user
from fastapi import FastAPI
from starlette.testclient import TestClient

import loopwise
from loopwise.accounts import service as accounts
from loopwise.accounts.models import TokenKind
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import NotFound, PermissionDenied, Unauthenticated

pytestmark = pytest.mark.store


def error(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return response.status_code, body["error"]["code"]


# --- tokens ----------------------------------------------------------------------------


def test_tokens_are_stored_only_as_hashes(auth_app: FastAPI, people: People) -> None:
    created = people["vic"].post("/api/v1/tokens", json={"name": "laptop"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("lwt_") and len(secret) > 40
    secrets = [*people.secrets.values(), secret]

    with auth_app.state.loopwise.db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM api_tokens")).mappings().all()
    stored = " ".join(str(v) for row in rows for v in row.values())
    for s in secrets:
        assert s not in stored
        assert s[4:] not in stored  # not even without the prefix
    hashes = {row["token_hash"] for row in rows}
    assert {hashlib.sha256(s.encode()).hexdigest() for s in secrets} <= hashes

    # The secret is shown once: listing tokens never returns it.
    listed = people["vic"].get("/api/v1/tokens")
    assert listed.status_code == 200
    assert secret not in listed.text
    assert "laptop" in {t["name"] for t in listed.json()}
    # And the new token works.
    assert bearer(auth_app, secret).get("/api/v1/me").json()["username"] == "vic"


BAD_HEADERS = [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dmljOnB3"},
    {"Authorization": "Bearer lwt_not-a-real-token"},
    {"Authorization": "lwt_missing_scheme"},
]


def test_requests_without_a_valid_token_are_401(
    auth_app: FastAPI, people: People, table_snapshot: Callable[[], dict[str, list[str]]]
) -> None:
    before = table_snapshot()
    for headers in BAD_HEADERS:
        with TestClient(auth_app, headers=headers, raise_server_exceptions=False) as http:
            for method, path in [
                ("GET", "/api/v1/projects"),
                ("GET", "/api/v1/projects/CHURN"),
                ("GET", f"/api/v1/runs/{people.run_id}"),
                ("POST", "/api/v1/projects/CHURN/runs"),
                ("POST", "/api/v1/projects"),
                ("GET", "/api/v1/me"),
            ]:
                kwargs = {"json": {"key": "NEW", "name": "n"}} if method == "POST" else {}
                response = http.request(method, path, **kwargs)
                assert error(response) == (401, "unauthenticated"), (headers, method, path)
    assert table_snapshot() == before


def test_revoked_token_is_401(auth_app: FastAPI, people: People) -> None:
    created = people["carl"].post("/api/v1/tokens", json={"name": "ci"}).json()
    ci = bearer(auth_app, created["secret"])
    assert ci.get("/api/v1/projects/CHURN").status_code == 200
    assert people["carl"].delete(f"/api/v1/tokens/{created['token']['id']}").status_code == 204
    assert error(ci.get("/api/v1/projects/CHURN")) == (401, "unauthenticated")
    assert error(ci.post("/api/v1/projects/CHURN/runs", json={})) == (401, "unauthenticated")
    # The user's other token is untouched.
    assert people["carl"].get("/api/v1/projects/CHURN").status_code == 200


def test_only_the_owner_or_an_admin_can_revoke_a_token(people: People) -> None:
    token_id = people["carl"].post("/api/v1/tokens", json={"name": "ci"}).json()["token"]["id"]
    assert error(people["vic"].delete(f"/api/v1/tokens/{token_id}")) == (404, "not_found")
    assert people["root"].delete(f"/api/v1/tokens/{token_id}").status_code == 204


def test_expired_token_is_401(auth_app: FastAPI, people: People, clock: FrozenClock) -> None:
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        user = accounts.get_user(session, "carl")
        _t, secret = accounts.create_token(session, clock, user.id, "short", ttl=timedelta(hours=1))
    http = bearer(auth_app, secret)
    clock.advance(timedelta(minutes=59))
    assert http.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(minutes=1))  # expires_at == now: expired
    assert error(http.get("/api/v1/me")) == (401, "unauthenticated")


def test_login_gives_a_session_that_expires(
    auth_app: FastAPI, people: People, clock: FrozenClock
) -> None:
    with TestClient(auth_app, raise_server_exceptions=False) as anon:
        wrong = anon.post("/api/v1/login", json={"username": "vic", "password": "wrong horse"})
        assert error(wrong) == (401, "unauthenticated")
        unknown = anon.post("/api/v1/login", json={"username": "nobody", "password": "x" * 8})
        assert error(unknown) == (401, "unauthenticated")
        assert wrong.json() == unknown.json()  # no hint which part was wrong
        good = anon.post("/api/v1/login", json={"username": "vic", "password": "correct horse"})
        assert good.status_code == 200
        secret = good.json()["token"]
        assert secret.startswith("lws_")
        assert anon.cookies.get("loopwise_session") == secret
        assert anon.get("/api/v1/me").json()["username"] == "vic"  # via the cookie
    with auth_app.state.loopwise.db.engine.connect() as conn:
        kinds = (
            conn.execute(
                sa.text("SELECT kind FROM api_tokens WHERE token_hash = :h"),
                {"h": hashlib.sha256(secret.encode()).hexdigest()},
            )
            .scalars()
            .all()
        )
    assert kinds == [TokenKind.SESSION.value]
    session = bearer(auth_app, secret)
    clock.advance(timedelta(days=14))
    assert error(session.get("/api/v1/me")) == (401, "unauthenticated")


def test_sdk_without_a_valid_token_raises_unauthenticated(
    auth_app: FastAPI, people: People
) -> None:
    sdk = loopwise.Client(http=TestClient(auth_app), token="lwt_wrong")
    with pytest.raises(Unauthenticated, match="invalid, expired or revoked token"):
        sdk.list_projects()


# --- viewers and outsiders -------------------------------------------------------------


def test_a_viewer_can_read_but_not_write(
    people: People, table_snapshot: Callable[[], dict[str, list[str]]]
) -> None:
    vic, run = people["vic"], people.run_id
    assert vic.get("/api/v1/projects/CHURN").status_code == 200
    assert vic.get(f"/api/v1/runs/{run}").json()["params"] == {"lr": "0.1"}
    assert vic.get("/api/v1/projects/CHURN/members").status_code == 200
    before = table_snapshot()
    writes = [
        ("POST", "/api/v1/projects/CHURN/runs", {"json": {}}),
        ("POST", f"/api/v1/runs/{run}/metrics", {"json": {"metrics": [{"key": "a", "value": 1}]}}),
        ("POST", f"/api/v1/runs/{run}/params", {"json": {"params": {"depth": "3"}}}),
        ("POST", f"/api/v1/runs/{run}/tags", {"json": {"tags": {"t": "1"}}}),
        ("POST", f"/api/v1/runs/{run}/finish", {"json": {}}),
        ("PUT", f"/api/v1/runs/{run}/artifacts/a.txt", {"content": b"x"}),
        ("POST", "/api/v1/projects/CHURN/experiments", {"json": {"name": "e"}}),
        ("POST", "/api/v1/projects/CHURN/items", {"json": {"title": "t"}}),
        ("PATCH", "/api/v1/projects/CHURN", {"json": {"phase": "modeling"}}),
        ("PUT", "/api/v1/projects/CHURN/members", {"json": {"username": "olga", "role": "viewer"}}),
    ]
    for method, path, kwargs in writes:
        response = vic.request(method, path, **kwargs)
        assert error(response) == (403, "permission_denied"), (method, path, response.text)
        assert "vic is viewer" in response.json()["error"]["message"]
    assert table_snapshot() == before


def test_a_viewer_cannot_write_through_the_sdk(auth_app: FastAPI, people: People) -> None:
    sdk = loopwise.Client(http=TestClient(auth_app), token=people.secrets["vic"])
    assert sdk.get_project("CHURN").key == "CHURN"
    with pytest.raises(PermissionDenied, match="needs the contributor role"):
        sdk.create_run("CHURN")
    with pytest.raises(PermissionDenied):  # noqa: SIM117
        with sdk.start_run("CHURN"):
            pass
    with pytest.raises(PermissionDenied, match="needs the maintainer role"):
        sdk.update_project("CHURN", phase="modeling")
    with pytest.raises(PermissionDenied):
        sdk.log_metrics(people.run_id, [{"key": "auc", "value": 0.9}])
    assert sdk.get_run(people.run_id).metrics == {}


def test_an_outsider_cannot_see_the_project(
    auth_app: FastAPI, people: People, table_snapshot: Callable[[], dict[str, list[str]]]
) -> None:
    olga = people["olga"]
    assert olga.post("/api/v1/projects", json={"key": "MINE", "name": "Mine"}).status_code == 201
    assert [p["key"] for p in olga.get("/api/v1/projects").json()] == ["MINE"]

    hidden = olga.get("/api/v1/projects/CHURN")
    missing = olga.get("/api/v1/projects/NOSUCH")
    assert error(hidden) == error(missing) == (404, "not_found")
    # Same answer as for a project that does not exist: nothing leaks.
    assert hidden.json()["error"]["message"] == "project 'CHURN' not found"
    before = table_snapshot()
    for method, path, kwargs in [
        ("GET", f"/api/v1/runs/{people.run_id}", {}),
        ("GET", "/api/v1/projects/CHURN/runs", {}),
        ("GET", "/api/v1/projects/CHURN/members", {}),
        ("POST", "/api/v1/projects/CHURN/runs", {"json": {}}),
        ("POST", f"/api/v1/runs/{people.run_id}/metrics",
         {"json": {"metrics": [{"key": "a", "value": 1}]}}),
        ("PUT", "/api/v1/projects/CHURN/members", {"json": {"username": "olga", "role": "admin"}}),
    ]:  # fmt: skip
        assert error(olga.request(method, path, **kwargs)) == (404, "not_found"), path
    assert table_snapshot() == before

    sdk = loopwise.Client(http=TestClient(auth_app), token=people.secrets["olga"])
    assert [p.key for p in sdk.list_projects()] == ["MINE"]
    with pytest.raises(NotFound, match="project 'CHURN' not found"):
        sdk.get_project("CHURN")
    with pytest.raises(NotFound):
        sdk.get_run(people.run_id)


def test_members_see_the_project_in_their_list(people: People) -> None:
    for name in ("vic", "carl", "maia", "adam", "alice"):
        assert [p["key"] for p in people[name].get("/api/v1/projects").json()] == ["CHURN"], name


def test_a_workspace_admin_sees_and_manages_every_project(people: People) -> None:
    assert (
        people["olga"].post("/api/v1/projects", json={"key": "MINE", "name": "M"}).status_code
        == 201
    )
    root = people["root"]
    assert sorted(p["key"] for p in root.get("/api/v1/projects").json()) == ["CHURN", "MINE"]
    assert root.get("/api/v1/projects/MINE").status_code == 200
    assert root.patch("/api/v1/projects/MINE", json={"phase": "modeling"}).status_code == 200
    response = root.put("/api/v1/projects/MINE/members", json={"username": "vic", "role": "viewer"})
    assert response.status_code == 200
    assert "MINE" in {p["key"] for p in people["vic"].get("/api/v1/projects").json()}


def test_only_workspace_admins_manage_users(people: People) -> None:
    body = {"username": "newbie", "password": "long enough"}
    assert error(people["alice"].post("/api/v1/users", json=body)) == (403, "permission_denied")
    assert error(people["alice"].get("/api/v1/users")) == (403, "permission_denied")
    assert people["root"].post("/api/v1/users", json=body).status_code == 201
    names = [u["username"] for u in people["root"].get("/api/v1/users").json()]
    assert "newbie" in names


# --- the role ladder -------------------------------------------------------------------

# What each action needs, as the lowest role in ROLES that may do it.
ACTIONS: dict[str, tuple[str, Callable[[People, TestClient], Any]]] = {
    "read the project": ("viewer", lambda p, h: h.get("/api/v1/projects/CHURN")),
    "list runs": ("viewer", lambda p, h: h.get("/api/v1/projects/CHURN/runs")),
    "start a run": ("contributor", lambda p, h: h.post("/api/v1/projects/CHURN/runs", json={})),
    "log metrics": (
        "contributor",
        lambda p, h: h.post(
            f"/api/v1/runs/{p.run_id}/metrics", json={"metrics": [{"key": "auc", "value": 0.5}]}
        ),
    ),
    "create an item": (
        "contributor",
        lambda p, h: h.post("/api/v1/projects/CHURN/items", json={"title": "Clean data"}),
    ),
    "edit the charter": (
        "maintainer",
        lambda p, h: h.patch("/api/v1/projects/CHURN", json={"charter": {"problem": "churn"}}),
    ),
    "change the phase": (
        "maintainer",
        lambda p, h: h.patch("/api/v1/projects/CHURN", json={"phase": "modeling"}),
    ),
    "add a member": (
        "admin",
        lambda p, h: h.put(
            "/api/v1/projects/CHURN/members", json={"username": "olga", "role": "viewer"}
        ),
    ),
    "remove a member": ("admin", lambda p, h: h.delete("/api/v1/projects/CHURN/members/olga")),
}
ROLE_OF = {"vic": "viewer", "carl": "contributor", "maia": "maintainer", "adam": "admin"}


def test_each_role_can_do_exactly_what_its_rank_allows(people: People) -> None:
    outcomes: dict[tuple[str, str], int] = {}
    for user, role in ROLE_OF.items():
        for action, (needed, do) in ACTIONS.items():
            if action == "remove a member":  # make sure there is someone to remove
                people["alice"].put(
                    "/api/v1/projects/CHURN/members", json={"username": "olga", "role": "viewer"}
                )
            response = do(people, people[user])
            outcomes[(user, action)] = response.status_code
            allowed = ROLES.index(role) >= ROLES.index(needed)
            if allowed:
                assert response.status_code < 300, (user, action, response.text)
            else:
                assert error(response) == (403, "permission_denied"), (user, action)
    # The ladder is strict: each step up allows something the step below does not.
    for lower, higher in zip(ROLE_OF, list(ROLE_OF)[1:], strict=False):
        gained = [a for a in ACTIONS if outcomes[(higher, a)] < 300 <= outcomes[(lower, a)]]
        lost = [a for a in ACTIONS if outcomes[(lower, a)] < 300 <= outcomes[(higher, a)]]
        assert gained and not lost, (lower, higher)


def test_project_admin_manages_members_and_a_removed_member_loses_access(
    auth_app: FastAPI, people: People, clock: FrozenClock
) -> None:
    alice, carl = people["alice"], people["carl"]
    members = {m["username"]: m["role"] for m in alice.get("/api/v1/projects/CHURN/members").json()}
    assert members == {
        "adam": "admin", "alice": "admin", "carl": "contributor", "maia": "maintainer",
        "vic": "viewer",
    }  # fmt: skip
    # Demote carl: he can read but no longer log.
    alice.put("/api/v1/projects/CHURN/members", json={"username": "carl", "role": "viewer"})
    assert error(carl.post("/api/v1/projects/CHURN/runs", json={})) == (403, "permission_denied")
    # Remove him: the project disappears for him.
    assert alice.delete("/api/v1/projects/CHURN/members/carl").status_code == 204
    assert error(carl.get("/api/v1/projects/CHURN")) == (404, "not_found")
    assert carl.get("/api/v1/projects").json() == []
    assert error(alice.delete("/api/v1/projects/CHURN/members/carl")) == (404, "not_found")
    unknown = alice.put(
        "/api/v1/projects/CHURN/members", json={"username": "ghost", "role": "viewer"}
    )
    assert error(unknown) == (404, "not_found")
    # A new user with a token and no membership sees nothing either.
    newcomer = bearer(auth_app, make_user(auth_app, clock, "newcomer"))
    assert newcomer.get("/api/v1/projects").json() == []


def test_local_mode_needs_no_token_and_acts_as_the_local_admin(api: TestClient) -> None:
    me = api.get("/api/v1/me").json()
    assert me["username"] == "local" and me["is_admin"] is True
    assert api.post("/api/v1/projects", json={"key": "LOC", "name": "Local"}).status_code == 201
