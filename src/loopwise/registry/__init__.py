"""Model registry: versions from runs, aliases, stages with staged rollout and rollback,
deployments, incidents and delivery metrics."""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="registry",
    tables=("loopwise.registry.tables",),
    api=("loopwise.registry.api:router",),
    pages=("loopwise.registry.pages:router",),
    cli=("loopwise.registry.cli",),
    promotion_checks=("loopwise.registry.checks:source_run_finished",),
    dataset_panels=("loopwise.registry.pages:dataset_panel",),
)
