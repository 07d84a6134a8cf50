"""MLflow's system tags mapped onto Loopwise's own run fields, whichever door sets them
(the MLflow door, the native API, the SDK, an import): an event handler on tracking's
``RunTagged``, declared in ``mlflow_compat.SLICE``. The other direction, fields shown as
tags to MLflow clients, is in ``wire.run``.

- ``mlflow.source.git.commit`` sets the run's ``git_commit`` (when it is a commit id);
- ``mlflow.runName`` renames the run (and renaming a run sets the tag);
- ``mlflow.user`` makes that user the run's author when the user exists and may write to
  the run's project; otherwise the author stays whoever created the run.
"""

from __future__ import annotations

from loopwise.core.context import Context
from loopwise.mlflow_compat import wire
from loopwise.tracking import service as tracking
from loopwise.tracking.models import RunTagged


def on_run_tagged(ctx: Context, event: RunTagged) -> None:
    if event.key == wire.GIT_TAG:
        tracking.set_git_commit(ctx, event.run_id, event.value)
    elif event.key == wire.RUN_NAME_TAG:
        tracking.sync_name(ctx, event.run_id, event.value)
    elif event.key == wire.USER_TAG:
        tracking.set_author(ctx, event.run_id, event.value)
