"""The path-attribution benchmark file: 1,000,000 journeys over 10 channels, aggregated by path.

Deterministic (seeded numpy): journey lengths 1 … 14 (geometric, mean ≈ 2.9), channels drawn by
popularity with a 25 % chance of repeating the previous touch, each touch converting with its
channel's effectiveness (p = 1 - Π(1 - e_c)) and a converted journey worth a lognormal value scaled
by its last channel. Journeys are aggregated into one row per distinct path (≈ 150,000 rows) in the
CSV layout of CONTRACT.md, cached under var/bench/paths/.
Run `.venv/bin/python -m benchmarks.paths_data [--rebuild]` to (re)build and print its shape.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.common import ROOT

JOURNEYS = 1_000_000
CHANNELS = (
    "display",
    "email",
    "events",
    "paid_search",
    "partners",
    "referral",
    "seo",
    "social_organic",
    "social_paid",
    "webinar",
)
POPULARITY = (0.16, 0.14, 0.04, 0.15, 0.05, 0.06, 0.16, 0.10, 0.09, 0.05)
EFFECTIVENESS = (0.010, 0.040, 0.090, 0.050, 0.060, 0.070, 0.030, 0.015, 0.020, 0.080)
VALUE_SCALE = (0.6, 1.0, 2.5, 1.2, 1.8, 1.5, 0.9, 0.7, 0.8, 2.0)
MAX_LENGTH = 14
SEED = 20261203
FILE = ROOT / "var" / "bench" / "paths" / f"journeys_{JOURNEYS // 1000}k_v1.csv"


def build(path: Path = FILE, *, journeys: int = JOURNEYS, seed: int = SEED) -> Path:
    """Generate the journeys, aggregate them by path and write the CSV."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    k = len(CHANNELS)
    lengths = np.minimum(rng.geometric(0.34, size=journeys), MAX_LENGTH)
    touches = int(lengths.sum())
    codes = rng.choice(k, size=touches, p=np.array(POPULARITY) / sum(POPULARITY))
    starts = np.zeros(journeys, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    first = np.zeros(touches, dtype=bool)
    first[starts] = True
    repeat = (rng.random(touches) < 0.25) & ~first
    # A repeated touch copies the previous one (runs of repeats copy the run's start).
    index = np.where(repeat, 0, np.arange(touches))
    index = np.maximum.accumulate(index)
    codes = codes[index]
    journey = np.repeat(np.arange(journeys), lengths)
    miss = np.log1p(-np.array(EFFECTIVENESS))[codes]
    convert_p = 1.0 - np.exp(np.bincount(journey, weights=miss, minlength=journeys))
    converted = rng.random(journeys) < convert_p
    last = codes[starts + lengths - 1]
    value = np.where(
        converted,
        np.round(rng.lognormal(4.5, 0.6, size=journeys) * np.array(VALUE_SCALE)[last], 2),
        0.0,
    )
    # A path's key: its codes in base k + 1 (lengths ≤ 14 fit in int64).
    weights = np.power(k + 1, np.arange(touches) - starts[journey]).astype(np.int64)
    key = np.bincount(journey, weights=(codes + 1) * weights.astype(np.float64), minlength=journeys)
    frame = (
        pl.DataFrame(
            {
                "key": key.astype(np.int64),
                "journey": np.arange(journeys),
                "conv": converted.astype(np.int64),
                "value": value,
            }
        )
        .group_by("key")
        .agg(
            pl.col("journey").first(),
            pl.col("conv").sum().alias("total_conversions"),
            pl.col("value").sum().round(2).alias("total_conversion_value"),
            pl.len().alias("journeys"),
        )
        .sort("journey")
    )
    names = np.array(CHANNELS, dtype=object)
    first_journeys = frame.get_column("journey").to_numpy()
    paths = [">".join(names[codes[starts[j] : starts[j] + lengths[j]]]) for j in first_journeys]
    out = frame.select(
        pl.Series("path", paths),
        "total_conversions",
        "total_conversion_value",
        (pl.col("journeys") - pl.col("total_conversions")).alias("total_null"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    out.write_csv(partial)
    partial.replace(path)
    return path


def dataset(*, rebuild: bool = False) -> Path:
    """The cached benchmark CSV, built on first use."""
    if rebuild or not FILE.exists():
        build()
    return FILE


def main(argv: list[str]) -> int:
    import polars as pl

    path = dataset(rebuild="--rebuild" in argv)
    frame = pl.read_csv(path)
    conversions = int(frame["total_conversions"].sum())
    journeys = conversions + int(frame["total_null"].sum())
    print(
        f"{path}: {frame.height:,} distinct paths, {journeys:,} journeys, "
        f"{conversions:,} conversions, value {float(frame['total_conversion_value'].sum()):,.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
