"""Agreement between two raters who labelled the same items.

Cohen's kappa: kappa = (p_o - p_e) / (1 - p_e), with p_o the share of items both raters
labelled alike and p_e the agreement expected by chance from each rater's own label
shares (sum over labels of share_a * share_b). 1 is perfect agreement, 0 what chance
gives, below 0 worse than chance. Undefined (None) with no items, or when chance alone
gives full agreement (p_e = 1: both raters used one and the same label throughout).
The same value as ``sklearn.metrics.cohen_kappa_score`` (unweighted).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Kappa:
    items: int
    observed: float | None  # p_o
    expected: float | None  # p_e
    kappa: float | None


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> Kappa:
    """Cohen's kappa of two raters' labels of the same items, in the same order."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return Kappa(0, None, None, None)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    if expected >= 1.0:
        return Kappa(n, observed, expected, None)
    return Kappa(n, observed, expected, (observed - expected) / (1.0 - expected))
