"""``loopwise user|token|member`` against a real database."""

from __future__ import annotations

from datetime import datetime, timedelta

from cli_testing import CliCall, assert_one_line_error
from fastapi.testclient import TestClient

from loopwise.app import create_app
from loopwise.core.settings import Settings


def test_user_create_with_password_prompt(cli: CliCall) -> None:
    twice = "s3cret-pw\ns3cret-pw\n"
    result = cli.ok("user", "create", "ada", "--password", "--admin", input=twice)
    assert "created user ada (workspace admin)" in result.stdout
    assert "s3cret-pw" not in result.output  # hidden input
    users = {u["username"]: u for u in cli.json("user", "list")}
    assert users["ada"]["is_admin"] is True
    assert "password" not in users["ada"] and "password_hash" not in users["ada"]
    assert_one_line_error(cli("user", "create", "ada"), 4, "already exists")
    assert_one_line_error(cli("user", "create", "Not Valid"), 2, "username")
    short = cli("user", "create", "bob", "--password", input="short\nshort\n")
    assert short.exit_code == 2 and "password" in short.stderr
    assert "bob" not in {u["username"] for u in cli.json("user", "list")}


def test_token_secret_is_shown_once_and_works(cli: CliCall, settings: Settings) -> None:
    cli.ok("user", "create", "ada")
    result = cli.ok("token", "create", "--user", "ada", "--name", "laptop")
    secret = result.stdout.strip()
    assert secret.startswith("lwt_")
    assert "shown once" in result.stderr
    as_json = cli.json("token", "create", "--user", "ada", "--name", "ci")
    assert as_json["secret"].startswith("lwt_") and as_json["token"]["name"] == "ci"
    assert "token_hash" not in as_json["token"]

    app = create_app(settings.model_copy(update={"auth": True}), sweep=False)
    try:
        with TestClient(app) as http:
            me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
            assert me.status_code == 200 and me.json()["username"] == "ada"
    finally:
        app.state.loopwise.db.dispose()
    assert_one_line_error(cli("token", "create", "--user", "ghost", "--name", "x"), 3, "ghost")
    assert cli("token", "create", "--name", "x").exit_code == 2  # --user is required


def test_token_expires_in_and_token_list(cli: CliCall, settings: Settings) -> None:
    cli.ok("user", "create", "ada")
    made = cli.json("token", "create", "--user", "ada", "--name", "ci", "--expires-in", "30d")
    token = made["token"]
    created, expires = (datetime.fromisoformat(token[k]) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(days=30)
    human = cli.ok("token", "create", "--user", "ada", "--name", "short", "--expires-in", "90m")
    assert "expires " in human.stderr and human.stdout.strip().startswith("lwt_")
    cli.ok("token", "create", "--user", "ada", "--name", "laptop")

    for bad in ("3x", "0d", "30", "1w", "12 h", "99999d"):
        result = cli("token", "create", "--user", "ada", "--name", "bad", "--expires-in", bad)
        assert_one_line_error(result, 2, "duration")
    listed = {t["name"]: t for t in cli.json("token", "list", "--user", "ada")}
    assert set(listed) == {"ci", "short", "laptop"}  # nothing made by the bad ones
    assert listed["ci"]["expires_at"] == token["expires_at"]
    assert listed["laptop"]["expires_at"] is None
    assert all(t["last_used_at"] is None for t in listed.values())

    # Use one through the API: the list shows when.
    app = create_app(settings.model_copy(update={"auth": True}), sweep=False)
    try:
        with TestClient(app) as http:
            me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {made['secret']}"})
            assert me.status_code == 200
    finally:
        app.state.loopwise.db.dispose()
    listed = {t["name"]: t for t in cli.json("token", "list", "--user", "ada")}
    assert listed["ci"]["last_used_at"] is not None and listed["laptop"]["last_used_at"] is None
    table = cli.ok("token", "list", "--user", "ada").stdout
    assert "Expires" in table and "Last used" in table and "never" in table
    assert table.count("active") == 3
    assert_one_line_error(cli("token", "list", "--user", "ghost"), 3, "ghost")


def test_member_set_and_list(cli: CliCall) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    cli.ok("user", "create", "ada")
    membership = cli.json("member", "set", "churn", "ada", "contributor")
    assert membership["username"] == "ada" and membership["role"] == "contributor"
    changed = cli.ok("member", "set", "CHURN", "ada", "maintainer").stdout
    assert "ada is maintainer on CHURN" in changed
    members = {m["username"]: m["role"] for m in cli.json("member", "list", "CHURN")}
    assert members == {"local": "admin", "ada": "maintainer"}
    assert cli("member", "set", "CHURN", "ada", "owner").exit_code == 2  # not a role
    assert_one_line_error(cli("member", "set", "CHURN", "ghost", "viewer"), 3, "ghost")
    assert_one_line_error(cli("member", "set", "NOPE", "ada", "viewer"), 3, "NOPE")
