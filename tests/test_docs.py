"""Docs that cannot drift: every setting is documented in README."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopwise.core.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`LOOPWISE_{name.upper()}`" in README
