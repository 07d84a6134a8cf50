"""Wire models for RACI."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from loopwise.core.types import Name, StrictIn
from loopwise.planning.raci.models import RaciRole


class RaciSet(StrictIn):
    deliverable: Name
    people: dict[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)],
        RaciRole,
    ] = Field(max_length=50)
