"""The forecast roll-up for a quarter at 100,000 deals, against one hand-written SQL aggregate.

Data: benchmarks.sales_data (100,000 deals, shared with the board benchmark). Measured per database, ROUNDS calls each
(after a warm-up): `rollup()` for the manager with the most deals in the quarter (their teams'
reps and team totals) and for an admin (every team and the company), the quarter containing the
dataset's anchor; and the baseline, one hand-written SQL query grouping the same deals by owner,
team and forecast category with a join to the stages, fetched (no Python arithmetic), in the same
run. The company totals of the admin roll-up must equal those the baseline's rows add up to.

Target: median roll-up < 500 ms on both databases (printed with the ratio to the baseline).
Run: `.venv/bin/python -m benchmarks.bench_forecast [sqlite|postgresql] [--rebuild]`.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from decimal import Decimal
from typing import Any

from benchmarks.common import percentile, report, sample_ms, timed

ROUNDS = 15
TARGET_MS = 500.0


def open_dataset(vendor: str, rebuild: bool) -> tuple[str, Any]:
    """The shared 100,000-deal sales dataset (benchmarks/sales_data.py)."""
    from benchmarks import sales_data

    return "sales_data", sales_data.open_dataset(vendor, rebuild=rebuild)


def hand_sql(*, team_ids: list[int] | None, vendor: str) -> str:
    scope = ""
    if team_ids is not None:
        ids = ", ".join(str(int(t)) for t in team_ids) or "NULL"
        scope = f"AND d.team_id IN ({ids})"
    return f"""
        SELECT d.owner_id, d.team_id, d.status, s.forecast_category,
               SUM(d.amount_base), SUM(d.amount_base * s.probability)
        FROM sales_deal d JOIN sales_stage s ON s.id = d.stage_id
        WHERE ((d.status = 'won' AND d.closed_at >= %s AND d.closed_at < %s)
            OR (d.status = 'open' AND d.expected_close_date >= %s
                AND d.expected_close_date <= %s))
          {scope}
        GROUP BY d.owner_id, d.team_id, d.status, s.forecast_category
    """


def company_totals(rows: list[tuple[Any, ...]]) -> dict[str, Decimal]:
    """closed won, commit, best case, pipeline and weighted from the baseline's rows."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    weighted = Decimal(0)
    for _owner, _team, status, category, total, prob_total in rows:
        sums[(status, category)] += Decimal(str(total))
        if status == "open" and category != "omitted":
            weighted += Decimal(str(prob_total)) / 100
    won = sum((v for (st, _), v in sums.items() if st == "won"), Decimal(0))
    commit = won + sums[("open", "commit")]
    cent = Decimal("0.01")
    return {
        "closed_won": won.quantize(cent),
        "commit": commit.quantize(cent),
        "best_case": (commit + sums[("open", "best_case")]).quantize(cent),
        "pipeline": sums[("open", "pipeline")].quantize(cent),
        "weighted": weighted.quantize(cent),
    }


