"""PDF rendering of the document model with fpdf2, in DejaVu Sans Condensed (shipped in
``fonts/``): fpdf2's core fonts are Latin-1 only, and a document quotes whatever users
typed. Imported on the first PDF asked for (``render.pdf``)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from loopwise.governance.documents.model import Document, Field, Section, Table

FONTS = Path(__file__).with_name("fonts")

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


def render_pdf(doc: Document) -> bytes:
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
