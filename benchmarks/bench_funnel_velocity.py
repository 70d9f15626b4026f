"""Funnel and velocity over 1,000,000 contacts and 200,000 deals on PostgreSQL (issue 6).

Data: benchmarks.analytics_data (built once, reused). One figure, the median of ROUNDS rounds
after a warm-up: the whole `tandem.analytics.queries.funnel.funnel()` over all time in cohort
mode plus the whole `tandem.analytics.queries.sales.sales_metrics()` per rep for the quarter
holding the dataset's anchor, each loading from the database and computing.

Baseline, measured in the same run (BASELINE_ROUNDS rounds): the naive way with the ORM: the
funnel's per-stage counts as one aggregate (COUNT … FILTER per stage), the stage times by a
Python loop over every contact's stage dates (numpy's linear quantiles), and the sales metrics
by a Python loop over the quarter's deals. The baseline's numbers must equal ours (stage
counts, medians, each rep's win rate, revenue, open deals and velocity), so both compute the
same thing. A breakdown (load vs compute for both parts) is printed for whoever tunes it.

Target: < 2 s. Run: `.venv/bin/python -m benchmarks.bench_funnel_velocity [--rebuild]`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import numpy as np

from benchmarks.common import report, timed

ROUNDS = 7
BASELINE_ROUNDS = 2
TARGET_S = 2.0
FUNNEL_STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer"]
RAW = [*FUNNEL_STAGES, "evangelist"]
CENT = Decimal("0.01")


def median_s(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up: imports, plans, caches
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def naive_funnel(start: date, end: date) -> dict[str, tuple[int, float | None]]:
    """Stage counts from one ORM aggregate; median days to the next stage from a Python loop."""
    from django.db.models import Count

    from tandem.analytics.queries.funnel import bounds
    from tandem.crm.models import Contact

    lo, hi = bounds(start, end)
    cohort = Contact.objects.filter(created_at__gte=lo, created_at__lt=hi)
    counts = cohort.aggregate(
        **{stage: Count("id", filter=_reached(stage)) for stage in FUNNEL_STAGES}
    )
    gaps: dict[str, list[float]] = {s: [] for s in FUNNEL_STAGES[:-1]}
    fields = [f"became_{s}_at" for s in RAW]
    for row in cohort.values_list(*fields).iterator(chunk_size=20_000):
        entry: list[datetime | None] = [None] * len(FUNNEL_STAGES)
        later: datetime | None = None
        for i in range(len(RAW) - 1, -1, -1):
            value = row[i]
            if value is not None and (later is None or value < later):
                later = value
            if i < len(FUNNEL_STAGES):
                entry[i] = later
        for i, stage in enumerate(FUNNEL_STAGES[:-1]):
            a, b = entry[i], entry[i + 1]
            if a is not None and b is not None:
                gaps[stage].append((b - a).total_seconds() / 86_400)
    return {
        s: (
            counts[s],
            float(np.quantile(gaps[s], 0.5)) if gaps.get(s) else None,
        )
        for s in FUNNEL_STAGES
    }


def _reached(stage: str) -> Any:
    from django.db.models import Q

    q = Q()
    for later in RAW[RAW.index(stage) :]:
        q |= Q(**{f"became_{later}_at__isnull": False})
    return q


def naive_sales(start: date, end: date) -> dict[int | None, tuple[Any, ...]]:
    """Per owner: won, lost, revenue, open deals, velocity, from a loop over the deals."""
    from django.db.models import Q

    from tandem.analytics.queries.sales import bounds
    from tandem.sales.models import Deal

    lo, hi = bounds(start, end)
    relevant = Deal.objects.filter(
        Q(created_at__gte=lo, created_at__lt=hi)
        | Q(closed_at__gte=lo, closed_at__lt=hi)
        | (Q(created_at__lt=hi) & (Q(closed_at__isnull=True) | Q(closed_at__gte=hi)))
    )
    acc: dict[int | None, dict[str, Any]] = defaultdict(
        lambda: {"won": 0, "lost": 0, "revenue": Decimal(0), "cycle": timedelta(), "open": 0}
    )
    for owner, status, amount, created, closed in relevant.values_list(
        "owner_id", "status", "amount_base", "created_at", "closed_at"
    ).iterator(chunk_size=20_000):
        a = acc[owner]
        if closed is not None and lo <= closed < hi:
            if status == "won":
                a["won"] += 1
                a["revenue"] += amount
                a["cycle"] += max(closed - created, timedelta())
            elif status == "lost":
                a["lost"] += 1
        if created < hi and (closed is None or closed >= hi):
            a["open"] += 1
    out: dict[int | None, tuple[Any, ...]] = {}
    for key, a in acc.items():
        won, lost = a["won"], a["lost"]
        velocity = None
        if won and a["cycle"]:
            with localcontext() as ctx:
                ctx.prec = 60
                days = Decimal(a["cycle"] // timedelta(microseconds=1)) / 86_400_000_000
                velocity = (a["open"] * a["revenue"] * won / ((won + lost) * days)).quantize(
                    CENT, rounding=ROUND_HALF_UP
                )
        out[key] = (won, lost, a["revenue"], a["open"], velocity)
    return out


def run() -> bool:
    """Measure; True when the target is met and the baseline agrees."""
    from benchmarks import analytics_data

    dataset = analytics_data.open_dataset(rebuild="--rebuild" in sys.argv)
    from tandem.analytics.queries.funnel import funnel
    from tandem.analytics.queries.sales import sales_metrics
    from tandem.sales.periods import period_containing

    today = dataset.anchor.date()
    quarter = period_containing(today, kind="quarter")
    all_time = (date(2000, 1, 1), today)
    how = "reused" if dataset.built_seconds is None else f"built in {dataset.built_seconds:.0f} s"
    print(
        f"data: {analytics_data.CONTACTS:,} contacts, {analytics_data.DEALS:,} deals ({how}); "
        f"funnel {all_time[0]}..{all_time[1]} cohort, sales {quarter.key} per rep"
    )

    def ours() -> tuple[Any, Any]:
        return (
            funnel(start=all_time[0], end=all_time[1], mode="cohort"),
            sales_metrics(start=quarter.start, end=quarter.end, group_by="rep"),
        )

    def baseline() -> tuple[Any, Any]:
        return naive_funnel(*all_time), naive_sales(quarter.start, quarter.end)

    value = median_s(ours, ROUNDS)
    funnel_s = median_s(lambda: funnel(start=all_time[0], end=all_time[1], mode="cohort"), 3)
    sales_s = median_s(
        lambda: sales_metrics(start=quarter.start, end=quarter.end, group_by="rep"), 3
    )
    base_s, (naive_f, naive_s) = timed(baseline)
    for _ in range(BASELINE_ROUNDS - 1):
        base_s = min(base_s, timed(baseline)[0])
    got_f, got_s = ours()
    agree = _check(got_f, got_s, naive_f, naive_s)
    _breakdown(all_time, quarter, funnel_s, sales_s)
    ok = report(
        "funnel + velocity (1M contacts, 200k deals, PostgreSQL)",
        figure="median wall time",
        value=value,
        unit="s",
        target=TARGET_S,
        baseline=base_s,
        baseline_label="ORM counts + Python loops over contacts and deals, best of "
        f"{BASELINE_ROUNDS}",
    )
    return ok and agree


def _check(got_f: Any, got_s: Any, naive_f: dict[str, Any], naive_s: dict[Any, Any]) -> bool:
    """The baseline's numbers equal ours (medians to 1e-6 days)."""
    agree = True
    for stage in got_f.stages:
        count, median = naive_f[stage.stage]
        same_median = (median is None and stage.median_days_to_next is None) or (
            median is not None
            and stage.median_days_to_next is not None
            and abs(median - stage.median_days_to_next) < 1e-6
        )
        if stage.entered != count or not same_median:
            print(
                f"  MISMATCH funnel {stage.stage}: ours {stage.entered}/{stage.median_days_to_next}, naive {count}/{median}"
            )
            agree = False
    for row in got_s.rows:
        owner = None if row.key == "none" else int(row.key)
        ours = (row.won, row.lost, row.revenue, row.open_deals, row.velocity_per_day)
        if naive_s.get(owner) != ours:
            print(f"  MISMATCH sales {row.label}: ours {ours}, naive {naive_s.get(owner)}")
            agree = False
    print(
        f"  baseline agrees with ours: {agree} ({len(got_s.rows)} rep rows, {len(got_f.stages)} stages)"
    )
    return agree


