"""All six path models over 1,000,000 journeys, as whole processes, against ChannelAttribution.

Data: benchmarks.paths_data (1,000,000 journeys over 10 channels aggregated into ≈ 150,000
distinct paths, with conversion value and null columns). Measured in the same run, ROUNDS times
each, alternating: (a) the whole `tandem attribution paths FILE --models all --out OUT` process;
(b) the baseline, a whole Python process that imports pandas and ChannelAttribution, reads the same
file and runs `heuristic_models` (first, last, linear touch, with value) plus `markov_model` (order
1, its defaults, with the value and null columns) and writes both results to CSV. Medians compared.

Target: ours ≤ 1/3 of the baseline's wall time. Also checks that our output credits every model's
conversions and value to the file's totals, and prints the largest gap between our exact Markov
credits and the baseline's simulated ones.
Run: `.venv/bin/python -m benchmarks.bench_attribution_paths [--rebuild] [--rounds N]`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, report

ROUNDS = 3
TARGET_RATIO = 1 / 3

BASELINE = """
import sys
import pandas as pd
import ChannelAttribution as ca

data = pd.read_csv(sys.argv[1])
heuristic = ca.heuristic_models(
    data, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False
)
markov = ca.markov_model(
    data, "path", "total_conversions", var_value="total_conversion_value",
    var_null="total_null", order=1, verbose=False, flg_pro=False,
)
heuristic.to_csv(sys.argv[2] + ".heuristic.csv", index=False)
markov.to_csv(sys.argv[2] + ".markov.csv", index=False)
"""


def run(cmd: list[str]) -> float:
    """Wall time in seconds of one whole process (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {str(done.stderr).strip()[-500:]}")
    return seconds


def main(argv: list[str]) -> int:
    from benchmarks import paths_data

    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else ROUNDS
    data = paths_data.dataset(rebuild="--rebuild" in argv)
    tandem = str(Path(sys.executable).parent / "tandem")
    with tempfile.TemporaryDirectory() as tmp:
        ours_out = Path(tmp) / "ours.csv"
        theirs_out = Path(tmp) / "theirs"
        script = Path(tmp) / "baseline.py"
        script.write_text(BASELINE)
        ours_cmd = [
            tandem,
            "attribution",
            "paths",
            str(data),
            "--models",
            "all",
            "--out",
            str(ours_out),
        ]
        theirs_cmd = [sys.executable, str(script), str(data), str(theirs_out)]
        run(ours_cmd)  # warm the page cache and the imports' .pyc files once for both
        run(theirs_cmd)
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(run(ours_cmd))
            theirs.append(run(theirs_cmd))
        ok = check(data, ours_out, Path(str(theirs_out) + ".markov.csv"))
    print(
        f"attribution paths ({data.name}; {rounds} alternating rounds; "
        f"ours {', '.join(f'{s:.2f}' for s in ours)} s; "
        f"ChannelAttribution {', '.join(f'{s:.2f}' for s in theirs)} s)"
    )
    baseline = statistics.median(theirs)
    passed = report(
        "  tandem attribution paths, all six models",
        figure="median wall time of the whole process",
        value=statistics.median(ours),
        unit="s",
        target=baseline * TARGET_RATIO,
        baseline=baseline,
        baseline_label="ChannelAttribution heuristic_models + markov_model, whole process",
    )
    return 0 if passed and ok else 1


def check(data: Path, ours_out: Path, theirs_markov: Path) -> bool:
    """Our credits add up to the file's totals per model; print the Markov gap to the baseline."""
    import polars as pl

    source = pl.read_csv(data)
    conversions = float(source["total_conversions"].sum())
    value = float(source["total_conversion_value"].sum())
    ours = pl.read_csv(ours_out)
    sums = ours.group_by("model").agg(pl.col("conversions").sum(), pl.col("value").sum())
    ok = sums.height == 6 and all(
        abs(c - conversions) <= 1e-3 and abs(v - value) <= 1e-2 * max(1.0, value / 1e6)
        for c, v in sums.select("conversions", "value").iter_rows()
    )
    print(
        f"  totals: every model credits {conversions:,.0f} conversions and {value:,.2f} value "
        f"{'PASS' if ok else 'FAIL'}"
    )
    theirs = pl.read_csv(theirs_markov).rename({"channel_name": "channel"})
    markov = ours.filter(pl.col("model") == "markov").join(theirs, on="channel")
    gaps = (markov["conversions"] - markov["total_conversions"]).abs() / markov["total_conversions"]
    gap = float(gaps.max() or 0.0)  # type: ignore[arg-type]
    print(f"  Markov: largest relative gap to ChannelAttribution's simulation = {gap:.2%}")
    return ok


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
