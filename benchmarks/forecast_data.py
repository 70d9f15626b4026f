"""The forecast benchmark's own dataset (used when benchmarks/sales_data.py is not available).

100,000 deals on both databases (PostgreSQL: database `tandem_bench_forecast`; SQLite:
var/bench/forecast_sqlite/), owned by 96 reps in 12 sales teams (a manager per two teams),
created over 18 months before the anchor: about 40 % won, 30 % lost (closed 30 to 120 days
after creation), 30 % still open with an expected close date up to six months ahead, spread
over the default pipeline's open stages; amounts log-normal around 20,000 in USD, EUR and GBP
(amount_base converted with the seeded rates). Quotas for every rep and team per quarter.

Built once and reused while the deal count matches (`--rebuild` forces a new build).
Run: `.venv/bin/python -m benchmarks.forecast_data [sqlite|postgresql] [--rebuild]`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT

SEED = 20261203
DEALS = int(os.environ.get("TANDEM_BENCH_FORECAST_DEALS", "100000"))
TEAMS = 12
REPS_PER_TEAM = 8
HISTORY_DAYS = 548
PG_ADMIN_URL = os.environ.get(
    "TANDEM_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)
PG_DATABASE = "tandem_bench_forecast"
RATES = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}


@dataclass(frozen=True)
class Dataset:
    vendor: str
    anchor: date
    deals: int
    built_seconds: float | None


def data_dir(vendor: str) -> Path:
    return ROOT / "var" / "bench" / f"forecast_{vendor}"


def pg_url() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def configure(vendor: str) -> None:
    """Point this process's Django at the benchmark database of this kind and migrate it."""
    directory = data_dir(vendor)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "TANDEM_DATA_DIR": str(directory),
            "TANDEM_DEBUG": "false",
            "TANDEM_SECRET_KEY": os.environ.get("TANDEM_SECRET_KEY") or secrets.token_urlsafe(40),
            "TANDEM_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "tandem.settings",
        }
    )
    if vendor == "postgresql":
        os.environ["TANDEM_DATABASE_URL"] = pg_url()
    else:
        os.environ.pop("TANDEM_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _existing() -> date | None:
    from tandem.accounts.models import Team
    from tandem.sales.models import Deal

    team = Team.objects.filter(name="Bench team 01").first()
    if team is None or Deal.objects.count() != DEALS:
        return None
    latest = Deal.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    return latest.date() if latest else None


def open_dataset(vendor: str, *, rebuild: bool = False) -> Dataset:
    """Configure Django on the benchmark database, building the data first when needed."""
    if not rebuild:
        try:
            configure(vendor)
            anchor = _existing()
        except Exception:
            anchor = None
        if anchor is not None:
            return Dataset(vendor, anchor, DEALS, None)
        from django.db import connection

        connection.close()
    start = time.perf_counter()
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    else:
        from django.db import connection

        connection.close()
        shutil.rmtree(data_dir(vendor), ignore_errors=True)
    configure(vendor)
    anchor = datetime.now(UTC).date()
    build(anchor)
    return Dataset(vendor, anchor, DEALS, time.perf_counter() - start)


def build(anchor: date) -> None:
    """Users, teams, deals and quotas (bulk inserts), then ANALYZE."""
    from django.db import connection, transaction

    from tandem.accounts.models import Role, Team, User
    from tandem.sales.models import Deal, Pipeline, Quota
    from tandem.sales.periods import period_containing

    rng = np.random.default_rng(SEED)
    now = datetime.combine(anchor, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    with transaction.atomic():
        User.objects.create(username="bench-admin", role=Role.ADMIN)
        teams, reps = [], []
        for t in range(TEAMS):
            if t % 2 == 0:
                manager = User.objects.create(
                    username=f"bench-manager-{t // 2 + 1:02d}", role=Role.SALES_MANAGER
                )
            team = Team.objects.create(
                name=f"Bench team {t + 1:02d}", kind="sales", manager=manager
            )
            manager.team = manager.team or team
            manager.save()
            teams.append(team)
        users = [
            User(username=f"bench-rep-{t + 1:02d}-{r + 1}", role=Role.SALES_REP, team=team)
            for t, team in enumerate(teams)
            for r in range(REPS_PER_TEAM)
        ]
        reps = User.objects.bulk_create(users)
        pipeline = Pipeline.objects.get(is_default=True)
        stages = list(pipeline.stages.order_by("position"))
        open_stages = [s for s in stages if s.outcome == "open"]
        won_stage = next(s for s in stages if s.outcome == "won")
        lost_stage = next(s for s in stages if s.outcome == "lost")

        n = DEALS
        owner_idx = rng.integers(0, len(reps), n)
        created_days = rng.integers(0, HISTORY_DAYS, n)
        status_roll = rng.random(n)
        cycle = rng.integers(30, 121, n)
        ahead = rng.integers(-20, 180, n)
        stage_idx = rng.choice(len(open_stages), n, p=[0.35, 0.3, 0.2, 0.15])
        amounts = np.round(np.exp(rng.normal(np.log(20_000), 0.8, n)), 2)
        currencies = rng.choice(["USD", "EUR", "GBP"], n, p=[0.7, 0.2, 0.1])
        rows = []
        for i in range(n):
            rep = reps[int(owner_idx[i])]
            created = now - timedelta(days=int(created_days[i]), hours=int(i % 9))
            amount = Decimal(str(amounts[i]))
            currency = str(currencies[i])
            closed_at = created + timedelta(days=int(cycle[i]))
            if status_roll[i] < 0.4 and closed_at <= now:
                status, stage, expected = "won", won_stage, closed_at.date()
            elif status_roll[i] < 0.7 and closed_at <= now:
                status, stage, expected = "lost", lost_stage, closed_at.date()
            else:
                status, stage, closed_at = "open", open_stages[int(stage_idx[i])], None
                expected = anchor + timedelta(days=int(ahead[i]))
            rows.append(
                Deal(
                    name=f"Bench deal {i + 1}",
                    owner_id=rep.pk,
                    team_id=rep.team_id,
                    amount=amount,
                    currency=currency,
                    amount_base=(amount * RATES[currency]).quantize(Decimal("0.01")),
                    pipeline=pipeline,
                    stage=stage,
                    status=status,
                    expected_close_date=expected,
                    created_at=created,
                    stage_entered_at=created,
                    closed_at=closed_at,
                )
            )
        Deal.objects.bulk_create(rows, batch_size=5000)
        quarter = period_containing(anchor, kind="quarter")
        quotas = []
        for period in (quarter.previous(), quarter, quarter.next()):
            for rep in reps:
                quotas.append(
                    Quota(
                        user=rep,
                        period_kind="quarter",
                        period_start=period.start,
                        period_end=period.end,
                        amount=Decimal("250000.00"),
                    )
                )
            for team in teams[::3]:
                quotas.append(
                    Quota(
                        team=team,
                        period_kind="quarter",
                        period_start=period.start,
                        period_end=period.end,
                        amount=Decimal("1800000.00"),
                    )
                )
        Quota.objects.bulk_create(quotas)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def main(argv: list[str]) -> int:
    rebuild = "--rebuild" in argv
    vendors = [a for a in argv if not a.startswith("--")] or ["sqlite"]
    dataset = open_dataset(vendors[0], rebuild=rebuild)
    how = "reused" if dataset.built_seconds is None else f"built in {dataset.built_seconds:.0f} s"
    print(
        f"forecast dataset [{dataset.vendor}]: {dataset.deals:,} deals {how}; anchor {dataset.anchor}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