def _breakdown(all_time: tuple[date, date], quarter: Any, funnel_s: float, sales_s: float) -> None:
    """Load vs compute of each part (medians of 3), for whoever tunes the figure."""
    from tandem.analytics.compute import sales as sales_compute
    from tandem.analytics.loaders.deals import load_deals
    from tandem.analytics.queries import sales as sales_queries

    lo, hi = sales_queries.bounds(quarter.start, quarter.end)
    deals = load_deals(start=lo, end=hi)
    load_d = median_s(lambda: load_deals(start=lo, end=hi), 3)
    comp_d = median_s(
        lambda: (
            sales_compute.sales_sums(deals, edges=[lo, hi]),
            sales_compute.sales_sums(deals, edges=[lo, hi], by="owner_id"),
        ),
        3,
    )
    print(
        f"  sales_metrics {sales_s * 1000:.0f} ms: load {load_d * 1000:.0f} ms ({deals.height:,} deals), compute {comp_d * 1000:.0f} ms"
    )
    try:
        from tandem.analytics.compute import funnel as funnel_compute
        from tandem.analytics.loaders import contacts as contacts_loader
        from tandem.analytics.queries.funnel import bounds

        flo, fhi = bounds(*all_time)
        frame = contacts_loader.load_contacts(
            start=flo, end=fhi, filter_by="cohort", with_ids=False
        )
        load_c = median_s(
            lambda: contacts_loader.load_contacts(
                start=flo, end=fhi, filter_by="cohort", with_ids=False
            ),
            3,
        )
        comp_c = median_s(
            lambda: funnel_compute.funnel_stats(frame, mode="cohort", start=flo, end=fhi), 3
        )
        print(
            f"  funnel {funnel_s * 1000:.0f} ms: load {load_c * 1000:.0f} ms ({frame.height:,} contacts), compute {comp_c * 1000:.0f} ms"
        )
    except Exception as exc:  # the funnel's internals are H2's; the breakdown is best effort
        print(f"  funnel {funnel_s * 1000:.0f} ms (no breakdown: {exc})")


def main() -> int:
    return 0 if run() else 1


if __name__ == "__main__":
    sys.exit(main())
