"""Hosted landing pages: published only, first-party anonymous id, page view, no pre-fill, embed."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from tandem.marketing.services import forms as form_services
from tandem.tracking.models import Event, Visitor
from tests.marketing.factories import ContentAssetFactory, SourceFactory
from tests.tracking.test_submissions import CONSENT_V1, SITE, make_form

TWO_YEARS = 2 * 365 * 24 * 3600


@pytest.fixture
def form(db):
    return make_form()


def test_the_landing_page_shows_the_form_sets_the_cookie_and_records_the_view(form):
    """Given a first visit from a search ad, then the page shows headline, intro, fields,
    consent and honeypot, sets a 128-bit first-party id and records a page view with UTM."""
    url = "/f/guide/?utm_source=Google&utm_medium=CPC&utm_campaign=Spring%20Launch"
    response = Client().get(url, HTTP_REFERER="https://www.google.com/search?q=crm")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="tdm-headline">Get the buyer&#x27;s guide</h1>' in html
    assert "Twenty pages on choosing a CRM." in html
    for name in ["email", "first_name", "last_name", "phone", "company_name", "custom:team_size"]:
        assert f'name="{name}"' in html
    assert CONSENT_V1 in html
    assert 'name="website"' in html and 'tabindex="-1"' in html
    assert 'action="/f/guide/submit"' in html
    cookie = response.cookies["tdm_aid"]
    assert re.fullmatch(r"[0-9a-f]{32}", cookie.value)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == TWO_YEARS
    assert response["Cache-Control"].startswith("max-age=0")
    event = Event.objects.get()
    assert (event.type, event.anonymous_id) == ("page_view", cookie.value)
    assert event.context == {
        "url": f"http://testserver{url}",
        "referrer": "https://www.google.com/search?q=crm",
        "utm": {"source": "google", "medium": "cpc", "campaign": "spring launch"},
    }
    assert event.properties == {"form_id": form.pk, "form_name": "Buyer's guide"}
    assert event.processed_at is not None


def test_a_returning_visitor_keeps_their_id(form):
    client = Client()
    client.cookies["tdm_aid"] = "c" * 32
    response = client.get("/f/guide/")
    assert "tdm_aid" not in response.cookies
    assert Event.objects.get().anonymous_id == "c" * 32


def test_a_hostile_cookie_is_replaced(form):
    client = Client()
    client.cookies["tdm_aid"] = "<script>alert(1)</script>"
    response = client.get("/f/guide/")
    assert re.fullmatch(r"[0-9a-f]{32}", response.cookies["tdm_aid"].value)


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_only_published_forms_have_a_page(form, status):
    form_services.set_form_status(form=form, status=status)
    assert Client().get("/f/guide/").status_code == 404
    assert Client().get("/f/unknown/").status_code == 404
    assert not Event.objects.exists()


def test_the_form_never_prefills_what_we_know_about_an_identified_visitor(form, world):
    """Given a browser already identified as Ann (her cookie links to her contact), when she
    opens the page, then every input is empty and nothing of hers is on the page."""
    ann = world.rep1_contact
    now = timezone.now()
    Visitor.objects.create(
        anonymous_id="a" * 32, contact=ann, first_seen_at=now, last_seen_at=now, identified_at=now
    )
    client = Client()
    client.cookies["tdm_aid"] = "a" * 32
    client.force_login(world.marketer)  # even a signed-in user gets a blank form
    html = client.get("/f/guide/").content.decode()
    assert ann.email not in html
    assert "Archer" not in html
    # email, first and last name, phone, company, and the honeypot
    assert re.findall(r'<input type="(?:text|email|tel)"[^>]*value="([^"]*)"', html) == [""] * 6
    assert "checked" not in html
    assert re.search(r"<textarea[^>]*></textarea>", html)
    # The page view is still Ann's.
    assert Event.objects.get(type="page_view").anonymous_id == "a" * 32


def test_the_embed_fragment_is_the_same_form_with_cors_for_the_source_only(db):
    source = SourceFactory(origins=[SITE])
    make_form(slug="embedded", source=source)
    response = Client().get("/f/embedded/?embed=1", HTTP_ORIGIN=SITE)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    html = response.content.decode()
    assert html.strip().startswith("{#") is False
    assert (
        '<form class="tdm-form" method="post" action="http://testserver/f/embedded/submit"' in html
    )
    assert "<html" not in html
    assert CONSENT_V1 in html
    other = Client().get("/f/embedded/?embed=1", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
    assert not Event.objects.exists()  # the embedding page's own tracking records visits


def test_the_thank_you_state_needs_a_token_this_server_signed(db):
    asset = ContentAssetFactory(title="CRM buyer's guide")
    make_form(slug="gated", asset=asset)
    client = Client(REMOTE_ADDR="203.0.113.9")
    forged = client.get("/f/gated/?done=1").content.decode()
    assert asset.public_token not in forged
    assert 'name="email"' in forged
    done = client.post(
        "/f/gated/submit", {"email": "a@example.org", "first_name": "A", "_consent": "yes"}
    )
    thanks = client.get(done["Location"]).content.decode()
    assert "Thank you! We will be in touch." in thanks
    assert f"/c/{asset.public_token}" in thanks
    other_form = make_form(slug="other")
    other_token = done["Location"].split("done=")[1]
    assert (
        asset.public_token
        not in client.get(f"/f/{other_form.slug}/?done={other_token}").content.decode()
    )


def test_a_visitors_markup_in_the_url_and_referrer_is_escaped_on_the_page(form):
    """Given a script in the query string and in the Referer, then neither runs on the page."""
    response = Client().get(
        '/f/guide/?utm_campaign="><script>alert(1)</script>',
        HTTP_REFERER='https://x.example/"><script>alert(2)</script>',
    )
    html = response.content.decode()
    assert "<script>" not in html
    assert 'value="https://x.example/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in html
    assert "utm_campaign=%22%3E%3Cscript%3Ealert(1)%3C/script%3E" in html
    assert (
        Event.objects.get().context["referrer"] == 'https://x.example/"><script>alert(2)</script>'
    )
