"""MLflow-compatible REST endpoints: unmodified ``mlflow`` clients log to Loopwise.

Mapping rules (also in README):
- experiments: see ``tracking.experiments`` (``KEY/name`` -> project KEY);
- run ids are the 32-hex part of Loopwise run ids; experiment ids are decimal numbers;
- artifacts are proxied: ``mlflow-artifacts:/<experiment>/<run>/artifacts/...`` is the
  run's own artifact folder;
- registered models belong to the project of the runs they are built from.
"""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="mlflow_compat",
    raw_api=(
        "loopwise.mlflow_compat.api:router",
        "loopwise.mlflow_compat.models_api:router",
        "loopwise.mlflow_compat.logged_models_api:router",
        "loopwise.mlflow_compat.server_api:router",
    ),
    pages=("loopwise.mlflow_compat.pages:router",),
    cli=("loopwise.mlflow_compat.cli",),
    handlers=(
        ("loopwise.tracking.models:RunTagged", "loopwise.mlflow_compat.fields:on_run_tagged"),
    ),
    error_shapes=("loopwise.mlflow_compat.errors:SHAPE",),
    app_hooks=("loopwise.mlflow_compat.openapi:install",),
    streamed=(("PUT", r"/api/2\.0/mlflow-artifacts/artifacts/"),),  # api.upload_artifact
)
