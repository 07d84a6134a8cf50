"""What only the `loopwise governance document` door does: write a file, print to stdout,
refuse a PDF on a terminal and a bad ask in one line."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from cli_testing import CliCall, assert_one_line_error


def test_documents_from_the_command_line(cli: CliCall, tmp_path: Path) -> None:
    cli.ok("project", "create", "DOC", "Docs")
    printed = cli.ok("governance", "document", "risk-register", "DOC").stdout
    assert printed.startswith("# Risk register: DOC")
    out = tmp_path / "annex.pdf"
    cli.ok("governance", "document", "annex-iv", "DOC", "--format", "pdf", "-o", str(out))
    text = pdfium.PdfDocument(out.read_bytes())[0].get_textpage().get_text_range()
    assert "1. General description of the AI system" in text
    assert_one_line_error(
        cli("governance", "document", "datasheet", "DOC", "--format", "pdf"), 2, "--output"
    )
    assert_one_line_error(
        cli("governance", "document", "datasheet", "DOC", "--format", "yaml"), 2, "model cards"
    )
    assert_one_line_error(
        cli("governance", "document", "datasheet", "DOC", "-o", str(tmp_path / "no" / "x.md")),
        2,
        "cannot write",
    )
