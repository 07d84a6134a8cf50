"""The one description of a document request, shared by the API, the pages, the CLI and
the SDK: which document, in which format, about which model version or dataset version."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from loopwise.core.types import StrictIn
from loopwise.governance.documents.model import DocumentFormat

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DocumentQuery(StrictIn):
    """Which document is asked is the path (``DocumentKind``); this is the rest."""

    format: DocumentFormat = Field(
        default=DocumentFormat.MD,
        description="md, html, pdf; json: the document model (model card: Model Card Toolkit "
        "JSON); yaml: a Hugging Face model-index block (model card only).",
    )
    model: Name | None = Field(
        default=None,
        description="Registered model (model card, Annex IV); default: the project's model "
        "in production, else its newest.",
    )
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="Model version; default: production, else newest.",
    )
    dataset_version: Name | None = Field(
        default=None,
        description="Dataset version id (datasheet); default: the newest in the project.",
    )
