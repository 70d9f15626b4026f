"""POST /api/v1/events: storage, idempotency, per-item errors and batch limits (CONTRACT.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tandem.tracking.models import Event
from tests.tracking.conftest import AID, event

pytestmark = pytest.mark.django_db


def test_a_valid_batch_is_stored_as_sent_and_processed(site, post_events):
    # Given a page view and an identify with everything the contract allows
    batch = [
        event(
            "pv-1",
            occurred_at="2025-03-01T10:00:00+02:00",
            properties={"title": "Pricing"},
            context={
                "url": "https://www.example.com/pricing?utm_source=google",
                "referrer": "https://www.google.com/",
                "utm": {"source": "google", "medium": "cpc"},
            },
        ),
        event("id-1", type="identify", email="  Ann@Example.COM ", properties={"traits": {}}),
    ]

    # When they are posted with the write key
    response = post_events(site.key, batch, HTTP_USER_AGENT="Mozilla/5.0 test")

    # Then both are accepted and stored as sent, the time in UTC, the email normalised
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    pv = Event.objects.get(event_id="pv-1")
    assert pv.source_id == site.source.pk
    assert pv.type == "page_view"
    assert pv.occurred_at == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert pv.anonymous_id == AID
    assert pv.properties == {"title": "Pricing"}
    assert pv.context == {
        "url": "https://www.example.com/pricing?utm_source=google",
        "referrer": "https://www.google.com/",
        "utm": {"source": "google", "medium": "cpc"},
        "ip": "127.0.0.1",
        "user_agent": "Mozilla/5.0 test",
    }
    assert Event.objects.get(event_id="id-1").email == "ann@example.com"
    # and the processing job ran after the commit
    assert Event.objects.filter(processed_at__isnull=True).count() == 0


def test_naive_time_means_utc_and_optional_fields_may_be_missing(site, post_events):
    bare = {
        "event_id": "bare",
        "type": "custom:Video play.v2",
        "occurred_at": "2025-01-02T03:04:05",
    }

    response = post_events(site.key, [bare])

    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    stored = Event.objects.get(event_id="bare")
    assert stored.occurred_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (stored.anonymous_id, stored.email, stored.properties) == ("", "", {})
    assert stored.context == {"ip": "127.0.0.1"}


def test_the_same_batch_twice_counts_duplicates_and_changes_nothing(site, post_events):
    batch = [event("e1", properties={"v": 1}), event("e2")]
    assert post_events(site.key, batch).json() == {"accepted": 2, "duplicates": 0, "rejected": []}

    # When the same ids come again, with other content
    again = [event("e1", properties={"v": 2}), event("e2", type="identify", email="x@y.com")]
    response = post_events(site.key, again)

    # Then nothing is stored or changed
    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert Event.objects.count() == 2
    assert Event.objects.get(event_id="e1").properties == {"v": 1}
    assert Event.objects.get(event_id="e2").type == "page_view"


def test_duplicate_ids_inside_one_batch_keep_the_first(site, post_events):
    batch = [event("dup", properties={"n": 1}), event("other"), event("dup", properties={"n": 2})]

    response = post_events(site.key, batch)

    assert response.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    assert Event.objects.get(event_id="dup").properties == {"n": 1}


def test_event_ids_are_per_source(site, post_events):
    from tandem.marketing.services.sources import create_source

    _, other_key = create_source(name="App")
    post_events(site.key, [event("same")])

    response = post_events(other_key, [event("same")])

    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert Event.objects.filter(event_id="same").count() == 2


FUTURE = "2999-01-01T00:00:00+00:00"
CUSTOM_RULE = "must be 1 to 64 letters, digits, spaces or _ - . :"
TYPES = "page_view, identify, form_submit, content_view or custom:<name>"

BAD_ITEMS = [
    ("not an object", "an event must be an object"),
    (event(event_id=None), "event_id is required (a string)"),
    (event(event_id=123), "event_id is required (a string)"),
    (event(event_id="   "), "event_id is required (a string)"),
    (event(event_id="x" * 129), "event_id is longer than 128 characters"),
    (event(event_id="e\x00"), "event_id contains a NUL character"),
    (event(type=None), f"type is required: {TYPES}"),
    (event(type="click"), f"type 'click' is not one of {TYPES}"),
    (event(type="custom:"), f"custom event name '' {CUSTOM_RULE}"),
    (event(type="custom:<b>hi</b>"), f"custom event name '<b>hi</b>' {CUSTOM_RULE}"),
    (event(type="custom:" + "x" * 65), f"custom event name '{'x' * 65}' {CUSTOM_RULE}"),
    (event(occurred_at=None), "occurred_at is required (an ISO-8601 time)"),
    (event(occurred_at="yesterday"), "occurred_at 'yesterday' is not an ISO-8601 time"),
    (event(occurred_at=1700000000), "occurred_at is required (an ISO-8601 time)"),
    (
        event(occurred_at="1999-12-31T23:59:59Z"),
        "occurred_at '1999-12-31T23:59:59Z' is before 2000",
    ),
    (event(occurred_at=FUTURE), f"occurred_at '{FUTURE}' is more than a day in the future"),
    (event(anonymous_id="short"), "anonymous_id must be 16 to 64 letters, digits, - or _"),
    (
        event(anonymous_id="<script>alert(1)</script>"),
        "anonymous_id must be 16 to 64 letters, digits, - or _",
    ),
    (
        event(anonymous_id=12345678901234567),
        "anonymous_id must be 16 to 64 letters, digits, - or _",
    ),
    (event(email="not-an-email"), "email 'not-an-email' is not a valid address"),
    (event(email=["a@b.com"]), "email must be a string"),
    (event(properties=[1, 2]), "properties must be an object"),
    (event(properties="x"), "properties must be an object"),
    (
        event(properties={"blob": "x" * 17_000}),
        "properties are larger than 16,384 bytes once serialised (17,011)",
    ),
    (event(properties={"a": ["ok", "b\x00"]}), "properties contain a NUL character"),
    (event(properties={"k\x00": 1}), "properties contain a NUL character"),
    (event(context="https://x"), "context must be an object"),
    (event(context={"url": 5}), "context.url must be a string"),
    (
        event(context={"url": "https://x/" + "a" * 2040}),
        "context.url is longer than 2,048 characters",
    ),
    (
        event(context={"referrer": "https://x/" + "a" * 2040}),
        "context.referrer is longer than 2,048 characters",
    ),
    (event(context={"url": "https://x/\x00"}), "context.url contains a NUL character"),
    (event(context={"utm": ["google"]}), "context.utm must be an object"),
    (event(context={"utm": "google"}), "context.utm must be an object"),
    (
        event(context={"utm": {"campaign": "x" * 3000}}),
        "context.utm is larger than 2,048 bytes once serialised",
    ),
    (event(context={"utm": {"source": "\x00"}}), "context.utm contains a NUL character"),
    (event(type="identify", email=None), "identify needs both an email and an anonymous_id"),
    (
        event(type="identify", email="ann@example.com", anonymous_id=None),
        "identify needs both an email and an anonymous_id",
    ),
]


@pytest.mark.parametrize(("item", "message"), BAD_ITEMS, ids=[m for _, m in BAD_ITEMS])
def test_a_bad_item_is_rejected_by_index_with_its_reason(site, post_events, item, message):
    # Given the bad item between two good ones
    batch = [event("ok-1"), item, event("ok-2")]

    response = post_events(site.key, batch)

    # Then the good ones are stored and the bad one is named by its index
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": [{"index": 1, "error": message}],
    }
    assert set(Event.objects.values_list("event_id", flat=True)) == {"ok-1", "ok-2"}


def test_the_future_limit_is_one_day_ahead(site, post_events):
    soon = (datetime.now(UTC) + timedelta(hours=23)).isoformat()
    late = (datetime.now(UTC) + timedelta(hours=25)).isoformat()

    response = post_events(
        site.key, [event("soon", occurred_at=soon), event("late", occurred_at=late)]
    )

    assert response.json()["accepted"] == 1
    assert response.json()["rejected"] == [
        {"index": 1, "error": f"occurred_at {late!r} is more than a day in the future"}
    ]


def test_every_bad_item_in_a_batch_is_reported_with_its_own_index(site, post_events):
    batch = [event("a", type="nope"), event("b"), event("c", occurred_at="x"), event("d")]

    response = post_events(site.key, batch)

    assert response.json()["rejected"] == [
        {"index": 0, "error": f"type 'nope' is not one of {TYPES}"},
        {"index": 2, "error": "occurred_at 'x' is not an ISO-8601 time"},
    ]
    assert response.json()["accepted"] == 2


def test_text_that_only_looks_like_a_nul_escape_is_kept(site, post_events):
    # A literal backslash-u0000 (not a NUL) is ordinary text.
    response = post_events(site.key, [event("lit", properties={"note": "\\u0000"})])

    assert response.json()["accepted"] == 1
    assert Event.objects.get(event_id="lit").properties == {"note": "\\u0000"}


def test_a_number_too_large_for_a_float_is_stored_as_null(site, post_events):
    body = json.dumps({"events": [event("big")]}).replace(
        '"anonymous_id"', '"properties": {"n": 1e400, "m": 2}, "anonymous_id"'
    )

    response = post_events(site.key, body)

    assert response.json()["accepted"] == 1
    assert Event.objects.get(event_id="big").properties == {"n": None, "m": 2}


def test_a_64_character_custom_name_is_accepted_and_processed(site, post_events):
    name = "custom:" + "n" * 64
    response = post_events(site.key, [event("long", type=name)])

    assert response.json()["accepted"] == 1
    assert Event.objects.get(event_id="long").processed_at is not None


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "the body is not valid JSON"),
        (b'{"events": [NaN]}', "the body is not valid JSON"),
        (b"[]", 'the body must be a JSON object with an "events" list'),
        (b'{"events": {}}', 'the body must be a JSON object with an "events" list'),
        (b'{"event": []}', 'the body must be a JSON object with an "events" list'),
    ],
)
def test_a_body_that_is_not_a_batch_is_a_400(site, post_events, body, detail):
    response = post_events(site.key, body)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert Event.objects.count() == 0


def test_an_empty_batch_is_accepted_with_nothing_to_do(site, post_events):
    assert post_events(site.key, []).json() == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_more_than_1000_events_is_a_413_and_stores_nothing(site, post_events):
    batch = [event(f"e{i}", context=None) for i in range(1001)]

    response = post_events(site.key, batch)

    assert response.status_code == 413
    assert response.json() == {"detail": "a batch holds at most 1,000 events, this one has 1,001"}
    assert Event.objects.count() == 0


def test_exactly_1000_events_are_accepted(site, post_events):
    batch = [event(f"e{i}", context=None) for i in range(1000)]

    assert post_events(site.key, batch).json()["accepted"] == 1000
    assert Event.objects.count() == 1000


def test_a_body_over_2_mb_is_a_413_and_stores_nothing(site, post_events):
    padding = "x" * 15_000
    batch = [event(f"e{i}", properties={"p": padding}) for i in range(150)]  # ~2.3 MB

    response = post_events(site.key, batch)

    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than 2 MB"}
    assert Event.objects.count() == 0
