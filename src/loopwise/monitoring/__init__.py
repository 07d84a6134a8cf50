"""Monitoring: monitors of a model version or a prediction stream against a reference
dataset version; batches of production data in; drift, performance (realised and
estimated) and serving per batch and per time window; alerts that file retraining items
and go out as webhooks; a human review queue whose answers become labels."""

from loopwise.core.slice import Periodic, Slice

SLICE = Slice(
    name="monitoring",
    tables=("loopwise.monitoring.tables",),
    api=("loopwise.monitoring.api:router", "loopwise.monitoring.loop_api:router"),
    pages=("loopwise.monitoring.pages:router", "loopwise.monitoring.review_pages:router"),
    cli=("loopwise.monitoring.cli",),
    hypothesis_panels=("loopwise.monitoring.panels:hypothesis_panel",),
    streamed=(("POST", r"/api/v1/projects/[^/]+/monitors/[^/]+/batches/?$"),),  # api.log_batch
    handlers=(
        ("loopwise.monitoring.models:AlertOpened", "loopwise.monitoring.webhooks:on_alert"),
        ("loopwise.monitoring.models:AlertResolved", "loopwise.monitoring.webhooks:on_alert"),
    ),
    periodic=(
        Periodic(
            name="monitor checks",
            job="loopwise.monitoring.jobs:check_due",
            every_setting="monitor_check_seconds",
        ),
        Periodic(
            name="webhook deliveries",
            job="loopwise.monitoring.webhooks:deliver_due",
            every_setting="webhook_seconds",
            transaction=False,
        ),
    ),
)
