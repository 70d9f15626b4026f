"""Deal board and deal list pages at 100,000 deals: p95 server time per role, SQLite and PostgreSQL.

Each page is requested through Django's test Client (middleware, session, permissions, queries,
template) as a rep (about 1,700 deals of their own), a manager (a team of about 20,000) and an
admin (all 100,000). Target: p95 < 100 ms. The baseline, measured in the same run, is a bare
SELECT of one page of 50 deals (newest first, hand-written SQL, rows fetched): the ratio says
how many of those the page costs.

Figures of 2026-12-03 (2-core machine, nothing else running; runs vary by +-30 %), p95 ms
SQLite / PostgreSQL: board rep 98 / 91, manager 138 / 151, admin 70 / 100; searched board (q)
80-244 / 92-213; list 27-64 / 42-90 for every role and sort. The list and the rep's and admin's
boards meet the target; a manager's board (the visibility OR over ~20,000 deals) and a board
searched by a substring do not. See docs/sales.md.

Run: `.venv/bin/python -m benchmarks.bench_deals [sqlite|postgresql] [--rebuild]` (each database
in its own process; exit 1 when a target is missed). The dataset is benchmarks/sales_data.py.
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks import sales_data
from benchmarks.common import percentile, report, sample_ms
from benchmarks.leads_data import run_vendors

TARGET_MS = 100.0
REQUESTS = 40
BASELINE_SQL = (
    "SELECT id, name, company_id, owner_id, amount, currency, amount_base, stage_id, status, "
    "expected_close_date, created_at FROM sales_deal ORDER BY created_at DESC, id DESC LIMIT 50"
)


def _explain_board(user: Any) -> str:
    """The plans of the board's grouped sum and one column's cards (printed on a miss)."""
    from tandem.sales.models import Pipeline
    from tandem.sales.queries.board import deals_for

    pipeline = Pipeline.objects.get(is_default=True)
    scoped = deals_for(user).filter(pipeline=pipeline)
    first = pipeline.stages.order_by("position").first()
    from django.db.models import Count, Sum

    grouped = scoped.order_by().values("stage_id").annotate(n=Count("id"), t=Sum("amount_base"))
    cards = scoped.filter(status="open", stage=first).order_by("-amount_base", "id")[:30]
    return f"grouped:\n{grouped.explain()}\ncards:\n{cards.explain()}"


def run_one(vendor: str, rebuild: bool) -> bool:
    """Measure one database; True when every page meets its target."""
    dataset = sales_data.open_dataset(vendor, rebuild=rebuild)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from tandem.accounts.models import User
    from tandem.sales.models import Deal

    settings.DEBUG = False
    how = "reused" if dataset.built_seconds is None else f"built in {dataset.built_seconds:.0f} s"
    print(f"deal pages [{vendor}]: {sales_data.DEALS:,} deals ({how})")

    def baseline() -> object:
        with connection.cursor() as cur:
            cur.execute(BASELINE_SQL)
            return cur.fetchall()

    base_ms = percentile(sample_ms(baseline, repeat=REQUESTS * 2), 95)
    users = {name: User.objects.get(username=name) for name in ("rep1", "manager1", "admin")}
    for name, user in users.items():
        from tandem.accounts import permissions

        seen = permissions.visible(user, Deal.objects.all()).count()
        print(f"  {name} sees {seen:,} deals")
    pages = {
        "board": ("/sales/board/", {}),
        "board q=acme": ("/sales/board/", {"q": "acme"}),
        "list": ("/sales/deals/", {}),
        "list sort=-amount": ("/sales/deals/", {"sort": "-amount"}),
        "list status=open close this quarter": (
            "/sales/deals/",
            {"status": "open", "close_from": "2026-10-01", "close_to": "2026-12-31"},
        ),
    }
    ok = True
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        for label, (url, params) in pages.items():

            def call(
                url: str = url, params: dict[str, str] = params, client: Client = client
            ) -> object:
                response = client.get(url, params)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {response.status_code}")
                return response

            times = sample_ms(call, repeat=REQUESTS)
            passed = report(
                f"  {label} as {name} [{vendor}]",
                figure="p95",
                value=percentile(times, 95),
                unit="ms",
                target=TARGET_MS,
                baseline=base_ms,
                baseline_label="bare SELECT of one page of 50 deals",
            )
            if not passed:
                ok = False
                if label.startswith("board"):
                    print("    " + _explain_board(user).replace("\n", "\n    "))
    connection.close()
    return ok


if __name__ == "__main__":
    sys.exit(run_vendors("bench_deals", sys.argv[1:], run_one))
