"""Tracking source pages: who may use them, the key shown once, edit, rotate, revoke, live view."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tandem.marketing.models import Source
from tandem.marketing.services.sources import create_source, source_for_key
from tandem.tracking import ingest
from tandem.tracking.models import Event
from tests.tracking.conftest import AID, event
from tests.web.conftest import htmx

KEY_PATTERN = re.compile(r'value="(tdmw_[A-Za-z0-9_-]+)"')


@pytest.fixture
def source(world):
    return create_source(name="Website", origins=["https://www.example.com"], by=world.marketer)


def pages(pk: int) -> list[tuple[str, str]]:
    """(method, url) of every source page."""
    return [
        ("get", reverse("web:sources")),
        ("get", reverse("web:source_new")),
        ("post", reverse("web:source_new")),
        ("get", reverse("web:source", args=[pk])),
        ("post", reverse("web:source_edit", args=[pk])),
        ("post", reverse("web:source_rotate", args=[pk])),
        ("post", reverse("web:source_revoke", args=[pk])),
        ("get", reverse("web:source_live", args=[pk])),
    ]


@pytest.mark.parametrize("who", ["rep1", "rep3", "manager"])
def test_sales_roles_get_403_everywhere(client_as, source, who):
    client = client_as(who)
    for method, url in pages(source[0].pk):
        assert getattr(client, method)(url).status_code == 403, url
    source[0].refresh_from_db()
    assert source[0].revoked_at is None and source_for_key(raw=source[1]) is not None


def test_signed_out_visitors_are_sent_to_sign_in(source):
    for method, url in pages(source[0].pk):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.parametrize("who", ["marketing", "admin"])
def test_marketing_and_admin_see_the_list(client_as, source, who):
    response = client_as(who).get(reverse("web:sources"))

    assert response.status_code == 200
    assert b"Website" in response.content
    assert source[0].key_prefix.encode() in response.content


def test_a_missing_source_is_a_404(client_as, world):
    client = client_as("marketing")
    for method, url in pages(999_999)[3:]:
        assert getattr(client, method)(url).status_code == 404, url


def test_creating_a_source_shows_its_key_once_with_the_snippet(client_as, world):
    client = client_as("marketing")

    response = client.post(
        reverse("web:source_new"),
        {"name": "Docs site", "origins": "https://docs.example.com\nhttp://LOCALHOST:3000/"},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = KEY_PATTERN.search(response.content.decode()).group(1)
    created = Source.objects.get(name="Docs site")
    assert created.origins == ["https://docs.example.com", "http://localhost:3000"]
    assert created.created_by == world.marketer
    assert source_for_key(raw=raw) == created
    text = response.content.decode()
    assert f"data-key=&quot;{raw}&quot;" in text
    assert "/static/tracking/tandem.js" in text
    assert "data-endpoint=&quot;http://testserver/api/v1/events&quot;" in text
    assert f"/t/p.gif?k={raw}" in text
    # The key is never shown again.
    detail = client.get(reverse("web:source", args=[created.pk])).content.decode()
    assert raw not in detail and created.key_prefix in detail


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "origins": "https://x.example/path"}, "is not an origin"),
        ({"name": "X", "origins": "ftp://x.example"}, "is not an origin"),
        ({"name": "Website", "origins": ""}, "a source called &#x27;Website&#x27; already exists"),
        ({"name": "", "origins": ""}, "This field is required"),
    ],
)
def test_bad_input_is_refused_on_the_form(client_as, source, data, message):
    response = client_as("marketing").post(reverse("web:source_new"), data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert Source.objects.count() == 1


def test_editing_origins(client_as, source):
    src, _ = source
    client = client_as("marketing")

    response = client.post(
        reverse("web:source_edit", args=[src.pk]),
        {"name": "Website", "origins": "https://www.example.com, https://shop.example.com"},
    )

    assert response.status_code == 302
    src.refresh_from_db()
    assert src.origins == ["https://www.example.com", "https://shop.example.com"]
    bad = client.post(
        reverse("web:source_edit", args=[src.pk]), {"name": "Website", "origins": "not a url"}
    )
    assert bad.status_code == 422
    assert "is not an origin" in bad.content.decode()
    src.refresh_from_db()
    assert src.origins == ["https://www.example.com", "https://shop.example.com"]


def test_rotating_shows_a_new_key_and_stops_the_old_one(client_as, source):
    src, old = source

    response = client_as("marketing").post(reverse("web:source_rotate", args=[src.pk]))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = KEY_PATTERN.search(response.content.decode()).group(1)
    assert new != old
    assert source_for_key(raw=old) is None
    assert source_for_key(raw=new) == src


def test_revoking_stops_the_key(client_as, source):
    src, raw = source

    response = client_as("admin").post(reverse("web:source_revoke", args=[src.pk]))

    assert response.status_code == 302
    src.refresh_from_db()
    assert src.revoked_at is not None
    assert source_for_key(raw=raw) is None
    page = client_as("admin").get(reverse("web:sources")).content.decode()
    assert "Revoked" in page


def test_the_list_counts_events_of_the_last_day(client_as, source, django_assert_max_num_queries):
    src, _ = source
    other, _ = create_source(name="Blog")
    ingest.ingest(source_id=src.pk, items=[event(f"e{i}") for i in range(3)])
    ingest.ingest(source_id=other.pk, items=[event("b1")])
    Event.objects.filter(event_id="e0").update(received_at=timezone.now() - timedelta(days=2))
    client = client_as("marketing")

    with django_assert_max_num_queries(8):
        response = client.get(reverse("web:sources"))

    rows = {r[0]: r[1] for r in response.context["rows"]}
    assert rows == {src: 2, other: 1}


def test_the_live_view_shows_recent_events_escaped(client_as, source):
    src, _ = source
    payload = '<script>alert("x")</script>'
    ingest.ingest(
        source_id=src.pk,
        items=[
            event(
                "xss",
                email="ann@acme.com",
                properties={"title": payload, payload: 1},
                context={
                    "url": f"https://www.example.com/?q={payload}",
                    "referrer": f"javascript:{payload}",
                    "utm": {"campaign": payload},
                },
            )
        ],
    )
    client = client_as("marketing")

    response = client.get(reverse("web:source_live", args=[src.pk]))

    text = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert AID in text and "ann@acme.com" in text and "Pending" in text
    assert 'hx-trigger="every 3s"' in text


def test_the_live_view_polls_only_its_table_and_shows_the_last_50(client_as, source):
    src, _ = source
    ingest.ingest(source_id=src.pk, items=[event(f"e{i:03}") for i in range(60)])
    client = client_as("marketing")

    response = client.get(reverse("web:source_live", args=[src.pk]), **htmx())

    text = response.content.decode()
    assert text.lstrip().startswith('<div id="live-events"')
    assert "<html" not in text
    assert len(response.context["events"]) == 50
    assert response.context["events"][0]["event"].event_id == "e059"


def test_the_live_view_shows_only_its_sources_events(
    client_as, source, django_assert_max_num_queries
):
    src, _ = source
    other, _ = create_source(name="Blog")
    ingest.ingest(source_id=other.pk, items=[event("elsewhere")])
    client = client_as("marketing")

    with django_assert_max_num_queries(6):
        response = client.get(reverse("web:source_live", args=[src.pk]), **htmx())

    assert response.context["events"] == []
    assert "No events yet" in response.content.decode()
