"""Processing raw events: visitors, identity stitching, timeline rows, UTM campaigns, channels,
touchpoints, lead promotion, and running twice without writing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tandem.crm.models import Contact, TimelineEvent
from tandem.marketing.models import Touchpoint
from tandem.tracking import ingest, services, tasks
from tandem.tracking.models import Event, Visitor
from tandem.tracking.processing import process_events
from tests.marketing.factories import CampaignFactory
from tests.tracking.conftest import AID

pytestmark = pytest.mark.django_db

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def ev(event_id: str, type: str = "page_view", minutes: int = 0, **fields: Any) -> dict[str, Any]:
    context = fields.pop("context", {"url": "https://www.example.com/", "referrer": ""})
    return {
        "event_id": event_id,
        "type": type,
        "occurred_at": at(minutes),
        "anonymous_id": fields.pop("anonymous_id", AID),
        "context": context,
        **fields,
    }


def track(site: Any, *events: dict[str, Any]) -> list[int]:
    """Ingest a batch and run its processing job now; the new events' ids."""
    outcome = ingest.ingest(source_id=site.source.pk, items=list(events))
    assert outcome.rejected == []
    process_events(event_ids=outcome.inserted_ids)
    return outcome.inserted_ids


def timeline(contact: Contact) -> list[tuple[str, datetime]]:
    rows = TimelineEvent.objects.filter(contact=contact).exclude(type="contact_created")
    return list(rows.order_by("occurred_at").values_list("type", "occurred_at"))


def test_anonymous_page_views_join_the_timeline_when_the_visitor_identifies(site):
    # Given two anonymous page views
    track(site, ev("pv1", minutes=0), ev("pv2", minutes=5))
    visitor = Visitor.objects.get(anonymous_id=AID)
    assert visitor.contact_id is None
    assert (visitor.first_seen_at, visitor.last_seen_at) == (T0, T0 + timedelta(minutes=5))
    assert not TimelineEvent.objects.filter(idempotency_key__startswith="trk:").exists()

    # When the visitor identifies with an email nobody has yet
    track(
        site,
        ev(
            "id1",
            "identify",
            10,
            email="Nia@Example.com",
            properties={"traits": {"first_name": "Nia"}},
        ),
    )

    # Then the contact exists and its timeline holds the earlier views (not the identify call)
    nia = Contact.objects.get(email="nia@example.com")
    assert nia.first_name == "Nia"
    assert nia.original_source == "direct"
    assert timeline(nia) == [
        ("page_view", T0),
        ("page_view", T0 + timedelta(minutes=5)),
    ]
    visitor.refresh_from_db()
    assert visitor.contact_id == nia.pk
    assert visitor.identified_at == T0 + timedelta(minutes=10)

    # and later views of the same browser land there directly
    track(site, ev("pv3", minutes=20))
    assert timeline(nia)[-1] == ("page_view", T0 + timedelta(minutes=20))
    assert len(timeline(nia)) == 3
    nia.refresh_from_db()
    assert nia.last_activity_at == T0 + timedelta(minutes=20)


def test_views_and_identify_in_one_batch_all_join_the_contact(site, world):
    ann = world.rep1_contact
    track(
        site,
        ev("pv1", minutes=0),
        ev("id1", "identify", 1, email="ann@acme.com"),
        ev("pv2", minutes=2),
    )

    assert timeline(ann) == [("page_view", T0), ("page_view", T0 + timedelta(minutes=2))]


def test_identify_fills_empty_fields_and_never_overwrites(site, world):
    ann = world.rep1_contact  # first name "Ann", no title
    traits = {"first_name": "Annabel", "title": "  VP Marketing ", "phone": ["not", "text"]}

    track(site, ev("id1", "identify", email="ann@acme.com", properties={"traits": traits}))

    ann.refresh_from_db()
    assert (ann.first_name, ann.title, ann.phone) == ("Ann", "VP Marketing", "")


def test_a_utm_campaign_tag_is_matched_whatever_its_case_and_spaces(site):
    campaign = CampaignFactory(utm_campaign="spring_launch", channel="paid_social")
    track(
        site,
        ev(
            "tagged",
            context={
                "url": "https://www.example.com/",
                "utm": {
                    "utm_campaign": "  Spring_LAUNCH ",
                    "Source": " LinkedIn",
                    "medium": "Paid_Social",
                },
            },
        ),
        ev(
            "in-url",
            minutes=1,
            context={
                "url": "https://www.example.com/?UTM_Campaign=SPRING_launch%20&utm_medium=cpc"
            },
        ),
    )

    touches = list(Touchpoint.objects.order_by("occurred_at"))
    assert [(t.campaign_id, t.channel, t.utm_campaign) for t in touches] == [
        (campaign.pk, "paid_social", "spring_launch"),
        (campaign.pk, "paid_social", "spring_launch"),
    ]
    assert (touches[0].utm_source, touches[0].utm_medium) == ("linkedin", "paid_social")
    assert touches[0].anonymous_id == AID
    assert touches[0].kind == "visit"


def test_an_unknown_campaign_tag_infers_the_channel_from_its_medium(site):
    track(
        site, ev("x", context={"url": "https://www.example.com/?utm_campaign=nope&utm_medium=CPC"})
    )

    touch = Touchpoint.objects.get()
    assert (touch.campaign_id, touch.channel, touch.utm_campaign) == (None, "paid_search", "nope")


