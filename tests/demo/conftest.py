"""Demo fixtures: run ``loopwise`` in-process, and train each demo model once per session."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from loopwise.cli import app
from loopwise.core.settings import Settings
from loopwise.demo import seed
from loopwise.demo.training import ModelSpec, Split, Trained, steps

_TRAINED: dict[str, Trained] = {}


@dataclass
class DemoCli:
    home: Path
    database_url: str

    def __call__(self, *args: str) -> Result:
        argv = ["--home", str(self.home), "--database-url", self.database_url, *args]
        return CliRunner(env={"COLUMNS": "200"}).invoke(app, argv, prog_name="loopwise")

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)


@pytest.fixture(autouse=True)
def _no_loopwise_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("LOOPWISE_") and name != "LOOPWISE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    yield


@pytest.fixture(autouse=True)
def _train_each_model_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training is deterministic: fit each model for real once, reuse it in later tests."""
    real = seed.train

    def cached(spec: ModelSpec, split: Split, advance: Callable[[int], None]) -> Trained:
        if spec.run_name not in _TRAINED:
            _TRAINED[spec.run_name] = real(spec, split, advance)
        else:
            advance(steps(spec))
        return _TRAINED[spec.run_name]

    monkeypatch.setattr(seed, "train", cached)


@pytest.fixture
def cli(settings: Settings, database_url: str) -> DemoCli:
    return DemoCli(settings.home, database_url)
