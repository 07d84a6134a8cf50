"""docs/cli.md is generated from ``--help``; this fails when it is out of date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        result.stderr or result.stdout
    ) + "\nregenerate with: .venv/bin/python scripts/gen_cli_docs.py"


def test_every_command_is_in_the_reference() -> None:
    from typer.main import get_command

    from loopwise.cli import app

    text = (ROOT / "docs" / "cli.md").read_text()
    root = get_command(app)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        assert f"## `loopwise {name}`" in text
        for sub in getattr(command, "commands", {}):
            assert f"## `loopwise {name} {sub}`" in text
