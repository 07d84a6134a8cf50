"""A project with a registered model, made through the services."""

from __future__ import annotations

import pytest

from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry
from loopwise.registry.schemas import ModelCreate
from use_cases import UseCases


@pytest.fixture
def model(do: UseCases) -> str:
    do(projects.create_project, ProjectCreate(key="REG", name="Registry"))
    body = ModelCreate(name="churn-model")
    assert do(registry.create_model, "REG", body.name, body.description).name == "churn-model"
    return "churn-model"
