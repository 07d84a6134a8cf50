"""Datasets: immutable versions with hashes, profiles, quality, leakage and readiness."""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="data",
    tables=("loopwise.data.tables",),
    api=("loopwise.data.api:router",),
    pages=("loopwise.data.pages:router",),
    cli=("loopwise.data.cli",),
    done_rules=(("dataset_cited", "loopwise.data.service:cites_a_dataset"),),
    run_panels=("loopwise.data.pages:run_panel",),
    streamed=(  # api.upload_version, pages.upload_dataset
        ("POST", r"/api/v1/projects/[^/]+/datasets/[^/]+/versions/?$"),
        ("POST", r"/projects/[^/]+/datasets/?$"),
    ),
)
