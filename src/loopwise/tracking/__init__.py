"""Experiments and runs: params, metric series, tags and artifacts."""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="tracking",
    tables=("loopwise.tracking.tables",),
    api=("loopwise.tracking.api:router",),
    pages=("loopwise.tracking.pages:router",),
    cli=("loopwise.tracking.cli",),
    streamed=(("PUT", r"/api/v1/runs/[^/]+/artifacts/"),),  # api.upload_artifact
)
