"""One real-browser walk through the CRM: headless Chromium (Debian's) driven by Playwright.

A rep signs in, searches, opens a contact, logs a call and sees it on the timeline. Each step
leaves a screenshot under test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tandem.crm import services
from tests.crm.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh Chromium page; never downloads a browser."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("TANDEM_REQUIRE_BROWSER"):
            pytest.fail("TANDEM_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # around it are still synchronous, so Django's async guard must stand aside.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        tab = context.new_page()
        # Generous: CI runs two workers on two cores, and a first page of a live server is slow.
        tab.set_default_timeout(30_000)
        tab.set_default_navigation_timeout(60_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(tab: Any, url: str, username: str, password: str) -> None:
    """Sign in through the login form of the live server at `url`."""
    tab.goto(f"{url}/login/")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()


def test_rep_searches_opens_a_contact_and_logs_a_call(world, transactional_db, live_server, page):
    from playwright.sync_api import expect

    # Given rep1 with a handful of contacts and some history on Ann
    stages = ["lead", "mql", "sql", "opportunity", "customer", "subscriber"]
    for i, stage in enumerate(stages):
        company = CompanyFactory(name=f"Northwind {i}", owner=world.rep1, team=world.east)
        ContactFactory(
            first_name=["Jo", "Max", "Ola", "Sam", "Ada", "Li"][i],
            company=company,
            owner=world.rep1,
            team=world.east,
            lifecycle_stage=stage,
        )
    ann = world.rep1_contact
    services.log_activity(
        kind="note",
        by=world.rep1,
        contact=ann,
        subject="Met at the trade fair",
        body="Interested in the annual plan.",
    )
    services.change_lifecycle_stage(contact=ann, to_stage="mql", by=world.marketer)

    # When rep1 signs in
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("rep1")
    page.get_by_label("Password").fill("pw-rep1-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    expect(page.locator("#contacts-table tbody tr")).to_have_count(8)
    shot(page, "01-contacts")

    # and searches: only the table is swapped, and the URL follows the search
    page.get_by_label("Search").fill("ann")
    expect(page.locator("#contacts-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/contacts/\?q=ann"))
    shot(page, "02-search")

    # then opens Ann
    page.get_by_role("link", name="Ann Archer").click()
    expect(page.get_by_role("heading", name=re.compile("Ann Archer"))).to_be_visible()
    shot(page, "03-contact")

    # and logs a call with its outcome and duration
    form = page.locator("form.log-form")
    form.get_by_text("Call", exact=True).click()
    form.get_by_label("Subject").fill("Discovery call")
    form.get_by_label("Call outcome").select_option("connected")
    form.get_by_label("Duration minutes").fill("25")
    expect(form.get_by_label("Due date")).to_be_hidden()  # only the call's own fields show
    shot(page, "04-call-form")
    form.get_by_role("button", name="Log activity").click()

    # then the call is first on the timeline, without a page load
    expect(page.get_by_text("Call logged.")).to_be_visible()
    first = page.locator("#timeline li.ev").first
    expect(first).to_contain_text("Call")
    expect(first).to_contain_text("Discovery call · Connected · 25 min")
    expect(page.locator("#activity-panel table")).to_contain_text("Discovery call")
    shot(page, "05-call-logged")
    assert ann.activities.filter(
        kind="call", duration_seconds=1500, call_outcome="connected"
    ).exists()
