"""Cohen's kappa against scikit-learn's ``cohen_kappa_score``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from loopwise.numeric.agreement import cohen_kappa

pairs = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_kappa_equals_scikit_learn(labelled: list[tuple[int, int]]) -> None:
    a = [x for x, _ in labelled]
    b = [y for _, y in labelled]
    ours = cohen_kappa(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns (and answers nan) when p_e = 1
        theirs = cohen_kappa_score(a, b)
    if ours.kappa is None:
        assert np.isnan(theirs) and len(set(a) | set(b)) == 1
    else:
        assert ours.kappa == pytest.approx(theirs, abs=1e-12)
    assert ours.observed == pytest.approx(np.mean(np.equal(a, b)))


def test_known_values_and_edges() -> None:
    assert cohen_kappa([1, 0, 1, 1], [1, 0, 1, 1]).kappa == 1.0
    assert cohen_kappa([1, 0], [0, 1]).kappa == -1.0
    assert cohen_kappa([], []).kappa is None
    assert cohen_kappa(["a", "a"], ["a", "a"]).kappa is None  # chance agrees fully
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([1], [1, 0])
