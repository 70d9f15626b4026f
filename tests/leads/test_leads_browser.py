"""The hand-off in a real browser: marketing builds a segment with a live count, a lead crosses
the MQL rule and is routed, the rep accepts it from the inbox.

Screenshots land in test-artifacts/screenshots/ (leads-*.png) for a human to look at.
"""

from __future__ import annotations

from typing import Any

import pytest

from tandem.crm.models import Contact
from tandem.leads.models import AssignmentStatus, LeadAssignment, RoutingRule
from tandem.leads.services import handoff, scoring
from tandem.leads.services.settings import update_lead_settings
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (the Chromium page fixture)

pytestmark = pytest.mark.browser


def test_segment_builder_counts_live(
    world: World,
    transactional_db: Any,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    # Given three MQLs among the world's contacts
    for i in range(3):
        ContactFactory(first_name=f"Mia{i}", lifecycle_stage="mql")
    # When marketing opens the builder and asks for lifecycle stage = mql
    sign_in(page, live_server.url, "marketing", "pw-marketing-123")
    page.goto(f"{live_server.url}/leads/segments/new/")
    page.get_by_label("Name").fill("All MQLs")
    page.get_by_label("Field of condition 1").select_option("lifecycle_stage")
    # (choosing a field re-renders the row with that field's operators and choices; typing
    # before the new row is in would type into the row being replaced)
    expect(page.get_by_text("One of: subscriber")).to_be_visible()
    expect(page.get_by_label("Condition 1", exact=True)).to_contain_text("is")
    page.get_by_label("Value of condition 1").fill("mql")
    # Then the count follows the definition without a page load
    expect(page.locator("#segment-count")).to_contain_text("3 contacts")
    shot(page, "leads-segment-builder")
    # And saving it shows the members
    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_role("heading", name="All MQLs")).to_be_visible()
    expect(page.get_by_text("Mia1")).to_be_visible()
    shot(page, "leads-segment-detail")


def test_an_mql_is_routed_and_accepted_from_the_inbox(
    world: World,
    transactional_db: Any,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    # Given an MQL rule on fit only and a routing rule sending everything to Sales East
    update_lead_settings(changes={"mql_fit_min": 10, "mql_engagement_min": 0})
    scoring.create_rule(
        axis="fit",
        name="Director",
        points=20,
        condition={"field": "title", "op": "contains", "value": "director"},
    )
    RoutingRule.objects.create(name="All to East", team=world.east, position=0)
    lead = ContactFactory(
        first_name="Dana", last_name="Fisher", title="Marketing Director", lifecycle_stage="lead"
    )
    # When the contact is scored and qualified (what the event job does)
    scoring.rescore_contacts(contact_ids=[lead.pk], cause="test")
    assert handoff.qualify_contacts(contact_ids=[lead.pk]) == [lead.pk]
    assignment = LeadAssignment.objects.get(contact=lead)
    rep = assignment.rep
    assert rep is not None and rep.team_id == world.east.pk
    password = {"rep1": "pw-rep1-123", "rep2": "pw-rep2-123"}[rep.username]

    # Then the rep sees it in the inbox with its SLA countdown
    sign_in(page, live_server.url, rep.username, password)
    page.goto(f"{live_server.url}/leads/inbox/")
    row = page.get_by_role("row").filter(has_text="Dana Fisher")
    expect(row).to_contain_text("due in 23 h")
    expect(row).to_contain_text("MQL rule: fit 20")
    shot(page, "leads-inbox")
    # And accepting it removes it from the inbox and makes the contact an SQL
    row.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("row").filter(has_text="Dana Fisher")).to_have_count(0)
    shot(page, "leads-inbox-accepted")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACCEPTED
    assert Contact.objects.get(pk=lead.pk).lifecycle_stage == "sql"
    # And the contact page explains the score and shows the hand-off
    page.goto(f"{live_server.url}/contacts/{lead.pk}/")
    expect(page.get_by_text("Director").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("Accepted")
    shot(page, "leads-contact")
