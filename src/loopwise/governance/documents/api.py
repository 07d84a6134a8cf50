"""REST endpoints for generated documents: any document of a project, and a model
version's model card. The body is the file (Markdown, HTML, PDF, JSON, YAML), served as a
download that is never rendered as a page of this site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from loopwise.governance.documents import service
from loopwise.governance.documents.model import DocumentFormat, DocumentKind
from loopwise.governance.documents.schemas import DocumentQuery
from loopwise.registry import service as registry
from loopwise.web.deps import CallerDep
from loopwise.web.security import DOWNLOAD_CSP, download_headers

router = APIRouter(prefix="/api/v1", tags=["governance"])
EXPORT_CSP = f"{DOWNLOAD_CSP}; style-src 'unsafe-inline'"  # a standalone HTML's own style
FILES = {
    "description": "The document as a file.",
    "content": {media: {} for media in service.MEDIA.values()},
}


def respond(rendered: service.Rendered) -> Response:
    csp = EXPORT_CSP if rendered.media_type.startswith("text/html") else DOWNLOAD_CSP
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers=download_headers(rendered.filename, csp=csp),
    )


@router.get("/projects/{key}/documents/{kind}", response_class=Response, responses={200: FILES})
def project_document(
    key: str, kind: DocumentKind, caller: CallerDep, query: Annotated[DocumentQuery, Query()]
) -> Response:
    """A document generated from the project's record (project viewers)."""
    with caller.read() as ctx:
        return respond(service.render_document(ctx, key, kind, query))


@router.get(
    "/models/{name}/versions/{version}/documents/model-card",
    response_class=Response,
    responses={200: FILES},
)
def model_card(
    name: str, version: int, caller: CallerDep, format: DocumentFormat = DocumentFormat.MD
) -> Response:
    """A model version's model card (yaml: its Hugging Face model-index block)."""
    with caller.read() as ctx:
        project_key = registry.get_model(ctx, name).project_key
        query = DocumentQuery(format=format, model=name, version=version)
        return respond(service.render_document(ctx, project_key, DocumentKind.MODEL_CARD, query))
