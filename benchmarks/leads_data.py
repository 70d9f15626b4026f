"""The leads benchmarks' dataset: contacts, companies, timeline events, touchpoints and score rules.

PostgreSQL: 100,000 companies, 1,000,000 contacts, 10,000,000 timeline events and 2,000,000
touchpoints in a dedicated database (`tandem_bench_leads`); SQLite: a fifth of the companies and
contacts, 2,000,000 events and 400,000 touchpoints in var/bench/leads_sqlite/. Realistic shapes:
activity is skewed (a few contacts are very active), events lean towards the last weeks, page
views carry {"url", "path"}, form submissions {"form_id", "form_name"}, content views and
downloads {"asset_id", "title", "asset_type"}; 3 fit and 5 engagement score rules (with caps).

Built once and reused: the build stores its anchor time (the "now" the data was generated
around, which the benchmarks pass as `now=`) and row counts in a `bench_leads_meta` table; a
later run whose counts match reuses the database (`--rebuild` forces a new build). Loading
streams numpy-generated chunks through COPY on PostgreSQL (secondary indexes dropped during the
load and rebuilt after) and executemany on SQLite, then VACUUM/ANALYZE. The benchmarks delete
whatever rows they add, so the counts stay exact.

Run: `.venv/bin/python -m benchmarks.leads_data [sqlite|postgresql] [--rebuild]`;
`TANDEM_BENCH_LEADS_SCALE=0.01` builds (into separate databases) a small copy for trying things.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ROOT, configure_cached, connect_cached

DATA_VERSION = "3"
SEED = 20261203
PG_ADMIN_URL = os.environ.get(
    "TANDEM_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)
SCALE = float(os.environ.get("TANDEM_BENCH_LEADS_SCALE", "1"))
CHUNK = 250_000
DAY = 86_400
HISTORY_DAYS = 548  # 18 months of events
HALF_LIFE_DAYS = 30  # LeadSettings defaults, which the builder leaves alone
WINDOW_DAYS = 365


@dataclass(frozen=True)
class Sizes:
    companies: int
    contacts: int
    events: int
    touchpoints: int


FULL_SIZES = {
    "postgresql": Sizes(100_000, 1_000_000, 10_000_000, 2_000_000),
    "sqlite": Sizes(20_000, 200_000, 2_000_000, 400_000),
}


def sizes_for(vendor: str) -> Sizes:
    full = FULL_SIZES[vendor]
    return Sizes(*(max(10, int(n * SCALE)) for n in vars(full).values()))


def suffix() -> str:
    return "" if SCALE == 1 else "_s" + f"{SCALE:g}".replace(".", "")


def pg_database() -> str:
    return "tandem_bench_leads" + suffix()


def data_dir(vendor: str) -> Path:
    return ROOT / "var" / "bench" / f"leads_{vendor}{suffix()}"


# ------------------------------------------------------------------ vocabulary

COUNTRIES = ["US", "GB", "DE", "FR", "CA", "AU", "NL", "SE", "ES", "IT", "BR", "IN", "JP", "SG"]
COUNTRY_WEIGHTS = [30, 10, 9, 7, 6, 5, 4, 3, 4, 4, 5, 6, 4, 3]
REGION = {
    "US": "North America",
    "CA": "North America",
    "BR": "LATAM",
    "AU": "APAC",
    "IN": "APAC",
    "JP": "APAC",
    "SG": "APAC",
}
INDUSTRIES = [
    "Software",
    "Financial services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Logistics",
    "Telecommunications",
    "Energy",
]
FIRST = ["Ann", "Bob", "Cy", "Dee", "Eve", "Finn", "Gia", "Hal", "Ivy", "Jon", "Kai", "Lou"]
LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones"]
SENIOR_TITLES = ["VP Marketing", "Head of Growth", "Director of Demand Generation", "CMO"]
TITLES = [
    *SENIOR_TITLES,
    "Marketing Manager",
    "Marketing Operations Specialist",
    "Content Marketer",
    "Sales Development Rep",
    "Software Engineer",
    "Analyst",
    "Office Manager",
    "",
]
TITLE_WEIGHTS = [3, 3, 4, 1, 14, 8, 8, 10, 15, 10, 6, 18]
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist"]
STAGE_WEIGHTS = [30, 35, 10, 5, 5, 10, 2]
STAGES_ALL = [*STAGES, "disqualified"]
STAGE_WEIGHTS_ALL = [*STAGE_WEIGHTS, 3]
SUBSCRIPTION = ["subscribed", "not_subscribed", "unsubscribed", "bounced", "complained"]
SUBSCRIPTION_WEIGHTS = [50, 35, 10, 4, 1]
SOURCES = [
    "organic_search",
    "paid_search",
    "email",
    "organic_social",
    "paid_social",
    "referral",
    "direct",
    "events",
    "import",
]
CHANNELS = ["email", "paid_search", "paid_social", "organic_search", "webinar", "content"]
TOUCH_KINDS = ["visit", "form_submit", "click", "content_view", "email_open"]
PAGES = [
    ("/", 22),
    ("/pricing", 9),
    ("/pricing/enterprise", 2),
    ("/product/tour", 10),
    ("/product/attribution", 6),
    ("/customers", 5),
    ("/integrations", 5),
    ("/docs/start", 8),
    ("/contact", 3),
    *((f"/blog/post-{i}", 1.5) for i in range(20)),
]
FORMS = 20
ASSETS = 60
CAMPAIGNS = 40
PERSONAS = ["Marketing leader", "Demand generation", "Marketing ops", "Founder", "Developer"]

# The score rules (design doc grammar); bench_scoring's hand-written SQL reads the same lists.
FIT_RULES: list[dict[str, Any]] = [
    {
        "name": "Company of 200+ employees",
        "points": 20,
        "condition": {"field": "company.employees", "op": "gte", "value": 200},
    },
    {
        "name": "Target industry",
        "points": 15,
        "condition": {
            "field": "company.industry",
            "op": "in",
            "value": ["Software", "Financial services", "Healthcare"],
        },
    },
    {
        "name": "Senior marketing title",
        "points": 15,
        "condition": {"field": "title", "op": "in", "value": SENIOR_TITLES},
    },
]
ENGAGEMENT_RULES: list[dict[str, Any]] = [
    {
        "name": "Pricing page views",
        "event_type": "page_view",
        "event_filters": [{"property": "path", "op": "contains", "value": "/pricing"}],
        "points": 5,
        "cap": 30,
    },
    {"name": "Form submissions", "event_type": "form_submit", "points": 15, "cap": 45},
    {"name": "Content downloads", "event_type": "content_download", "points": 8, "cap": 24},
    {"name": "Content views", "event_type": "content_view", "points": 3, "cap": 15},
    {"name": "Link clicks", "event_type": "link_click", "points": 2, "cap": 10},
]


def event_variants() -> list[tuple[str, str, str, float, bool, int]]:
    """(type, actor_label, properties JSON, weight, may carry a campaign, form id or 0) for
    every event kind."""
    out: list[tuple[str, str, str, float, bool, int]] = []

    def add(kind: str, label: str, props: list[dict[str, Any]], weight: float, camp: bool) -> None:
        for p in props:
            text = json.dumps(p, separators=(", ", ": "))
            out.append((kind, label, text, weight / len(props), camp, int(p.get("form_id", 0))))

    total_page = sum(w for _, w in PAGES)
    for path, w in PAGES:
        props = {"url": f"https://www.example.com{path}", "path": path, "source_id": 1}
        add("page_view", "tracking", [props], 55 * w / total_page, True)
    links = [{"url": f"https://www.example.com/l/{i}", "link_id": i} for i in range(30)]
    add("link_click", "tracking", links, 8, True)
    asset_props = [
        {
            "asset_id": i + 1,
            "title": f"Guide {i + 1}",
            "asset_type": ["ebook", "whitepaper", "video"][i % 3],
        }
        for i in range(ASSETS)
    ]
    add("content_view", "tracking", asset_props, 8, True)
    add("content_download", "tracking", asset_props, 3, True)
    forms = [{"form_id": i + 1, "form_name": f"Form {i + 1}"} for i in range(FORMS)]
    add("form_submit", "tracking", forms, 3.5, True)
    stages = [{"from": a, "to": b} for a, b in itertools.pairwise(STAGES)]
    add("lifecycle_stage_changed", "", stages, 4, False)
    add("activity_email", "", [{"subject": "Following up"}, {"subject": "Intro"}], 6, False)
    add("activity_call", "", [{"outcome": "connected"}, {"outcome": "no_answer"}], 3, False)
    add("activity_meeting", "", [{"title": "Discovery call"}], 2, False)
    add("custom:video play", "tracking", [{"video": "product-demo"}], 7.5, False)
    return out


# ------------------------------------------------------------------ meta and cache check

META_TABLE = "bench_leads_meta"


@dataclass(frozen=True)
class Dataset:
    vendor: str
    anchor: datetime  # the "now" the data was generated around
    sizes: Sizes
    built_seconds: float | None  # None when reused


def expected_meta(vendor: str) -> dict[str, str]:
    s = sizes_for(vendor)
    return {
        "version": DATA_VERSION,
        "companies": str(s.companies),
        "contacts": str(s.contacts),
        "events": str(s.events),
        "touchpoints": str(s.touchpoints),
    }


def read_existing(vendor: str) -> datetime | None:
    """The anchor of a complete dataset of the expected size already in place, else None."""
    tables = {
        "companies": "crm_company",
        "contacts": "crm_contact",
        "events": "crm_timelineevent",
        "touchpoints": "marketing_touchpoint",
        "submissions": "marketing_formsubmission",
    }
    want = expected_meta(vendor)
    try:
        conn = connect_cached(directory=data_dir(vendor), database_url=_database_url(vendor))
        if conn is None:
            return None
        with conn:
            meta = dict(conn.execute(f"SELECT k, v FROM {META_TABLE}").fetchall())
            if any(meta.get(k) != v for k, v in want.items()) or "anchor" not in meta:
                return None
            want["submissions"] = meta.get("submissions", "-1")
            for key, table in tables.items():
                if conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != int(want[key]):
                    return None
        return datetime.fromisoformat(meta["anchor"])
    except Exception:
        return None


def pg_url() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_database()}"


# ------------------------------------------------------------------ Django set-up


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
        return Dataset(vendor, anchor, sizes_for(vendor), None)
    start = time.perf_counter()
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {pg_database()} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {pg_database()}")
    else:
        shutil.rmtree(data_dir(vendor), ignore_errors=True)
    configure(vendor)
    anchor = datetime.now(UTC).replace(microsecond=0)
    build(vendor, anchor)
    return Dataset(vendor, anchor, sizes_for(vendor), time.perf_counter() - start)


# ------------------------------------------------------------------ generation


def log(vendor: str, message: str, start: float) -> None:
    print(f"  [{vendor}] {message} ({time.perf_counter() - start:.0f} s)", flush=True)


def ts_strings(seconds: np.ndarray, vendor: str) -> list[str]:
    """Epoch seconds as the text each database stores (UTC)."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text = np.strings.replace(text, "T", " ")
    if vendor == "postgresql":
        text = np.strings.add(text, "+00")
    return list(text.tolist())


