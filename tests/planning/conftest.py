"""Planning tests: projects made through the projects service."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from use_cases import UseCases


@pytest.fixture
def make_project(do: UseCases) -> Callable[[str], str]:
    def make(key: str) -> str:
        do(projects.create_project, ProjectCreate(key=key, name=key.title()))
        return key

    return make
