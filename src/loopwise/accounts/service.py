"""Accounts use cases: users, tokens, memberships, and the role check every slice calls."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from loopwise.accounts import passwords
from loopwise.accounts.models import Membership, Role, Token, TokenKind, User, parse_duration
from loopwise.accounts.schemas import TokenCreate, UserCreate
from loopwise.accounts.tables import MembershipRow, TokenRow, UserRow
from loopwise.accounts.throttle import LoginThrottle
from loopwise.audit import service as audit
from loopwise.core.clock import Clock
from loopwise.core.context import Actor, Context
from loopwise.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
)
from loopwise.core.ids import new_id, new_secret
from loopwise.db.engine import Database

LOCAL_USERNAME = "local"
SESSION_TTL = timedelta(days=14)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# A token's last use is written at most this often: API calls come by the thousand per
# second, and a write per call would queue them all behind SQLite's one writer.
RECORD_USE_EVERY = timedelta(minutes=1)


def _token_hash(secret: str) -> str:
    # API tokens are long random strings: a plain SHA-256 is the right hash (no salt needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def _user(row: UserRow) -> User:
    return User(row.id, row.username, row.display_name, row.is_admin, row.created_at)


def _actor(row: UserRow) -> Actor:
    return Actor(user_id=row.id, username=row.username, is_admin=row.is_admin)


# --- users -----------------------------------------------------------------------------


def create_user(
    session: Session,
    clock: Clock,
    username: str,
    *,
    display_name: str = "",
    password: str | None = None,
    is_admin: bool = False,
    by: str = audit.SYSTEM,
) -> User:
    """A new user; ``by`` is the id of who creates it (audited)."""
    if not _USERNAME.match(username):
        raise InvalidInput(
            f"invalid username {username!r}: use 1-63 lowercase letters, digits, '.', '_' or '-'"
        )
    if password is not None and len(password) < 8:
        raise InvalidInput("password must have at least 8 characters")
    if session.scalar(select(UserRow.id).where(UserRow.username == username)):
        raise Conflict(f"user {username!r} already exists")
    row = UserRow(
        id=new_id("usr"),
        username=username,
        display_name=display_name or username,
        password_hash=passwords.hash_password(password) if password else None,
        is_admin=is_admin,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    action = "user.create:admin" if is_admin else "user.create"
    audit.append(session, row.created_at, by, action, f"user:{row.id}")
    return _user(row)


def ensure_local_user(session: Session, clock: Clock) -> Actor:
    """The single user of local mode: a workspace admin, created on first use."""
    row = session.scalar(select(UserRow).where(UserRow.username == LOCAL_USERNAME))
    if row is None:
        create_user(session, clock, LOCAL_USERNAME, display_name="Local user", is_admin=True)
        row = session.scalar(select(UserRow).where(UserRow.username == LOCAL_USERNAME))
        assert row is not None
    return _actor(row)


def get_user(session: Session, username: str) -> User:
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFound(f"user {username!r} not found")
    return _user(row)


def list_users(session: Session) -> list[User]:
    return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def usernames(session: Session, user_ids: set[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(UserRow.id, UserRow.username).where(UserRow.id.in_(user_ids)))
    return {r.id: r.username for r in rows}


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters")
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFound(f"user {username!r} not found")
    row.password_hash = passwords.hash_password(password)


def require_workspace_admin(ctx: Context) -> None:
    if not ctx.actor.is_admin:
        raise PermissionDenied("only a workspace admin may do this")


def add_user(ctx: Context, data: UserCreate) -> User:
    """A new workspace user (workspace admins only)."""
    require_workspace_admin(ctx)
    return create_user(
        ctx.session,
        ctx.clock,
        data.username,
        display_name=data.display_name,
        password=data.password,
        is_admin=data.is_admin,
        by=ctx.actor.user_id,
    )


def workspace_users(ctx: Context) -> list[User]:
    """Every user of the workspace (workspace admins only)."""
    require_workspace_admin(ctx)
    return list_users(ctx.session)


# --- tokens and sessions ---------------------------------------------------------------


def login(
    db: Database,
    clock: Clock,
    throttle: LoginThrottle,
    username: str,
    password: str,
    *,
    address: str | None = None,
) -> str:
    """Check a password and open a browser session; returns the session secret.

    Takes the database rather than a session: the password check (tens of milliseconds
    of hashing on purpose) runs outside any transaction, so it never holds SQLite's
    write lock. Refused with TooManyRequests while ``throttle`` locks the username or
    the client ``address``; an unknown username costs one hash check like a known one.
    """
    decision = throttle.attempt(username, address, clock.now())
    if not decision.allowed:
        seconds = math.ceil(decision.retry_after.total_seconds())
        raise TooManyRequests(
            f"too many failed sign-ins; try again in {_say_seconds(seconds)}", seconds
        )
    with db.session(write=False) as session:
        found = session.execute(
            select(UserRow.id, UserRow.password_hash).where(UserRow.username == username)
        ).first()
    check = passwords.verify(password, found.password_hash if found else None)
    if found is None or not check.ok:
        raise Unauthenticated("wrong username or password")
    throttle.succeeded(username, address)
    new_hash = passwords.hash_password(password) if check.needs_rehash else None
    with db.session(write=True) as session:
        if new_hash is not None:
            # Only if unchanged meanwhile: a password set since then stays.
            session.execute(
                update(UserRow)
                .where(UserRow.id == found.id, UserRow.password_hash == found.password_hash)
                .values(password_hash=new_hash)
            )
        _token, secret = create_token(
            session, clock, found.id, "browser session", kind=TokenKind.SESSION, ttl=SESSION_TTL
        )
    return secret


def _say_seconds(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def create_token(
    session: Session,
    clock: Clock,
    user_id: str,
    name: str,
    *,
    kind: TokenKind = TokenKind.API,
    ttl: timedelta | None = None,
    by: str | None = None,
) -> tuple[Token, str]:
    """Create a token; the secret is returned once and only its hash is stored. Audited
    as done by ``by`` (default: the token's owner)."""
    if not name.strip() or len(name) > 200:
        raise InvalidInput("token name must have 1 to 200 characters")
    secret = new_secret("lws" if kind is TokenKind.SESSION else "lwt")
    now = clock.now()
    row = TokenRow(
        id=new_id("tok"),
        user_id=user_id,
        name=name,
        kind=kind.value,
        token_hash=_token_hash(secret),
        created_at=now,
        expires_at=now + ttl if ttl else None,
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        now,
        by or user_id,
        f"token.issue:{kind.value}",
        f"token:{row.id}",
        payload={
            "user": user_id,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        },
    )
    return _token(row), secret


def _owner_id(ctx: Context, username: str | None) -> str:
    """The caller's own id, or (workspace admins only) another user's."""
    if username is None:
        return ctx.actor.user_id
    require_workspace_admin(ctx)
    return get_user(ctx.session, username).id


def issue_token(
    ctx: Context, data: TokenCreate, *, username: str | None = None
) -> tuple[Token, str]:
    """An API token for the caller, or for ``username`` (workspace admins only), that
    stops working after ``data.expires_in`` if given. The secret is returned only here."""
    ttl = parse_duration(data.expires_in) if data.expires_in is not None else None
    owner = _owner_id(ctx, username)
    return create_token(ctx.session, ctx.clock, owner, data.name, ttl=ttl, by=ctx.actor.user_id)


def tokens_of(ctx: Context, username: str | None = None) -> list[Token]:
    """The caller's API tokens, or ``username``'s (workspace admins only)."""
    return list_tokens(ctx.session, _owner_id(ctx, username))


def _token(row: TokenRow) -> Token:
    return Token(
        row.id,
        row.user_id,
        row.name,
        TokenKind(row.kind),
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
    )


@dataclass(frozen=True)
class TokenUse:
    """Who a secret belongs to, and whether its last use should be written down."""

    actor: Actor
    token_id: str
    record_use: bool


def use_is_worth_recording(last_used_at: datetime | None, now: datetime) -> bool:
    """Write ``last_used_at`` only when it is missing or ``RECORD_USE_EVERY`` old."""
    return last_used_at is None or now - last_used_at >= RECORD_USE_EVERY


def authenticate(session: Session, clock: Clock, secret: str) -> TokenUse:
    """The actor behind a token or session secret; reads only (one query).

    The caller writes ``record_use`` when ``TokenUse.record_use`` asks it to, in a write
    transaction of its own, so the hot path takes no write lock.
    """
    found = session.execute(
        select(
            TokenRow.id,
            TokenRow.kind,
            TokenRow.expires_at,
            TokenRow.revoked_at,
            TokenRow.last_used_at,
            UserRow.id.label("user_id"),
            UserRow.username,
            UserRow.is_admin,
        )
        .join(UserRow, UserRow.id == TokenRow.user_id)
        .where(TokenRow.token_hash == _token_hash(secret))
    ).first()
    now = clock.now()
    if found is None or found.revoked_at is not None:
        raise Unauthenticated("invalid, expired or revoked token")
    if found.expires_at is not None and found.expires_at <= now:
        when = f"{found.expires_at:%Y-%m-%d %H:%M} UTC"
        if found.kind == TokenKind.SESSION.value:
            raise Unauthenticated(f"your session expired at {when}; sign in again")
        raise Unauthenticated(f"this token expired at {when}; create a new one")
    actor = Actor(user_id=found.user_id, username=found.username, is_admin=found.is_admin)
    return TokenUse(actor, found.id, use_is_worth_recording(found.last_used_at, now))


def record_use(session: Session, clock: Clock, token_id: str) -> None:
    """Set the token's ``last_used_at`` to now, unless another request just did."""
    now = clock.now()
    session.execute(
        update(TokenRow)
        .where(
            TokenRow.id == token_id,
            or_(TokenRow.last_used_at.is_(None), TokenRow.last_used_at <= now - RECORD_USE_EVERY),
        )
        .values(last_used_at=now)
    )


def list_tokens(session: Session, user_id: str) -> list[Token]:
    rows = session.scalars(
        select(TokenRow)
        .where(TokenRow.user_id == user_id, TokenRow.kind == TokenKind.API.value)
        .order_by(TokenRow.created_at)
    )
    return [_token(r) for r in rows]


def revoke_secret(session: Session, clock: Clock, secret: str) -> None:
    row = session.scalar(select(TokenRow).where(TokenRow.token_hash == _token_hash(secret)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        action = f"token.revoke:{row.kind}"
        audit.append(session, row.revoked_at, row.user_id, action, f"token:{row.id}")


def revoke_token(ctx: Context, token_id: str) -> None:
    row = ctx.session.get(TokenRow, token_id)
    if row is None or (row.user_id != ctx.actor.user_id and not ctx.actor.is_admin):
        raise NotFound(f"token {token_id!r} not found")
    if row.revoked_at is None:
        row.revoked_at = ctx.clock.now()
        audit.record(ctx, f"token.revoke:{row.kind}", f"token:{row.id}")


# --- roles -----------------------------------------------------------------------------


def role_in(session: Session, actor: Actor, project_id: str) -> Role | None:
    if actor.is_admin:
        return Role.ADMIN
    role = session.scalar(
        select(MembershipRow.role).where(
            MembershipRow.project_id == project_id, MembershipRow.user_id == actor.user_id
        )
    )
    return Role(role) if role else None


def require_role(ctx: Context, project_id: str, needed: Role, *, what: str = "project") -> Role:
    """Raise unless the actor holds ``needed`` on the project.

    Non-members get NotFound, not PermissionDenied, so project names do not leak.
    """
    role = role_in(ctx.session, ctx.actor, project_id)
    if role is None:
        raise NotFound(f"{what} not found")
    if not role.allows(needed):
        raise PermissionDenied(
            f"this needs the {needed.value} role on the project; "
            f"{ctx.actor.username} is {role.value}"
        )
    return role


def visible_project_ids(ctx: Context) -> set[str] | None:
    """Ids of projects the actor may see; None means all (workspace admin)."""
    if ctx.actor.is_admin:
        return None
    return set(
        ctx.session.scalars(
            select(MembershipRow.project_id).where(MembershipRow.user_id == ctx.actor.user_id)
        )
    )


def set_member(ctx: Context, project_id: str, username: str, role: Role) -> Membership:
    require_role(ctx, project_id, Role.ADMIN)
    user = ctx.session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found")
    row = ctx.session.get(MembershipRow, (project_id, user.id))
    if row is None:
        row = MembershipRow(
            project_id=project_id, user_id=user.id, role=role.value, created_at=ctx.clock.now()
        )
        ctx.session.add(row)
    else:
        row.role = role.value
    ctx.session.flush()
    audit.record(ctx, f"member.role:{role.value}", f"project:{project_id}/user:{user.id}")
    return Membership(project_id, user.id, user.username, role)


def grant_creator(session: Session, clock: Clock, project_id: str, actor: Actor) -> None:
    now = clock.now()
    session.add(
        MembershipRow(
            project_id=project_id, user_id=actor.user_id, role=Role.ADMIN.value, created_at=now
        )
    )
    what = f"project:{project_id}/user:{actor.user_id}"
    audit.append(session, now, actor.user_id, f"member.role:{Role.ADMIN.value}", what)


def list_members(ctx: Context, project_id: str) -> list[Membership]:
    require_role(ctx, project_id, Role.VIEWER)
    rows = ctx.session.execute(
        select(MembershipRow.user_id, MembershipRow.role, UserRow.username)
        .join(UserRow, UserRow.id == MembershipRow.user_id)
        .where(MembershipRow.project_id == project_id)
        .order_by(UserRow.username)
    )
    return [Membership(project_id, r.user_id, r.username, Role(r.role)) for r in rows]


def remove_member(ctx: Context, project_id: str, username: str) -> None:
    require_role(ctx, project_id, Role.ADMIN)
    user = get_user(ctx.session, username)
    row = ctx.session.get(MembershipRow, (project_id, user.id))
    if row is None:
        raise NotFound(f"{username!r} is not a member")
    ctx.session.delete(row)
    audit.record(ctx, "member.remove", f"project:{project_id}/user:{user.id}")