def nullable(strings: list[str], mask: np.ndarray, null: str | None) -> list[str | None]:
    return [s if m else null for s, m in zip(strings, mask.tolist(), strict=True)]


def pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def event_times(rng: np.random.Generator, n: int, anchor_s: int) -> np.ndarray:
    """Two thirds spread over 18 months, a third leaning on the last weeks (recent activity)."""
    recent = rng.random(n) < 0.35
    age = np.where(
        recent,
        np.minimum(rng.exponential(25 * DAY, n), HISTORY_DAYS * DAY),
        rng.random(n) * HISTORY_DAYS * DAY,
    )
    return anchor_s - 60 - age.astype(np.int64)


class Loader:
    """Streams column chunks into one table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, vendor: str) -> None:
        from django.conf import settings

        self.vendor = vendor
        self.null: str | None = "\\N" if vendor == "postgresql" else None
        db = settings.DATABASES["default"]
        if vendor == "postgresql":
            import psycopg

            self.conn: Any = psycopg.connect(pg_url())
            # Rows are consistent by construction; skip the per-row foreign key triggers.
            self.conn.execute("SET session_replication_role = replica")
        else:
            self.conn = sqlite3.connect(db["NAME"], isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-400000")

    def load(self, table: str, columns: Sequence[str], chunks: Iterator[list[list[Any]]]) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.vendor == "postgresql":
            with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for chunk in chunks:
                    copy.write("".join("\t".join(r) + "\n" for r in zip(*chunk, strict=True)))
            self.conn.commit()
        else:
            marks = ", ".join("?" * len(columns))
            self.conn.execute("BEGIN")
            for chunk in chunks:
                self.conn.executemany(
                    f"INSERT INTO {table} ({cols}) VALUES ({marks})", zip(*chunk, strict=True)
                )
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def drop_secondary_indexes(vendor: str, tables: Sequence[str]) -> list[tuple[str, str]]:
    """Drop the indexes and unique constraints a bulk load would maintain row by row; the SQL
    that recreates them (PostgreSQL; SQLite's inline UNIQUE indexes stay)."""
    from django.db import connection

    recreate: list[tuple[str, str]] = []
    with connection.cursor() as cur:
        for table in tables:
            if vendor == "postgresql":
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid), conindid FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'u'",
                    [table],
                )
                uniques = cur.fetchall()
                cur.execute(
                    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                    "AND NOT x.indisprimary AND x.indexrelid NOT IN "
                    "(SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)",
                    [table, table],
                )
                indexes = cur.fetchall()
                for name, definition, _ in uniques:
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                    add = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                    recreate.append((table, add))
                for name, definition in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                    recreate.append((table, definition))
            else:
                cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                    "AND sql IS NOT NULL",
                    [table],
                )
                for name, definition in cur.fetchall():
                    cur.execute(f'DROP INDEX "{name}"')
                    recreate.append((table, definition))
    return recreate


