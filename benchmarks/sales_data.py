"""The sales benchmarks' dataset: 100,000 deals across two pipelines, owned by 50 reps in 5 teams.

Shapes: 85 % of deals in "New business", the rest in "Renewals and upsells"; 30 % open (spread
Discovery 40 / Demo 25 / Proposal 20 / Negotiation 15 %), 28 % won, 42 % lost; 8 % unassigned
deals of a team; log-normal amounts in USD (80 %), EUR and GBP with amount_base converted at the
seeded rates; created over 18 months, expected close dates from a quarter back to two ahead, one
primary contact (at the deal's company) per deal. 10,000 companies and 60,000 contacts.
Stage history is not generated: the board and the list do not read it.

Built once and reused (as benchmarks/leads_data.py): a `bench_sales_meta` table holds the
version, anchor time and row counts; a later run whose counts match reuses the database
(`--rebuild` forces a new build). PostgreSQL: database `tandem_bench_sales`, COPY; SQLite:
var/bench/sales_sqlite/, executemany.

Run: `.venv/bin/python -m benchmarks.sales_data [sqlite|postgresql] [--rebuild]`.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ROOT, configure_cached, connect_cached
from benchmarks.leads_data import PG_ADMIN_URL, check_columns, nullable, pick, ts_strings

DATA_VERSION = "2"
SEED = 20261204
DAY = 86_400
TEAMS = 5
REPS_PER_TEAM = 10
COMPANIES = 10_000
CONTACTS = 60_000
DEALS = 100_000
META_TABLE = "bench_sales_meta"
PG_DATABASE = "tandem_bench_sales"

OPEN_STAGE_WEIGHTS = [40, 25, 20, 15]
STATUS_WEIGHTS = {"open": 30, "won": 28, "lost": 42}
CURRENCIES = ["USD", "EUR", "GBP"]
CURRENCY_WEIGHTS = [80, 12, 8]
WORDS = ["Platform", "Expansion", "Pilot", "Renewal", "Analytics", "Seats", "Upgrade", "Suite"]
STEMS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Soylent"]


@dataclass(frozen=True)
class Dataset:
    vendor: str
    anchor: datetime
    built_seconds: float | None  # None when reused


def data_dir(vendor: str) -> Path:
    return ROOT / "var" / "bench" / f"sales_{vendor}"


def pg_url() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def expected_meta() -> dict[str, str]:
    return {
        "version": DATA_VERSION,
        "deals": str(DEALS),
        "contacts": str(CONTACTS),
        "companies": str(COMPANIES),
    }


def read_existing(vendor: str) -> datetime | None:
    """The anchor of a complete dataset already in place, else None."""
    tables = {"deals": "sales_deal", "contacts": "crm_contact", "companies": "crm_company"}
    try:
        conn = connect_cached(directory=data_dir(vendor), database_url=_database_url(vendor))
        if conn is None:
            return None
        with conn:
            meta = dict(conn.execute(f"SELECT k, v FROM {META_TABLE}").fetchall())
            want = expected_meta()
            if any(meta.get(k) != v for k, v in want.items()) or "anchor" not in meta:
                return None
            for key, table in tables.items():
                if conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != int(want[key]):
                    return None
        return datetime.fromisoformat(meta["anchor"])
    except Exception:
        return None


def configure(vendor: str) -> None:
    """Point this process's Django at the benchmark database of this kind and migrate it."""
    configure_cached(directory=data_dir(vendor), database_url=_database_url(vendor))


def _database_url(vendor: str) -> str | None:
    return pg_url() if vendor == "postgresql" else None


def open_dataset(vendor: str, *, rebuild: bool = False) -> Dataset:
    """Configure Django on the benchmark database, building the data first when needed."""
    anchor = None if rebuild else read_existing(vendor)
    if anchor is not None:
        configure(vendor)
        return Dataset(vendor, anchor, None)
    start = time.perf_counter()
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    else:
        shutil.rmtree(data_dir(vendor), ignore_errors=True)
    configure(vendor)
    anchor = datetime.now(UTC).replace(microsecond=0)
    build(vendor, anchor)
    return Dataset(vendor, anchor, time.perf_counter() - start)


