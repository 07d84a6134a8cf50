"""Fairness audit: Loopwise's ``numeric.fairness.audit`` against Fairlearn's MetricFrame
doing the same bootstrap, on the same data, in one run.

    .venv/bin/python bench/fairness_bench.py                        # 1M rows, ~5 minutes
    .venv/bin/python bench/fairness_bench.py --rows 100000 --fairlearn-boot 5

Data (seeded): ``--rows`` rows, two sensitive features as text (sex: 2 values, race: 5,
so 10 intersections, the smallest about 3% of the rows), labels and predictions whose
rates differ by group. Both sides get the same NumPy arrays.

- **loopwise**: ``audit(y, p, {"sex": ..., "race": ...}, bootstrap=1000)``: the groups of
  each feature and of the intersection, seven per-group metrics, twelve between-group
  measures over three groupings, the four-fifths rule, and 1,000 percentile bootstrap
  replicates of every measure. Median of 3 runs.
- **fairlearn**: ``MetricFrame`` with the same seven metrics (``count``,
  ``selection_rate``, ``accuracy_score``, ``true_positive_rate``, ``false_positive_rate``,
  ``false_negative_rate``, ``precision_score``) over both sensitive columns (the
  intersection only: one grouping where Loopwise does three, so the ratio understates
  Loopwise's lead), once without bootstrap (the point values, timed) and once with
  ``n_boot=--fairlearn-boot`` and ``ci_quantiles=[0.025, 0.975]``. Fairlearn resamples
  the rows and recomputes every metric per replicate (about 30 s per replicate at 1M rows
  here), so 1,000 replicates are **extrapolated linearly**: point + 1,000 x (time with
  k replicates - point) / k. The script says so in its output.

Point values: every per-group metric of the intersection and every between-group measure
over it, from MetricFrame's ``by_group``, ``difference()`` and ``ratio()`` (what
Fairlearn's ``demographic_parity_ratio`` and friends compute), against the audit's; the
maximum absolute difference is printed. Not a test: run by hand, read the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd

from loopwise.numeric.fairness import FairnessAudit, audit

SPREADS = {
    "demographic_parity": "selection_rate",
    "equal_opportunity": "true_positive_rate",
    "predictive_equality": "false_positive_rate",
    "predictive_parity": "precision",
    "accuracy": "accuracy",
}


def make_data(rows: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    sex = rng.choice(np.array(["F", "M"], dtype=object), rows, p=[0.45, 0.55])
    race = rng.choice(
        np.array(["A", "B", "C", "D", "E"], dtype=object), rows, p=[0.5, 0.2, 0.15, 0.08, 0.07]
    )
    shift = (sex == "M") * 0.08 + np.select(
        [race == "B", race == "C", race == "D"], [-0.05, 0.03, -0.1], 0.0
    )
    y = (rng.random(rows) < 0.35 + shift).astype(np.int64)
    p = (rng.random(rows) < np.where(y == 1, 0.7 + shift, 0.2 + shift)).astype(np.int64)
    return y, p, {"sex": sex, "race": race}


def metrics() -> dict[str, Any]:
    from fairlearn.metrics import (
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    return {
        "count": count,
        "selection_rate": selection_rate,
        "accuracy": accuracy_score,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
        "precision": precision_score,
    }


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def compare(ours: FairnessAudit, frame: Any) -> tuple[float, float]:
    """Max |ours - Fairlearn| over the per-group metrics and the between-group measures."""
    by_group = frame.by_group
    group_gap = 0.0
    for g in ours.groups:
        if g.grouping != "sex & race":
            continue
        row = by_group.loc[tuple(v for _, v in g.values)]
        for name in by_group.columns:
            group_gap = max(group_gap, abs(float(getattr(g, name)) - float(row[name])))
    crossed = next(c for c in ours.comparisons if c.grouping == "sex & race")
    difference, ratio = frame.difference(), frame.ratio()
    theirs = {}
    for stem, rate in SPREADS.items():
        theirs[f"{stem}_difference"] = float(difference[rate])
        theirs[f"{stem}_ratio"] = float(ratio[rate])
    theirs["equalized_odds_difference"] = max(
        float(difference["true_positive_rate"]), float(difference["false_positive_rate"])
    )
    theirs["equalized_odds_ratio"] = min(
        float(ratio["true_positive_rate"]), float(ratio["false_positive_rate"])
    )
    measure_gap = max(
        abs((crossed.measure(name).value or np.nan) - value) for name, value in theirs.items()
    )
    return group_gap, measure_gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument(
        "--fairlearn-boot",
        type=int,
        default=3,
        help="replicates Fairlearn actually runs (the rest are extrapolated)",
    )
    args = parser.parse_args()

    from fairlearn import __version__ as fairlearn_version
    from fairlearn.metrics import MetricFrame

    y, p, sensitive = make_data(args.rows)
    print(f"{args.rows:,} rows, features sex (2) x race (5), {args.boot:,} bootstrap replicates")

    runs = [timed(lambda: audit(y, p, sensitive, bootstrap=args.boot, seed=0)) for _ in range(3)]
    ours = runs[0][0]
    ours_wall = statistics.median(r[1] for r in runs)
    ours_cpu = statistics.median(r[2] for r in runs)
    print(
        f"loopwise audit: {ours_wall:.2f} s wall, {ours_cpu:.2f} s CPU (median of 3); "
        f"{len(ours.groups)} groups, {len(ours.comparisons)} groupings"
    )

    frame_data = pd.DataFrame(sensitive)
    point, point_wall, point_cpu = timed(
        lambda: MetricFrame(metrics=metrics(), y_true=y, y_pred=p, sensitive_features=frame_data)
    )
    print(f"fairlearn {fairlearn_version} MetricFrame, point values: {point_wall:.1f} s wall")
    k = args.fairlearn_boot
    _, boot_wall, boot_cpu = timed(
        lambda: MetricFrame(
            metrics=metrics(),
            y_true=y,
            y_pred=p,
            sensitive_features=frame_data,
            n_boot=k,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        )
    )
    per_wall = max(boot_wall - point_wall, 0.0) / k
    per_cpu = max(boot_cpu - point_cpu, 0.0) / k
    total_wall = point_wall + args.boot * per_wall
    total_cpu = point_cpu + args.boot * per_cpu
    print(
        f"fairlearn MetricFrame with n_boot={k}: {boot_wall:.1f} s wall, so {per_wall:.1f} s "
        f"per replicate; {args.boot:,} replicates EXTRAPOLATED linearly: "
        f"{total_wall:,.0f} s wall ({total_wall / 3600:.2f} h), {total_cpu:,.0f} s CPU"
    )
    print(
        f"ratio fairlearn / loopwise: {total_wall / ours_wall:,.0f}x wall, "
        f"{total_cpu / ours_cpu:,.0f}x CPU (target: at least 20x); "
        f"point values alone: {point_wall / ours_wall:,.0f}x"
    )

    group_gap, measure_gap = compare(ours, point)
    print(
        f"point values: max |loopwise - fairlearn| = {group_gap:.2e} over the per-group "
        f"metrics of the 10 intersections, {measure_gap:.2e} over the 12 between-group measures"
    )
    for m in ours.measures[:6]:
        print(f"  {m.name:32s} {m.value:.4f}  [{m.low:.4f}, {m.high:.4f}]  over {m.grouping}")
    print(f"  four_fifths_rule                 {ours.four_fifths_rule}")


if __name__ == "__main__":
    main()
