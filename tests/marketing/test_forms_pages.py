"""Form builder pages: marketing builds, previews and reads submissions; sales gets 403."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.marketing.models import ConsentText, Form, FormSubmission
from tandem.marketing.services import forms as services
from tandem.tracking.models import Event
from tests.marketing.factories import CampaignFactory, SourceFactory
from tests.tracking.test_submissions import CONSENT_V1, answers, make_form
from tests.web.conftest import htmx


@pytest.fixture
def form(db):
    return make_form()


def _pages(form):
    field = form.fields.get(target="first_name")
    return [
        "/marketing/forms/",
        "/marketing/forms/new/",
        f"/marketing/forms/{form.pk}/",
        f"/marketing/forms/{form.pk}/edit/",
        f"/marketing/forms/{form.pk}/preview/",
        f"/marketing/forms/{form.pk}/submissions/",
        f"/marketing/forms/{form.pk}/submissions.csv",
        f"/marketing/forms/{form.pk}/fields/{field.pk}/",
    ]


@pytest.mark.parametrize("role", ["rep1", "manager"])
def test_sales_may_not_open_or_change_the_builder(world, client_as, form, role):
    client = client_as(role)
    for path in _pages(form):
        assert client.get(path).status_code == 403, path
    posts = [
        ("/marketing/forms/new/", {"name": "Sneaky", "submit_label": "Go", "thank_you": "Hi"}),
        (f"/marketing/forms/{form.pk}/status/", {"status": "archived"}),
        (f"/marketing/forms/{form.pk}/fields/", {"target": "title"}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 403, path
    form.refresh_from_db()
    assert form.status == "published"
    assert not Form.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_marketing_and_admin_open_every_builder_page(world, client_as, form, role):
    client = client_as(role)
    for path in _pages(form):
        assert client.get(path).status_code == 200, path
    assert client.get("/marketing/forms/99999/").status_code == 404
    assert client.get(f"/marketing/forms/{form.pk}/fields/99999/").status_code == 404


def test_signed_out_visitors_are_sent_to_login(form, client):
    response = client.get("/marketing/forms/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_marketing_creates_a_form_adds_fields_reorders_and_publishes(world, client_as):
    client = client_as("marketing")
    campaign = CampaignFactory(name="Spring launch")
    created = client.post(
        "/marketing/forms/new/",
        {
            "name": "Spring webinar",
            "headline": "Join the webinar",
            "submit_label": "Save my seat",
            "thank_you": "See you there!",
            "campaign": campaign.pk,
            "consent_required": "on",
            "consent_text": "Email me about the webinar.",
        },
    )
    form = Form.objects.get(name="Spring webinar")
    assert created.status_code == 302
    assert created["Location"] == f"/marketing/forms/{form.pk}/"
    assert (form.slug, form.campaign_id, form.status) == ("spring-webinar", campaign.pk, "draft")
    base = f"/marketing/forms/{form.pk}"
    assert (
        client.post(f"{base}/fields/", {"target": "first_name", "required": "on"}).status_code
        == 302
    )
    added = client.post(
        f"{base}/fields/",
        {
            "target": "custom",
            "custom_key": "Job Level",
            "input_type": "select",
            "choices": "IC\nManager",
        },
    )
    assert added.status_code == 302
    level = form.fields.get(target="custom:job_level")
    assert (level.label, level.choices) == ("Job level", ["IC", "Manager"])
    client.post(f"{base}/fields/{level.pk}/move/", {"direction": "up"})
    assert list(form.fields.order_by("position").values_list("target", flat=True)) == [
        "email",
        "custom:job_level",
        "first_name",
    ]
    published = client.post(f"{base}/status/", {"status": "published"}, follow=True)
    assert "Spring webinar is now published." in published.content.decode()
    form.refresh_from_db()
    assert form.status == "published"
    assert client.get("/f/spring-webinar/").status_code == 200


def test_a_bad_field_is_shown_on_the_builder_with_its_message(world, client_as, form):
    client = client_as("marketing")
    response = client.post(f"/marketing/forms/{form.pk}/fields/", {"target": "phone"})
    assert response.status_code == 422
    assert "the form already has a field for phone" in response.content.decode()
    bad_key = client.post(
        f"/marketing/forms/{form.pk}/fields/", {"target": "custom", "custom_key": "9 lives"}
    )
    assert bad_key.status_code == 422
    assert "a custom field&#x27;s key is 1 to 40 lower-case letters" in bad_key.content.decode()


def test_a_taken_address_is_shown_on_the_settings_form(world, client_as, form):
    client = client_as("marketing")
    other = services.create_form(name="Other")
    response = client.post(
        f"/marketing/forms/{other.pk}/edit/",
        {"name": "Other", "slug": "guide", "submit_label": "Go", "thank_you": "Thanks"},
    )
    assert response.status_code == 422
    assert "another form has the address /f/guide/" in response.content.decode()
    other.refresh_from_db()
    assert other.slug == "other"


def test_editing_the_consent_wording_adds_a_version_old_submissions_keep_theirs(
    world, client_as, form, client
):
    client.post("/f/guide/submit", answers(), REMOTE_ADDR="203.0.113.50")
    first = FormSubmission.objects.get()
    marketing = client_as("marketing")
    response = marketing.post(
        f"/marketing/forms/{form.pk}/edit/",
        {
            "name": form.name,
            "slug": form.slug,
            "headline": form.headline,
            "submit_label": "Send",
            "thank_you": "Thanks",
            "consent_required": "on",
            "consent_text": "Email and phone are fine.",
        },
    )
    assert response.status_code == 302
    versions = ConsentText.objects.filter(form=form).order_by("version")
    assert [(c.version, c.text) for c in versions] == [
        (1, CONSENT_V1),
        (2, "Email and phone are fine."),
    ]
    assert versions[1].created_by == world.marketer
    first.refresh_from_db()
    assert (first.consent_text.version, first.consent_text.text) == (1, CONSENT_V1)
    page = marketing.get(f"/marketing/forms/{form.pk}/").content.decode()
    assert "v2" in page and "Email and phone are fine." in page


def test_the_preview_renders_the_landing_page_without_recording_or_submitting(
    world, client_as, form, client
):
    form_services_draft = services.set_form_status(form=form, status="draft")
    preview = client_as("marketing").get(f"/marketing/forms/{form_services_draft.pk}/preview/")
    html = preview.content.decode()
    assert preview.status_code == 200
    landing_part = html[html.index('<article class="tdm-card">') : html.index("</article>")]
    services.set_form_status(form=form, status="published")
    hosted = client.get("/f/guide/").content.decode()
    hosted_part = hosted[hosted.index('<article class="tdm-card">') : hosted.index("</article>")]
    # The same markup, except the hidden page address/referrer and the disabled button.
    strip = lambda s: "\n".join(  # noqa: E731
        line
        for line in s.splitlines()
        if "_page_url" not in line and "_referrer" not in line and "tdm-submit" not in line
    )
    assert strip(landing_part) == strip(hosted_part)
    assert 'disabled title="Submitting is off in the preview"' in landing_part
    assert "tdm_aid" not in preview.cookies
    assert Event.objects.filter(type="page_view").count() == 1  # the hosted view only
    thanks = client_as("marketing").get(f"/marketing/forms/{form.pk}/preview/?thanks=1")
    assert "Thank you! We will be in touch." in thanks.content.decode()


def test_the_builder_shows_the_embed_snippet_for_the_source(world, client_as, db):
    source = SourceFactory(name="Website", origins=["https://www.example.com"])
    form = make_form(slug="embedded", source=source)
    html = client_as("marketing").get(f"/marketing/forms/{form.pk}/").content.decode()
    assert (
        "&lt;script src=&quot;http://testserver/static/tracking/forms.js&quot; "
        "data-form=&quot;embedded&quot; data-endpoint=&quot;http://testserver&quot; "
        "data-target=&quot;tandem-form-embedded&quot; async&gt;&lt;/script&gt;"
    ) in html
    assert "https://www.example.com" in html


def test_the_submissions_list_shows_consent_proof_and_links_the_contact(
    world, client_as, form, client
):
    payload = "<img src=x onerror=alert(1)>"
    client.post(
        "/f/guide/submit",
        answers(first_name=payload, email="=cmd@example.org"),
        REMOTE_ADDR="203.0.113.8",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )
    submission = FormSubmission.objects.get()
    html = client_as("marketing").get(f"/marketing/forms/{form.pk}/submissions/").content.decode()
    assert f'href="/contacts/{submission.contact_id}/"' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and payload not in html
    assert "203.0.113.8" in html and "TestBrowser/1.0" in html
    assert "v1" in html and CONSENT_V1[:40] in html
    assert "utm_campaign=</span>spring_launch" in html
    export = client_as("marketing").get(f"/marketing/forms/{form.pk}/submissions.csv")
    assert export["Content-Disposition"] == 'attachment; filename="guide-submissions.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["email"] == "'=cmd@example.org"
    assert rows[0]["first_name"] == payload
    assert (rows[0]["consent_version"], rows[0]["ip"], rows[0]["utm_campaign"]) == (
        "1",
        "203.0.113.8",
        "spring_launch",
    )


def test_list_pages_do_not_grow_queries_with_rows(world, client_as, form, client):
    for i in range(3):
        make_form(slug=f"more-{i}")
    marketing = client_as("marketing")
    with CaptureQueriesContext(connection) as few:
        assert marketing.get("/marketing/forms/").status_code == 200
    for i in range(12):
        make_form(slug=f"even-more-{i}")
        client.post(
            "/f/guide/submit", answers(email=f"p{i}@example.org"), REMOTE_ADDR=f"203.0.113.{i + 60}"
        )
    with CaptureQueriesContext(connection) as many:
        assert marketing.get("/marketing/forms/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    with CaptureQueriesContext(connection) as subs:
        assert marketing.get(f"/marketing/forms/{form.pk}/submissions/").status_code == 200
    assert len(subs.captured_queries) <= 8
    swap = marketing.get("/marketing/forms/?q=even", **htmx())
    assert swap.status_code == 200
    assert '<div id="forms-table"' in swap.content.decode()
    assert "<html" not in swap.content.decode()


def test_a_field_is_edited_with_only_the_inputs_its_target_accepts(world, client_as, form):
    client = client_as("marketing")
    phone = form.fields.get(target="phone")
    path = f"/marketing/forms/{form.pk}/fields/{phone.pk}/"
    page = client.get(path).content.decode()
    assert '<option value="tel" selected>Phone number</option>' in page
    assert 'value="checkbox"' not in page
    refused = client.post(path, {"label": "Mobile", "input_type": "checkbox"})
    assert refused.status_code == 422
    saved = client.post(path, {"label": "Mobile", "input_type": "text", "help_text": "With code"})
    assert saved.status_code == 302
    phone.refresh_from_db()
    assert (phone.label, phone.input_type, phone.help_text, phone.required) == (
        "Mobile",
        "text",
        "With code",
        False,
    )
