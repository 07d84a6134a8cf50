"""A run's dataset inputs as an MLflow client logged them (``log_input``).

Kept as sent (name, digest, source type, source, schema, profile, tags) so the client
reads back what it wrote in ``run.inputs.dataset_inputs``. The lineage to a dataset
version (the data slice) is recorded by the caller as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.tracking import service as tracking
from loopwise.tracking.tables import RunDatasetInputRow


@dataclass(frozen=True)
class DatasetInput:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str
    profile: str
    tags: dict[str, str]


def record(ctx: Context, run_id: str, inputs: list[DatasetInput]) -> None:
    """Add dataset inputs to a run; one already there (same name, digest and tags) is
    not repeated."""
    tracking.run_project_id(ctx, run_id, Role.CONTRIBUTOR)
    known = {(d.name, d.digest, tuple(sorted(d.tags.items()))) for d in of_run(ctx, run_id)}
    for item in inputs:
        mark = (item.name, item.digest, tuple(sorted(item.tags.items())))
        if mark in known:
            continue
        known.add(mark)
        ctx.session.add(
            RunDatasetInputRow(
                run_id=run_id,
                name=item.name,
                digest=item.digest,
                source_type=item.source_type,
                source=item.source,
                schema=item.schema,
                profile=item.profile,
                tags=dict(item.tags),
            )
        )
    ctx.session.flush()


def of_run(ctx: Context, run_id: str) -> list[DatasetInput]:
    """The run's dataset inputs in the order logged; the caller checked access."""
    rows = ctx.session.scalars(
        select(RunDatasetInputRow)
        .where(RunDatasetInputRow.run_id == run_id)
        .order_by(RunDatasetInputRow.id)
    )
    return [
        DatasetInput(r.name, r.digest, r.source_type, r.source, r.schema, r.profile, dict(r.tags))
        for r in rows
    ]
