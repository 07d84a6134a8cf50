"""Document use cases: build a document from the project's record, and render it in the
format asked. Reading needs the project's viewer role (checked by every service the
record is gathered through). Exports are not written to the audit chain: a GET stays a
read, with no write lock taken for each download."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.governance import calendar
from loopwise.governance.documents import cards, compliance, formats, render
from loopwise.governance.documents.gather import ProjectRecord, gather
from loopwise.governance.documents.model import Document, DocumentFormat, DocumentKind
from loopwise.governance.documents.schemas import DocumentQuery

MEDIA = {
    DocumentFormat.MD: "text/markdown; charset=utf-8",
    DocumentFormat.HTML: "text/html; charset=utf-8",
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.JSON: "application/json",
    DocumentFormat.YAML: "application/yaml; charset=utf-8",
}


@dataclass(frozen=True)
class Rendered:
    content: bytes
    media_type: str
    filename: str


def build_from(record: ProjectRecord, kind: DocumentKind) -> Document:
    """The pure step: a gathered record -> the document model."""
    match kind:
        case DocumentKind.MODEL_CARD:
            return cards.model_card(record)
        case DocumentKind.DATASHEET:
            return cards.datasheet(record)
        case DocumentKind.ANNEX_IV:
            return compliance.annex_iv(record, calendar.load())
        case DocumentKind.IMPACT_ASSESSMENT:
            return compliance.impact_assessment(record, calendar.load())
        case DocumentKind.RISK_REGISTER:
            return compliance.risk_register(record)


def _record(ctx: Context, project_key: str, query: DocumentQuery) -> ProjectRecord:
    return gather(
        ctx,
        project_key,
        model=query.model,
        version=query.version,
        dataset_version_id=query.dataset_version,
        base_url=ctx.settings.public_url or "",
    )


def build(
    ctx: Context, project_key: str, kind: DocumentKind, query: DocumentQuery | None = None
) -> Document:
    return build_from(_record(ctx, project_key, query or DocumentQuery()), kind)


def _filename(doc: Document, fmt: DocumentFormat) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{doc.subject}-{doc.kind.value}").strip("-")
    suffix = "model-index.yaml" if fmt is DocumentFormat.YAML else fmt.value
    if fmt is DocumentFormat.JSON and doc.kind is DocumentKind.MODEL_CARD:
        suffix = "mct.json"
    return f"{stem or 'document'}.{suffix}"


def render_document(
    ctx: Context, project_key: str, kind: DocumentKind, query: DocumentQuery | None = None
) -> Rendered:
    """The document in ``query.format``: md, html (standalone), pdf; json is the document
    model, or for a model card Model Card Toolkit JSON; yaml (model cards) the Hugging
    Face model-index block."""
    query = query or DocumentQuery()
    fmt = query.format
    if fmt is DocumentFormat.YAML and kind is not DocumentKind.MODEL_CARD:
        raise InvalidInput("format yaml (a Hugging Face model-index block) is for model cards")
    record = _record(ctx, project_key, query)
    doc = build_from(record, kind)
    match fmt:
        case DocumentFormat.MD:
            content = render.markdown(doc).encode()
        case DocumentFormat.HTML:
            content = render.html(doc).encode()
        case DocumentFormat.PDF:
            content = render.pdf(doc)
        case DocumentFormat.YAML:
            content = formats.model_index_yaml(record).encode()
        case DocumentFormat.JSON if doc.kind is DocumentKind.MODEL_CARD:
            content = json.dumps(formats.model_card_mct(record, doc), indent=2).encode()
        case DocumentFormat.JSON:
            content = render.as_json(doc)
    return Rendered(content, MEDIA[fmt], _filename(doc, fmt))
