"""``loopwise audit``: verify the trail, read it, export it, sign and check checkpoints.

``verify`` and ``verify-checkpoint`` exit 1 when the chain is broken, naming the first
broken link; ``verify-checkpoint --entries`` works on an exported file with no database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from loopwise.audit import chain, export, service
from loopwise.audit.chain import Entry, Verification
from loopwise.console import CliEnv, JsonOption, dump_json, env_of
from loopwise.core.errors import InvalidInput

audit_app = typer.Typer(
    name="audit",
    help="The tamper-evident audit trail: verify, log, export, signed checkpoints.",
    no_args_is_help=True,
)


def groups() -> list[typer.Typer]:
    return [audit_app]


PasswordOption = Annotated[
    bool, typer.Option("--password", help="Prompt for the private key's password (hidden).")
]


def _report(env: CliEnv, found: Verification, *, as_json: bool, what: str) -> None:
    """Print what a walk found; exit 1 when the chain is broken."""
    report = service.VerifyReport.of(found)
    if as_json:
        typer.echo(dump_json(report, service.VerifyReport))
    elif found.broken is None:
        last = f", last seq {found.last_seq}, hash {found.last_hash}" if found.last_seq else ""
        env.console.print(f"OK: {what}, {found.checked:,} entries verified{last}")
    else:
        broken = found.broken
        at = f" at seq {broken.seq}" if broken.seq is not None else ""
        env.err_console.print(
            f"BROKEN{at} ({broken.kind.value}): {broken.message}; "
            f"{found.checked:,} entries verified before it"
        )
    if found.broken is not None:
        raise typer.Exit(1)


@audit_app.command("verify")
def verify(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Walk the whole chain; print OK with the count and the last hash, or the first
    broken link (seq and why) and exit 1."""
    env = env_of(ctx)
    with env.read() as c, env.working("verifying the audit chain"):
        service.require_auditor(c)
        found = service.verify(c.session)
    _report(env, found, as_json=as_json, what="the audit chain is intact")


@audit_app.command("log")
def log(
    ctx: typer.Context,
    object: Annotated[
        str | None, typer.Option("--object", help="Only entries about this, e.g. project:prj_...")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only this actor's (a user id).")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action, e.g. model.promote.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The latest entries of the trail, newest first."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.log(c, object=object, actor=actor, action=action, limit=limit)
    rows = [
        (
            str(e.seq),
            chain.time_text(e.time),
            e.actor,
            e.action,
            e.object,
            e.outcome,
            e.reason[:80],
        )
        for e in found
    ]
    env.emit(
        found,
        list[Entry],
        as_json=as_json,
        render=lambda: env.table(
            ["Seq", "Time", "Actor", "Action", "Object", "Outcome", "Reason"], rows
        ),
    )


@audit_app.command("export")
def export_entries(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the entries (JSON lines).")],
) -> None:
    """Write every entry as one JSON line, for offline checks (verify-checkpoint --entries)."""
    env = env_of(ctx)
    count = 0
    partial = file.with_name(f".{file.name}.partial")
    with env.read() as c:
        service.require_auditor(c)
        with partial.open("w", encoding="utf-8") as out:
            for entry in service.entries(c.session):
                out.write(export.entry_line(entry))
                count += 1
    partial.replace(file)
    env.note(f"wrote {count:,} entries to {file}")


@audit_app.command("keygen")
def keygen(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The private key (PEM, PKCS#8).")],
    public_out: Annotated[
        Path, typer.Option("--public-out", help="The public key (PEM), for whoever checks.")
    ],
    password: PasswordOption = False,
) -> None:
    """Make an Ed25519 key pair for signing checkpoints (keep the private key offline)."""
    env = env_of(ctx)
    for path in (out, public_out):
        if path.exists():
            raise InvalidInput(f"{path} exists; keys are never overwritten")
    secret = None
    if password:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True).encode()
    key = chain.generate_key()
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(chain.private_key_pem(key, secret))
    public_out.write_bytes(chain.public_key_pem(key.public_key()))
    env.note(f"key {chain.fingerprint(key.public_key())}: private {out}, public {public_out}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc


@audit_app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    key: Annotated[Path, typer.Option("--key", help="The private key (PEM).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the signed checkpoint.")],
    password: PasswordOption = False,
) -> None:
    """Verify the chain, then sign its last entry (seq and hash) into a checkpoint file."""
    env = env_of(ctx)
    secret = typer.prompt("Password", hide_input=True).encode() if password else None
    private = chain.load_private_key(_read(key), secret)
    with env.read() as c, env.working("verifying the audit chain"):
        service.require_auditor(c)
        found = service.verify(c.session)
        now = c.clock.now()
    if found.broken is not None or found.last_seq is None:
        if found.last_seq is None and found.broken is None:
            raise InvalidInput("the audit chain is empty: nothing to sign")
        _report(env, found, as_json=False, what="")
    assert found.last_seq is not None
    signed = chain.sign_checkpoint(private, found.last_seq, found.last_hash, now)
    out.write_text(chain.checkpoint_to_json(signed), encoding="utf-8")
    env.note(f"signed seq {signed.seq}, hash {signed.hash}, into {out}")


@audit_app.command("verify-checkpoint")
def verify_checkpoint(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A checkpoint written by 'audit checkpoint'.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The public key (PEM).")],
    entries: Annotated[
        Path | None,
        typer.Option(
            "--entries",
            help="An export ('audit export') to check instead of the database: needs no "
            "database at all.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a checkpoint's signature, then that the chain is intact, reaches its seq and
    has its hash there; exit 1 if not."""
    env = env_of(ctx)
    key = chain.load_public_key(_read(public_key))
    signed = chain.checkpoint_from_json(_read(file))
    what = f"checkpoint seq {signed.seq} holds"
    if entries is not None:
        try:
            with entries.open(encoding="utf-8") as lines:
                found = chain.verify_checkpoint(key, signed, export.read_lines(lines))
        except OSError as exc:
            raise InvalidInput(f"cannot read {entries}: {exc.strerror}") from exc
    else:
        with env.read() as c, env.working("verifying the audit chain"):
            service.require_auditor(c)
            found = service.verify_checkpoint(c.session, key, signed)
    _report(env, found, as_json=as_json, what=what)
