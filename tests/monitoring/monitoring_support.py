"""Helpers of the monitoring tests: production-like frames that drift or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

KEY = "MON"
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday; the FrozenClock starts at 09:00


def frame(
    rows: int,
    *,
    seed: int,
    shift: float = 0.0,
    start: datetime = START,
    every: timedelta = timedelta(seconds=10),
    ids: str | None = "p",
    labels: bool = True,
) -> pd.DataFrame:
    """Feature rows and predictions; ``shift`` moves the numeric features and the scores
    (drift), keeping the labels' relation to the features."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0 + shift, 1, rows)
    x2 = rng.normal(5 + shift, 2, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
    logit = 1.5 * (x1 - shift) + 0.4 * (x2 - 5 - shift)
    p = 1 / (1 + np.exp(-logit))
    label = (rng.random(rows) < p).astype(float)
    score = 1 / (1 + np.exp(-(1.5 * x1 + 0.4 * (x2 - 5))))
    out = pd.DataFrame({"x1": x1, "x2": x2, "plan": plan, "score": score})
    out["prediction"] = (score >= 0.5).astype(int)
    if labels:
        out["label"] = label
    if ids:
        out.insert(0, "prediction_id", [f"{ids}{i}" for i in range(rows)])
    out["timestamp"] = [(start + i * every).isoformat().replace("+00:00", "Z") for i in range(rows)]
    out["latency_ms"] = rng.gamma(2.0, 20.0, rows)
    return out


def write_batch(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path
