"""What only the SDK door of documents does: the file's bytes, JSON included."""

from __future__ import annotations

import json

import pytest

from loopwise import Client
from loopwise.core.errors import InvalidInput


def test_documents_through_the_sdk(client: Client) -> None:
    client.create_project("DOC", "Docs")
    md = client.document("DOC", "impact-assessment")
    assert md.startswith(b"# Impact assessment: DOC")
    model = json.loads(client.document("DOC", "datasheet", "json"))
    assert model["kind"] == "datasheet" and len(model["sections"]) == 7
    with pytest.raises(InvalidInput, match="model cards"):
        client.document("DOC", "risk-register", "yaml")
