"""The audit log page: the tamper-evident trail (``loopwise.audit``) newest first, paged
and filtered by actor, action and object, with the chain's verification and a download of
the export. Workspace admins only, as the trail's API and CLI (``audit.require_auditor``).

It lives in governance rather than in the audit slice because it names the actors: the
trail stores user ids, and the audit slice sits below accounts."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from loopwise.accounts import service as accounts
from loopwise.audit import export
from loopwise.audit import service as audit
from loopwise.core.errors import NotFound
from loopwise.web.pages import PageCaller, render

router = APIRouter(include_in_schema=False)

PAGE = 50
# The page verifies the newest entries only, so it stays fast on a long chain; the whole
# chain is walked on request (?verify=all), as by ``loopwise audit verify``.
RECENT = 5000
CHUNK = 64 * 1024
Filter = Annotated[str, Query(max_length=250)]


@router.get("/audit")
def audit_log(
    request: Request,
    caller: PageCaller,
    actor: Filter = "",
    action: Filter = "",
    object: Filter = "",
    before: Annotated[int | None, Query(ge=1)] = None,
    verify: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    actor, action, object = actor.strip(), action.strip(), object.strip()
    errors: list[str] = []
    with caller.read() as ctx:
        audit.require_auditor(ctx)
        actor_id: str | None = None
        if actor:
            try:  # a username, else an id as stored (usr_..., system)
                actor_id = accounts.get_user(ctx.session, actor).id
            except NotFound:
                if actor == audit.SYSTEM or actor.startswith("usr_"):
                    actor_id = actor
                else:
                    errors.append(f"Actor: no user {actor!r}")
        found = (
            []
            if errors
            else audit.log(
                ctx,
                actor=actor_id,
                action=action or None,
                object=object or None,
                before_seq=before,
                limit=PAGE + 1,
            )
        )
        whole = verify == "all"
        report = audit.verify_report(ctx) if whole else audit.verify_recent(ctx, RECENT)
        names = accounts.usernames(ctx.session, {e.actor for e in found})
    entries, more = found[:PAGE], len(found) > PAGE
    first_checked = report.last_seq - report.checked + 1 if report.last_seq is not None else None
    return render(
        request,
        "governance/audit_log.html",
        {
            "nav": "audit",
            "entries": entries,
            "names": names,
            "filters": {"actor": actor, "action": action, "object": object},
            "next_before": entries[-1].seq if more and entries else None,
            "before": before,
            "report": report,
            "whole": whole or first_checked in (None, 1),
            "first_checked": first_checked,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


@router.get("/audit/export")
def audit_export(caller: PageCaller) -> Response:
    """Every entry as a line of JSON (``loopwise audit export``'s format), as a download.
    Written to a spooled temporary file inside one read, so the download holds no
    transaction open however slowly it is read."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        with caller.read() as ctx:
            audit.require_auditor(ctx)
            for entry in audit.entries(ctx.session):
                spool.write(export.entry_line(entry).encode("utf-8"))
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(
        _chunks(spool),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit-trail.jsonl"'},
    )
