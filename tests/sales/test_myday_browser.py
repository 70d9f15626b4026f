"""My day, the deal's activities panel and sequences in a real browser.

Screenshots land in test-artifacts/screenshots/ (sales-myday-*.png, sales-sequence-*.png).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tandem.crm import services as crm_services
from tandem.sales.models import DealContact, SequenceEnrollment
from tandem.sales.services import sequences
from tests.conftest import World
from tests.sales.factories import DealFactory, SequenceFactory, with_steps
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (the Chromium page fixture)

# The world fixture re-seeds the pipelines a previous transactional test's flush removed.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_rep_works_through_my_day(
    world: World,
    transactional_db: Any,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    now = timezone.now()
    # Given rep1 has an overdue call, a task due later today, a meeting and a sequence step
    for subject, due in (
        ("Call Ann about pricing", now - timedelta(hours=3)),
        ("Send the proposal", now + timedelta(minutes=30)),
        ("Prepare QBR deck", now + timedelta(days=2)),
    ):
        crm_services.log_activity(
            kind="task", by=world.rep1, contact=world.rep1_contact, subject=subject, due_at=due
        )
    crm_services.log_activity(
        kind="meeting",
        by=world.rep1,
        contact=world.rep1_contact,
        subject="Demo with Acme",
        occurred_at=now,
    )
    sequences.enroll(
        sequence=with_steps(SequenceFactory(name="Cold outbound"), ("call", "Intro call")),
        contact=world.east_unassigned,
        by=world.rep1,
    )
    sequences.advance_due(now=timezone.now())
    # When rep1 opens My day
    sign_in(page, live_server.url, "rep1", "pw-rep1-123")
    page.goto(f"{live_server.url}/sales/my-day/")
    expect(page.locator("#count-overdue")).to_have_text("1")
    expect(page.get_by_text("Demo with Acme")).to_be_visible()
    expect(page.get_by_text("Intro call (Cold outbound, step 1)")).to_be_visible()
    shot(page, "sales-myday")
    # And marks the overdue call done (htmx swaps the day in place)
    page.locator("#tasks-overdue").get_by_role("button", name="Done").click()
    expect(page.get_by_text("Done: Call Ann about pricing.")).to_be_visible()
    expect(page.locator("#count-overdue")).to_have_text("0")
    shot(page, "sales-myday-done")


def test_rep_logs_a_task_on_a_deal_and_enrols_a_contact(
    world: World,
    transactional_db: Any,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    deal = DealFactory(name="Acme platform", owner=world.rep1, company=world.acme)
    DealContact.objects.create(
        deal=deal,
        contact=world.rep1_contact,
        role="champion",
        is_primary=True,
        added_at=timezone.now(),
    )
    sign_in(page, live_server.url, "rep1", "pw-rep1-123")
    # The panel on its own URL (the deal page embeds it with hx-get)
    page.goto(f"{live_server.url}/sales/deals/{deal.pk}/")
    page.get_by_text("Log a call, meeting, email, note or task").click()
    page.get_by_text("Task", exact=True).click()
    page.get_by_label("Subject").fill("Send the contract")
    page.get_by_label("Due").fill("2030-01-10T15:00")
    page.get_by_label("Remind me at").fill("2030-01-10T09:00")
    page.get_by_role("button", name="Log", exact=True).click()
    expect(page.get_by_text("Task logged.")).to_be_visible()
    expect(page.locator("#deal-activities").get_by_text("Send the contract")).to_be_visible()
    shot(page, "sales-deal-activities")

    sequence = sequences.create_sequence(
        name="Webinar follow-up",
        by=world.rep1,
        steps=[
            {"kind": "email", "subject": "Thanks for joining"},
            {"kind": "wait", "wait_days": 2},
            {"kind": "call", "subject": "Check in"},
        ],
    )
    page.goto(f"{live_server.url}/sales/sequences/{sequence.pk}/")
    page.get_by_label("Emails or contact ids").fill("dee@initech.com, nobody@nowhere.com")
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.get_by_text("Enrolled 1 contact.")).to_be_visible()
    expect(page.get_by_text("nobody@nowhere.com: no such contact")).to_be_visible()
    shot(page, "sales-sequence-detail")
    assert SequenceEnrollment.objects.filter(contact=world.east_unassigned).count() == 1
    page.goto(f"{live_server.url}/sales/sequences/new/")
    shot(page, "sales-sequence-new")
    page.goto(f"{live_server.url}/sales/sequences/")
    shot(page, "sales-sequence-list")
