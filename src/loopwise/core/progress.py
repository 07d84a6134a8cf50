"""How long work reports progress, without knowing who shows it.

The library takes a ``Reporter``; the CLI passes one that draws Rich progress bars on
stderr, tests and the SDK pass ``QuietReporter``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Reporter(Protocol):
    def info(self, message: str) -> None: ...

    def task(self, description: str, total: int) -> Callable[[int], None]:
        """Start a task of ``total`` steps; returns the function that advances it."""
        ...


class QuietReporter:
    def info(self, message: str) -> None:
        pass

    def task(self, description: str, total: int) -> Callable[[int], None]:
        return lambda _n: None