def run_one(vendor: str, rebuild: bool) -> bool:
    """Measure one database; True when the targets are met and the totals agree."""
    source, dataset = open_dataset(vendor, rebuild)
    from django.db import connection
    from django.db.models import Count, Q

    from tandem.accounts.models import Role, Team, User
    from tandem.sales.models import Deal
    from tandem.sales.periods import period_containing
    from tandem.sales.queries import forecasts as queries

    anchor = getattr(dataset, "anchor", None)
    day = anchor.date() if hasattr(anchor, "date") else anchor
    period = period_containing(day, kind="quarter")
    start, end = queries.period_bounds(period)
    admin = User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True)).first()
    if admin is None:
        admin = User.objects.create(username="bench-forecast-admin", role=Role.ADMIN)
    in_q = queries.in_period(period)
    per_manager: dict[int, int] = defaultdict(int)
    deals_by_team = dict(
        Deal.objects.filter(in_q).order_by().values_list("team_id").annotate(n=Count("pk"))
    )
    for team_id, manager_id in Team.objects.filter(manager__isnull=False).values_list(
        "pk", "manager_id"
    ):
        per_manager[manager_id] += deals_by_team.get(team_id, 0)
    manager = User.objects.get(pk=max(per_manager, key=lambda k: per_manager[k]))
    manager_teams = [t.pk for t in queries.managed_teams(manager)]
    total = Deal.objects.count()
    in_quarter = Deal.objects.filter(in_q).count()
    params = [start, end, period.start, period.end]

    def baseline(team_ids: list[int] | None) -> list[tuple[Any, ...]]:
        with connection.cursor() as cur:
            cur.execute(hand_sql(team_ids=team_ids, vendor=vendor), params)
            return list(cur.fetchall())

    manager_ms = sample_ms(
        lambda: queries.rollup(manager_or_admin=manager, period=period), repeat=ROUNDS
    )
    company_ms = sample_ms(
        lambda: queries.rollup(manager_or_admin=admin, period=period), repeat=ROUNDS
    )
    hand_manager_ms = sample_ms(lambda: baseline(manager_teams), repeat=ROUNDS)
    hand_company_ms = sample_ms(lambda: baseline(None), repeat=ROUNDS)

    company_row = queries.rollup(manager_or_admin=admin, period=period)[-1].forecast
    ours = {
        "closed_won": company_row.closed_won,
        "commit": company_row.commit,
        "best_case": company_row.best_case,
        "pipeline": company_row.pipeline,
        "weighted": company_row.weighted,
    }
    theirs = company_totals(baseline(None))
    same = ours == theirs

    print(
        f"forecast roll-up [{vendor}] ({total:,} deals, {in_quarter:,} in {period.label}; "
        f"dataset {source}; manager {manager.username} with {len(manager_teams)} teams)"
    )
    ok = True
    for name, samples, hand in (
        ("manager roll-up", manager_ms, hand_manager_ms),
        ("company roll-up", company_ms, hand_company_ms),
    ):
        median = statistics.median(samples)
        ok = (
            report(
                f"  {name} [{vendor}]",
                figure=f"median of {ROUNDS} (p95 {percentile(samples, 95):.1f} ms)",
                value=median,
                unit="ms",
                target=TARGET_MS,
                baseline=statistics.median(hand),
                baseline_label="hand-written SQL aggregate, rows fetched",
            )
            and ok
        )
    print(
        f"  company totals: {'equal to the baseline PASS' if same else 'DIFFER FAIL'} "
        f"(closed won {ours['closed_won']:,}, commit {ours['commit']:,}, weighted "
        f"{ours['weighted']:,})"
    )
    if not same:
        print(f"    roll-up {ours}\n    baseline {theirs}")
    # The weekly snapshot job over the same data (informational: four periods, every rep, team
    # and the company); its rows are removed afterwards so the dataset stays as built.
    from tandem.sales.models import ForecastSnapshot
    from tandem.sales.services.forecasts import take_snapshots

    if ForecastSnapshot.objects.filter(taken_on=day).exists():
        print(f"  take_snapshots [{vendor}]: skipped, snapshots of {day} already exist")
    else:
        try:
            seconds, written = timed(lambda: take_snapshots(on=day))
            print(
                f"  take_snapshots [{vendor}] = {seconds * 1000:.0f} ms for {written:,} "
                "snapshot rows (4 periods)"
            )
        finally:
            ForecastSnapshot.objects.filter(taken_on=day).delete()
    connection.close()
    return ok and same


def main(argv: list[str]) -> int:
    rebuild = "--rebuild" in argv
    vendors = [a for a in argv if not a.startswith("--")]
    if vendors:
        return 0 if run_one(vendors[0], rebuild) else 1
    import subprocess

    from benchmarks.common import ROOT

    chosen = ["sqlite"]
    try:
        import psycopg

        from benchmarks.leads_data import PG_ADMIN_URL

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        chosen.append("postgresql")
    except Exception as exc:
        print(f"PostgreSQL does not answer ({exc}); measured SQLite only")
    failed = False
    for vendor in chosen:
        cmd = [sys.executable, "-m", "benchmarks.bench_forecast", vendor, *argv]
        failed = subprocess.call(cmd, cwd=ROOT) != 0 or failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
