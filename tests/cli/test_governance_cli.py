"""What only the `loopwise gate` door does: arguments, tables, exit codes."""

from __future__ import annotations

import pytest
from cli_testing import CliCall, assert_one_line_error


def test_gates_and_an_overridden_phase_change(
    cli: CliCall, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPWISE_DEFAULT_GATES", "true")
    cli.ok("project", "create", "GOV", "Gov")
    listed = cli.ok("gate", "list", "GOV").stdout
    assert "Intake and risk classification" in listed and "pending" in listed
    refused = cli("project", "set-phase", "GOV", "data_understanding")
    assert_one_line_error(refused, 4, "cannot move from Business understanding", "Intake")
    gate = cli.json("gate", "list", "GOV")[0]["id"]
    shown = cli.ok("gate", "attest", gate, "purpose", "--note", "in the charter").stdout
    assert "attested by local" in shown
    assert "2026-08-02 (" in shown  # due when the AI Act's Art. 9 applies
    assert_one_line_error(cli("gate", "attest", gate, "nope"), 2, "no checklist item 'nope'")
    moved = cli.json(
        "project", "set-phase", "GOV", "data_understanding", "--override", "--reason", "pilot"
    )
    assert moved["phase"] == "data_understanding"
    assert "override" in cli.ok("project", "phases", "GOV").stdout
    assert "EU AI Act Art. 72" in cli.ok("gate", "templates").stdout
