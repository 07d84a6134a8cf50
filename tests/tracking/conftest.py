"""A project to track runs in, made through the projects service."""

from __future__ import annotations

import pytest

from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from use_cases import UseCases


@pytest.fixture
def project(do: UseCases) -> str:
    do(projects.create_project, ProjectCreate(key="CHURN", name="Churn"))
    return "CHURN"
