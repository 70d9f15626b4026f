"""Server time of the six dashboard pages on the default demo (10,000 contacts), per database.

Data: the default demo built by `tandem.demo.pipeline.build` (10,000 contacts, 18 months of
history, joint goals), kept under var/bench/dashboards_sqlite/ and in the PostgreSQL database
`tandem_bench_dashboards`; a `bench_dashboards_meta` table holds the version, contacts and the
build's "now", and a later run reuses a build of the same version made in the last 7 days
(the pages default to the current quarter, so the history must end near today).

Measured: GET of dash_shared, dash_sales, dash_funnel, dash_marketing, dash_handoff and
dash_attribution (those that exist) through Django's test client signed in as the demo admin,
ROUNDS times each after a warm-up (the first request pays plotly's imports), median and p95;
baseline in the same run: the deal board and the contacts list, the app's busiest list pages.
A page over the target gets a breakdown: each chart's computation and figure markup, and the
time spent in SQL.

Target: median < 500 ms per page on both databases.
Run: `.venv/bin/python -m benchmarks.bench_dashboards [sqlite|postgresql] [--rebuild]`.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, configure_cached, connect_cached, percentile, report, sample_ms
from benchmarks.leads_data import PG_ADMIN_URL, run_vendors

DATA_VERSION = "1"
CONTACTS = 10_000
SEED = 1
MAX_AGE = timedelta(days=7)
META_TABLE = "bench_dashboards_meta"
PG_DATABASE = "tandem_bench_dashboards"
ROUNDS = 15
TARGET_MS = 500.0
PAGES = [
    "dash_shared",
    "dash_sales",
    "dash_funnel",
    "dash_marketing",
    "dash_handoff",
    "dash_attribution",
]
BASELINES = [("web:deal_board", "deal board"), ("web:contacts", "contacts list")]


def data_dir(vendor: str) -> Path:
    return ROOT / "var" / "bench" / f"dashboards_{vendor}"


def _database_url(vendor: str) -> str | None:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}" if vendor == "postgresql" else None


def read_existing(vendor: str) -> datetime | None:
    """The build time of a complete, recent demo already in place, else None."""
    try:
        conn = connect_cached(directory=data_dir(vendor), database_url=_database_url(vendor))
        if conn is None:
            return None
        with conn:
            meta = dict(conn.execute(f"SELECT k, v FROM {META_TABLE}").fetchall())
            if meta.get("version") != DATA_VERSION or meta.get("contacts") != str(CONTACTS):
                return None
            count = conn.execute("SELECT count(*) FROM crm_contact").fetchone()[0]
            if count != CONTACTS:
                return None
        now = datetime.fromisoformat(meta["now"])
        return now if datetime.now(UTC) - now < MAX_AGE else None
    except Exception:
        return None


def open_demo(vendor: str, *, rebuild: bool) -> tuple[datetime, float | None]:
    """Configure Django on the demo database of this kind, building the demo when needed."""
    now = None if rebuild else read_existing(vendor)
    url = _database_url(vendor)
    if now is not None:
        configure_cached(directory=data_dir(vendor), database_url=url)
        return now, None
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    else:
        shutil.rmtree(data_dir(vendor), ignore_errors=True)
    configure_cached(directory=data_dir(vendor), database_url=url)
    from django.db import connection

    from tandem.demo.pipeline import build

    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    print(f"  [{vendor}] building the demo ({CONTACTS:,} contacts)", flush=True)
    build(seed=SEED, contacts=CONTACTS, now=now)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        cur.execute(f"CREATE TABLE {META_TABLE} (k varchar(40) PRIMARY KEY, v varchar(100))")
        for k, v in {
            "version": DATA_VERSION,
            "contacts": str(CONTACTS),
            "now": now.isoformat(),
        }.items():
            cur.execute(f"INSERT INTO {META_TABLE} (k, v) VALUES (%s, %s)", [k, v])
    return now, time.perf_counter() - started


def breakdown(client: Any, url: str) -> None:
    """Where one request's time goes: each chart's computation and markup, and SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tandem.dashboards import charts

    timings: list[str] = []
    original = charts.Chart.html

    def timed_html(self: Any) -> Any:
        started = time.perf_counter()
        markup = original.fget(self)  # type: ignore[attr-defined]
        timings.append(f"{self.key} markup {1000 * (time.perf_counter() - started):.0f} ms")
        return markup

    modules = [m for name, m in sys.modules.items() if name.startswith("tandem.dashboards.views.")]
    saved = {m: m.render_dashboard for m in modules if hasattr(m, "render_dashboard")}

    def timed_render(request: Any, *, template: str, page: str, builders: Any, context: Any) -> Any:
        def wrap(key: str, build: Any) -> Any:
            def run() -> Any:
                started = time.perf_counter()
                chart = build()
                timings.append(f"{key} data+figure {1000 * (time.perf_counter() - started):.0f} ms")
                return chart

            return run

        wrapped = {k: wrap(k, b) for k, b in builders.items()}
        return charts.render_dashboard(
            request, template=template, page=page, builders=wrapped, context=context
        )

    charts.Chart.html = property(timed_html)  # type: ignore[method-assign,assignment]
    for module in saved:
        module.__dict__["render_dashboard"] = timed_render
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            client.get(url)
            total = 1000 * (time.perf_counter() - started)
    finally:
        charts.Chart.html = original  # type: ignore[method-assign]
        for module, fn in saved.items():
            module.__dict__["render_dashboard"] = fn
    sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(
        f"    breakdown of one request ({total:.0f} ms, {len(queries)} queries, {sql:.0f} ms SQL):"
    )
    for line in timings:
        print(f"      {line}")


def run_one(vendor: str, rebuild: bool) -> bool:
    """Measure every dashboard page on one database; True when all meet the target."""
    now, built = open_demo(vendor, rebuild=rebuild)
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from tandem.accounts.models import User
    from tandem.crm.models import Contact
    from tandem.sales.models import Deal

    how = "reused" if built is None else f"built in {built:.0f} s"
    print(
        f"dashboards [{vendor}] demo of {Contact.objects.count():,} contacts and "
        f"{Deal.objects.count():,} deals ({how}, history up to {now:%Y-%m-%d})"
    )
    client = Client()
    client.force_login(User.objects.get(username="admin"))

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"

    base_samples = {}
    for name, label in BASELINES:
        url = reverse(name)
        base_samples[label] = sample_ms(partial(get, url), repeat=ROUNDS)
    baseline_label = BASELINES[0][1]
    baseline = statistics.median(base_samples[baseline_label])
    for label, samples in base_samples.items():
        print(f"  baseline {label}: median {statistics.median(samples):.1f} ms")
    ok = True
    for name in PAGES:
        try:
            url = reverse(f"web:{name}")
        except NoReverseMatch:
            print(f"  {name}: not there yet, skipped")
            continue
        samples = sample_ms(partial(get, url), repeat=ROUNDS)
        median = statistics.median(samples)
        passed = report(
            f"  {name} [{vendor}]",
            figure=f"median of {ROUNDS} (p95 {percentile(samples, 95):.1f} ms)",
            value=median,
            unit="ms",
            target=TARGET_MS,
            baseline=baseline,
            baseline_label=f"{baseline_label}, same run",
        )
        if not passed or "--explain" in sys.argv:
            breakdown(client, url)
        ok = passed and ok
    return ok


def main(argv: list[str]) -> int:
    return run_vendors("bench_dashboards", argv, run_one)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
