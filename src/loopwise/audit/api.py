"""REST endpoints of the audit trail (workspace admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from loopwise.audit import service
from loopwise.audit.chain import Entry
from loopwise.audit.service import VerifyReport
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit")
def list_entries(
    caller: CallerDep,
    object: Annotated[str | None, Query(max_length=250)] = None,
    actor: Annotated[str | None, Query(max_length=250)] = None,
    action: Annotated[str | None, Query(max_length=250)] = None,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LOG)] = 100,
) -> list[Entry]:
    """Entries newest first, filtered by exact object, actor or action; page back with
    ``before_seq`` (the smallest seq seen)."""
    with caller.read() as ctx:
        return service.log(
            ctx, object=object, actor=actor, action=action, before_seq=before_seq, limit=limit
        )


@router.get("/audit/verify")
def verify(caller: CallerDep) -> VerifyReport:
    """Walk the whole chain: ``ok``, how many entries verified, and the first broken link."""
    with caller.read() as ctx:
        return service.verify_report(ctx)
