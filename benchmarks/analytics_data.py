"""The analytics benchmark's dataset (PostgreSQL): 1,000,000 contacts with stage dates, 200,000 deals.

Contacts were created over three years; each climbs the lifecycle as far as a drawn level
(subscriber 40 %, lead 35 %, MQL 13 %, SQL 4 %, opportunity 4 %, customer 3.5 %, evangelist
0.5 %), spending exponentially distributed times between stages (means 20, 30, 7, 10, 45 and
120 days) and stopping where a stage would lie after the anchor; 20 % start as leads (no
subscriber date) and 5 % of those past MQL skipped it (sales-sourced), so the funnel meets
skipped stages. Deals: 50 reps in 5 teams (8 % of deals unassigned), 30 % open (created over
the last year), 28 % won, 42 % lost (closed over 18 months after a 30 to 120 day cycle),
log-normal amounts in USD, lost reasons and source channels drawn uniformly.

Rows are generated inside PostgreSQL (INSERT … SELECT generate_series, a fixed setseed), so a
build takes a minute, not the hour Python rows would. Built once and reused: `bench_analytics_meta`
holds the version, anchor and counts; `--rebuild` forces a new build.

Run: `.venv/bin/python -m benchmarks.analytics_data [--rebuild]`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import ROOT, configure_cached, connect_cached
from benchmarks.leads_data import PG_ADMIN_URL

DATA_VERSION = "1"
SEED = 0.2026
CONTACTS = 1_000_000
DEALS = 200_000
TEAMS = 5
REPS_PER_TEAM = 10
META_TABLE = "bench_analytics_meta"
PG_DATABASE = "tandem_bench_analytics"
DATA_DIR = ROOT / "var" / "bench" / "analytics_postgresql"
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist"]
# Cumulative shares of the highest level drawn (subscriber … evangelist).
LEVEL_CUTS = [0.40, 0.75, 0.88, 0.92, 0.96, 0.995]
GAP_DAYS = [20, 30, 7, 10, 45, 120]
SOURCES = [
    "organic_search",
    "paid_search",
    "email",
    "organic_social",
    "paid_social",
    "referral",
    "direct",
    "events",
]
CHANNELS = ["email", "paid_search", "paid_social", "organic_search", "webinar", "content", "events"]


@dataclass(frozen=True)
class Dataset:
    anchor: datetime
    built_seconds: float | None  # None when reused


def pg_url() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def expected_meta() -> dict[str, str]:
    return {"version": DATA_VERSION, "contacts": str(CONTACTS), "deals": str(DEALS)}


def read_existing() -> datetime | None:
    """The anchor of a complete dataset already in place, else None."""
    try:
        conn = connect_cached(directory=DATA_DIR, database_url=pg_url())
        if conn is None:
            return None
        with conn:
            meta = dict(conn.execute(f"SELECT k, v FROM {META_TABLE}").fetchall())
            want = expected_meta()
            if any(meta.get(k) != v for k, v in want.items()) or "anchor" not in meta:
                return None
            for key, table in (("contacts", "crm_contact"), ("deals", "sales_deal")):
                if conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != int(want[key]):
                    return None
        return datetime.fromisoformat(meta["anchor"])
    except Exception:
        return None


def open_dataset(*, rebuild: bool = False) -> Dataset:
    """Configure Django on the benchmark database, building the data first when needed."""
    anchor = None if rebuild else read_existing()
    if anchor is not None:
        configure_cached(directory=DATA_DIR, database_url=pg_url())
        return Dataset(anchor, None)
    start = time.perf_counter()
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    configure_cached(directory=DATA_DIR, database_url=pg_url())
    anchor = datetime.now(UTC).replace(microsecond=0)
    build(anchor)
    return Dataset(anchor, time.perf_counter() - start)


def _array(values: list[Any]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def contacts_sql() -> str:
    """1,000,000 contacts with their became_* dates, generated in the database."""
    gaps = [
        f"-ln(1 - random()) * {days} * interval '1 day' AS gap{i + 1}"
        for i, days in enumerate(GAP_DAYS)
    ]
    level = " ".join(f"WHEN u < {cut} THEN {i}" for i, cut in enumerate(LEVEL_CUTS))
    times = ", ".join(
        "t1 + " + " + ".join(f"gap{j}" for j in range(2, i + 1)) + f" AS t{i}" for i in range(2, 7)
    )
    reached = " ".join(
        f"WHEN level >= {k} AND t{k} <= %(anchor)s THEN {k}" for k in range(6, 0, -1)
    )
    became = ",\n        ".join(
        [
            "CASE WHEN NOT skip_sub THEN t0 END",
            "CASE WHEN reached >= 1 THEN t1 END",
            "CASE WHEN reached >= 2 AND NOT (skip_mql AND reached >= 3) THEN t2 END",
            *(f"CASE WHEN reached >= {k} THEN t{k} END" for k in range(3, 7)),
        ]
    )
    return f"""
    INSERT INTO crm_contact (email, first_name, last_name, title, phone, lifecycle_stage,
        lead_status, original_source, original_source_detail, subscription_status,
        custom_fields, score, created_at, updated_at, became_subscriber_at, became_lead_at,
        became_mql_at, became_sql_at, became_opportunity_at, became_customer_at,
        became_evangelist_at)
    SELECT 'buyer' || g || '@bench.example', 'Ann', 'Buyer ' || g, '', '',
        ({_array(STAGES)})[reached + 1], '', source, '', 'subscribed', '{{}}', 0,
        t0, %(anchor)s,
        {became}
    FROM (
        SELECT *, CASE {reached} ELSE 0 END AS reached
        FROM (
            SELECT *, {times}
            FROM (
                SELECT *, t0 + CASE WHEN skip_sub THEN interval '0' ELSE gap1 END AS t1
                FROM (
                    SELECT g, CASE {level} ELSE 6 END AS level, skip_sub, skip_mql, source,
                        %(anchor)s - random() * interval '1095 days' AS t0, {", ".join(gaps)}
                    FROM (
                        SELECT g, random() AS u, random() < 0.2 AS skip_sub,
                            random() < 0.05 AS skip_mql,
                            ({_array(SOURCES)})[1 + floor(random() * {len(SOURCES)})::int] AS source
                        FROM generate_series(1, {CONTACTS}) AS g
                    ) draws
                ) a
            ) b
        ) c
    ) d
    """


def deals_sql() -> str:
    """200,000 deals over the reps, generated in the database."""
    return f"""
    INSERT INTO sales_deal (name, owner_id, team_id, amount, currency, amount_base, pipeline_id,
        stage_id, status, kind, expected_close_date, created_at, updated_at, stage_entered_at,
        closed_at, source_channel, lost_reason_id, lost_note, competitor, next_step)
    SELECT 'Deal ' || g, CASE WHEN unassigned THEN NULL ELSE (%(reps)s::bigint[])[who] END,
        (%(teams)s::bigint[])[who], amount, 'USD', amount, %(pipeline)s,
        CASE status WHEN 'open' THEN (%(open_stages)s::bigint[])[1 + floor(random() * 4)::int]
            WHEN 'won' THEN %(won_stage)s ELSE %(lost_stage)s END,
        status, 'new_business',
        CASE WHEN status = 'open' THEN (%(anchor)s + random() * interval '120 days')::date
            ELSE closed::date END,
        created, %(anchor)s, created, closed, channel,
        CASE WHEN status = 'lost'
            THEN (%(reasons)s::bigint[])[1 + floor(random() * %(reason_count)s)::int] END,
        '', '', ''
    FROM (
        SELECT *, CASE WHEN status = 'open'
                THEN %(anchor)s - (1 + random() * 364) * interval '1 day'
                ELSE closed - (30 + random() * 90) * interval '1 day' END AS created
        FROM (
            SELECT g, status, 1 + floor(random() * {TEAMS * REPS_PER_TEAM})::int AS who,
                random() < 0.08 AS unassigned,
                round(least(greatest(exp(9.6 + 0.9 * sqrt(-2 * ln(1 - random()))
                    * cos(2 * pi() * random())), 500), 2000000)::numeric, 2) AS amount,
                CASE WHEN status = 'open' THEN NULL
                    ELSE %(anchor)s - interval '60 seconds' - random() * interval '548 days'
                END AS closed,
                ({_array(CHANNELS)})[1 + floor(random() * {len(CHANNELS)})::int] AS channel
            FROM (
                SELECT g, CASE WHEN u < 0.30 THEN 'open' WHEN u < 0.58 THEN 'won'
                    ELSE 'lost' END AS status
                FROM (SELECT g, random() AS u FROM generate_series(1, {DEALS}) AS g) s
            ) t
        ) a
    ) b
    """


def build(anchor: datetime) -> None:
    """Teams and reps through the services; contacts and deals generated by PostgreSQL."""
    from django.db import connection

    from tandem.accounts.services import create_team, create_user
    from tandem.sales.models import LostReason, Pipeline

    start = time.perf_counter()
    print(f"  [postgresql] building the analytics dataset at {anchor.isoformat()}", flush=True)
    create_user(username="admin", password=None, role="admin")
    reps: list[int] = []
    teams: list[int] = []
    for t in range(TEAMS):
        team = create_team(name=f"Sales {t + 1}", kind="sales")
        team.manager = create_user(
            username=f"manager{t + 1}", password=None, role="sales_manager", team=team
        )
        team.save()
        for r in range(REPS_PER_TEAM):
            n = t * REPS_PER_TEAM + r + 1
            rep = create_user(
                username=f"rep{n}", password=None, role="sales_rep", team=team, first_name=f"Rep{n}"
            )
            reps.append(rep.pk)
            teams.append(team.pk)
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("position"))
    params: dict[str, Any] = {
        "anchor": anchor,
        "reps": reps,
        "teams": teams,
        "pipeline": pipeline.pk,
        "open_stages": [s.pk for s in stages if s.outcome == "open"],
        "won_stage": next(s.pk for s in stages if s.outcome == "won"),
        "lost_stage": next(s.pk for s in stages if s.outcome == "lost"),
        "reasons": list(LostReason.objects.values_list("pk", flat=True)),
    }
    params["reason_count"] = len(params["reasons"])
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [SEED])
        cur.execute(contacts_sql(), {"anchor": anchor})
        print(
            f"  [postgresql] {CONTACTS:,} contacts ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        cur.execute(deals_sql(), params)
        print(f"  [postgresql] {DEALS:,} deals ({time.perf_counter() - start:.0f} s)", flush=True)
        cur.execute(f"CREATE TABLE {META_TABLE} (k varchar(40) PRIMARY KEY, v varchar(100))")
        for k, v in {**expected_meta(), "anchor": anchor.isoformat()}.items():
            cur.execute(f"INSERT INTO {META_TABLE} (k, v) VALUES (%s, %s)", [k, v])
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    connection.close()
    print(f"  [postgresql] ready ({time.perf_counter() - start:.0f} s)", flush=True)


def main(argv: list[str]) -> int:
    """Build (or check) the dataset."""
    dataset = open_dataset(rebuild="--rebuild" in argv)
    how = "reused" if dataset.built_seconds is None else f"built in {dataset.built_seconds:.0f} s"
    print(f"analytics dataset: {CONTACTS:,} contacts, {DEALS:,} deals {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
