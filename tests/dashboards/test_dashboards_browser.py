"""In a real browser: the shared goals page (tiles, charts, table view, setting a goal) and the
funnel page (breakdown, cohort table view)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tandem.dashboards.services import set_goals
from tests.crm.factories import ContactFactory
from tests.dashboards.test_sales_dashboard import at, deals  # noqa: F401  (a fixture)
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (page is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(world: Any, deals: Any) -> None:  # noqa: F811
    """Q2 2026: the sales dashboard's deals, contacts moving through the funnel, some goals."""
    for i, (source, stage) in enumerate(
        [("email", "sql"), ("email", "mql"), ("paid_search", "lead"), ("events", "customer")]
    ):
        stages = ["lead", "mql", "sql", "opportunity", "customer"]
        dates = {
            f"became_{s}_at": at(f"2026-04-{3 + 5 * n + i:02d}")
            for n, s in enumerate(stages[: stages.index(stage) + 1])
        }
        ContactFactory(
            email=f"funnel{i}@example.com",
            original_source=source,
            lifecycle_stage=stage,
            created_at=at(f"2026-04-{3 + i:02d}"),
            **dates,
        )
    set_goals(
        period="2026-Q2",
        targets={"revenue": Decimal(50000), "mqls": Decimal(4), "win_rate": Decimal("0.5")},
        by=world.admin,
    )


def test_shared_and_funnel_pages(history: None, live_server: Any, page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    # Given a sales manager signed in, on the shared page of Q2 2026
    sign_in(page, live_server.url, "manager", "pw-manager-123")
    page.goto(f"{live_server.url}/dashboards/?period=2026-Q2")
    expect(page.get_by_role("heading", name="Shared goals · Q2 2026")).to_be_visible()
    revenue = page.locator("#goal-revenue")
    expect(revenue).to_contain_text("$40,000")
    expect(revenue).to_contain_text("80.0 % of goal")
    expect(page.locator("#chart-progress .plot-container")).to_be_visible()
    expect(page.locator("#chart-funnel .plot-container")).to_be_visible()
    # When they open the progress card's table view
    table = page.locator("#chart-progress table")
    expect(table).to_be_hidden()
    page.locator("#chart-progress summary").click()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text("Revenue won")
    shot(page, "dash-01-shared")

    # And raise the revenue goal through the form
    page.get_by_role("link", name="Set the goals of Q2 2026").click()
    expect(page.get_by_role("heading", name="Joint goals · Q2 2026")).to_be_visible()
    expect(page.get_by_label("Win rate (%)")).to_have_value("50")
    page.get_by_label("Revenue won (USD)").fill("80000")
    shot(page, "dash-02-goals-form")
    page.get_by_role("button", name="Save goals").click()

    # Then the shared page shows the new goal and progress
    expect(page.get_by_text("Saved the joint goals of Q2 2026.")).to_be_visible()
    expect(revenue).to_contain_text("$80,000")
    expect(revenue).to_contain_text("50.0 % of goal")

    # When they open the funnel page and break it down by channel
    page.goto(f"{live_server.url}/dashboards/funnel/?period=2026-Q2")
    expect(page.get_by_role("heading", level=1, name="Funnel · Q2 2026")).to_be_visible()
    expect(page.locator("#chart-funnel .plot-container")).to_be_visible()
    page.get_by_label("Breakdown").select_option("channel")
    page.get_by_role("button", name="Show", exact=True).last.click()
    expect(page.locator("#chart-breakdown .plot-container")).to_be_visible()
    expect(page.locator("#chart-cohorts .plot-container")).to_be_visible()
    page.locator("#chart-breakdown summary").click()
    expect(page.locator("#chart-breakdown table")).to_contain_text("Email marketing")
    shot(page, "dash-03-funnel")

    # And the sales page of the same quarter draws its cards
    page.goto(f"{live_server.url}/dashboards/sales/?period=2026-Q2")
    expect(page.get_by_role("heading", level=1, name="Sales · Q2 2026")).to_be_visible()
    for key in ("forecast", "activities", "losses", "wins", "reps"):
        expect(page.locator(f"#chart-{key} .plot-container")).to_be_visible()
    # the only open deals are the west team's, which the east manager does not see
    expect(page.locator("#chart-pipeline")).to_contain_text("No data for this selection yet.")
    shot(page, "dash-04-sales")
