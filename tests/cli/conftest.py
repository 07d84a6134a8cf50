"""CLI fixtures: ``cli(...)`` runs ``loopwise`` in-process against the test database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from cli_testing import CliCall

from loopwise.core.settings import Settings


@pytest.fixture(autouse=True)
def _no_loopwise_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings come from flags here, never from the developer's environment."""
    for name in list(os.environ):
        if name.startswith("LOOPWISE_") and name != "LOOPWISE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    # As in tests/conftest.py's settings: projects made here get no default gates.
    monkeypatch.setenv("LOOPWISE_DEFAULT_GATES", "false")
    yield


@pytest.fixture
def cli(settings: Settings, database_url: str) -> CliCall:
    return CliCall(settings.home, database_url)
