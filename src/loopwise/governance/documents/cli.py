"""``loopwise governance document``: a document generated from the record, written to a
file or stdout. Parse -> documents service -> write."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopwise.console import ProjectArg, env_of
from loopwise.core.errors import InvalidInput
from loopwise.governance.cli import governance_app
from loopwise.governance.documents import service
from loopwise.governance.documents.model import DocumentFormat, DocumentKind
from loopwise.governance.documents.schemas import DocumentQuery


def groups() -> list[typer.Typer]:
    return []  # its command joins governance.cli's `governance` group


@governance_app.command("document")
def document(
    ctx: typer.Context,
    kind: Annotated[DocumentKind, typer.Argument(help="Which document.")],
    project: ProjectArg,
    fmt: Annotated[
        DocumentFormat,
        typer.Option(
            "--format",
            help="md, html, pdf; json: the document model (model card: Model Card Toolkit "
            "JSON); yaml: the Hugging Face model-index block (model card only).",
        ),
    ] = DocumentFormat.MD,
    model: Annotated[
        str | None, typer.Option(help="Registered model; default: the one in production.")
    ] = None,
    version: Annotated[int | None, typer.Option(help="Model version (with --model).")] = None,
    dataset_version: Annotated[
        str | None, typer.Option(help="Dataset version id (datasheet); default: the newest.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file; default: stdout (not pdf)."),
    ] = None,
) -> None:
    """A model card, datasheet, Annex IV technical documentation, impact assessment or
    risk register, generated from the project's record; MISSING marks what is not there."""
    env = env_of(ctx)
    query = DocumentQuery(format=fmt, model=model, version=version, dataset_version=dataset_version)
    if output is None and fmt is DocumentFormat.PDF:
        raise InvalidInput("a PDF goes to a file: give --output FILE")
    with env.read() as c:
        rendered = service.render_document(c, project, kind, query)
    if output is None:
        typer.echo(rendered.content.decode(), nl=not rendered.content.endswith(b"\n"))
        return
    try:
        output.write_bytes(rendered.content)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from exc
    env.note(f"wrote {output} ({len(rendered.content)} bytes)")
