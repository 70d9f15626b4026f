"""Public form submissions: validation, spam checks, origins, consent proof and the contact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from tandem import bus
from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
from tandem.marketing.models import Form, FormSubmission, Touchpoint
from tandem.marketing.services import forms as form_services
from tandem.tracking import services as tracking_services
from tandem.tracking import submissions
from tandem.tracking.models import Event, Visitor
from tests.crm.factories import ContactFactory
from tests.marketing.factories import CampaignFactory, ContentAssetFactory, SourceFactory

CONSENT_V1 = "I agree that Tandem may email me about its products."
SITE = "https://www.example.com"


def make_form(*, slug: str = "guide", consent_required: bool = True, **settings: Any) -> Form:
    """A published form asking for every kind of field, with consent wording v1."""
    form = form_services.create_form(
        name="Buyer's guide",
        slug=slug,
        headline="Get the buyer's guide",
        intro="Twenty pages on choosing a CRM.",
        consent_required=consent_required,
        consent_text=CONSENT_V1,
        **settings,
    )
    add = form_services.add_field
    add(form=form, target="first_name", label="First name", required=True)
    add(form=form, target="last_name", label="Last name")
    add(form=form, target="phone", label="Phone", input_type="tel")
    add(form=form, target="company_name", label="Company")
    add(
        form=form,
        target="custom:team_size",
        label="Team size",
        input_type="select",
        choices="1-10\n11-50\n51+",
    )
    add(form=form, target="custom:wants_demo", label="I want a demo", input_type="checkbox")
    add(form=form, target="message", label="Message", input_type="textarea")
    form_services.set_form_status(form=form, status="published")
    return form


def answers(**overrides: Any) -> dict[str, Any]:
    data = {
        "email": "  Nina.North@Example.org ",
        "first_name": "Nina",
        "last_name": "North",
        "phone": "+1 555 0100",
        "company_name": "Northwind Traders",
        "custom:team_size": "11-50",
        "custom:wants_demo": "yes",
        "message": "Call me after 3pm.",
        "_consent": "yes",
        "_consent_version": "1",
        "_page_url": "https://tandem.test/f/guide/?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch",
        "_referrer": "https://www.google.com/",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client: Client, slug: str = "guide", data: dict[str, Any] | None = None, **extra: Any):
    return client.post(f"/f/{slug}/submit", data if data is not None else answers(), **extra)


def post_json(
    client: Client, slug: str = "guide", data: dict[str, Any] | None = None, **extra: Any
):
    return post(client, slug, data, HTTP_ACCEPT="application/json", **extra)


@pytest.fixture
def form(db) -> Form:
    return make_form()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Rate-limit windows are fixed: pin their clock mid-minute so a test never straddles two
    by accident (clock[0] moves it on purpose)."""
    clock = [datetime(2030, 1, 7, 12, 30, 10, tzinfo=UTC)]
    monkeypatch.setattr(tracking_services, "timezone", SimpleNamespace(now=lambda: clock[0]))
    return clock


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Mozilla/5.0 (Test) Chromium")


# ---------------------------------------------------------------- validation


def test_each_invalid_field_gets_its_own_message_as_json(form, client):
    """Given a bad answer in every kind of field, when posted by forms.js, then 400 lists each."""
    response = post_json(
        client,
        data=answers(
            email="not-an-email",
            first_name="",
            phone="call me",
            **{"custom:team_size": "500+"},
            company_name="x" * 256,
            _consent="",
        ),
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "email": "Email: enter a valid email address.",
            "first_name": "First name is required.",
            "phone": "Phone: enter a phone number (digits, spaces, + and -).",
            "company_name": "Company is longer than 255 characters.",
            "custom:team_size": "Team size: choose one of the options.",
            "consent": "Tick the consent box to continue.",
        }
    }
    assert not FormSubmission.objects.exists()
    assert not Contact.objects.filter(email__icontains="example.org").exists()
    assert not Event.objects.exists()


