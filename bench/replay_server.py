"""A stand-in MLflow server that answers from memory, to time the mlflow client alone.

mlflow_bench.py serves this with uvicorn (httptools, uvloop: the stack ``loopwise serve``
uses) during its interleaved rounds. ``runs/search`` replays the response body Loopwise
gave to the same query (path in ``REPLAY_SEARCH``), so the client parses exactly the same
100 runs; every other call gets the smallest answer the client accepts. What the client
takes against this is the floor no server can go below: the rest of a real server's time
is its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RUN_ID = "0" * 32
_EXPERIMENT = {"experiment_id": "1", "name": "replay", "lifecycle_stage": "active"}
_RUN = {
    "info": {
        "run_id": RUN_ID,
        "run_uuid": RUN_ID,
        "experiment_id": "1",
        "status": "RUNNING",
        "start_time": 0,
        "lifecycle_stage": "active",
        "artifact_uri": "",
    },
    "data": {},
}
ANSWERS = {
    "/api/2.0/mlflow/experiments/get-by-name": json.dumps({"experiment": _EXPERIMENT}).encode(),
    "/api/2.0/mlflow/runs/create": json.dumps({"run": _RUN}).encode(),
}
if "REPLAY_SEARCH" in os.environ:
    ANSWERS["/api/2.0/mlflow/runs/search"] = Path(os.environ["REPLAY_SEARCH"]).read_bytes()
HEADERS = [(b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the whole request, as a real server does
        more = (await receive()).get("more_body", False)
    body = ANSWERS.get(scope["path"], b"{}")
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": body})
