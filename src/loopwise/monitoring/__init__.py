"""Monitoring: monitors of a model version or a prediction stream against a reference
dataset version; batches of production data in; drift, performance (realised and
estimated) and serving per batch and per time window; alerts that file retraining items."""

from loopwise.core.slice import Periodic, Slice

SLICE = Slice(
    name="monitoring",
    tables=("loopwise.monitoring.tables",),
    api=("loopwise.monitoring.api:router",),
    cli=("loopwise.monitoring.cli",),
    streamed=(("POST", r"/api/v1/projects/[^/]+/monitors/[^/]+/batches/?$"),),  # api.log_batch
    periodic=(
        Periodic(
            name="monitor checks",
            job="loopwise.monitoring.jobs:check_due",
            every_setting="monitor_check_seconds",
        ),
    ),
)
