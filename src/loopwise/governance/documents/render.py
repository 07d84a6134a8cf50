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

from fpdf import FPDF
from fpdf.fonts import FontFace
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import TypeAdapter

from loopwise.governance.documents.model import Document, Field, Section, Table

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
FONTS = Path(__file__).with_name("fonts")
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

_FONT = "DejaVu"
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_LINK = (13, 90, 160)
_MISSING = (176, 42, 55)
_HEAD = FontFace(emphasis="BOLD", fill_color=(233, 236, 239))


class _Pdf(FPDF):
    def __init__(self, doc: Document) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc = doc
        self.add_font(_FONT, "", str(FONTS / "DejaVuSansCondensed.ttf"))
        self.add_font(_FONT, "B", str(FONTS / "DejaVuSansCondensed-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(16, 16, 16)
        self.set_title(doc.title)
        self.set_creator("Loopwise")
        self.set_creation_date(doc.generated_at)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, "", 7)
        self.set_text_color(*_MUTED)
        stamp = self.doc.generated_at.strftime("%Y-%m-%d %H:%M UTC")
        self.cell(0, 5, f"{self.doc.title} · generated {stamp} · page {self.page_no()}", align="C")


def _field_rows(pdf: _Pdf, fields: tuple[Field, ...]) -> None:
    if not fields:
        return
    pdf.set_font(_FONT, "", 8.5)
    with pdf.table(
        col_widths=(28, 44, 28),
        headings_style=_HEAD,
        line_height=4.6,
        text_align="LEFT",
        first_row_as_headings=True,
    ) as table:
        head = table.row()
        for name in ("Field", "Value", "Source"):
            head.cell(name)
        for f in fields:
            row = table.row()
            row.cell(f.label)
            if f.is_missing:
                row.cell(
                    f"MISSING: {f.missing}",
                    style=FontFace(color=_MISSING, emphasis="BOLD"),
                )
                row.cell("")
            else:
                row.cell(f.value or "")
                if f.link:
                    row.cell(f.link, link=f.link, style=FontFace(color=_LINK))
                else:
                    row.cell("")


def _table(pdf: _Pdf, t: Table) -> None:
    if pdf.will_page_break(16):  # nor a table title
        pdf.add_page()
    pdf.set_font(_FONT, "B", 9)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(0, 5, t.title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 7.5)
    if not t.rows:
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, 4.5, t.empty, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*_INK)
        pdf.ln(1.5)
        return
    with pdf.table(headings_style=_HEAD, line_height=4, text_align="LEFT") as table:
        head = table.row()
        for name in t.columns:
            head.cell(name)
        for cells in t.rows:
            row = table.row()
            for c in cells:
                if c.link:
                    row.cell(c.text, link=c.link, style=FontFace(color=_LINK))
                else:
                    row.cell(c.text)
    pdf.ln(2)


def _section(pdf: _Pdf, s: Section) -> None:
    if pdf.will_page_break(30):  # no heading alone at the foot of a page
        pdf.add_page()
    pdf.set_font(_FONT, "B", 12)
    pdf.set_text_color(*_INK)
    pdf.ln(2)
    pdf.multi_cell(0, 6.5, s.title, align="L", new_x="LMARGIN", new_y="NEXT")
    if s.note:
        pdf.set_font(_FONT, "", 8.5)
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, 4.5, s.note, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*_INK)
    _field_rows(pdf, s.fields)
    pdf.ln(1.5)
    for t in s.tables:
        _table(pdf, t)


def pdf(doc: Document) -> bytes:
    out = _Pdf(doc)
    out.add_page()
    out.set_font(_FONT, "B", 17)
    out.set_text_color(*_INK)
    out.multi_cell(0, 8, doc.title, align="L", new_x="LMARGIN", new_y="NEXT")
    out.set_font(_FONT, "", 9)
    out.set_text_color(*_MUTED)
    missing = len(doc.missing)
    out.multi_cell(
        0,
        5,
        f"Project {doc.project_key} · generated {doc.generated_at:%Y-%m-%d %H:%M} UTC from "
        f"the Loopwise record · {missing} field{'s' if missing != 1 else ''} missing",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for s in doc.sections:
        _section(out, s)
    return bytes(out.output())
