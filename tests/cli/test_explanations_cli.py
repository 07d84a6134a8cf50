"""What only the `loopwise governance explanations` door does: the table, --top, --json
and a one-line error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from cli_testing import CliCall, assert_one_line_error
from fastapi import FastAPI

from loopwise.data import service as data
from loopwise.governance import explanations
from loopwise.governance.schemas import ExplanationIn
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry


def test_explanations_are_listed(cli: CliCall, app: FastAPI, tmp_path: Path) -> None:
    path = tmp_path / "eval.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}).to_parquet(path)
    state = app.state.loopwise
    with state.context(state.ensure_local_actor(), write=True) as ctx:
        projects.create_project(ctx, ProjectCreate(key="EXP", name="Explain"))
        registry.create_model(ctx, "EXP", "diab")
        registry.create_version(ctx, "diab", source="s3://m/1")
        dv = data.register_path(ctx, "EXP", "eval", path).version.id
        body = ExplanationIn(
            dataset_version_id=dv,
            scoring="r2",
            n_repeats=1,
            features=["[bold]age", "bmi", "s5"],
            importances_mean=[0.01, 0.3, 0.2],
            importances_std=[0.0, 0.02, 0.01],
        )
        kept = explanations.record_explanation(ctx, "diab", 1, body)
    shown = cli.ok("governance", "explanations", "diab", "1", "--top", "2").stdout
    assert f"{kept.id}: diab v1, permutation (r2, 1 repeats) on {dv}" in shown
    assert shown.index("bmi") < shown.index("s5") and "[bold]age" not in shown
    assert "1 more (--top 0 shows all)" in shown
    assert "[bold]age" in cli.ok("governance", "explanations", "diab", "1", "--top", "0").stdout
    (listed,) = cli.json("governance", "explanations", "diab", "1", "--latest")
    assert listed["id"] == kept.id and listed["features"][1]["mean"] == 0.3
    assert_one_line_error(cli("governance", "explanations", "diab", "7"), 3, "no version 7")