def check_columns(table: str, given: Sequence[str]) -> None:
    """Fail loudly if the table has a NOT NULL column without a default the loader leaves out."""
    from django.db import connection

    with connection.cursor() as cur:
        described = connection.introspection.get_table_description(cur, table)
    missing = [
        c.name
        for c in described
        if not c.null_ok and c.name not in given and c.name != "id" and c.default is None
    ]
    if missing:
        raise SystemExit(f"{table}: the dataset builder does not fill {missing}; update it")


def build(vendor: str, anchor: datetime) -> None:
    """Generate and load everything, rebuild the indexes, seed the scores, ANALYZE."""
    from django.db import connection

    start = time.perf_counter()
    sizes = sizes_for(vendor)
    rng = np.random.default_rng(SEED)
    anchor_s = int(anchor.timestamp())
    print(f"  [{vendor}] building the leads dataset {sizes} at anchor {anchor.isoformat()}")
    small_tables(anchor)
    tables = ["crm_company", "crm_contact", "crm_timelineevent", "marketing_touchpoint"]
    tables += ["marketing_formsubmission"]
    recreate = drop_secondary_indexes(vendor, tables)
    connection.close()
    loader = Loader(vendor)
    null = loader.null
    now_text = ts_strings(np.array([anchor_s]), vendor)[0]

    # Companies: country, industry, a log-normal headcount; revenue grows with it.
    nco = sizes.companies
    employees = np.clip(rng.lognormal(3.8, 1.6, nco), 1, 250_000).astype(np.int64)
    country_idx = pick(rng, nco, COUNTRY_WEIGHTS)
    industry_idx = rng.integers(0, len(INDUSTRIES), nco)
    co_created = anchor_s - rng.integers(400 * DAY, 1500 * DAY, nco)
    co_cols = ["id", "name", "domain", "industry", "employees", "annual_revenue", "currency"]
    co_cols += ["country", "region", "owner_id", "team_id", "created_at", "updated_at"]
    check_columns("crm_company", co_cols)

    def company_chunks() -> Iterator[list[list[Any]]]:
        for lo in range(0, nco, CHUNK):
            hi = min(nco, lo + CHUNK)
            ids = [str(i) for i in range(lo + 1, hi + 1)]
            countries = [COUNTRIES[i] for i in country_idx[lo:hi].tolist()]
            revenue = (employees[lo:hi] * rng.uniform(80_000, 250_000, hi - lo)).round(2)
            yield [
                ids,
                [f"Company {i}" for i in ids],
                [f"company{i}.example" for i in ids],
                [INDUSTRIES[i] for i in industry_idx[lo:hi].tolist()],
                employees[lo:hi].astype(str).tolist(),
                [f"{r:.2f}" for r in revenue.tolist()],
                ["USD"] * (hi - lo),
                countries,
                [REGION.get(c, "Europe") for c in countries],
                [null] * (hi - lo),
                [null] * (hi - lo),
                ts_strings(co_created[lo:hi], vendor),
                [now_text] * (hi - lo),
            ]

    loader.load("crm_company", co_cols, company_chunks())
    log(vendor, f"{nco:,} companies", start)

    # Contacts: 92% at a company (Zipf-like sizes), 60% with a persona.
    n = sizes.contacts
    has_company = rng.random(n) < 0.92
    company_of = np.where(
        has_company, (rng.zipf(1.6, n) * 7919 + rng.integers(0, nco, n)) % nco + 1, 0
    )
    persona_ids = np.asarray(persona_pks(), dtype=np.int64)
    has_persona = rng.random(n) < 0.6
    persona_of = persona_ids[rng.integers(0, len(persona_ids), n)]
    created = anchor_s - rng.integers(DAY, 1100 * DAY, n)
    activity = rng.lognormal(0, 1.3, n)
    activity /= activity.sum()

    # Events first (kept as arrays): contacts' last_activity_at is their latest event.
    ne = sizes.events
    variants = event_variants()
    ev_contact = rng.choice(n, size=ne, p=activity).astype(np.int32)
    ev_time = event_times(rng, ne, anchor_s)
    ev_variant = pick(rng, ne, [v[3] for v in variants]).astype(np.int16)
    may_camp = np.array([v[4] for v in variants])[ev_variant]
    ev_campaign = np.where(
        may_camp & (rng.random(ne) < 0.25), rng.integers(1, CAMPAIGNS + 1, ne), 0
    )
    # The timeline is appended as things happen: store the rows in time order, as production
    # does (time-window scans then read the recent part of the table, not all of it).
    order = np.argsort(ev_time, kind="stable")
    ev_contact, ev_time = ev_contact[order], ev_time[order]
    ev_variant, ev_campaign = ev_variant[order], ev_campaign[order]
    last_activity = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_activity, ev_contact, ev_time)
    log(vendor, f"{ne:,} events generated", start)

    ct_cols = ["id", "email", "first_name", "last_name", "title", "phone", "company_id"]
    ct_cols += ["persona_id", "lifecycle_stage", "lead_status", "owner_id", "team_id"]
    ct_cols += ["original_source", "original_source_detail", "subscription_status"]
    ct_cols += ["custom_fields", "score", "created_at", "updated_at", "last_activity_at"]
    check_columns("crm_contact", ct_cols)
    stage_idx = pick(rng, n, STAGE_WEIGHTS_ALL)
    title_idx = pick(rng, n, TITLE_WEIGHTS)
    sub_idx = pick(rng, n, SUBSCRIPTION_WEIGHTS)
    source_idx = rng.integers(0, len(SOURCES), n)
    first_idx = rng.integers(0, len(FIRST), n)
    last_idx = rng.integers(0, len(LAST), n)
    status_of = {"lead": "new", "mql": "open", "sql": "in_progress"}

    def contact_chunks() -> Iterator[list[list[Any]]]:
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            ids = [str(i) for i in range(lo + 1, hi + 1)]
            stages = [STAGES_ALL[i] for i in stage_idx[lo:hi].tolist()]
            yield [
                ids,
                [f"contact{i}@mail{int(i) % 97}.example" for i in ids],
                [FIRST[i] for i in first_idx[lo:hi].tolist()],
                [LAST[i] for i in last_idx[lo:hi].tolist()],
                [TITLES[i] for i in title_idx[lo:hi].tolist()],
                [""] * (hi - lo),
                nullable(company_of[lo:hi].astype(str).tolist(), has_company[lo:hi], null),
                nullable(persona_of[lo:hi].astype(str).tolist(), has_persona[lo:hi], null),
                stages,
                [status_of.get(s, "") for s in stages],
                [null] * (hi - lo),
                [null] * (hi - lo),
                [SOURCES[i] for i in source_idx[lo:hi].tolist()],
                [""] * (hi - lo),
                [SUBSCRIPTION[i] for i in sub_idx[lo:hi].tolist()],
                ["{}"] * (hi - lo),
                ["0"] * (hi - lo),
                ts_strings(created[lo:hi], vendor),
                [now_text] * (hi - lo),
                nullable(ts_strings(last_activity[lo:hi], vendor), last_activity[lo:hi] > 0, null),
            ]

    loader.load("crm_contact", ct_cols, contact_chunks())
    log(vendor, f"{n:,} contacts", start)

    ev_cols = ["type", "occurred_at", "recorded_at", "actor_id", "actor_label", "contact_id"]
    ev_cols += ["company_id", "campaign_id", "properties", "idempotency_key"]
    check_columns("crm_timelineevent", ev_cols)
    v_type = [v[0] for v in variants]
    v_label = [v[1] for v in variants]
    v_props = [v[2] for v in variants]
    company_text = nullable((company_of).astype(str).tolist(), has_company, null)

    def event_chunks() -> Iterator[list[list[Any]]]:
        for lo in range(0, ne, CHUNK):
            hi = min(ne, lo + CHUNK)
            var = ev_variant[lo:hi].tolist()
            who = ev_contact[lo:hi].tolist()
            times = ts_strings(ev_time[lo:hi], vendor)
            camp = ev_campaign[lo:hi]
            yield [
                [v_type[v] for v in var],
                times,
                times,
                [null] * (hi - lo),
                [v_label[v] for v in var],
                [str(c + 1) for c in who],
                [company_text[c] for c in who],
                nullable(camp.astype(str).tolist(), camp > 0, null),
                [v_props[v] for v in var],
                [f"bench:{i}" for i in range(lo, hi)],
            ]

    loader.load("crm_timelineevent", ev_cols, event_chunks())
    log(vendor, f"{ne:,} timeline events", start)

    # A form submission behind every form_submit event (segments read submissions).
    v_form = np.array([v[5] for v in variants])
    sub_at = np.flatnonzero(v_form[ev_variant] > 0)
    sizes_sub = len(sub_at)
    fs_cols = ["form_id", "contact_id", "submitted_at", "values", "created_contact"]
    fs_cols += ["anonymous_id", "ip", "user_agent", "page_url", "referrer", "origin", "utm"]
    fs_cols += ["campaign_id", "consent_given", "consent_text_id"]
    check_columns("marketing_formsubmission", fs_cols)
    true, false = ("t", "f") if vendor == "postgresql" else ("1", "0")

    def submission_chunks() -> Iterator[list[list[Any]]]:
        for lo in range(0, sizes_sub, CHUNK):
            at = sub_at[lo : lo + CHUNK]
            m = len(at)
            camp = ev_campaign[at]
            yield [
                v_form[ev_variant[at]].astype(str).tolist(),
                [str(c + 1) for c in ev_contact[at].tolist()],
                ts_strings(ev_time[at], vendor),
                ['{"email": "x@example.org"}'] * m,
                [false] * m,
                [""] * m,
                [null] * m,
                [""] * m,
                ["https://www.example.com/contact"] * m,
                [""] * m,
                ["hosted"] * m,
                ["{}"] * m,
                nullable(camp.astype(str).tolist(), camp > 0, null),
                [true] * m,
                [null] * m,
            ]

    loader.load("marketing_formsubmission", fs_cols, submission_chunks())
    log(vendor, f"{sizes_sub:,} form submissions", start)

    # Touchpoints: the same skewed contacts; 70% from one of the campaigns.
    nt = sizes.touchpoints
    tp_cols = ["occurred_at", "channel", "campaign_id", "kind", "contact_id", "anonymous_id"]
    tp_cols += ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]
    tp_cols += ["referrer_host", "idempotency_key"]
    check_columns("marketing_touchpoint", tp_cols)
    campaigns = campaign_rows()

    def touch_chunks() -> Iterator[list[list[Any]]]:
        for lo in range(0, nt, CHUNK):
            hi = min(nt, lo + CHUNK)
            m = hi - lo
            who = rng.choice(n, size=m, p=activity)
            with_camp = rng.random(m) < 0.7
            camp = rng.integers(0, len(campaigns), m)
            chan = rng.integers(0, len(CHANNELS), m)
            rows = [
                campaigns[c] if w else (None, CHANNELS[h], "", "", "")
                for c, w, h in zip(camp.tolist(), with_camp.tolist(), chan.tolist(), strict=True)
            ]
            yield [
                ts_strings(np.sort(event_times(rng, m, anchor_s)), vendor),
                [r[1] for r in rows],
                [str(r[0]) if r[0] else null for r in rows],
                [TOUCH_KINDS[k] for k in rng.integers(0, len(TOUCH_KINDS), m).tolist()],
                [str(c + 1) for c in who.tolist()],
                [""] * m,
                [r[2] for r in rows],
                [r[3] for r in rows],
                [r[4] for r in rows],
                [""] * m,
                [""] * m,
                [""] * m,
                [f"bench:{i}" for i in range(lo, hi)],
            ]

    loader.load("marketing_touchpoint", tp_cols, touch_chunks())
    log(vendor, f"{nt:,} touchpoints", start)
    loader.close()

    def rebuild_indexes(which: Callable[[str], bool]) -> None:
        with connection.cursor() as cur:
            if vendor == "postgresql":
                cur.execute("SET maintenance_work_mem = '512MB'")
            for table, statement in recreate:
                if which(table):
                    cur.execute(statement)

    # Contacts' indexes come back after the seeded scores are written (an UPDATE of most
    # rows would otherwise maintain every one of them).
    rebuild_indexes(lambda table: table != "crm_contact")
    seed_scores(vendor, anchor)
    rebuild_indexes(lambda table: table == "crm_contact")
    with connection.cursor() as cur:
        if vendor == "postgresql":
            for table in ("crm_company", "crm_contact"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    log(vendor, f"{len(recreate)} indexes rebuilt, scores seeded (hand-written SQL)", start)
    with connection.cursor() as cur:
        if vendor == "postgresql":
            connection.ensure_connection()
            connection.connection.autocommit = True
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("ANALYZE")
        cur.execute(f"CREATE TABLE {META_TABLE} (k varchar(40) PRIMARY KEY, v varchar(100))")
        meta = {**expected_meta(vendor), "anchor": anchor.isoformat()}
        meta["submissions"] = str(sizes_sub)
        for k, v in meta.items():
            cur.execute(f"INSERT INTO {META_TABLE} (k, v) VALUES (%s, %s)", [k, v])
    connection.close()
    log(vendor, "analyzed; dataset ready", start)


def persona_pks() -> list[int]:
    from tandem.marketing.models import Persona

    return list(Persona.objects.order_by("pk").values_list("pk", flat=True))


def campaign_rows() -> list[tuple[int, str, str, str, str]]:
    from tandem.marketing.models import Campaign

    return list(
        Campaign.objects.order_by("pk").values_list(
            "pk", "channel", "utm_source", "utm_medium", "utm_campaign"
        )
    )


def small_tables(anchor: datetime) -> None:
    """Personas, campaigns, forms, content assets and the score rules, through the ORM."""
    from tandem.leads.models import ScoreAxis, ScoreRule
    from tandem.marketing.models import Campaign, ContentAsset, Form, Persona

    Persona.objects.bulk_create(Persona(name=name) for name in PERSONAS)
    Campaign.objects.bulk_create(
        Campaign(
            name=f"Campaign {i}",
            channel=CHANNELS[i % len(CHANNELS)],
            utm_source=["google", "linkedin", "newsletter", "partner"][i % 4],
            utm_medium=CHANNELS[i % len(CHANNELS)],
            utm_campaign=f"bench_campaign_{i}",
            created_at=anchor - timedelta(days=500),
        )
        for i in range(1, CAMPAIGNS + 1)
    )
    Form.objects.bulk_create(
        Form(
            name=f"Form {i}",
            slug=f"form-{i}",
            status="published" if i > 0 else "draft",
            is_hand_raise=i <= 2,
            created_at=anchor - timedelta(days=500),
        )
        for i in range(1, FORMS + 1)
    )
    ContentAsset.objects.bulk_create(
        ContentAsset(
            title=f"Guide {i}",
            type="ebook",
            journey_stage="consideration",
            public_token=secrets.token_hex(16),
            created_at=anchor - timedelta(days=500),
        )
        for i in range(1, ASSETS + 1)
    )
    ScoreRule.objects.bulk_create(
        [
            *(
                ScoreRule(
                    axis=ScoreAxis.FIT,
                    position=i,
                    name=r["name"],
                    points=r["points"],
                    condition=r["condition"],
                )
                for i, r in enumerate(FIT_RULES)
            ),
            *(
                ScoreRule(
                    axis=ScoreAxis.ENGAGEMENT,
                    position=i,
                    name=r["name"],
                    points=r["points"],
                    event_type=r["event_type"],
                    event_filters=r.get("event_filters", []),
                    cap=r["cap"],
                )
                for i, r in enumerate(ENGAGEMENT_RULES)
            ),
        ]
    )


# ------------------------------------------------------------------ hand-written score SQL


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _property_match(vendor: str, flt: dict[str, Any]) -> str:
    key, value = flt["property"], str(flt["value"])
    assert flt["op"] == "contains", "the hand-written SQL covers the benchmark's rules only"
    if vendor == "postgresql":
        return f"strpos(lower(e.properties ->> {_quote(key)}), {_quote(value.lower())}) > 0"
    path = _quote("$." + key)
    return f"instr(lower(json_extract(e.properties, {path})), {_quote(value.lower())}) > 0"


def engagement_sql(vendor: str, *, contact_filter: str = "") -> str:
    """Per contact: the sum over the engagement rules of round(min(cap, points x decayed count)).

    Parameters: %(now)s, %(since)s (now - the engagement window). Decay halves every
    HALF_LIFE_DAYS. `contact_filter` is an extra SQL condition on e.contact_id.
    """
    if vendor == "postgresql":
        age_days = "extract(epoch FROM (%(now)s - e.occurred_at))::float8 / 86400.0"
        decay = f"power(0.5::float8, ({age_days}) / {HALF_LIFE_DAYS})"
        least = "LEAST"
    else:
        decay = f"pow(0.5, (julianday(%(now)s) - julianday(e.occurred_at)) / {HALF_LIFE_DAYS})"
        least = "MIN"
    sums, terms = [], []
    for i, rule in enumerate(ENGAGEMENT_RULES):
        match = [f"e.type = {_quote(rule['event_type'])}"]
        match += [_property_match(vendor, f) for f in rule.get("event_filters", [])]
        sums.append(f"SUM(CASE WHEN {' AND '.join(match)} THEN {decay} ELSE 0 END) AS r{i}")
        # Each rule capped, then rounded halves up (as tandem.leads.scoring does).
        terms.append(f"FLOOR({least}({rule['cap']}, {rule['points']} * r{i}) + 0.5)")
    types = ", ".join(sorted({_quote(r["event_type"]) for r in ENGAGEMENT_RULES}))
    extra = f" AND {contact_filter}" if contact_filter else ""
    return (
        f"SELECT contact_id, CAST({' + '.join(terms)} AS integer) AS engagement FROM ("
        f"SELECT e.contact_id, {', '.join(sums)} FROM crm_timelineevent e "
        f"WHERE e.type IN ({types}) AND e.occurred_at > %(since)s AND e.occurred_at <= %(now)s "
        f"AND e.contact_id IS NOT NULL{extra} GROUP BY e.contact_id) per_rule"
    )


def fit_sql() -> str:
    """Per contact: the fit points of the three fit rules (same SQL on both databases)."""
    employees, industry, title = FIT_RULES
    industries = ", ".join(_quote(v) for v in industry["condition"]["value"])
    titles = ", ".join(_quote(v) for v in title["condition"]["value"])
    return (
        f"SELECT c.id AS contact_id, "
        f"(CASE WHEN co.employees >= {employees['condition']['value']} "
        f"THEN {employees['points']} ELSE 0 END)"
        f" + (CASE WHEN co.industry IN ({industries}) THEN {industry['points']} ELSE 0 END)"
        f" + (CASE WHEN c.title IN ({titles}) THEN {title['points']} ELSE 0 END) AS fit "
        f"FROM crm_contact c LEFT JOIN crm_company co ON co.id = c.company_id"
    )


def score_params(vendor: str, now: datetime) -> dict[str, Any]:
    since = now - timedelta(days=WINDOW_DAYS)
    if vendor == "postgresql":
        return {"now": now, "since": since}
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    return {"now": now.strftime(fmt), "since": since.strftime(fmt)}


def seed_scores(vendor: str, anchor: datetime) -> None:
    """Give every contact the LeadScore and Contact.score the rules give (as if scored once), so
    a segment's score condition has something to select before scoring ever runs."""
    from django.db import connection

    params = score_params(vendor, anchor)
    when = params["now"]
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO leads_leadscore (contact_id, fit, engagement, total, probability, "
            "computed_at) SELECT f.contact_id, f.fit, COALESCE(g.engagement, 0), "
            "f.fit + COALESCE(g.engagement, 0), NULL, %(now)s "
            f"FROM ({fit_sql()}) f LEFT JOIN ({engagement_sql(vendor)}) g "
            "ON g.contact_id = f.contact_id",
            {**params, "now": when},
        )
        cur.execute(
            "UPDATE crm_contact SET score = s.total FROM leads_leadscore s "
            "WHERE s.contact_id = crm_contact.id AND s.total <> 0"
        )


def ensure_scores(vendor: str, anchor: datetime) -> None:
    """Seed the scores again if a run left every contact at score 0 (bench_scoring resets)."""
    from tandem.crm.models import Contact

    if not Contact.objects.exclude(score=0).exists():
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("DELETE FROM leads_scorechange")
            cur.execute("DELETE FROM leads_leadscore")
        seed_scores(vendor, anchor)


def run_vendors(module: str, argv: list[str], run_one: Callable[[str, bool], bool]) -> int:
    """`python -m benchmarks.<module> [sqlite|postgresql] [--rebuild]`: each database in its own
    process (Django is configured once per process); exit 1 when a target is missed."""
    rebuild = "--rebuild" in argv
    vendors = [a for a in argv if not a.startswith("--")]
    if vendors:
        return 0 if run_one(vendors[0], rebuild) else 1
    vendors = ["sqlite"]
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        vendors.append("postgresql")
    except Exception as exc:
        print(f"PostgreSQL at {PG_ADMIN_URL} does not answer ({exc}); measured SQLite only")
    import subprocess

    failed = False
    for vendor in vendors:
        cmd = [sys.executable, "-m", f"benchmarks.{module}", vendor, *argv]
        failed = subprocess.call(cmd, cwd=ROOT) != 0 or failed
    return 1 if failed else 0


# ------------------------------------------------------------------ command line


def main(argv: list[str]) -> int:
    """Build (or check) the dataset of one database kind per process."""
    rebuild = "--rebuild" in argv
    vendors = [a for a in argv if not a.startswith("--")]
    if not vendors:
        import subprocess

        code = 0
        for vendor in ("sqlite", "postgresql"):
            cmd = [
                sys.executable,
                "-m",
                "benchmarks.leads_data",
                vendor,
                *(["--rebuild"] if rebuild else []),
            ]
            code |= subprocess.call(cmd, cwd=ROOT)
        return code
    dataset = open_dataset(vendors[0], rebuild=rebuild)
    how = "reused" if dataset.built_seconds is None else f"built in {dataset.built_seconds:.0f} s"
    print(
        f"leads dataset [{dataset.vendor}]: {dataset.sizes} {how}; anchor {dataset.anchor:%Y-%m-%d %H:%M} UTC"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
