"""Where Loopwise deliberately differs from Evidently, and CBPE against the real NannyML.

Evidently: ``evidently==0.7.23`` resolves with our dependencies, but does not import under
pandas 3 (the version our ``pandas>=2.2`` resolves to): ``evidently.legacy.tests``
imports ``infer_dtype_from_object`` from ``pandas.core.dtypes.common``, which pandas 3
removed. Pinning ``pandas<3`` for everyone to run a peer in tests is not worth it, so these
tests reproduce Evidently's formulas as ``shared/reference/monitoring-facts.md`` and its
source (``evidently/legacy/calculations/stattests``) state them. The benchmark runs the
real Evidently in a venv of its own (bench/README.md); the two reproduced formulas were
checked there against Evidently's ``chi_stat_test`` and ``psi_stat_test`` (equal to 1e-12
on 20 generated pairs each).

NannyML ``0.13.1`` installs and runs with our dependencies (it warns about pandas 3
deprecations), so its own CBPE functions are called here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loopwise.numeric.cbpe import estimate_performance
from loopwise.numeric.drift import ColumnKind, DriftTest, column_drift

CAT = ColumnKind.CATEGORICAL


# -- Evidently's formulas, reproduced ---------------------------------------------------------


def evidently_chisquare_p(ref: np.ndarray, cur: np.ndarray) -> float:
    """Evidently's ``chisquare``: one-sample goodness of fit, reference shares taken as
    exact: ``chisquare(f_obs=cur_counts, f_exp=ref_counts * n_cur / n_ref)``."""
    keys = sorted(set(ref) | set(cur))
    r, c = pd.Series(ref).value_counts(), pd.Series(cur).value_counts()
    f_exp = np.array([r.get(k, 0) for k in keys]) * len(cur) / len(ref)
    f_obs = np.array([c.get(k, 0) for k in keys])
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.chisquare(f_obs, f_exp).pvalue)


def evidently_psi(ref: np.ndarray, cur: np.ndarray) -> float:
    """Evidently's ``psi`` on a numeric column with > 20 reference values: Sturges bins on
    reference and current together; an empty bin gets 0.0001 (or min/1e6)."""
    bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    p = np.histogram(ref, bins)[0] / len(ref)
    q = np.histogram(cur, bins)[0] / len(cur)
    for shares in (p, q):
        smallest = shares[shares != 0].min()
        np.place(shares, shares == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return float(np.sum((p - q) * np.log(p / q)))


def alarm_rates(
    draw: Callable[[np.random.Generator], np.ndarray], reps: int, seed: int
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    ours = theirs = 0
    for _ in range(reps):
        ref, cur = draw(rng), draw(rng)
        ours += column_drift("c", ref, cur, CAT, DriftTest.CHI2).drifted
        theirs += evidently_chisquare_p(ref, cur) < 0.05
    return ours / reps, theirs / reps


def test_two_sample_chi_square_keeps_its_level_where_evidentlys_does_not() -> None:
    """Both samples from one distribution (8 categories, equal sizes): Evidently's test
    ignores the reference's own sampling noise, so its statistic is about twice what it
    assumes and it flags drift ~42% of the time at alpha 0.05 (monitoring-facts.md)."""
    cats = np.array(list("abcdefgh"), dtype=object)
    ours, theirs = alarm_rates(lambda r: r.choice(cats, size=500), reps=600, seed=50)
    assert 0.03 <= ours <= 0.08  # 600 runs: standard error 0.9 points
    assert 0.33 <= theirs <= 0.52


def test_an_unseen_category_gives_evidently_p_zero_and_us_a_real_p_value() -> None:
    rng = np.random.default_rng(51)
    cats = np.array(["a", "b", "c"], dtype=object)
    ref = rng.choice(cats, size=600)
    cur = np.concatenate([rng.choice(cats, size=599), np.array(["new"], dtype=object)])
    ours = column_drift("c", ref, cur, CAT, DriftTest.CHI2)
    assert evidently_chisquare_p(ref, cur) == 0.0
    assert ours.p_value is not None and ours.p_value > 0.05 and not ours.drifted


def test_decile_psi_sees_a_shift_in_the_bulk_that_sturges_bins_spread_thin() -> None:
    """A skewed column whose bulk moves: Evidently's equal-width bins over both samples
    spend most bins on the long tail, so the bulk sits in one or two bins and the shift
    barely shows; reference deciles keep ten bins of equal reference mass."""
    rng = np.random.default_rng(52)
    ref, cur = rng.lognormal(0, 1.5, 20_000), rng.lognormal(0.3, 1.5, 20_000)
    ours = column_drift("x", ref, cur, ColumnKind.NUMERIC, DriftTest.PSI).statistic
    theirs = evidently_psi(ref, cur)
    assert ours > 3 * theirs, (ours, theirs)
    same = column_drift("x", ref, rng.lognormal(0, 1.5, 20_000), ColumnKind.NUMERIC, DriftTest.PSI)
    assert same.statistic < 0.01  # and no alarm without a shift


# -- NannyML ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nannyml_metrics() -> Iterator[object]:
    os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")  # no usage pings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a plain import: the test extra installs nannyml, so its absence is a failure
        import nannyml.performance_estimation.confidence_based.metrics as metrics
    yield metrics


def test_cbpe_estimates_are_nannymls(nannyml_metrics) -> None:  # type: ignore[no-untyped-def]
    m = nannyml_metrics
    rng = np.random.default_rng(60)
    for n in (200, 5000):
        scores = rng.beta(1.5, 2.5, size=n)
        for threshold in (0.3, 0.5):
            pred = (scores >= threshold).astype(int)
            ours = estimate_performance(scores, threshold)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert ours.accuracy == pytest.approx(m.estimate_accuracy(pred, scores))
                assert ours.precision == pytest.approx(m.estimate_precision(pred, scores))
                assert ours.recall == pytest.approx(m.estimate_recall(pred, scores))
                assert ours.f1 == pytest.approx(m.estimate_f1(pred, scores))
                # NannyML rounds its cumulative counts to 5 decimals
                assert ours.roc_auc == pytest.approx(m.estimate_roc_auc(scores, scores), abs=1e-4)


def test_cbpe_matches_nannymls_estimator_end_to_end(nannyml_metrics) -> None:  # type: ignore[no-untyped-def]
    """NannyML's CBPE first recalibrates the scores on the labelled reference (isotonic);
    with calibrated scores that changes little, so the two estimates agree closely."""
    import nannyml as nml

    rng = np.random.default_rng(61)
    ref_scores, cur_scores = rng.beta(1.5, 2.5, size=20_000), rng.beta(2.5, 2.0, size=10_000)
    reference = pd.DataFrame(
        {
            "p": ref_scores,
            "y_pred": (ref_scores >= 0.5).astype(int),
            "y": (rng.random(20_000) < ref_scores).astype(int),
        }
    )
    analysis = pd.DataFrame({"p": cur_scores, "y_pred": (cur_scores >= 0.5).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cbpe = nml.CBPE(
            y_pred_proba="p",
            y_pred="y_pred",
            y_true="y",
            problem_type="classification_binary",
            metrics=["roc_auc", "f1", "precision", "recall", "accuracy"],
            chunk_number=1,
        )
        cbpe.fit(reference)
        table = cbpe.estimate(analysis).filter(period="analysis").to_df()
    ours = estimate_performance(cur_scores)
    for metric in ("roc_auc", "f1", "precision", "recall", "accuracy"):
        theirs = float(table[(metric, "value")].iloc[0])
        assert getattr(ours, metric) == pytest.approx(theirs, abs=0.01), metric
