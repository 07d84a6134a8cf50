"""SDK methods for governance documents generated from the record."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from loopwise.governance.documents.model import DocumentFormat, DocumentKind
from loopwise.governance.documents.schemas import DocumentQuery


class DocumentMethods:
    """Mixed into ``loopwise.Client``."""

    if TYPE_CHECKING:  # Client's plumbing, declared for the type checker

        def _request(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def document(
        self,
        project: str,
        kind: DocumentKind | str,
        format: DocumentFormat | str = DocumentFormat.MD,
        *,
        model: str | None = None,
        version: int | None = None,
        dataset_version: str | None = None,
    ) -> bytes:
        """A document generated from the project's record, as the file's bytes: kind
        model-card, datasheet, annex-iv, impact-assessment or risk-register; format md,
        html, pdf, json (model card: Model Card Toolkit JSON) or yaml (model card: the
        Hugging Face model-index block)."""
        query = DocumentQuery(
            format=DocumentFormat(format),
            model=model,
            version=version,
            dataset_version=dataset_version,
        )
        params = query.model_dump(mode="json", exclude_none=True)
        path = f"/api/v1/projects/{quote(project, safe='')}/documents/{DocumentKind(kind).value}"
        body = self._request("GET", path, params=params)
        # JSON comes back parsed by the plumbing; give the file's bytes like the others
        return body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
