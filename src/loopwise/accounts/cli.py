"""``loopwise user|token``: accounts from the command line.

Parse -> accounts service -> print. The CLI acts as the local workspace admin.
"""

from __future__ import annotations

from typing import Annotated

import typer

from loopwise.accounts import service
from loopwise.accounts.models import Token, User
from loopwise.accounts.schemas import TokenCreate, TokenCreated, UserCreate
from loopwise.console import JsonOption, env_of

user_app = typer.Typer(name="user", help="Workspace users.", no_args_is_help=True)
token_app = typer.Typer(
    name="token", help="API tokens for the SDK and scripts.", no_args_is_help=True
)


def groups() -> list[typer.Typer]:
    return [user_app, token_app]


# --- users -----------------------------------------------------------------------------


@user_app.command("create")
def create_user(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Lowercase letters, digits, '.', '_', '-'.")],
    display_name: Annotated[str, typer.Option(help="Name shown in the app.")] = "",
    password: Annotated[
        bool,
        typer.Option(
            "--password", help="Prompt for a password (hidden, asked twice) to sign in with."
        ),
    ] = False,
    admin: Annotated[bool, typer.Option("--admin", help="Make a workspace admin.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a workspace user (without --password they sign in with API tokens only)."""
    env = env_of(ctx)
    secret = None
    if password:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = UserCreate(username=username, display_name=display_name, password=secret, is_admin=admin)
    with env.write() as c:
        user = service.add_user(c, data)
    env.emit(
        user,
        User,
        as_json=as_json,
        render=lambda: f"created user {user.username}" + (" (workspace admin)" if admin else ""),
    )


@user_app.command("list")
def list_users(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List workspace users."""
    env = env_of(ctx)
    with env.read() as c:
        users = service.workspace_users(c)
    rows = [
        (u.username, u.display_name, "yes" if u.is_admin else "", env.when(u.created_at))
        for u in users
    ]
    env.emit(
        users,
        list[User],
        as_json=as_json,
        render=lambda: env.table(["Username", "Name", "Admin", "Created"], rows),
    )


# --- tokens ----------------------------------------------------------------------------


@token_app.command("create")
def create_token(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Username the token acts for.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. 'laptop'.")],
    expires_in: Annotated[
        str | None,
        typer.Option(
            "--expires-in",
            help="Stop working after this long: minutes, hours or days, e.g. 90m, 12h, 30d. "
            "Default: never.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print its secret (shown only this once)."""
    env = env_of(ctx)
    data = TokenCreate(name=name, expires_in=expires_in)
    with env.write() as c:
        token, secret = service.issue_token(c, data, username=user)
    if as_json:
        typer.echo(TokenCreated(token=token, secret=secret).model_dump_json(indent=2))
        return
    until = f", expires {env.when(token.expires_at)}" if token.expires_at else ""
    env.note(f"token {token.id} ({token.name}) for {user}{until}; the secret is shown once:")
    typer.echo(secret)


@token_app.command("list")
def list_tokens(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Username whose tokens to list.")],
    as_json: JsonOption = False,
) -> None:
    """List a user's API tokens: expiry, last use (noted at most once a minute), state."""
    env = env_of(ctx)
    with env.read() as c:
        tokens = service.tokens_of(c, user)
        now = c.clock.now()
    rows = [
        (
            t.id,
            t.name,
            env.when(t.created_at),
            env.when(t.expires_at) if t.expires_at else "never",
            env.when(t.last_used_at) if t.last_used_at else "never",
            t.state(now),
        )
        for t in tokens
    ]
    env.emit(
        tokens,
        list[Token],
        as_json=as_json,
        render=lambda: env.table(["ID", "Name", "Created", "Expires", "Last used", "State"], rows),
    )
