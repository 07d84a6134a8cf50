"""The board page: columns, cards, moves (drag and drop, keyboard, forms), WIP limits,
and each item's page with its Definition-of-Done ticks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, LoopwiseError, NotFound
from loopwise.planning.board import done
from loopwise.planning.board import service as board
from loopwise.planning.board.models import Column
from loopwise.planning.cycles import service as cycles
from loopwise.planning.forms import allows
from loopwise.planning.items import service as planning
from loopwise.planning.items.models import ItemKind, WorkItem
from loopwise.projects import service as projects
from loopwise.projects.models import Project
from loopwise.web.deps import Caller
from loopwise.web.pages import FormDep, PageCaller, redirect, render, safe_next

router = APIRouter(include_in_schema=False)


FILTERS = ("kind", "assignee", "label", "cycle")


MAX_REASON = 2000


MAX_WIP = 10_000


FINISHED_SHOWN = 25  # done and killed columns show their most recent cards only


def item_url(item: WorkItem) -> str:
    kind = "hypotheses" if item.kind is ItemKind.HYPOTHESIS else "items"
    return f"/{kind}/{item.key}"


def _role(ctx: Context, project: Project) -> Role | None:
    return accounts.role_in(ctx.session, ctx.actor, project.id)


def _parse_filter(values: dict[str, str]) -> tuple[board.BoardFilter, list[str]]:
    errors = []
    kind = None
    if values["kind"]:
        try:
            kind = ItemKind(values["kind"])
        except ValueError:
            known = ", ".join(k.value for k in ItemKind)
            errors.append(f"Kind: {values['kind']!r} is not a kind of item ({known})")
    cycle = None
    if values["cycle"]:
        if values["cycle"].isdigit() and len(values["cycle"]) < 10:
            cycle = int(values["cycle"])
        else:
            errors.append(f"Cycle: {values['cycle']!r} is not a cycle number")
    where = board.BoardFilter(
        kind=kind,
        assignee=values["assignee"] or None,
        label=values["label"] or None,
        cycle=cycle,
    )
    return where, errors


def move_options(columns: list[Column]) -> dict[str, Markup]:
    """Per current column, the ``<option>``s of the others: built once, not per card."""
    return {
        here.key: Markup("").join(
            Markup('<option value="{}">{}</option>').format(c.key, c.name)
            for c in columns
            if c.key != here.key
        )
        for here in columns
    }


def board_page_response(
    request: Request,
    caller: Caller,
    key: str,
    values: dict[str, str],
    *,
    errors: list[str] | None = None,
    wip_values: dict[str, str] | None = None,
    wip_errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    errors = list(errors or [])
    where, problems = _parse_filter(values)
    errors += problems
    if problems:
        where = board.BoardFilter()
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = _role(ctx, project)
        try:
            view = board.board(ctx, project.key, where)
        except NotFound as exc:  # an unknown assignee: show the whole board and say so
            errors.append(f"Assignee: {exc.message}")
            view = board.board(ctx, project.key)
        project_cycles = cycles.list_cycles(ctx, project.key)
    if errors and status == 200:
        status = 400
    query = urlencode({k: v for k, v in values.items() if v})
    labels = sorted({lab for col in view.columns for card in col.cards for lab in card.labels})
    people = sorted({card.assignee for col in view.columns for card in col.cards if card.assignee})
    columns = [c.column for c in view.columns]
    return render(
        request,
        "planning/board.html",
        {
            "nav": "projects",
            "project": project,
            "board": view,
            "columns": columns,
            "move_options": move_options(columns),
            "filters": values,
            "filtered": any(values.values()),
            # Where moves come back to and scripts re-read the board: the board itself, even
            # when this render answers a POST (a WIP-limit form with errors).
            "here": f"/projects/{project.key}/board" + (f"?{query}" if query else ""),
            "kinds": list(ItemKind),
            "cycles": project_cycles,
            "labels": labels,
            "people": people,
            "can_move": allows(role, Role.CONTRIBUTOR),
            "can_set_wip": allows(role, Role.MAINTAINER),
            "errors": errors,
            "wip_values": wip_values or {},
            "wip_errors": wip_errors or [],
            "finished_shown": FINISHED_SHOWN,
        },
        status=status,
    )


@router.get("/projects/{key}/board")
def board_page(
    key: str,
    request: Request,
    caller: PageCaller,
    kind: str = "",
    assignee: str = "",
    label: str = "",
    cycle: str = "",
) -> Response:
    values = {"kind": kind.strip(), "assignee": assignee.strip(), "label": label.strip()}
    values["cycle"] = cycle.strip()
    return board_page_response(request, caller, key, values)


@router.post("/projects/{key}/board/wip-limit")
def set_wip_limit(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.MAINTAINER)
    values = {"column": form.get("column", ""), "limit": form.get("limit", "")}
    errors = []
    limit: int | None = None
    if values["limit"]:
        if values["limit"].isdigit() and 1 <= int(values["limit"][:6]) <= MAX_WIP:
            limit = int(values["limit"])
        else:
            errors.append(f"WIP limit: use a whole number from 1 to {MAX_WIP:,}, or leave it empty")
    if not errors:
        try:
            with caller.write() as ctx:
                board.set_wip_limit(ctx, project.key, values["column"], limit)
        except (InvalidInput, Conflict) as exc:
            errors.append(exc.message)
    if errors:
        empty = dict.fromkeys(FILTERS, "")
        return board_page_response(
            request, caller, project.key, empty, wip_values=values, wip_errors=errors, status=400
        )
    return redirect(f"/projects/{project.key}/board")


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _column_name(columns: list[Column], key: str) -> str:
    return next((c.name for c in columns if c.key == key), key)


@router.post("/items/{item_key}/move")
def move_item(item_key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    to, reason = form.get("to", ""), form.get("reason", "")
    back = form.get("next", "")
    try:
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"the reason is too long (at most {MAX_REASON:,} characters)")
        if not to:
            raise InvalidInput("choose a column to move the item to")
        with caller.write() as ctx:
            before = planning.get_item(ctx, item_key)
            item = board.move_item(ctx, item_key, to, reason=reason)
            project = projects.resolve_project(ctx, item.project_key)
            column = _column_name(board.columns_of(ctx, project.id), item.status)
    except LoopwiseError as exc:
        if _wants_json(request):
            return JSONResponse(
                {
                    "ok": False,
                    "code": exc.code,
                    "message": exc.message,
                    "needs_reason": isinstance(exc, Conflict),
                },
                status_code=exc.http_status,
            )
        if not isinstance(exc, (Conflict, InvalidInput)):
            raise
        return _refused(request, caller, item_key, to, reason, back, exc)
    moved = before.status != item.status
    message = f"Moved {item.key} to {column}." if moved else f"{item.key} is already in {column}."
    if _wants_json(request):
        return JSONResponse(
            {"ok": True, "key": item.key, "status": item.status, "message": message}
        )
    return redirect(safe_next(back) if back else f"/projects/{item.project_key}/board")


def _refused(
    request: Request,
    caller: Caller,
    item_key: str,
    to: str,
    reason: str,
    back: str,
    exc: LoopwiseError,
) -> Response:
    """Without JavaScript: the refusal, and a form to try again with a reason."""
    with caller.read() as ctx:
        item = planning.get_item(ctx, item_key)
        project = projects.resolve_project(ctx, item.project_key)
        columns = board.columns_of(ctx, project.id)
    return render(
        request,
        "planning/move.html",
        {
            "nav": "projects",
            "project": project,
            "item": item,
            "item_url": item_url(item),
            "to": to,
            "to_name": _column_name(columns, to),
            "from_name": _column_name(columns, item.status),
            "columns": columns,
            "reason": reason,
            "message": exc.message,
            "needs_reason": isinstance(exc, Conflict),
            "back": safe_next(back) if back else f"/projects/{project.key}/board",
        },
        status=exc.http_status,
    )


def item_panel(ctx: Context, item: WorkItem, project: Project) -> dict[str, Any]:
    """What the item and hypothesis pages show next to the item: its checklist, its
    column and the move form."""
    role = _role(ctx, project)
    columns = board.columns_of(ctx, project.id)
    return {
        "checks": done.get_checks(ctx, item.key),
        "columns": columns,
        "column_names": {c.key: c.name for c in columns},
        "status_name": _column_name(columns, item.status),
        "can_edit": allows(role, Role.CONTRIBUTOR),
    }


@router.get("/items/{item_key}")
def item_page(item_key: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        item = planning.get_item(ctx, item_key)
        if item.kind is ItemKind.HYPOTHESIS:
            return redirect(f"/hypotheses/{item.key}")
        project = projects.resolve_project(ctx, item.project_key)
        history = planning.item_history(ctx, item.key)
        panel = item_panel(ctx, item, project)
    return render(
        request,
        "planning/item.html",
        {"nav": "projects", "item": item, "project": project, "history": history, **panel},
    )


@router.post("/items/{item_key}/checks")
def set_checks(item_key: str, caller: PageCaller, form: FormDep) -> Response:
    """The checklist form: ``text-<i>`` names a check, ``check-<i>`` is sent when ticked."""
    wanted = {}
    for name, text in form.items():
        if name.startswith("text-"):
            wanted[text] = f"check-{name.removeprefix('text-')}" in form
    with caller.write() as ctx:
        planning.item_row(ctx, item_key, Role.CONTRIBUTOR)  # a viewer gets 403 even for no change
        item = planning.get_item(ctx, item_key)
        current = {c.text: c for c in done.get_checks(ctx, item.key)}
        for text, checked in wanted.items():
            check = current.get(text)
            if check is None or check.rule or check.checked != checked:
                done.set_check(ctx, item.key, text, checked)
    back = form.get("next", "")
    return redirect(safe_next(back) if back else item_url(item))
