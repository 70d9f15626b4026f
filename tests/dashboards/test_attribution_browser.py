"""A marketer opens the attribution, marketing and hand-off dashboards in a real browser and switches views.

Screenshots land in test-artifacts/screenshots/ (dash-attribution-*, dash-marketing, dash-handoff).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tandem.crm.models import Contact
from tandem.leads.models import LeadAssignment, RejectionReason
from tandem.sales.models import DealContact
from tests.crm.factories import ContactFactory
from tests.marketing.factories import CampaignCostFactory, CampaignFactory, TouchpointFactory
from tests.sales.factories import DealFactory
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (page is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHANNELS = ("paid_search", "events", "email", "organic_search", "paid_social", "referral")


def build(world: Any) -> None:
    """Two months of touches, deals and costs: enough for every chart to draw something."""
    rng = random.Random(6)
    campaigns = [
        CampaignFactory(name=f"{channel.replace('_', ' ').title()} push {i}", channel=channel)
        for i, channel in enumerate(CHANNELS)
    ]
    campaigns.append(CampaignFactory(name="<script>alert(1)</script>", channel="display"))
    for c in campaigns:
        CampaignCostFactory(
            campaign=c, amount=Decimal(rng.randint(200, 3000)), incurred_on=date(2026, 3, 5)
        )
    base = datetime(2026, 2, 1, 10, tzinfo=UTC)
    for i in range(24):
        contact = ContactFactory(
            original_source=rng.choice(["paid_search", "events", "email", "referral"]),
            became_lead_at=base + timedelta(days=rng.randint(28, 58)),
        )
        for _ in range(rng.randint(1, 4)):
            c = rng.choice(campaigns)
            TouchpointFactory(
                contact=contact,
                channel=c.channel,
                campaign=c,
                kind=rng.choice(["visit", "click", "content_view", "form_submit", "event"]),
                occurred_at=base + timedelta(days=rng.randint(0, 50), hours=rng.randint(0, 8)),
            )
        if i % 3 != 2:
            won = i % 3 == 0
            deal = DealFactory(
                amount=Decimal(rng.randint(5, 40) * 1000),
                status="won" if won else "lost",
                created_at=base + timedelta(days=20),
                closed_at=base + timedelta(days=rng.randint(29, 58)),
            )
            DealContact.objects.create(deal=deal, contact=contact, added_at=deal.created_at)
    reasons = list(RejectionReason.objects.order_by("position"))
    for i, contact in enumerate(Contact.objects.filter(became_lead_at__isnull=False)[:18]):
        assigned = datetime(2026, 3, 2 + i, 9, tzinfo=UTC)
        status = ("accepted", "rejected", "accepted", "pending")[i % 4]
        LeadAssignment.objects.create(
            contact=contact,
            rep=world.rep1,
            team=world.east,
            status=status,
            qualified_by="score",
            source=contact.original_source,
            assigned_at=assigned,
            accept_due_at=assigned + timedelta(hours=4),
            first_touch_due_at=assigned + timedelta(hours=24),
            decided_at=assigned + timedelta(hours=1) if status != "pending" else None,
            first_touch_at=assigned + timedelta(hours=1 + i * 3) if status == "accepted" else None,
            accept_breached_at=assigned + timedelta(hours=4) if i % 5 == 0 else None,
            reason=reasons[i % len(reasons)] if status == "rejected" else None,
        )
    for n in range(30):
        TouchpointFactory(
            anonymous_id=f"anon-{n}",
            channel="organic_social",
            occurred_at=base + timedelta(days=28 + n),
        )


def test_attribution_and_marketing_pages(world, live_server, page):  # noqa: F811
    from playwright.sync_api import expect

    build(world)
    sign_in(page, live_server.url, "marketing", "pw-marketing-123")
    page.goto(f"{live_server.url}/dashboards/attribution/?period=2026-03")
    expect(page.get_by_role("heading", name="Attribution · March 2026")).to_be_visible()
    expect(page.locator("#chart-models .plot-container")).to_be_visible()
    expect(page.locator("#chart-journeys .plot-container")).to_be_visible()
    shot(page, "dash-attribution-channel")

    # Switching to campaigns redraws the comparison with campaign names (escaped, shown literally)
    page.get_by_label("Group by").select_option("campaign")
    page.locator("#attribution-form button").click()
    expect(page).to_have_url(re.compile(r"group_by=campaign"))
    expect(page.locator("#chart-models-title")).to_have_text("Model comparison by campaign")
    expect(page.locator("#chart-models .xtick text").first).to_be_visible()
    shot(page, "dash-attribution-campaign")

    page.goto(f"{live_server.url}/dashboards/marketing/?period=2026-03")
    expect(page.get_by_role("heading", name="Marketing · March 2026")).to_be_visible()
    for key in ("traffic", "reach", "engagement", "leads", "cpl", "roi", "economics"):
        expect(page.locator(f"#chart-{key} .plot-container")).to_be_visible()
    shot(page, "dash-marketing")

    page.goto(f"{live_server.url}/dashboards/handoff/?period=2026-03")
    expect(page.get_by_role("heading", name="Hand-off · March 2026")).to_be_visible()
    for key in ("sla", "acceptance", "reasons", "first_touch"):
        expect(page.locator(f"#chart-{key} .plot-container")).to_be_visible()
    shot(page, "dash-handoff")
