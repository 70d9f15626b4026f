"""Tracking ingestion through `POST /api/v1/events` (batches of 500) on SQLite and PostgreSQL.

A real HTTP server: the WSGI app under waitress in its own process (production settings, DEBUG
off), posted to over keep-alive connections by client threads. Reported per database: events
per second, the ratio to a raw bulk insert of the same rows into the same table measured in the
same run (COPY on PostgreSQL, a multi-row INSERT on SQLite, through the bare driver, same batch
size and the same number of concurrent connections, one commit per batch), and the server's memory (RSS) at the start,
middle and end of the run, which must stay flat.

Targets on PostgreSQL: >= 50,000 events/s and >= 0.5 of the raw insert rate.
Run: `.venv/bin/python -m benchmarks.bench_ingest [sqlite|postgresql]` (exit 1 on a missed target).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, timer

BATCH = 500
BATCHES = 600  # 300,000 events through the API per database
WARMUP_BATCHES = 20
CLIENTS = 4
SERVER_THREADS = 4
TARGET_RATE = 50_000
TARGET_RATIO = 0.5
MEMORY_GROWTH_LIMIT_MB = 16.0
PG_ADMIN_URL = os.environ.get(
    "TANDEM_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)
PG_DATABASE = "tandem_bench_ingest"
REDIS_URL = os.environ.get("TANDEM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SEED = 20250401
RAW_METHOD = {"postgresql": "raw COPY", "sqlite": "raw multi-row INSERT"}

PAGES = ["/", "/pricing", "/blog/attribution-101", "/product/tour", "/docs/start", "/contact"]
REFERRERS = [
    "",
    "https://www.google.com/",
    "https://www.linkedin.com/feed/",
    "https://news.ycombinator.com/",
]
UTMS = [
    {},
    {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring_launch"},
    {"utm_source": "linkedin", "utm_medium": "paid_social", "utm_campaign": "abm_q2"},
]


def make_batches(count: int, *, seed: int, tag: str) -> list[list[dict[str, Any]]]:
    """Realistic browser batches: page views of returning visitors, some identify and custom."""
    rng = random.Random(seed)
    visitors = [secrets.token_hex(16) for _ in range(5_000)]
    start = datetime.now(UTC) - timedelta(days=5)
    batches = []
    for b in range(count):
        events = []
        for i in range(BATCH):
            roll = rng.random()
            kind = (
                "page_view" if roll < 0.9 else ("custom:video play" if roll < 0.98 else "identify")
            )
            utm = rng.choice(UTMS)
            query = "?" + "&".join(f"{k}={v}" for k, v in utm.items()) if utm else ""
            event: dict[str, Any] = {
                "event_id": f"{tag}-{b}-{i}-{uuid.uuid4().hex[:12]}",
                "type": kind,
                "occurred_at": (start + timedelta(seconds=b * BATCH + i)).isoformat(),
                "anonymous_id": rng.choice(visitors),
                "properties": {"title": "Tandem - revenue platform", "screen": "1440x900"},
                "context": {
                    "url": f"https://www.example.com{rng.choice(PAGES)}{query}",
                    "referrer": rng.choice(REFERRERS),
                    "utm": {k.removeprefix("utm_"): v for k, v in utm.items()},
                },
            }
            if kind == "identify":
                event["email"] = f"visitor{rng.randrange(100_000)}@example.org"
            events.append(event)
        batches.append(events)
    return batches


# ------------------------------------------------------------------ server process


def serve(port: int) -> None:
    """The server process: the WSGI app under waitress, production settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    import logging

    from waitress import serve as waitress_serve

    # "Task queue depth" warnings only say that every server thread is busy, which is the point.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    from tandem.wsgi import application

    waitress_serve(application, host="127.0.0.1", port=port, threads=SERVER_THREADS, _quiet=True)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_all(
    port: int, key: str, bodies: list[bytes], *, on_progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Post every body over CLIENTS keep-alive connections; totals of the replies."""
    lock = threading.Lock()
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "done": 0}
    queue = list(enumerate(bodies))
    errors: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue or errors:
                    break
                _, body = queue.pop(0)
            conn.request("POST", "/api/v1/events", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 202:
                with lock:
                    errors.append(f"HTTP {response.status}: {data[:300]!r}")
                break
            reply = json.loads(data)
            with lock:
                totals["accepted"] += reply["accepted"]
                totals["duplicates"] += reply["duplicates"]
                totals["rejected"] += len(reply["rejected"])
                totals["done"] += 1
                done = totals["done"]
            if on_progress:
                on_progress(done)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(errors[0])
    return totals


# ------------------------------------------------------------------ raw baseline


def raw_rows(batches: list[list[dict[str, Any]]]) -> list[list[tuple[Any, ...]]]:
    """The rows the API stores for these events, built outside the timed part."""
    now = datetime.now(UTC)
    out = []
    for events in batches:
        rows = []
        for e in events:
            context = {**e["context"], "ip": "127.0.0.1", "user_agent": "Python-http.client"}
            rows.append(
                (
                    e["event_id"],
                    e["type"],
                    datetime.fromisoformat(e["occurred_at"]),
                    now,
                    e["anonymous_id"],
                    e.get("email", ""),
                    json.dumps(e["properties"]),
                    json.dumps(context),
                )
            )
        out.append(rows)
    return out


def raw_insert(vendor: str, source_id: int, batches: list[list[tuple[Any, ...]]]) -> float:
    """Seconds to bulk-insert every batch through the bare driver, CLIENTS connections at once.

    PostgreSQL: COPY FROM STDIN, its fastest way in; SQLite: one multi-row INSERT. One
    transaction per batch of 500, as the API commits each request.
    """
    from django.conf import settings

    cols = "source_id, event_id, type, occurred_at, received_at, anonymous_id, email, properties, context"
    queue = list(batches)
    lock = threading.Lock()

    def connect() -> Any:
        if vendor == "postgresql":
            import psycopg

            db = settings.DATABASES["default"]
            return psycopg.connect(
                dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
            )
        import sqlite3

        conn = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def worker() -> None:
        conn = connect()
        cursor = conn.cursor()
        while True:
            with lock:
                if not queue:
                    break
                rows = queue.pop(0)
            if vendor == "postgresql":
                with cursor.copy(f"COPY tracking_event ({cols}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row((source_id, *r))
            else:
                values = ",".join(["(?,?,?,?,?,?,?,?,?)"] * len(rows))
                params = [
                    v
                    for r in rows
                    for v in (
                        source_id,
                        r[0],
                        r[1],
                        r[2].replace(tzinfo=None).isoformat(" "),
                        r[3].replace(tzinfo=None).isoformat(" "),
                        *r[4:],
                    )
                ]
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(f"INSERT INTO tracking_event ({cols}) VALUES {values}", params)
            conn.commit()
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


# ------------------------------------------------------------------ one database


def prepare_database(vendor: str, data_dir: Path) -> dict[str, str]:
    """The environment of a fresh database of this kind (PostgreSQL: a dedicated database)."""
    env = {
        "TANDEM_DATA_DIR": str(data_dir),
        "TANDEM_DEBUG": "false",
        "TANDEM_SECRET_KEY": secrets.token_urlsafe(40),
        "TANDEM_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
        env["TANDEM_DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
        # PostgreSQL is the scale-out set-up, whose queue is Redis (the SQLite queue is for the
        # embedded start: it fsyncs its file on every enqueue).
        if redis_answers():
            env["TANDEM_QUEUE_URL"] = REDIS_URL
    return env


def redis_answers() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


def drop_database(vendor: str) -> None:
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


def run_one(vendor: str) -> bool:
    """Set up, measure the API and the raw baseline on one database, report; True when on target."""
    data_dir = ROOT / "var" / "bench" / f"ingest_{vendor}"
    if data_dir.exists():
        import shutil

        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    env = prepare_database(vendor, data_dir)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tandem.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tandem.marketing.services.sources import create_source
    from tandem.tracking.models import Event

    call_command("migrate", verbosity=0)
    api_source, key = create_source(name="Bench website", origins=["https://www.example.com"])
    raw_source, _ = create_source(name="Bench raw baseline")
    connection.close()

    with timer() as built:
        api_batches = make_batches(BATCHES, seed=SEED, tag="api")
        bodies = [json.dumps({"events": b}).encode() for b in api_batches]
        baseline = raw_rows(make_batches(BATCHES - WARMUP_BATCHES, seed=SEED + 1, tag="raw"))
    from django.conf import settings

    print(
        f"[{vendor}] queue: {type(settings.HUEY).__name__}; "
        f"{BATCHES} batches of {BATCH} events built in {built['seconds']:.1f} s "
        f"({sum(map(len, bodies)) / len(bodies) / 1024:.0f} KB a body); "
        f"{CLIENTS} client connections, waitress with {SERVER_THREADS} threads"
    )

    # The raw baseline runs half before and half after the API, so that both meet the table
    # at the same sizes on average (indexes grow slower to write as they grow).
    half = len(baseline) // 2
    raw_seconds = raw_insert(vendor, raw_source.pk, baseline[:half])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_ingest", "--serve", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        for _ in range(200):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.1)
        # Warm-up: imports, connections, plan caches.
        post_all(port, key, bodies[:WARMUP_BATCHES])
        measured = bodies[WARMUP_BATCHES:]
        samples: dict[str, float] = {"start": rss_mb(server.pid)}
        marks = {len(measured) // 2: "middle"}

        def progress(done: int) -> None:
            if done in marks:
                samples[marks[done]] = rss_mb(server.pid)

        cpu_before = cpu_seconds(server.pid)
        with timer() as api:
            totals = post_all(port, key, measured, on_progress=progress)
        server_cpu = cpu_seconds(server.pid) - cpu_before
        samples["end"] = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    events = len(measured) * BATCH
    if totals["accepted"] != events or totals["duplicates"] or totals["rejected"]:
        raise SystemExit(f"[{vendor}] unexpected replies: {totals}")
    stored = Event.objects.filter(source=api_source).count()
    if stored != BATCHES * BATCH:
        raise SystemExit(f"[{vendor}] {stored} events stored, expected {BATCHES * BATCH}")
    connection.close()
    raw_seconds += raw_insert(vendor, raw_source.pk, baseline[half:])
    raw_rate = sum(map(len, baseline)) / raw_seconds
    rate = events / api["seconds"]
    ratio = rate / raw_rate
    growth = samples["end"] - samples["middle"]
    ok_rate, ok_ratio = rate >= TARGET_RATE, ratio >= TARGET_RATIO
    ok_memory = growth <= MEMORY_GROWTH_LIMIT_MB
    print(
        f"ingest API [{vendor}]: {rate:,.0f} events/s ({events:,} events in {api['seconds']:.2f} s)"
        + (
            f"; target >= {TARGET_RATE:,} " + ("PASS" if ok_rate else "FAIL")
            if vendor == "postgresql"
            else " (the targets apply to PostgreSQL)"
        )
    )
    print(
        f"  baseline ({RAW_METHOD[vendor]} of the same rows, same table, {CLIENTS} connections) = "
        f"{raw_rate:,.0f} events/s; ratio = {ratio:.3f}"
        + (
            f"; target >= {TARGET_RATIO} " + ("PASS" if ok_ratio else "FAIL")
            if vendor == "postgresql"
            else ""
        )
    )
    print(
        f"  web server process CPU: {server_cpu / events * 1e6:.1f} us per event "
        f"({server_cpu / api['seconds']:.2f} cores busy; the machine has {os.cpu_count()} cores)"
    )
    print(
        f"  server RSS: start {samples['start']:.1f} MB, middle {samples.get('middle', 0):.1f} MB, "
        f"end {samples['end']:.1f} MB (growth middle->end {growth:+.1f} MB; limit "
        f"{MEMORY_GROWTH_LIMIT_MB:g}) {'PASS' if ok_memory else 'FAIL'}"
    )
    connection.close()
    drop_database(vendor)
    settings.HUEY.flush()  # the processing jobs this run queued (nobody consumed them)
    if vendor == "postgresql":
        return ok_rate and ok_ratio and ok_memory
    return ok_memory


def main() -> int:
    """Each database in its own process (Django is configured once per process)."""
    if len(sys.argv) >= 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
        return 0
    if len(sys.argv) >= 2:
        return 0 if run_one(sys.argv[1]) else 1
    vendors = ["sqlite"]
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        vendors.append("postgresql")
    except Exception as exc:
        print(f"PostgreSQL at {PG_ADMIN_URL} does not answer ({exc}); measured SQLite only")
    failed = False
    for vendor in vendors:
        code = subprocess.call([sys.executable, "-m", "benchmarks.bench_ingest", vendor], cwd=ROOT)
        failed = failed or code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
