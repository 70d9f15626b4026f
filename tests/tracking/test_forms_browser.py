"""Landing-page forms in a real browser: a visitor submits, marketing sees the contact; and a
visitor's markup (in fields and in the page address) stays text on the contact page.

Uses the Chromium/Playwright set-up of tests/web/test_browser.py; screenshots go to
test-artifacts/screenshots/forms-*.png.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tandem.crm.models import Contact
from tandem.marketing.models import FormSubmission
from tests.marketing.factories import CampaignFactory, SourceFactory
from tests.tracking.test_submissions import CONSENT_V1, make_form
from tests.web.test_browser import page, shot  # noqa: F401 (page is a fixture)

pytestmark = pytest.mark.browser


def sign_in_as_marketing(page: Any, base: str) -> None:  # noqa: F811
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("marketing")
    page.get_by_label("Password").fill("pw-marketing-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/contacts/"))


def open_contact(page: Any, base: str, email: str, name: str) -> None:  # noqa: F811
    page.goto(f"{base}/contacts/?q={email}")
    page.get_by_role("link", name=name).click()


def test_a_visitor_submits_the_landing_page_and_marketing_sees_the_contact(
    world,
    transactional_db,
    live_server,
    page,  # noqa: F811
):
    from playwright.sync_api import expect

    # Given a published form credited to a paid-search campaign
    campaign = CampaignFactory(
        name="Spring launch", channel="paid_search", utm_campaign="spring_launch"
    )
    make_form()
    base = live_server.url

    # When a visitor arrives from the ad
    page.goto(f"{base}/f/guide/?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch")
    expect(page.get_by_role("heading", name="Get the buyer's guide")).to_be_visible()
    expect(page.get_by_text(CONSENT_V1)).to_be_visible()
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()
    shot(page, "forms-01-landing")

    # and sends it half-filled: the page comes back with the problems under their fields
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Email is required.")).to_be_visible()
    expect(page.get_by_text("First name is required.")).to_be_visible()
    expect(page.get_by_text("Tick the consent box to continue.")).to_be_visible()
    shot(page, "forms-02-errors")

    # then fills it in and submits
    page.get_by_role("textbox", name="Email", exact=True).fill("nina.north@example.org")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("North")
    page.get_by_label("Company").fill("Northwind Traders")
    page.get_by_label("Team size").select_option("11-50")
    page.get_by_label(CONSENT_V1).check()
    shot(page, "forms-03-filled")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Thank you! We will be in touch.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/f/guide/\?done="))
    shot(page, "forms-04-thanks")

    # Then marketing finds the new lead, with the form and the ad visit on the timeline
    sign_in_as_marketing(page, base)
    open_contact(page, base, "nina.north@example.org", "Nina North")
    expect(page.get_by_role("heading", name=re.compile("Nina North"))).to_contain_text("Lead")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Form submitted")
    expect(timeline).to_contain_text("Buyer's guide")
    expect(timeline).to_contain_text("Page viewed")
    expect(timeline).to_contain_text("campaign spring_launch")
    expect(page.get_by_text("Northwind Traders").first).to_be_visible()
    shot(page, "forms-05-contact")
    contact = Contact.objects.get(email="nina.north@example.org")
    submission = FormSubmission.objects.get()
    assert (submission.contact_id, submission.campaign_id, submission.consent_text.version) == (
        contact.pk,
        campaign.pk,
        1,
    )
    assert submission.ip == "127.0.0.1"

    # and reads the submission with its consent proof
    page.goto(f"{base}/marketing/forms/{submission.form_id}/submissions/")
    row = page.locator("#submissions-table tbody tr").first
    expect(row).to_contain_text("Nina North")
    expect(row).to_contain_text("given v1")
    expect(row).to_contain_text("127.0.0.1")
    shot(page, "forms-06-submissions")


XSS_NAME = "<img src=x onerror=\"window.__xss='name';alert('name')\">"
XSS_LAST = "<script>window.__xss='last';alert('last')</script>"
XSS_COMPANY = "\"><svg onload=\"window.__xss='company';alert('company')\">"
XSS_UTM = "<script>alert('utm')</script>"


def test_markup_in_fields_and_the_page_address_is_text_on_the_contact_page(
    world,
    transactional_db,
    live_server,
    page,  # noqa: F811
):
    from playwright.sync_api import expect

    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    make_form()
    base = live_server.url

    # Given a visitor who follows a link whose UTM tags carry a script
    page.goto(f"{base}/f/guide/?utm_source=evil&utm_medium=cpc&utm_campaign={XSS_UTM}")
    # When they type markup into the fields (a first try fails, echoing it back)
    page.get_by_label("First name").fill(XSS_NAME)
    page.get_by_label("Last name").fill(XSS_LAST)
    page.get_by_label("Company").fill(XSS_COMPANY)
    page.get_by_label("Message").fill(XSS_LAST)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Email is required.")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value(XSS_NAME)
    shot(page, "forms-07-xss-echo")
    page.get_by_role("textbox", name="Email", exact=True).fill("mallory@example.org")
    page.get_by_label(CONSENT_V1).check()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Thank you! We will be in touch.")).to_be_visible()

    # Then on the contact page everything shows as the text that was typed, and nothing ran
    sign_in_as_marketing(page, base)
    page.goto(f"{base}/contacts/{Contact.objects.get(email='mallory@example.org').pk}/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(XSS_NAME)
    expect(heading).to_contain_text(XSS_LAST)
    expect(page.get_by_text(XSS_COMPANY).first).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Form submitted")
    expect(timeline).to_contain_text(f"campaign {XSS_UTM}")
    shot(page, "forms-08-xss-contact")
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("main script, main svg[onload]").count() == 0

    # and the same on the form's submissions list
    page.goto(f"{base}/marketing/forms/{FormSubmission.objects.get().form_id}/submissions/")
    expect(page.locator("#submissions-table")).to_contain_text(XSS_NAME)
    expect(page.locator("#submissions-table")).to_contain_text(XSS_UTM.lower())
    shot(page, "forms-09-xss-submissions")
    assert page.evaluate("window.__xss") is None
    assert dialogs == []


@pytest.fixture
def external_site() -> Iterator[tuple[str, dict[str, str]]]:
    """Another origin (127.0.0.1 on its own port) serving whatever HTML the test puts in pages:
    a real second site, on loopback like the live server, so the browser embeds across origins."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0], "not found").encode()
            self.send_response(200 if self.path.split("?")[0] in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", pages
    finally:
        server.shutdown()
        server.server_close()


def test_the_embed_snippet_works_on_an_external_site(
    world,
    transactional_db,
    live_server,
    page,  # noqa: F811 (the fixture imported above)
    external_site,
):
    """Given the snippet from the builder pasted on another site (a source origin), when a
    visitor there submits, then forms.js posts it cross-origin and shows the thank-you text,
    and the anonymous id tandem.js keeps in localStorage comes along."""
    from playwright.sync_api import expect

    external, pages = external_site
    form = make_form(slug="embedded", source=SourceFactory(name="Website", origins=[external]))
    base = live_server.url
    sign_in_as_marketing(page, base)
    page.goto(f"{base}/marketing/forms/{form.pk}/")
    expect(page.get_by_role("heading", name="Embed on your site")).to_be_visible()
    shot(page, "forms-10-builder")
    snippet = page.locator("#embed-snippet").input_value()
    page.goto(f"{base}/marketing/forms/{form.pk}/preview/")
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    shot(page, "forms-11-preview")

    pages["/pricing"] = f"<!doctype html><title>Pricing</title><h1>Our pricing</h1>{snippet}"
    page.goto(f"{external}/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=june")
    page.evaluate("window.localStorage.setItem('tdm_aid', 'e'.repeat(32))")
    embedded = page.locator("#tandem-form-embedded form.tdm-form")
    expect(embedded).to_be_visible()
    embedded.get_by_role("button", name="Submit").click()
    expect(embedded.get_by_text("Email is required.")).to_be_visible()
    expect(embedded.get_by_text("First name is required.")).to_be_visible()
    shot(page, "forms-12-embed-errors")
    embedded.get_by_role("textbox", name="Email", exact=True).fill("omar@example.net")
    embedded.get_by_label("First name").fill("Omar")
    embedded.get_by_label(CONSENT_V1).check()
    embedded.get_by_role("button", name="Submit").click()
    thanks = page.locator("#tandem-form-embedded .tdm-thanks")
    expect(thanks).to_have_text("Thank you! We will be in touch.")
    shot(page, "forms-13-embed-thanks")
    submission = FormSubmission.objects.get()
    assert (submission.origin, submission.anonymous_id) == (external, "e" * 32)
    assert submission.page_url == (
        f"{external}/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=june"
    )
    assert submission.utm == {"source": "newsletter", "medium": "email", "campaign": "june"}
    assert submission.contact.first_name == "Omar"

    # and a site that is not among the source's origins cannot use the form
    form.source.origins = ["https://www.example.com"]
    form.source.save()
    page.reload()
    expect(page.locator("#tandem-form-embedded")).to_have_text(
        "This form is not available right now."
    )
