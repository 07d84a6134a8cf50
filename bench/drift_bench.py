"""Drift: Loopwise's column tests against Evidently's DataDriftPreset report, same data.

    .venv/bin/python bench/drift_bench.py                          # 200k rows a side
    .venv/bin/python bench/drift_bench.py --rows 200000 1000000    # both sizes, one run
    .venv/bin/python bench/drift_bench.py --rows 200000 --no-evidently

15 numeric and 5 categorical columns (string categories), the same rows count on each
side; some columns are shifted (see ``make_data``). Both sides run in a fresh subprocess
that reads the same Parquet files, so each one's peak memory (``ru_maxrss``) is its own;
imports happen before the clock on every side. Timed: for Loopwise, reading each column
pair from Parquet with pyarrow (no pandas) and ``column_drift`` on the Arrow columns,
then ``dataset_drift``; the same from whole DataFrames loaded first (load not timed);
for Evidently, ``Report([DataDriftPreset()]).run(...)`` on DataFrames loaded first (load
not timed). Loopwise runs in this venv; Evidently 0.7.23
runs in ``bench/.venvs/evidently`` (it does not import under pandas 3), created on first
use with ``python -m venv`` + ``pip install evidently==0.7.23 "pandas<3"``.

Also: the drift from merged profiles of 10 batches a side (``numeric.sketch``) against
the exact result, and the verdict agreement on the columns where both tools use the same
test. Not a test: run by hand, read the numbers. Data go to ``bench/.work/drift/``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "drift"
EVIDENTLY_VENV = HERE / ".venvs" / "evidently"
NUMERIC = [f"n{i:02d}" for i in range(15)]
CATEGORICAL = [f"c{i}" for i in range(5)]
BATCHES = 10


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- data -------------------------------------------------------------------------------------


def make_data(rows: int, folder: Path) -> None:
    """Reference and current Parquet files. Shifted in current: n00-n02 location +0.3 sd,
    n03 +0.05 sd (under the threshold), n04 scale x1.5, n05 +0.1 sd (at the threshold);
    n06 and n07 have 5% NaN; c0 shares move, c1 gains a new category (2%), the rest hold."""
    import numpy as np
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    for side, seed in (("reference", 1), ("current", 2)):
        rng = np.random.default_rng(seed)
        cur = side == "current"
        data: dict[str, Any] = {}
        for i, name in enumerate(NUMERIC):
            if i % 3 == 1:
                x = rng.lognormal(0, 0.8, rows)
            elif i % 3 == 2:
                x = rng.uniform(-2, 2, rows)
            else:
                x = rng.normal(0, 1, rows)
            sd = float(np.std(x))
            if cur and i <= 2:
                x = x + 0.3 * sd
            if cur and i == 3:
                x = x + 0.05 * sd
            if cur and i == 4:
                x = x * 1.5
            if cur and i == 5:
                x = x + 0.1 * sd
            if i in (6, 7):
                x[rng.random(rows) < 0.05] = np.nan
            data[name] = x
        for i, name in enumerate(CATEGORICAL):
            k = 4 + 2 * i
            labels = np.array([f"{name}_v{j}" for j in range(k + 1)], dtype=object)
            shares = np.r_[np.linspace(2, 1, k), 0.0]
            if cur and i == 0:
                shares = np.r_[np.linspace(1, 2, k), 0.0]
            if cur and i == 1:
                shares[-1] = shares[:-1].sum() * 0.02
            data[name] = labels[rng.choice(k + 1, rows, p=shares / shares.sum())]
        pd.DataFrame(data).to_parquet(folder / f"{side}.parquet")


def load(folder: Path) -> tuple[Any, Any]:
    import pandas as pd

    return pd.read_parquet(folder / "reference.parquet"), pd.read_parquet(
        folder / "current.parquet"
    )


# -- the sides (each in its own subprocess) ---------------------------------------------------


def side_loopwise(folder: Path) -> dict[str, Any]:
    """Column by column from the Parquet files (reading is timed too): a drift test needs
    one column pair at a time, so only that pair is ever in memory. Read with pyarrow
    alone and handed to ``column_drift`` as Arrow columns (``numeric.arrow``: numbers to
    float64 without pyarrow's ``to_numpy``, which imports pandas; strings kept
    dictionary-encoded as Parquet stores them and counted by Arrow), so this process
    never imports pandas or SciPy."""
    import pyarrow.compute  # noqa: F401  (imported before the clock, as Evidently's modules)
    import pyarrow.parquet as pq

    from loopwise.numeric.drift import ColumnKind, column_drift, dataset_drift

    base = rss_mb()
    start = time.perf_counter()
    files = [
        pq.ParquetFile(side, read_dictionary=CATEGORICAL, pre_buffer=False)
        for side in (folder / "reference.parquet", folder / "current.parquet")
    ]
    results = []
    for name in NUMERIC + CATEGORICAL:
        kind = ColumnKind.NUMERIC if name in NUMERIC else ColumnKind.CATEGORICAL
        ref, cur = (f.read(columns=[name], use_threads=False).column(0) for f in files)
        results.append(column_drift(name, ref, cur, kind))  # Arrow columns as they are
        del ref, cur
    dataset = dataset_drift(results)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "loaded_mb": base,
        "dataset_drifted": dataset.drifted,
        "modules": sorted(m for m in ("pandas", "scipy") if m in sys.modules),
        "columns": {
            r.column: {"test": r.test.value, "statistic": r.statistic, "drifted": r.drifted}
            for r in results
        },
    }


def side_loopwise_frames(folder: Path) -> dict[str, Any]:
    """The same tests from whole DataFrames loaded first, as Evidently gets them."""
    from loopwise.numeric.drift import ColumnKind, column_drift, dataset_drift

    ref, cur = load(folder)
    base = rss_mb()
    start = time.perf_counter()
    results = []
    for name in NUMERIC + CATEGORICAL:
        kind = ColumnKind.NUMERIC if name in NUMERIC else ColumnKind.CATEGORICAL
        results.append(column_drift(name, ref[name].array, cur[name].array, kind))
    dataset = dataset_drift(results)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "loaded_mb": base,
        "dataset_drifted": dataset.drifted,
        "columns": {
            r.column: {"test": r.test.value, "statistic": r.statistic, "drifted": r.drifted}
            for r in results
        },
    }


EVIDENTLY_METHODS = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}


def side_evidently(folder: Path) -> dict[str, Any]:
    os.environ["DO_NOT_TRACK"] = "1"  # no telemetry
    import warnings

    warnings.simplefilter("ignore")
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = load(folder)
    base = rss_mb()
    start = time.perf_counter()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )
    seconds = time.perf_counter() - start
    columns, dataset_drifted = {}, None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            method = EVIDENTLY_METHODS.get(config["method"], config["method"])
            value = float(metric["value"])
            columns[config["column"]] = {
                "test": method,
                "statistic": value,
                "drifted": value >= config["threshold"],
            }
        elif config["type"].endswith("DriftedColumnsCount"):
            dataset_drifted = metric["value"]["share"] >= config["drift_share"]
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "loaded_mb": base,
        "dataset_drifted": dataset_drifted,
        "columns": columns,
    }


def side_profiles(folder: Path) -> dict[str, Any]:
    """10 batch profiles a side, merged, then drift; against the exact drift."""
    import numpy as np

    from loopwise.numeric.drift import ColumnKind, column_drift
    from loopwise.numeric.sketch import merge, profile_columns, profile_drift, profile_to_dict

    ref, cur = load(folder)
    kinds = {n: ColumnKind.NUMERIC for n in NUMERIC} | {
        n: ColumnKind.CATEGORICAL for n in CATEGORICAL
    }
    start = time.perf_counter()
    merged = []
    for frame in (ref, cur):
        profile = None
        for chunk in np.array_split(np.arange(len(frame)), BATCHES):
            part = frame.iloc[chunk[0] : chunk[-1] + 1]
            batch = profile_columns({n: part[n].to_numpy() for n in kinds}, kinds)
            profile = batch if profile is None else merge(profile, batch)
        merged.append(profile)
    profiled = time.perf_counter() - start
    start = time.perf_counter()
    sketched = profile_drift(merged[0], merged[1])
    drift_seconds = time.perf_counter() - start
    exact = {n: column_drift(n, ref[n].to_numpy(), cur[n].to_numpy(), k) for n, k in kinds.items()}
    rows = []
    for r in sketched:
        e = exact[r.column]
        rows.append(
            {
                "column": r.column,
                "test": r.test.value,
                "sketch": r.statistic,
                "exact": e.statistic,
                "error": abs(r.statistic - e.statistic),
                "bound": r.sketch_error,
                "same_verdict": r.drifted == e.drifted,
            }
        )
    size = len(json.dumps(profile_to_dict(merged[1])))
    return {
        "profile_seconds": profiled,
        "drift_seconds": drift_seconds,
        "json_bytes": size,
        "columns": rows,
    }


# -- the run ----------------------------------------------------------------------------------


def ensure_evidently() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {EVIDENTLY_VENV} (evidently 0.7.23, pandas<3) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        pip = [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "evidently==0.7.23",
            "pandas<3",
            "pyarrow",
        ]
        subprocess.run(pip, check=True)
    return python


def run_side(python: str | Path, side: str, folder: Path) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), __file__, "--side", side, "--data", str(folder)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "DO_NOT_TRACK": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(
    rows: int,
    ours: dict[str, Any],
    frames: dict[str, Any],
    theirs: dict[str, Any] | None,
    prof: dict[str, Any],
) -> dict[str, Any]:
    print(f"\n== {rows:,} rows a side, 15 numeric + 5 categorical columns ==")
    print(
        f"loopwise : {ours['seconds']:8.2f} s   peak {ours['peak_mb']:7.0f} MB (column by column from Parquet, reads timed)"
    )
    print(
        f"  frames : {frames['seconds']:8.2f} s   peak {frames['peak_mb']:7.0f} MB (whole DataFrames loaded first: "
        f"{frames['loaded_mb']:.0f} MB, load not timed)"
    )
    summary: dict[str, Any] = {
        "rows": rows,
        "loopwise": ours,
        "loopwise_frames": frames,
        "profiles": prof,
    }
    if theirs is not None:
        print(
            f"evidently: {theirs['seconds']:8.2f} s   peak {theirs['peak_mb']:7.0f} MB (whole DataFrames loaded first: "
            f"{theirs['loaded_mb']:.0f} MB, load not timed)"
        )
        speed = theirs["seconds"] / ours["seconds"]
        memory = ours["peak_mb"] / theirs["peak_mb"]
        extra = (frames["peak_mb"] - frames["loaded_mb"]) / max(
            theirs["peak_mb"] - theirs["loaded_mb"], 1e-9
        )
        print(
            f"speed-up : {speed:8.1f} x faster (target >= 50x); from DataFrames {theirs['seconds'] / frames['seconds']:.1f} x"
        )
        print(
            f"memory   : {memory:8.3f} of Evidently's peak (target <= 0.25); from DataFrames "
            f"{frames['peak_mb'] / theirs['peak_mb']:.3f}, above the loaded data {extra:.3f}"
        )
        same = [
            n
            for n, r in ours["columns"].items()
            if theirs["columns"].get(n, {}).get("test") == r["test"]
        ]
        agree = sum(ours["columns"][n]["drifted"] == theirs["columns"][n]["drifted"] for n in same)
        gaps = (
            abs(ours["columns"][n]["statistic"] - theirs["columns"][n]["statistic"]) for n in same
        )
        gap = max(gaps, default=0.0)
        print(
            f"verdicts : {agree}/{len(same)} columns agree where both use the same test (largest statistic gap {gap:.2e})"
        )
        print(
            f"dataset  : loopwise drifted={ours['dataset_drifted']}, evidently drifted={theirs['dataset_drifted']}"
        )
        summary |= {
            "evidently": theirs,
            "speedup": speed,
            "memory_ratio": memory,
            "verdicts_agree": f"{agree}/{len(same)}",
        }
    errors = {}
    for r in prof["columns"]:
        worst = errors.setdefault(r["test"], [0.0, 0.0])
        worst[0], worst[1] = max(worst[0], r["error"]), max(worst[1], r["bound"])
    same_verdict = sum(r["same_verdict"] for r in prof["columns"])
    print(
        f"profiles : {BATCHES} batches a side profiled and merged in {prof['profile_seconds']:.2f} s, drift in "
        f"{prof['drift_seconds'] * 1000:.0f} ms, current profile {prof['json_bytes'] / 1024:.0f} KB of JSON"
    )
    for test, (err, bound) in errors.items():
        print(
            f"           {test:13s} largest |sketch - exact| {err:.2e} (stated bound up to {bound:.2e})"
        )
    print(f"           verdicts equal to the exact ones: {same_verdict}/{len(prof['columns'])}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000])
    parser.add_argument(
        "--no-evidently", action="store_true", help="only Loopwise and the profiles"
    )
    parser.add_argument(
        "--side", choices=["loopwise", "frames", "evidently", "profiles"], help=argparse.SUPPRESS
    )
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        sides = {
            "loopwise": side_loopwise,
            "frames": side_loopwise_frames,
            "evidently": side_evidently,
        }
        side = {**sides, "profiles": side_profiles}[args.side]
        print(json.dumps(side(args.data)))
        return
    evidently = None if args.no_evidently else ensure_evidently()
    summaries = []
    for rows in args.rows:
        folder = WORK / str(rows)
        if not (folder / "current.parquet").exists():
            make_data(rows, folder)
        ours = run_side(sys.executable, "loopwise", folder)
        frames = run_side(sys.executable, "frames", folder)
        theirs = None if evidently is None else run_side(evidently, "evidently", folder)
        prof = run_side(sys.executable, "profiles", folder)
        summaries.append(report(rows, ours, frames, theirs, prof))
    (WORK / "last.json").write_text(json.dumps(summaries, indent=2))


if __name__ == "__main__":
    main()
