"""Shared benchmark plumbing: a fresh database per benchmark, timing and the report line."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent


def setup_django(name: str) -> Path:
    """Point Tandem at a fresh SQLite data dir for this benchmark, migrate, and return the dir."""
    data_dir = ROOT / "var" / "bench" / name
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    os.environ["TANDEM_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    os.environ.setdefault("TANDEM_DEBUG", "true")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def configure_cached(*, directory: Path, database_url: str | None) -> None:
    """Point this process's Django at a kept benchmark database (SQLite in `directory`, or
    PostgreSQL at `database_url`) and migrate it."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "TANDEM_DATA_DIR": str(directory),
            "TANDEM_DEBUG": "false",
            "TANDEM_SECRET_KEY": os.environ.get("TANDEM_SECRET_KEY") or secrets.token_urlsafe(40),
            # testserver: the page benchmarks request through Django's test client.
            "TANDEM_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DJANGO_SETTINGS_MODULE": "tandem.settings",
        }
    )
    if database_url:
        os.environ["TANDEM_DATABASE_URL"] = database_url
    else:
        os.environ.pop("TANDEM_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def connect_cached(*, directory: Path, database_url: str | None) -> Any | None:
    """A DB-API connection to a kept benchmark database, or None when the SQLite file is absent."""
    if database_url:
        import psycopg

        return psycopg.connect(database_url, connect_timeout=5)
    path = directory / "tandem.sqlite3"
    return sqlite3.connect(path) if path.exists() else None


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """Measure wall time of a block into result["seconds"]."""
    result: dict[str, float] = {}
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start


T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Call fn once; its wall time in seconds and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of samples."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def sample_ms(fn: Callable[[], object], *, repeat: int, warmup: int = 3) -> list[float]:
    """Call fn repeatedly and return each call's wall time in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(
    name: str,
    *,
    figure: str,
    value: float,
    unit: str,
    target: float | None,
    baseline: float,
    baseline_label: str,
) -> bool:
    """Print one benchmark line with its ratio to the baseline measured in the same run."""
    ratio = value / baseline if baseline else float("inf")
    verdict = "" if target is None else ("PASS" if value <= target else "FAIL")
    target_text = "" if target is None else f" target <= {target:g} {unit}"
    print(f"{name}: {figure} = {value:.2f} {unit};{target_text} {verdict}".rstrip())
    print(f"  baseline ({baseline_label}) = {baseline:.2f} {unit}; ratio = {ratio:.3f}")
    return verdict != "FAIL"


__all__ = [
    "configure_cached",
    "connect_cached",
    "percentile",
    "report",
    "sample_ms",
    "setup_django",
    "statistics",
    "timer",
]
