"""Audit use cases: append an entry inside the caller's transaction, read and verify.

Appends are serialized on both stores, so two writers never both link to the same entry
(a fork): PostgreSQL takes a transaction-scoped advisory lock before reading the chain's
last entry, so a second writer waits until the first commits or rolls back; SQLite's
writers are serialized already (``BEGIN IMMEDIATE`` and the in-process write lock,
db/engine.py; an append in a read transaction fails rather than fork when another writer
went first, see ``_serialize``). The unique ``seq`` is the backstop on both. The entry is
written in the caller's transaction: a use case that rolls back leaves no entry.

The payload of an event is never stored, only its digest; ``reason`` is kept as given and
must not carry personal data (callers pass ids, and the doors that take a reason say so).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loopwise.audit import chain
from loopwise.audit.chain import Entry, EntryFields, Verification
from loopwise.audit.tables import AuditEntryRow
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, PermissionDenied

SYSTEM = "system"  # the actor of what no user asked for (the local user's creation, jobs)
# pg_advisory_xact_lock key: the first 8 bytes of SHA-256("loopwise.audit"), signed
_PG_LOCK = 9114137796037615071
BATCH = 10_000  # entries per fetch while walking the chain
_ENTRY_COLUMNS = (
    AuditEntryRow.seq,
    AuditEntryRow.time,
    AuditEntryRow.time_text,
    AuditEntryRow.actor,
    AuditEntryRow.action,
    AuditEntryRow.object,
    AuditEntryRow.outcome,
    AuditEntryRow.reason,
    AuditEntryRow.payload_digest,
    AuditEntryRow.previous_hash,
    AuditEntryRow.hash,
)


# --- appending ---------------------------------------------------------------------------


def record(
    ctx: Context,
    action: str,
    object: str,
    outcome: str = "ok",
    reason: str | None = None,
    payload: Any = None,
) -> Entry:
    """Append an entry for what ``ctx.actor`` just did, in ``ctx``'s transaction.

    ``object`` names what it was done to by id (``project:prj_...``); ``payload`` (any
    JSON value: the change, the request) is reduced to its digest and not stored;
    ``reason`` is stored as given: no personal data in it."""
    return append(
        ctx.session,
        ctx.clock.now(),
        ctx.actor.user_id,
        action,
        object,
        outcome=outcome,
        reason=reason,
        payload=payload,
    )


def append(
    session: Session,
    time: datetime,
    actor: str,
    action: str,
    object: str,
    *,
    outcome: str = "ok",
    reason: str | None = None,
    payload: Any = None,
) -> Entry:
    """``record`` for use cases that hold a session and a clock rather than a context."""
    digest = chain.payload_digest(payload)
    _serialize(session)
    last = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.hash).order_by(AuditEntryRow.seq.desc()).limit(1)
    ).first()
    seq, previous = (last.seq + 1, last.hash) if last else (1, chain.GENESIS)
    fields = EntryFields(seq, time, actor, action, object, outcome, reason or "", digest)
    entry = chain.link(previous, fields)
    session.add(
        AuditEntryRow(
            seq=entry.seq,
            time=entry.time,
            time_text=chain.time_text(entry.time),
            actor=entry.actor,
            action=entry.action,
            object=entry.object,
            outcome=entry.outcome,
            reason=entry.reason,
            payload_digest=entry.payload_digest,
            previous_hash=entry.previous_hash,
            hash=entry.hash,
        )
    )
    session.flush()
    return entry


def _serialize(session: Session) -> None:
    """Hold the chain until this transaction ends (see the module's docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    # SQLite: a write transaction holds the file's write lock from its start. A read
    # transaction that appends (a project made on first use by a read) takes it at the
    # INSERT, and SQLite refuses that (SQLITE_BUSY) if another writer committed since the
    # last entry was read: it fails, it never forks.


# --- reading -----------------------------------------------------------------------------


def entries(
    session: Session, *, start_seq: int = 1, batch: int = BATCH
) -> Generator[Entry, None, None]:
    """Every entry from ``start_seq`` on, in seq order, fetched ``batch`` at a time (memory
    stays constant however long the chain)."""
    query = (
        select(*_ENTRY_COLUMNS)
        .where(AuditEntryRow.seq >= start_seq)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=batch)
    )
    result = session.execute(query)
    try:
        for row in result:
            yield _entry(row)
    finally:
        result.close()  # a walk that stops early frees PostgreSQL's server-side cursor now


