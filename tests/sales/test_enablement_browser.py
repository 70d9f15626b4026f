"""Enablement in a real browser: a rep attaches a suggested asset and records an insight on a
deal, ticks onboarding after the win; marketing reads the library, the report and the feed.

Screenshots land in test-artifacts/screenshots/ (sales-library-*.png) for a human to look at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tandem.sales.models import ContentUse, DealContact, Insight
from tandem.sales.services import deals
from tandem.sales.services import enablement as enablement_services
from tests.conftest import World
from tests.marketing.factories import ContentAssetFactory, PersonaFactory
from tests.sales.factories import DealFactory, stage
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (the Chromium page fixture)

pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_a_rep_uses_content_and_records_an_insight_marketing_reads_them(
    world: World,
    transactional_db: Any,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    # Given a deal in Proposal and a library with a decision-stage asset
    cfo = PersonaFactory(name="CFO")
    roi = ContentAssetFactory(
        title="ROI calculator",
        audience="enablement",
        type="one_pager",
        journey_stage="decision",
        description="Shows the payback period in a page.",
    )
    roi.personas.add(cfo)
    ContentAssetFactory(
        title="Buyer's guide", audience="both", type="ebook", journey_stage="consideration"
    )
    enablement_services.rate_content(asset=roi, by=world.rep2, rating=4, comment="CFOs love it")
    deal = DealFactory(owner=world.rep1, name="Acme expansion", stage=stage("Proposal"))
    DealContact.objects.create(
        deal=deal, contact=world.rep1_contact, role="champion", is_primary=True, added_at=NOW
    )
    # When rep1 attaches the suggested asset from the deal page
    sign_in(page, live_server.url, "rep1", "pw-rep1-123")
    page.goto(f"{live_server.url}/sales/deals/{deal.pk}/")
    panel = page.locator("#deal-content")
    expect(panel.get_by_text("Suggested for decision")).to_be_visible()
    panel.get_by_role("button", name="Attach ROI calculator").click()
    # Then the panel shows the use without a page load
    expect(panel.locator("[id^=content-use-]")).to_have_count(1)
    assert ContentUse.objects.get().asset_id == roi.pk
    # And an insight is recorded with tags
    insights = page.locator("#deal-insights")
    insights.get_by_text("Record an objection").click()
    insights.get_by_label("Kind").select_option("competitor")
    insights.get_by_label("Competitor").fill("Initech")
    insights.get_by_label("What you heard").fill("Initech quoted 20 % less")
    insights.get_by_label("Tags").fill("Pricing, discount")
    insights.get_by_role("button", name="Record").click()
    expect(insights.get_by_text("#pricing")).to_be_visible()
    assert Insight.objects.get().competitor == "Initech"
    shot(page, "sales-library-deal-panels")

    # When the deal is won, the onboarding checklist appears and a step is ticked
    deals.mark_won(deal=deal, by=world.rep1, at=NOW)
    page.goto(f"{live_server.url}/sales/deals/{deal.pk}/")
    onboarding = page.locator("#deal-onboarding")
    expect(onboarding.get_by_text("0 of 5 done")).to_be_visible()
    onboarding.get_by_role(
        "button", name="Mark Kick-off call with the customer's team done"
    ).click()
    expect(onboarding.get_by_text("1 of 5 done")).to_be_visible()
    shot(page, "sales-library-onboarding")

    # And rep1 rates the asset from its page
    page.goto(f"{live_server.url}/sales/library/{roi.pk}/")
    page.get_by_label("Rating", exact=True).select_option("5")
    page.get_by_label("Comment").fill("Closed Acme with it")
    page.get_by_role("button", name="Rate", exact=True).click()
    expect(page.locator(".rating-list").get_by_text("Closed Acme with it")).to_be_visible()
    shot(page, "sales-library-asset")

    # Marketing reads the library, the report and the insights feed
    page.context.clear_cookies()
    sign_in(page, live_server.url, "marketing", "pw-marketing-123")
    page.goto(f"{live_server.url}/sales/library/")
    expect(page.get_by_text("ROI calculator")).to_be_visible()
    page.get_by_label("Journey stage").select_option("consideration")
    expect(page.locator("#library-results").get_by_text("ROI calculator")).to_have_count(0)
    expect(page.locator("#library-results").get_by_text("Buyer's guide")).to_be_visible()
    page.get_by_label("Journey stage").select_option("")
    expect(page.locator("#library-results").get_by_text("ROI calculator")).to_be_visible()
    shot(page, "sales-library-list")
    page.goto(f"{live_server.url}/sales/library/report/")
    expect(page.locator("table.enablement-report")).to_contain_text("ROI calculator")
    shot(page, "sales-library-report")
    page.goto(f"{live_server.url}/sales/insights/")
    expect(page.get_by_text("Initech quoted 20 % less")).to_be_visible()
    shot(page, "sales-library-insights")
    page.goto(f"{live_server.url}/sales/referrals/")
    shot(page, "sales-library-referrals")
