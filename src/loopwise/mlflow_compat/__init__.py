"""MLflow-compatible REST endpoints: unmodified ``mlflow`` clients log to Loopwise.

Mapping rules (also in README):
- experiments: see ``tracking.experiments`` (``KEY/name`` -> project KEY);
- run ids are the 32-hex part of Loopwise run ids; experiment ids are decimal numbers;
- artifacts are proxied: ``mlflow-artifacts:/<experiment>/<run>/artifacts/...`` is the
  run's own artifact folder;
- registered models belong to the project of the runs they are built from.
"""