def _entry(row: Any) -> Entry:
    seq, moment, text_, actor, action, object_, outcome, reason, digest, previous, hash_ = row
    try:
        hashed: Any = datetime.fromisoformat(text_)
    except (TypeError, ValueError):
        hashed = None  # a malformed entry: verify names it
    if hashed != moment:
        # The two copies of the time disagree: one was edited. The timestamp is what
        # readers see, so verify it, and the hash shows the edit.
        hashed = moment
    return Entry(seq, hashed, actor, action, object_, outcome, reason, digest, previous, hash_)


def head(session: Session) -> Entry | None:
    """The chain's last entry, or None while it is empty."""
    row = session.execute(
        select(*_ENTRY_COLUMNS).order_by(AuditEntryRow.seq.desc()).limit(1)
    ).first()
    return _entry(row) if row else None


def verify(
    session: Session, *, anchors: Mapping[int, str] | None = None, batch: int = BATCH
) -> Verification:
    """Walk the stored chain and name its first broken link (chain.verify)."""
    with closing(entries(session, batch=batch)) as stream:
        return chain.verify(stream, anchors=anchors)


def verify_checkpoint(
    session: Session, public_key: Ed25519PublicKey, checkpoint: chain.Checkpoint
) -> Verification:
    """Check a signed checkpoint against the stored chain (chain.verify_checkpoint)."""
    with closing(entries(session)) as stream:
        return chain.verify_checkpoint(public_key, checkpoint, stream)


def require_auditor(ctx: Context) -> None:
    """The trail is read by workspace admins only."""
    if not ctx.actor.is_admin:
        raise PermissionDenied("only a workspace admin may read the audit trail")


MAX_LOG = 1000


def log(
    ctx: Context,
    *,
    object: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[Entry]:
    """Entries newest first, filtered by exact object, actor or action (workspace admin)."""
    require_auditor(ctx)
    if not 1 <= limit <= MAX_LOG:
        raise InvalidInput(f"limit must be from 1 to {MAX_LOG}")
    query = select(*_ENTRY_COLUMNS).order_by(AuditEntryRow.seq.desc()).limit(limit)
    if object is not None:
        query = query.where(AuditEntryRow.object == object)
    if actor is not None:
        query = query.where(AuditEntryRow.actor == actor)
    if action is not None:
        query = query.where(AuditEntryRow.action == action)
    if before_seq is not None:
        query = query.where(AuditEntryRow.seq < before_seq)
    return [_entry(row) for row in ctx.session.execute(query)]


@dataclass(frozen=True)
class VerifyReport:
    """What a walk found, for the API and ``--json``."""

    ok: bool
    checked: int
    last_seq: int | None
    last_hash: str
    broken_kind: str | None = None
    broken_seq: int | None = None
    message: str | None = None

    @classmethod
    def of(cls, found: Verification) -> VerifyReport:
        broken = found.broken
        return cls(
            ok=broken is None,
            checked=found.checked,
            last_seq=found.last_seq,
            last_hash=found.last_hash,
            broken_kind=broken.kind.value if broken else None,
            broken_seq=broken.seq if broken else None,
            message=broken.message if broken else None,
        )


def verify_report(ctx: Context) -> VerifyReport:
    require_auditor(ctx)
    return VerifyReport.of(verify(ctx.session))


def verify_recent(ctx: Context, last: int) -> VerifyReport:
    """Verify the newest ``last`` entries and their links to each other (workspace admin):
    a walk bounded for pages. It starts from the stored ``previous_hash`` of its first
    entry, so it cannot see an edit before that; ``verify_report`` walks the whole chain."""
    require_auditor(ctx)
    if last < 1:
        raise InvalidInput("verify at least one entry")
    top = head(ctx.session)
    start = 1 if top is None else max(1, top.seq - last + 1)
    if start == 1:
        return VerifyReport.of(verify(ctx.session))
    linked = ctx.session.scalar(
        select(AuditEntryRow.previous_hash).where(AuditEntryRow.seq == start)
    )
    with closing(entries(ctx.session, start_seq=start)) as stream:
        # a missing first entry: start from no hash, and the walk names the break
        return VerifyReport.of(chain.verify(stream, start_hash=linked or "", start_seq=start))
