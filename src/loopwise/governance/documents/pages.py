"""The Documents page of a project: every generated document with how much of it the
record fills, download links in each format, the gates' due dates from the compliance
calendar; and each document viewed as a page of the site. Project viewers read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from loopwise.governance import calendar
from loopwise.governance.documents import service
from loopwise.governance.documents.gather import gather
from loopwise.governance.documents.model import DocumentFormat, DocumentKind
from loopwise.governance.documents.schemas import DocumentQuery
from loopwise.web.pages import PageCaller, render

router = APIRouter(include_in_schema=False)

# the formats offered for each document, in the order shown
FORMATS = {
    kind: (DocumentFormat.MD, DocumentFormat.HTML, DocumentFormat.PDF, DocumentFormat.JSON)
    + ((DocumentFormat.YAML,) if kind is DocumentKind.MODEL_CARD else ())
    for kind in DocumentKind
}
FORMAT_LABELS = {
    DocumentFormat.MD: "Markdown",
    DocumentFormat.HTML: "HTML",
    DocumentFormat.PDF: "PDF",
    DocumentFormat.JSON: "JSON",
    DocumentFormat.YAML: "model-index YAML",
}


@router.get("/projects/{key}/documents")
def documents_page(key: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        record = gather(ctx, key, base_url="")
    docs = [service.build_from(record, kind) for kind in DocumentKind]
    today = record.generated_at.date()
    return render(
        request,
        "governance/documents/documents.html",
        {
            "nav": "projects",
            "project": record.project,
            "docs": docs,
            "formats": FORMATS,
            "format_labels": FORMAT_LABELS,
            "gates": [g for g in record.gates if g.due is not None],
            "calendar": calendar.load(),
            "today": today,
        },
    )


@router.get("/projects/{key}/documents/{kind}")
def document_page(
    key: str,
    kind: DocumentKind,
    request: Request,
    caller: PageCaller,
    query: Annotated[DocumentQuery, Query()],
) -> Response:
    with caller.read() as ctx:
        doc = service.build(ctx, key, kind, query)
    return render(
        request,
        "governance/documents/document.html",
        {
            "nav": "projects",
            "doc": doc,
            "formats": FORMATS[kind],
            "format_labels": FORMAT_LABELS,
            "query": query.model_dump(mode="json", exclude_none=True, exclude={"format"}),
        },
    )
