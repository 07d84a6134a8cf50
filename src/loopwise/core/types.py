"""Shared annotated types."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import PlainSerializer


def json_float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# A float that survives JSON: non-finite values travel as "NaN", "Infinity", "-Infinity".
JsonFloat = Annotated[float, PlainSerializer(json_float, when_used="json")]
