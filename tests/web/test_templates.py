"""Every template parses (a page that nobody opened in a test still fails here first)."""

from __future__ import annotations

import pytest

from loopwise.web.pages import TEMPLATES, templates

NAMES = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.*"))


@pytest.mark.parametrize("name", NAMES)
def test_template_parses(name: str) -> None:
    templates().env.get_template(name)
