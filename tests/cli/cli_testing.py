"""Helpers for CLI tests: run ``loopwise`` in-process and check its failures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from loopwise.cli import app


@dataclass
class CliCall:
    """``loopwise --home H --database-url U <args>`` in this process."""

    home: Path
    database_url: str

    def __call__(self, *args: str, input: str | None = None) -> Result:
        argv = ["--home", str(self.home), "--database-url", self.database_url, *args]
        # A wide terminal, so Rich tables do not wrap the cells the tests look for.
        runner = CliRunner(env={"COLUMNS": "200"})
        return runner.invoke(app, argv, input=input, prog_name="loopwise")

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)


def assert_one_line_error(result: Result, exit_code: int, *needles: str) -> None:
    """Failed with ``exit_code``, one ``error:`` line on stderr, no traceback."""
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""


def deliver_one_per_day(api: Any, clock: Any, project: str, total: int, days: int) -> list[str]:
    """``total`` tasks in ``project``; the first ``days`` of them finished one a day, the
    last one about four hours before the real now (the CLI reads the system clock).

    Written through the API of an app on a frozen clock that shares the CLI's database.
    """
    from datetime import UTC, datetime, timedelta

    clock.current = datetime.now(UTC) - timedelta(days=days)
    keys = []
    for i in range(total):
        r = api.post(f"/api/v1/projects/{project}/items", json={"title": f"task {i}"})
        assert r.status_code == 201, r.text
        keys.append(r.json()["key"])
    for key in keys[:days]:
        for status, hours in (("in_progress", 20), ("done", 4)):
            r = api.post(f"/api/v1/items/{key}/status", json={"status": status})
            assert r.status_code == 200, r.text
            clock.advance(timedelta(hours=hours))
    return keys