def test_a_missing_email_and_a_required_checkbox_are_refused(form, client):
    """Given a required checkbox left unticked and no email, then both are named."""
    form_services.update_field(
        field=form.fields.get(target="custom:wants_demo"), changes={"required": True}
    )
    response = post_json(client, data=answers(email="", **{"custom:wants_demo": ""}))
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "email": "Email is required.",
        "custom:wants_demo": "Tick “I want a demo” to continue.",
    }


def test_the_hosted_page_comes_back_with_errors_and_the_visitors_own_answers(form, client):
    """Given a plain form post with a missing first name, then the page is shown again (400)
    with the message under the field and what the visitor typed kept."""
    response = post(client, data=answers(first_name=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "First name is required." in html
    assert 'aria-invalid="true"' in html
    assert 'value="Northwind Traders"' in html
    assert response["Content-Type"].startswith("text/html")
    assert not FormSubmission.objects.exists()


def test_a_draft_or_archived_form_takes_no_submissions(form, client):
    form_services.set_form_status(form=form, status="archived")
    assert post(client).status_code == 404
    assert not FormSubmission.objects.exists()


# ---------------------------------------------------------------- spam, rate limit, origins


def test_a_filled_honeypot_is_thanked_and_nothing_is_stored(form, client):
    """Given a bot that fills the hidden field, then it sees success and nothing is written."""
    response = post(client, data=answers(website="https://spam.example"))
    assert response.status_code == 303
    assert response["Location"].startswith("/f/guide/?done=")
    as_json = post_json(client, data=answers(website="buy now"))
    assert as_json.json() == {
        "ok": True,
        "message": "Thank you! We will be in touch.",
        "asset_url": "",
    }
    assert not FormSubmission.objects.exists()
    assert not Contact.objects.filter(email="nina.north@example.org").exists()
    assert not Event.objects.exists()


def test_the_sixth_submission_in_a_minute_from_one_ip_is_a_429(form, client, clock):
    """Given five submissions from one IP, then the sixth is refused with a clear message,
    while another IP still gets through."""
    for i in range(5):
        assert post(client, data=answers(email=f"n{i}@example.org")).status_code == 303
    refused = post_json(client, data=answers(email="n5@example.org"))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused.json() == {"errors": {"form": submissions.RATE_MESSAGE}}
    hosted = post(client, data=answers(email="n6@example.org"))
    assert hosted.status_code == 429
    assert submissions.RATE_MESSAGE in hosted.content.decode()
    assert FormSubmission.objects.count() == 5
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert post(other, data=answers(email="n7@example.org")).status_code == 303
    assert FormSubmission.objects.count() == 6


def test_the_hourly_limit_holds_across_minutes(form, client, monkeypatch, clock):
    """Given 2 a minute and 3 an hour, then the fourth in the hour is refused in a fresh minute."""
    monkeypatch.setattr(submissions, "RATE_LIMITS", ((2, 60), (3, 3600)))
    assert post(client, data=answers(email="h0@example.org")).status_code == 303
    assert post(client, data=answers(email="h1@example.org")).status_code == 303
    assert post(client, data=answers(email="h2@example.org")).status_code == 429
    clock[0] += timedelta(minutes=5)
    assert post(client, data=answers(email="h3@example.org")).status_code == 429
    assert FormSubmission.objects.count() == 2
    clock[0] += timedelta(hours=1)
    assert post(client, data=answers(email="h4@example.org")).status_code == 303


def test_a_browser_on_a_foreign_origin_is_refused(form, client):
    """Given a form with no source, when a page on another site posts it, then 403, nothing stored."""
    response = post_json(client, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not FormSubmission.objects.exists()


def test_the_sources_origins_may_embed_and_read_the_answer(db, client):
    """Given a form whose source lists www.example.com, then a browser there submits and reads
    the JSON answer (CORS), the preflight is answered, and other origins stay refused."""
    source = SourceFactory(origins=[SITE])
    make_form(slug="embedded", source=source)
    preflight = client.options("/f/embedded/submit", HTTP_ORIGIN=SITE)
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == SITE
    assert preflight["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    ok = post_json(client, "embedded", answers(_page_url=f"{SITE}/pricing"), HTTP_ORIGIN=SITE)
    assert ok.status_code == 200
    assert ok["Access-Control-Allow-Origin"] == SITE
    assert ok.json()["ok"] is True
    assert FormSubmission.objects.get().origin == SITE
    refused = post_json(client, "embedded", HTTP_ORIGIN="https://www.example.com.evil.example")
    assert refused.status_code == 403
    assert (
        client.options("/f/embedded/submit", HTTP_ORIGIN="https://evil.example").status_code == 403
    )


def test_a_revoked_source_no_longer_opens_cors(db, client):
    source = SourceFactory(origins=[SITE])
    make_form(slug="embedded", source=source)
    source.revoked_at = source.created_at
    source.save()
    assert post_json(client, "embedded", HTTP_ORIGIN=SITE).status_code == 403


def test_our_own_origin_is_the_hosted_page(form, client):
    response = post(client, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 303
    assert FormSubmission.objects.get().origin == "hosted"


# ---------------------------------------------------------------- what a submission records


def test_consent_proof_is_stored_with_the_exact_version_ip_page_and_browser(form, client):
    response = post(client)
    assert response.status_code == 303
    s = FormSubmission.objects.get()
    assert (s.consent_given, s.consent_text.version, s.consent_text.text) == (True, 1, CONSENT_V1)
    assert s.ip == "203.0.113.7"
    assert s.user_agent == "Mozilla/5.0 (Test) Chromium"
    assert s.page_url == answers()["_page_url"]
    assert s.referrer == "https://www.google.com/"
    assert s.origin == "hosted"
    assert s.utm == {"source": "google", "medium": "cpc", "campaign": "spring_launch"}
    assert s.values == {
        "email": "nina.north@example.org",
        "first_name": "Nina",
        "last_name": "North",
        "phone": "+1 555 0100",
        "company_name": "Northwind Traders",
        "custom:team_size": "11-50",
        "custom:wants_demo": True,
        "message": "Call me after 3pm.",
    }


def test_a_submission_keeps_the_consent_version_its_page_showed(form, client):
    """Given a page rendered with v1, when marketing changes the wording before the visitor
    submits, then the submission points at v1 and the next page shows v2."""
    page = client.get("/f/guide/")
    assert 'name="_consent_version" value="1"' in page.content.decode()
    v2 = form_services.set_consent_text(form=form, text="New wording: we may call you too.")
    assert v2 is not None and v2.version == 2
    post(client)
    assert FormSubmission.objects.get().consent_text.version == 1
    assert "New wording: we may call you too." in client.get("/f/guide/").content.decode()
    post(client, data=answers(_consent_version="2", email="second@example.org"))
    assert FormSubmission.objects.get(values__email="second@example.org").consent_text == v2


def test_a_forged_consent_version_falls_back_to_the_current_wording(form, client):
    post(client, data=answers(_consent_version="99"))
    assert FormSubmission.objects.get().consent_text.version == 1


def test_optional_consent_left_unticked_is_recorded_as_not_given(db, client):
    make_form(slug="optional", consent_required=False)
    assert post(client, "optional", answers(_consent="")).status_code == 303
    s = FormSubmission.objects.get()
    assert (s.consent_given, s.consent_text.version) == (False, 1)
    assert (
        Contact.objects.get(email="nina.north@example.org").subscription_status == "not_subscribed"
    )


def test_a_new_contact_is_created_as_a_subscribed_lead_with_its_company(form, client):
    campaign = CampaignFactory(channel="paid_search", utm_campaign="spring_launch")
    post(client)
    c = Contact.objects.select_related("company").get(email="nina.north@example.org")
    assert (c.first_name, c.last_name, c.phone) == ("Nina", "North", "+1 555 0100")
    assert c.company.name == "Northwind Traders"
    assert c.custom_fields == {"team_size": "11-50", "wants_demo": True}
    assert c.subscription_status == "subscribed"
    assert c.lifecycle_stage == "lead"
    assert (c.original_source, c.original_source_detail) == ("paid_search", "spring_launch")
    assert c.owner_id is None
    s = FormSubmission.objects.get()
    assert (s.contact_id, s.created_contact, s.campaign_id) == (c.pk, True, campaign.pk)
    stages = list(
        LifecycleChange.objects.filter(contact=c).order_by("id").values_list("to_stage", "rule")
    )
    assert stages == [("subscriber", "form:guide"), ("lead", "form-submission")]


def test_an_existing_contact_is_filled_but_never_overwritten(form, client, world):
    """Given Ann with a name, title and a custom field but no phone, when a submission names
    her with other values and blanks, then only her empty fields are filled."""
    ann = world.rep1_contact
    ann.custom_fields = {"team_size": "1-10"}
    ann.title = "CFO"
    ann.save()
    post(
        client,
        data=answers(
            email="ANN@acme.com",
            first_name="Annie",
            last_name="",
            company_name="Some Other Co",
            **{"custom:team_size": "51+"},
        ),
    )
    ann.refresh_from_db()
    assert (ann.first_name, ann.last_name, ann.title) == ("Ann", "Archer", "CFO")
    assert ann.phone == "+1 555 0100"
    assert ann.company_id == world.acme.pk
    assert ann.custom_fields == {"team_size": "1-10", "wants_demo": True}
    assert ann.owner_id == world.rep1.pk
    s = FormSubmission.objects.get()
    assert (s.contact_id, s.created_contact) == (ann.pk, False)
    # What she typed stays on the submission for a person to review.
    assert s.values["first_name"] == "Annie"


def test_an_existing_contact_without_a_company_is_linked_by_email_domain(form, client, world):
    dee = ContactFactory(email="zoe@acme.com", first_name="Zoe", company=None)
    post(client, data=answers(email="zoe@acme.com", company_name="ACME corporation"))
    dee.refresh_from_db()
    assert dee.company_id == world.acme.pk


def test_consent_never_resubscribes_an_unsubscribed_or_bounced_contact(form, client, world):
    for i, status in enumerate(["unsubscribed", "bounced", "complained"]):
        contact = ContactFactory(email=f"gone{i}@example.org", subscription_status=status)
        post(client, data=answers(email=contact.email))
        contact.refresh_from_db()
        assert contact.subscription_status == status


def test_a_subscriber_becomes_a_lead_and_a_customer_stays_a_customer(form, client):
    sub = ContactFactory(email="sub@example.org", lifecycle_stage="subscriber")
    customer = ContactFactory(email="buyer@example.org", lifecycle_stage="customer")
    post(client, data=answers(email=sub.email))
    post(client, data=answers(email=customer.email))
    sub.refresh_from_db()
    customer.refresh_from_db()
    assert (sub.lifecycle_stage, customer.lifecycle_stage) == ("lead", "customer")


def test_an_earlier_anonymous_page_view_joins_the_contacts_timeline(form, client):
    """Given a visitor who viewed the landing page from an ad, when they submit, then the page
    view (and its touch) belong to the new contact, beside the form submission."""
    campaign = CampaignFactory(channel="paid_search", utm_campaign="spring_launch")
    url = "/f/guide/?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch"
    page = client.get(url, HTTP_REFERER="https://www.google.com/")
    anonymous_id = page.cookies["tdm_aid"].value
    view = Event.objects.get(type="page_view")
    assert view.anonymous_id == anonymous_id
    assert not TimelineEvent.objects.filter(type="page_view").exists()
    post(client, data=answers(_page_url=f"http://testserver{url}"))
    contact = Contact.objects.get(email="nina.north@example.org")
    types = set(TimelineEvent.objects.filter(contact=contact).values_list("type", flat=True))
    assert {"page_view", "form_submit", "contact_created"} <= types
    assert Visitor.objects.get(anonymous_id=anonymous_id).contact_id == contact.pk
    touches = Touchpoint.objects.filter(contact=contact).order_by("occurred_at")
    assert [(t.kind, t.campaign_id) for t in touches] == [
        ("visit", campaign.pk),
        ("form_submit", campaign.pk),
    ]
    assert FormSubmission.objects.get().anonymous_id == anonymous_id
    submitted = TimelineEvent.objects.get(contact=contact, type="form_submit")
    assert submitted.properties["form_id"] == form.pk
    assert submitted.properties["form_name"] == "Buyer's guide"
    assert submitted.properties["submission_id"] == FormSubmission.objects.get().pk


def test_the_forms_campaign_is_credited_when_the_page_had_no_utm(db, client):
    campaign = CampaignFactory(
        channel="webinar", utm_source="webinar", utm_medium="webinar", utm_campaign="q3_webinar"
    )
    make_form(slug="webinar", campaign=campaign)
    post(client, "webinar", answers(_page_url="https://tandem.test/f/webinar/", _referrer=""))
    s = FormSubmission.objects.get()
    assert s.utm == {"source": "webinar", "medium": "webinar", "campaign": "q3_webinar"}
    assert s.campaign_id == campaign.pk
    touch = Touchpoint.objects.get(kind="form_submit")
    assert (touch.campaign_id, touch.channel, touch.utm_campaign) == (
        campaign.pk,
        "webinar",
        "q3_webinar",
    )
    event = TimelineEvent.objects.get(type="form_submit")
    assert event.campaign_id == campaign.pk


def test_an_embedded_form_uses_the_anonymous_id_tandem_js_sent(db, client):
    make_form(slug="embedded", source=SourceFactory(origins=[SITE]))
    aid = "b" * 32
    post_json(client, "embedded", answers(_anonymous_id=aid), HTTP_ORIGIN=SITE)
    assert FormSubmission.objects.get().anonymous_id == aid
    assert Visitor.objects.get(anonymous_id=aid).contact.email == "nina.north@example.org"
    post_json(
        client,
        "embedded",
        answers(_anonymous_id="<script>", email="x@example.org"),
        HTTP_ORIGIN=SITE,
    )
    assert FormSubmission.objects.get(values__email="x@example.org").anonymous_id == ""


captured: list[Any] = []


def capture(event: Any) -> None:
    captured.append(event)


def test_form_submitted_is_published_after_commit(
    form, client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(bus.HANDLERS, bus.FormSubmitted, [f"{__name__}.capture"])
    captured.clear()
    form_services.update_form(form=form, changes={"is_hand_raise": True})
    with django_capture_on_commit_callbacks(execute=True):
        post(client)
    s = FormSubmission.objects.get()
    assert captured == [
        bus.FormSubmitted(
            submission_id=s.pk, form_id=form.pk, contact_id=s.contact_id, hand_raise=True
        )
    ]


def test_a_successful_hosted_submission_shows_the_thank_you_and_the_gated_asset(db, client):
    asset = ContentAssetFactory(title="CRM buyer's guide")
    make_form(slug="gated", asset=asset)
    response = post(client, "gated", answers(), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Thank you! We will be in touch." in html
    assert f'href="http://testserver/c/{asset.public_token}"' in html
    assert 'name="email"' not in html
    as_json = post_json(client, "gated", answers(email="j@example.org")).json()
    assert as_json["asset_url"] == f"http://testserver/c/{asset.public_token}"


def test_a_visitors_markup_is_stored_as_text(form, client):
    """Given HTML in the answers, then it is stored verbatim (data) and escaped when shown."""
    payload = "<img src=x onerror=alert(1)>"
    post(client, data=answers(first_name=payload))
    contact = Contact.objects.get(email="nina.north@example.org")
    assert contact.first_name == payload
    assert json.dumps(FormSubmission.objects.get().values["first_name"]) == json.dumps(payload)
