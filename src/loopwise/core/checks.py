"""The answer of a check one slice lends another through ``core.context.Hooks`` (promotion
checks, phase exit checks)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    """One check's answer: its name, whether it passed, and what it found (or misses)."""

    name: str
    passed: bool
    detail: str = ""
