"""Renderers of the document model: Markdown and standalone HTML from Jinja2 templates
(``web/templates/governance/documents/``), PDF with fpdf2, and the model as JSON.

PDF text is set in DejaVu Sans Condensed, shipped in ``fonts/`` (Bitstream Vera licence):
fpdf2's core fonts are Latin-1 only, and a document quotes whatever users typed. Every
figure keeps its source link in each format; in the PDF the link's path is also printed,
so a relative link (no public URL configured) can still be followed by hand."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import TypeAdapter

from loopwise.governance.documents.model import Document

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
_DOCUMENT = TypeAdapter(Document)


def md(value: object) -> str:
    """Text safe inside Markdown (and a table cell): one line; pipes, backslashes,
    brackets and ``<`` escaped, so a user's text neither breaks the table nor makes a link
    or raw HTML."""
    text = "" if value is None else str(value)
    for ch in ("\\", "|", "[", "]", "<", "*", "_", "`"):
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.split())


def md_link(text: object, url: str | None) -> str:
    shown = md(text)
    if not url:
        return shown
    return f"[{shown}](<{url.replace('>', '%3E').replace(' ', '%20')}>)"


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(md=md, md_link=md_link)
    return env


def markdown(doc: Document) -> str:
    return _env().get_template("governance/documents/document.md").render(doc=doc)


def html(doc: Document) -> str:
    """A standalone page (its own inline style, no scripts), for saving and sending."""
    return _env().get_template("governance/documents/document_export.html").render(doc=doc)


def as_json(doc: Document) -> bytes:
    return _DOCUMENT.dump_json(doc, indent=2)


def as_dict(doc: Document) -> Any:
    return _DOCUMENT.dump_python(doc, mode="json")


# --- PDF ---------------------------------------------------------------------------------


def pdf(doc: Document) -> bytes:
    """The document as PDF (``documents/pdf.py``): fpdf2 loads with the first PDF asked
    for, not with every app and CLI start (~0.3 s)."""
    from loopwise.governance.documents.pdf import render_pdf

    return render_pdf(doc)
