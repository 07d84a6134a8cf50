"""What only the HTTP door of documents does: the file as a download with its media type,
the model-card endpoint of a model version, and 4xx answers for bad asks."""

from __future__ import annotations

import pypdfium2 as pdfium
import yaml
from fastapi.testclient import TestClient


def test_documents_over_http(api: TestClient) -> None:
    charter = {"problem": "Churn", "success_metric": {"key": "recall", "threshold": 0.5}}
    assert api.post("/api/v1/projects", json={"key": "DOC", "name": "D", "charter": charter})
    assert api.post("/api/v1/projects/DOC/models", json={"name": "churn"}).status_code == 201
    made = api.post("/api/v1/models/churn/versions", json={"source": "s3://m/1"})
    assert made.status_code == 201, made.text
    md = api.get("/api/v1/projects/DOC/documents/annex-iv")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"]
    assert "## 9. Post-market monitoring plan (Art. 72)" in md.text
    pdf = api.get("/api/v1/projects/DOC/documents/risk-register", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert (
        "Risk register: DOC" in pdfium.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    )
    card = api.get(
        "/api/v1/models/churn/versions/1/documents/model-card", params={"format": "yaml"}
    )
    assert card.status_code == 200, card.text
    assert yaml.safe_load(card.text.strip("-\n"))["model-index"][0]["name"] == "churn-v1"
    html = api.get("/api/v1/projects/DOC/documents/model-card", params={"format": "html"})
    assert "sandbox" in html.headers["content-security-policy"]
    assert html.text.startswith("<!doctype html>")
    # bad asks: 4xx with a message, never a 500
    assert api.get("/api/v1/projects/DOC/documents/nope").status_code == 400
    assert api.get("/api/v1/projects/DOC/documents/datasheet?format=docx").status_code == 400
    refused = api.get("/api/v1/projects/DOC/documents/datasheet?format=yaml")
    assert refused.status_code == 400 and "model cards" in refused.json()["error"]["message"]
    assert api.get("/api/v1/projects/NOPE/documents/datasheet").status_code == 404
    assert api.get("/api/v1/models/churn/versions/9/documents/model-card").status_code == 404
    alone = api.get("/api/v1/projects/DOC/documents/model-card?version=1")
    assert alone.status_code == 400 and "model" in alone.json()["error"]["message"]