def _load(vendor: str, table: str, columns: Sequence[str], rows: list[list[Any]]) -> None:
    """Columns of values into one table: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection, transaction

    check_columns(table, columns)
    cols = ", ".join(f'"{c}"' for c in columns)
    with transaction.atomic(), connection.cursor() as cur:
        if vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write("".join("\t".join(r) + "\n" for r in zip(*rows, strict=True)))
        else:
            marks = ", ".join("%s" for _ in columns)
            cur.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(zip(*rows, strict=True))
            )


def _days(seconds: np.ndarray) -> list[str]:
    return list(np.datetime_as_string(seconds.astype("datetime64[s]"), unit="D").tolist())


def build(vendor: str, anchor: datetime) -> None:
    """Users and teams through the services; companies, contacts, deals and their contacts in bulk."""
    from django.db import connection

    from tandem.accounts.services import create_team, create_user
    from tandem.sales.models import ExchangeRate, LostReason, Pipeline

    start = time.perf_counter()
    rng = np.random.default_rng(SEED)
    anchor_s = int(anchor.timestamp())
    null = "\\N" if vendor == "postgresql" else None
    true = "t" if vendor == "postgresql" else "1"
    now_text = ts_strings(np.array([anchor_s]), vendor)[0]
    print(f"  [{vendor}] building the sales dataset at anchor {anchor.isoformat()}", flush=True)

    create_team(name="Marketing", kind="marketing")
    create_user(username="admin", password=None, role="admin")
    reps: list[tuple[int, int]] = []  # (user id, team id)
    team_ids = []
    for t in range(TEAMS):
        team = create_team(name=f"Sales {t + 1}", kind="sales")
        team.manager = create_user(
            username=f"manager{t + 1}", password=None, role="sales_manager", team=team
        )
        team.save()
        team_ids.append(team.pk)
        for r in range(REPS_PER_TEAM):
            rep = create_user(
                username=f"rep{t * REPS_PER_TEAM + r + 1}",
                password=None,
                role="sales_rep",
                team=team,
                first_name=f"Rep{t * REPS_PER_TEAM + r + 1}",
            )
            reps.append((rep.pk, team.pk))

    # Companies and contacts (92 % of contacts at a company).
    ids = np.arange(1, COMPANIES + 1)
    stems = rng.integers(0, len(STEMS), COMPANIES)
    _load(
        vendor,
        "crm_company",
        [
            "id",
            "name",
            "domain",
            "industry",
            "employees",
            "annual_revenue",
            "currency",
            "country",
            "region",
            "owner_id",
            "team_id",
            "created_at",
            "updated_at",
        ],
        [
            [str(i) for i in ids.tolist()],
            [f"{STEMS[s]} {i}" for s, i in zip(stems.tolist(), ids.tolist(), strict=True)],
            [f"company{i}.example" for i in ids.tolist()],
            ["Software"] * COMPANIES,
            ["120"] * COMPANIES,
            ["1000000.00"] * COMPANIES,
            ["USD"] * COMPANIES,
            ["US"] * COMPANIES,
            ["North America"] * COMPANIES,
            [null] * COMPANIES,
            [null] * COMPANIES,
            [now_text] * COMPANIES,
            [now_text] * COMPANIES,
        ],
    )
    contact_company = rng.integers(1, COMPANIES + 1, CONTACTS)
    cids = np.arange(1, CONTACTS + 1)
    _load(
        vendor,
        "crm_contact",
        [
            "id",
            "email",
            "first_name",
            "last_name",
            "title",
            "phone",
            "company_id",
            "persona_id",
            "lifecycle_stage",
            "lead_status",
            "owner_id",
            "team_id",
            "original_source",
            "original_source_detail",
            "subscription_status",
            "custom_fields",
            "score",
            "created_at",
            "updated_at",
            "last_activity_at",
        ],
        [
            [str(i) for i in cids.tolist()],
            [
                f"buyer{i}@company{c}.example"
                for i, c in zip(cids.tolist(), contact_company.tolist(), strict=True)
            ],
            ["Ann"] * CONTACTS,
            [f"Buyer {i}" for i in cids.tolist()],
            ["VP Sales"] * CONTACTS,
            [""] * CONTACTS,
            contact_company.astype(str).tolist(),
            [null] * CONTACTS,
            ["opportunity"] * CONTACTS,
            [""] * CONTACTS,
            [null] * CONTACTS,
            [null] * CONTACTS,
            ["referral"] * CONTACTS,
            [""] * CONTACTS,
            ["subscribed"] * CONTACTS,
            ["{}"] * CONTACTS,
            ["0"] * CONTACTS,
            [now_text] * CONTACTS,
            [now_text] * CONTACTS,
            [null] * CONTACTS,
        ],
    )
    print(
        f"  [{vendor}] {COMPANIES:,} companies, {CONTACTS:,} contacts ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )

    # Deals.
    n = DEALS
    pipelines = list(Pipeline.objects.order_by("-is_default", "position", "id"))
    default, renewals = pipelines[0], pipelines[1]
    in_renewals = rng.random(n) < 0.15
    stage_table: dict[tuple[int, str], list[int]] = {}
    probability: dict[int, int] = {}
    for p in (default, renewals):
        stages = list(p.stages.order_by("position"))
        stage_table[(p.pk, "open")] = [s.pk for s in stages if s.outcome == "open"]
        stage_table[(p.pk, "won")] = [s.pk for s in stages if s.outcome == "won"]
        stage_table[(p.pk, "lost")] = [s.pk for s in stages if s.outcome == "lost"]
        probability.update({s.pk: s.probability for s in stages})
    statuses = np.array(list(STATUS_WEIGHTS))[pick(rng, n, list(STATUS_WEIGHTS.values()))]
    open_idx = pick(rng, n, OPEN_STAGE_WEIGHTS)
    stage_ids = []
    for renewal, status, oi in zip(
        in_renewals.tolist(), statuses.tolist(), open_idx.tolist(), strict=True
    ):
        options = stage_table[((renewals if renewal else default).pk, status)]
        stage_ids.append(options[min(oi, len(options) - 1)] if status == "open" else options[0])
    rep_idx = rng.integers(0, len(reps), n)
    unassigned = rng.random(n) < 0.08
    owners = [
        null if u else str(reps[r][0])
        for r, u in zip(rep_idx.tolist(), unassigned.tolist(), strict=True)
    ]
    teams = [str(reps[r][1]) for r in rep_idx.tolist()]
    amount = np.round(np.clip(rng.lognormal(9.6, 0.9, n), 500, 2_000_000), 2)
    currency = np.array(CURRENCIES)[pick(rng, n, CURRENCY_WEIGHTS)]
    rates = {r.currency: float(r.rate) for r in ExchangeRate.objects.all()}
    base = np.round(amount * np.array([rates.get(c, 1.0) for c in currency.tolist()]), 2)
    # Closed deals closed at any time over the 18 months, after a 30 to 120 day cycle; open
    # deals were created over the last year and entered their stage since.
    cycle = rng.integers(30 * DAY, 120 * DAY, n)
    closed = anchor_s - 60 - rng.integers(0, 548 * DAY, n)
    created_closed = closed - cycle
    created_open = anchor_s - rng.integers(DAY, 365 * DAY, n)
    created = np.where(statuses == "open", created_open, created_closed)
    entered = created + ((anchor_s - created) * rng.random(n) * 0.5).astype(np.int64)
    is_open = statuses == "open"
    close_date = np.where(is_open, anchor_s + rng.integers(-90 * DAY, 180 * DAY, n), closed)
    has_close = (is_open & (rng.random(n) < 0.9)) | ~is_open
    lost_reasons = list(LostReason.objects.values_list("pk", flat=True))
    lost_of = [
        str(lost_reasons[i % len(lost_reasons)]) if s == "lost" else null
        for i, s in enumerate(statuses.tolist())
    ]
    stems_d = rng.integers(0, len(STEMS), n)
    words = rng.integers(0, len(WORDS), n)
    deal_contact = rng.integers(1, CONTACTS + 1, n)
    deal_company = contact_company[deal_contact - 1]
    dids = np.arange(1, n + 1)
    _load(
        vendor,
        "sales_deal",
        [
            "id",
            "name",
            "company_id",
            "owner_id",
            "team_id",
            "amount",
            "currency",
            "amount_base",
            "pipeline_id",
            "stage_id",
            "status",
            "kind",
            "parent_id",
            "expected_close_date",
            "created_at",
            "updated_at",
            "stage_entered_at",
            "closed_at",
            "source_campaign_id",
            "source_channel",
            "referred_by_id",
            "lost_reason_id",
            "lost_note",
            "competitor",
            "next_step",
            "next_step_due",
        ],
        [
            [str(i) for i in dids.tolist()],
            [
                f"{STEMS[s]} {WORDS[w]} {i}"
                for s, w, i in zip(stems_d.tolist(), words.tolist(), dids.tolist(), strict=True)
            ],
            deal_company.astype(str).tolist(),
            owners,
            teams,
            [f"{a:.2f}" for a in amount.tolist()],
            currency.tolist(),
            [f"{b:.2f}" for b in base.tolist()],
            [str(renewals.pk if r else default.pk) for r in in_renewals.tolist()],
            [str(s) for s in stage_ids],
            statuses.tolist(),
            ["renewal" if r else "new_business" for r in in_renewals.tolist()],
            [null] * n,
            nullable(_days(close_date), has_close, null),
            ts_strings(created, vendor),
            [now_text] * n,
            ts_strings(np.where(is_open, entered, closed), vendor),
            nullable(ts_strings(closed, vendor), ~is_open, null),
            [null] * n,
            [""] * n,
            [null] * n,
            lost_of,
            [""] * n,
            [""] * n,
            ["Follow up"] * n,
            [null] * n,
        ],
    )
    _load(
        vendor,
        "sales_dealcontact",
        ["deal_id", "contact_id", "role", "is_primary", "added_at"],
        [
            [str(i) for i in dids.tolist()],
            deal_contact.astype(str).tolist(),
            ["decision_maker"] * n,
            [true] * n,
            ts_strings(created, vendor),
        ],
    )
    with connection.cursor() as cur:
        if vendor == "postgresql":
            for table in ("crm_company", "crm_contact", "sales_deal", "sales_dealcontact"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            connection.ensure_connection()
            connection.connection.autocommit = True
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("ANALYZE")
        cur.execute(f"CREATE TABLE {META_TABLE} (k varchar(40) PRIMARY KEY, v varchar(100))")
        for k, v in {**expected_meta(), "anchor": anchor.isoformat()}.items():
            cur.execute(f"INSERT INTO {META_TABLE} (k, v) VALUES (%s, %s)", [k, v])
    connection.close()
    print(f"  [{vendor}] {n:,} deals ready ({time.perf_counter() - start:.0f} s)", flush=True)


def main(argv: list[str]) -> int:
    """Build (or check) the dataset of one database kind per process."""
    rebuild = "--rebuild" in argv
    vendors = [a for a in argv if not a.startswith("--")] or ["sqlite"]
    dataset = open_dataset(vendors[0], rebuild=rebuild)
    how = "reused" if dataset.built_seconds is None else f"built in {dataset.built_seconds:.0f} s"
    print(f"sales dataset [{dataset.vendor}]: {DEALS:,} deals {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
