"""The table of run param, tag and metric-key values every door must answer alike
(tracking.validation): shared by the direct tests and the door test."""

from __future__ import annotations

from typing import Any

# (what, key, value, accepted, words of the refusal)
CASES: list[tuple[str, str, Any, bool, str]] = [
    ("param", "p6000", "v" * 6000, True, ""),
    ("param", "p6001", "v" * 6001, False, "at most 6000 characters"),
    ("param", "p100k", "v" * 100_000, False, "at most 6000 characters"),
    ("tag", "t8000", "v" * 8000, True, ""),
    ("tag", "t8001", "v" * 8001, False, "at most 8000 characters"),
    ("param", "k" * 250, "1", True, ""),
    ("tag", "k" * 251, "1", False, "at most 250 characters"),
    ("metric", "m" * 251, 1.0, False, "at most 250 characters"),
    ("param", "", "1", False, ""),  # MLflow's wording on its per-call door: "Missing value"
    ("param", "nul\x00key", "1", False, "should match pattern|Names may only contain"),
    ("tag", "nul\x00key", "1", False, "should match pattern|Names may only contain"),
    ("metric", "nul\x00key", 1.0, False, "should match pattern|Names may only contain"),
    ("param", "tab\tkey", "1", False, "should match pattern|Names may only contain"),
    ("tag", "bell\x07key", "1", False, "should match pattern|Names may only contain"),
    ("tag", "odd%key", "1", False, "should match pattern|Names may only contain"),
    ("param", "pnul", "a\x00b", False, "NUL characters cannot be stored"),
    ("tag", "tnul", "a\x00b", False, "NUL characters cannot be stored"),
    ("param", "température / lr:0.1-x_y", "1", True, ""),
    ("metric", "val/auc:1 é", 1.0, True, ""),
    ("tag", "lines", "two\nlines\tand a tab", True, ""),
]


def said(says: str, message: str) -> bool:
    """Whether ``message`` holds one of the ``|``-separated wordings (the native door
    words a bad key as pydantic does; the MLflow door as MLflow's server does)."""
    return any(part in message for part in says.split("|"))
