"""The forecast and quota pages in a real browser: a manager sets a quota and reads the roll-up.

Screenshots land in test-artifacts/screenshots/ (sales-forecast-*.png, sales-quotas-*.png).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tandem.sales.models import ForecastSnapshot
from tandem.sales.queries import forecasts as queries
from tests.conftest import World
from tests.sales.factories import DealFactory, stage
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (the Chromium page fixture)

# The world fixture re-seeds the pipelines a previous transactional test's flush removed.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_manager_sets_a_quota_and_reads_the_rollup(
    world: World,
    transactional_db: Any,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    # Given this quarter rep1 won 12,000 and has 20,000 in negotiation, rep2 8,000 in proposal,
    # and three weekly snapshots of the team
    period = queries.current_quarter()
    DealFactory(
        owner=world.rep1,
        amount=Decimal("12000.00"),
        stage=stage("Closed Won"),
        status="won",
        closed_at=datetime.combine(period.start, time(10), tzinfo=UTC),
    )
    DealFactory(
        owner=world.rep1,
        amount=Decimal("20000.00"),
        stage=stage("Negotiation"),
        expected_close_date=period.end,
    )
    DealFactory(
        owner=world.rep2,
        amount=Decimal("8000.00"),
        stage=stage("Proposal"),
        expected_close_date=period.end,
    )
    for week, (won, commit) in enumerate(((0, 15000), (6000, 25000), (12000, 32000))):
        ForecastSnapshot.objects.create(
            taken_on=period.start + timedelta(days=7 * week + 1),
            period_kind="quarter",
            period_start=period.start,
            team=world.east,
            closed_won=Decimal(won),
            commit=Decimal(commit),
            best_case=Decimal(commit + 8000),
            pipeline=Decimal(0),
            weighted=Decimal(15000 + 4000 - won),
            quota=None,
        )
    # When the manager sets rep1's quarter quota on the quota page
    sign_in(page, live_server.url, "manager", "pw-manager-123")
    page.goto(f"{live_server.url}/sales/quotas/")
    page.get_by_label(f"{period.label} quota of Riley").fill("40000")
    page.locator(f"#quota-user{world.rep1.pk}").get_by_role("button", name="Save").click()
    # Then the row shows 30 % attained and the team total adds up its members
    expect(page.get_by_text(f"Saved the {period.label} quota of rep1.")).to_be_visible()
    expect(page.locator(f"#quota-user{world.rep1.pk}")).to_contain_text("30.0%")
    expect(page.locator(f"#quota-team{world.east.pk}")).to_contain_text("(sum of members)")
    shot(page, "sales-quotas")
    # And the forecast page shows the numbers, the roll-up and the snapshot chart
    page.goto(f"{live_server.url}/sales/forecast/")
    expect(page.locator("#fc-closed-won")).to_contain_text("$12,000")
    expect(page.locator("#fc-commit")).to_contain_text("$32,000")
    expect(page.locator("#fc-best-case")).to_contain_text("$40,000")
    expect(page.locator("#forecast-rollup")).to_contain_text("Sales East total")
    expect(page.locator("#forecast-chart .plotly-graph-div")).to_be_visible()
    shot(page, "sales-forecast-manager")
    # And a rep's line opens that rep's forecast
    page.locator("#forecast-rollup").get_by_role("link", name="Riley").click()
    expect(page.locator("#forecast-scope-label")).to_have_text("Riley")
    expect(page.locator("#fc-quota")).to_contain_text("30.0%")
    shot(page, "sales-forecast-rep")