@pytest.mark.parametrize(
    ("url", "referrer", "channel"),
    [
        ("https://www.example.com/", "https://www.google.com/search?q=crm", "organic_search"),
        ("https://www.example.com/", "https://www.linkedin.com/feed/", "organic_social"),
        ("https://www.example.com/", "https://partner-blog.io/post", "referral"),
        ("https://www.example.com/?utm_source=newsletter&utm_medium=email", "", "email"),
        ("https://www.example.com/?utm_medium=display", "https://ads.example.net/", "display"),
        ("https://www.example.com/pricing", "https://www.example.com/", None),
        ("https://www.example.com/", "", None),
    ],
)
def test_the_channel_of_a_visit(site, url, referrer, channel):
    track(site, ev("v", context={"url": url, "referrer": referrer}))

    touches = list(Touchpoint.objects.values_list("channel", "referrer_host"))
    if channel is None:
        assert touches == []  # direct traffic and internal navigation are not marketing touches
    else:
        host = referrer.split("/")[2] if referrer else ""
        assert touches == [(channel, host)]


def test_anonymous_touches_are_attached_to_the_contact_on_identify(site, world):
    track(
        site, ev("pv", context={"url": "https://www.example.com/", "referrer": "https://bing.com/"})
    )
    touch = Touchpoint.objects.get()
    assert (touch.contact_id, touch.anonymous_id) == (None, AID)

    track(site, ev("id", "identify", 5, email="bob@acme.com"))

    touch.refresh_from_db()
    assert touch.contact_id == world.rep2_contact.pk


def test_a_form_submit_creates_a_lead_with_its_touch(site):
    track(
        site,
        ev(
            "form",
            "form_submit",
            email="new.lead@example.org",
            properties={"form": "demo", "first_name": "Lee"},
            context={"url": "https://www.example.com/demo?utm_medium=cpc&utm_source=google"},
        ),
    )

    lead = Contact.objects.get(email="new.lead@example.org")
    assert lead.lifecycle_stage == "lead"
    assert lead.first_name == "Lee"
    assert lead.original_source == "paid_search"
    assert ("form_submit", T0) in timeline(lead)
    touch = Touchpoint.objects.get()
    assert (touch.kind, touch.contact_id, touch.channel) == ("form_submit", lead.pk, "paid_search")


def test_a_page_view_with_an_unknown_email_creates_no_contact(site):
    track(site, ev("pv", email="ghost@example.org"))

    assert not Contact.objects.filter(email="ghost@example.org").exists()


def test_processing_twice_writes_nothing_twice(site):
    ids = track(
        site,
        ev(
            "pv", context={"url": "https://www.example.com/", "referrer": "https://www.google.com/"}
        ),
        ev("id", "identify", 1, email="twice@example.org"),
        ev("f", "form_submit", 2, email="twice@example.org"),
    )
    counts = (TimelineEvent.objects.count(), Touchpoint.objects.count(), Contact.objects.count())

    # A redelivered job finds nothing pending
    assert process_events(event_ids=ids) == 0
    # and a job that lost its bookkeeping (processed_at cleared) rewrites nothing
    Event.objects.update(processed_at=None)
    assert process_events(event_ids=ids) == 3

    assert (
        TimelineEvent.objects.count(),
        Touchpoint.objects.count(),
        Contact.objects.count(),
    ) == counts


def test_long_custom_names_fit_the_timeline(site, world):
    name = "custom:" + "n" * 64
    track(site, ev("id", "identify", email="ann@acme.com"), ev("c", name, 1))

    row = TimelineEvent.objects.get(idempotency_key__startswith="trk:", contact=world.rep1_contact)
    assert row.type == name
    assert row.properties["source_id"] == site.source.pk


def test_the_sweeper_processes_events_whose_job_was_lost(site):
    outcome = ingest.ingest(source_id=site.source.pk, items=[ev("lost")])
    Event.objects.filter(pk__in=outcome.inserted_ids).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    fresh = ingest.ingest(source_id=site.source.pk, items=[ev("fresh", minutes=1)])

    tasks.sweep_pending.call_local()

    assert Event.objects.get(event_id="lost").processed_at is not None
    # A batch just received still has its own job coming.
    assert Event.objects.get(pk=fresh.inserted_ids[0]).processed_at is None


def test_process_batch_job_processes_its_events(site):
    outcome = ingest.ingest(source_id=site.source.pk, items=[ev("a"), ev("b", minutes=1)])

    tasks.process_batch.call_local(outcome.inserted_ids)

    assert Event.objects.filter(processed_at__isnull=True).count() == 0


def test_a_server_event_is_stored_and_processed_at_once(world):
    event = services.record_server_event(
        type="content_view",
        anonymous_id=AID,
        contact=world.rep1_contact,
        properties={"asset": 7},
        context={"url": "https://www.example.com/ebook", "referrer": "https://www.google.com/"},
    )

    assert event.processed_at is None  # the instance predates its processing
    event.refresh_from_db()
    assert event.processed_at is not None
    assert event.source_id is None and event.event_id.startswith("srv-")
    assert timeline(world.rep1_contact)[-1][0] == "content_view"
    assert Touchpoint.objects.get().kind == "content_view"


def test_the_rate_limit_counts_per_key_and_window():
    hits = [services.over_limit(key="ip:1.2.3.4", limit=3, window_seconds=3600) for _ in range(5)]

    assert hits == [False, False, False, True, True]
    assert services.over_limit(key="ip:5.6.7.8", limit=3, window_seconds=3600) is False
