"""Turn raw ingested events into visitors, contacts' timelines and marketing touchpoints.

Intuition: ingestion only validates and appends to the raw log (fast, in the request); this
step does the joins in bulk for a batch of events: who is each visitor, which contact does an
email or an identified visitor stand for, which campaign a UTM tag names, and which channel
the visit came through. Every write is keyed by the raw event's id, so running a batch twice
(queues redeliver, the sweeper retries) writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from tandem import bus
from tandem.crm import services as crm_services
from tandem.crm.models import Contact, LifecycleStage, TimelineEvent
from tandem.errors import Conflict, InvalidInput
from tandem.idempotent import insert_missing
from tandem.marketing import utm as utm_tags
from tandem.marketing.models import Touchpoint
from tandem.marketing.queries.tags import campaigns_for_tags
from tandem.marketing.services.touchpoints import attach_anonymous, record_touchpoints
from tandem.tracking.models import Event, Visitor

# Event type → the kind of marketing touch it is (page views only when they came from a channel).
TOUCH_KINDS = {
    "page_view": "visit",
    "form_submit": "form_submit",
    "content_view": "content_view",
    "content_download": "content_view",
    "link_click": "click",
    "email_open": "email_open",
}
# Contact fields an identify or form event may fill when they are still empty.
TRAITS = {"first_name": 120, "last_name": 120, "title": 160, "phone": 40}
# A touch's channel → the contact's original source, for contacts created by tracking.
SOURCE_OF_CHANNEL = {
    "email": "email",
    "paid_search": "paid_search",
    "paid_social": "paid_social",
    "organic_search": "organic_search",
    "organic_social": "organic_social",
    "events": "events",
    "webinar": "events",
    "referral": "referral",
    "partner": "referral",
    "outbound": "outbound",
}
STITCH_CHUNK = 2000


@dataclass(frozen=True)
class Visit:
    """What an event's context says about where it came from."""

    utm: dict[str, str]
    referrer_host: str
    campaign_id: int | None
    channel: str | None


def process_events(*, event_ids: Sequence[int]) -> int:
    """Process these raw events (those not yet processed); returns how many were."""
    with transaction.atomic():
        pending = Event.objects.filter(pk__in=list(event_ids), processed_at__isnull=True)
        if connection.features.has_select_for_update_skip_locked:
            # Two workers given overlapping batches split them instead of waiting on each other.
            pending = pending.select_for_update(skip_locked=True)
        events = sorted(pending, key=lambda e: (e.occurred_at, e.pk))
        if not events:
            return 0
        now = timezone.now()
        visitors = _visitors_for(events)
        visits = _visits_for(events)
        contacts = _contacts_for(events, visits)
        identified = _identify(events, visitors, contacts)
        owner_of = {e.pk: _contact_of(e, visitors, contacts) for e in events}
        _write_timeline(events, owner_of, visits)
        _write_touchpoints(events, owner_of, visits)
        for anonymous_id, contact in identified.items():
            stitch(anonymous_id=anonymous_id, contact=contact)
        touched = {c.pk: c for c in owner_of.values() if c is not None}
        _promote_form_fillers(events, owner_of)
        if touched:
            latest = max(e.occurred_at for e in events if owner_of[e.pk] is not None)
            crm_services.touch_activity(contact_ids=list(touched), at=latest)
            bus.publish(
                bus.EventsTracked(
                    contact_ids=tuple(sorted(touched)),
                    types=tuple(sorted({e.type for e in events if owner_of[e.pk] is not None})),
                )
            )
        Event.objects.filter(pk__in=[e.pk for e in events]).update(processed_at=now)
        return len(events)


def stitch(*, anonymous_id: str, contact: Contact) -> int:
    """Join a visitor's earlier events and touches to the contact's timeline; returns rows added."""
    added = 0
    last_pk = 0
    while True:
        chunk = list(
            Event.objects.filter(anonymous_id=anonymous_id, pk__gt=last_pk)
            .exclude(type="identify")
            .order_by("pk")[:STITCH_CHUNK]
        )
        if not chunk:
            break
        last_pk = chunk[-1].pk
        visits = _visits_for(chunk)
        added += _write_timeline(chunk, {e.pk: contact for e in chunk}, visits)
    attach_anonymous(anonymous_id=anonymous_id, contact_id=contact.pk)
    return added


def _visitors_for(events: Iterable[Event]) -> dict[str, Visitor]:
    """Every anonymous id in the batch as a Visitor row (created on first sight), seen-times moved."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for e in events:
        if e.anonymous_id:
            first, last = spans.get(e.anonymous_id, (e.occurred_at, e.occurred_at))
            spans[e.anonymous_id] = (min(first, e.occurred_at), max(last, e.occurred_at))
    if not spans:
        return {}
    Visitor.objects.bulk_create(
        [
            Visitor(anonymous_id=a, first_seen_at=f, last_seen_at=last)
            for a, (f, last) in spans.items()
        ],
        ignore_conflicts=True,
    )
    visitors = {v.anonymous_id: v for v in Visitor.objects.filter(anonymous_id__in=list(spans))}
    changed = []
    for anonymous_id, (first, last) in spans.items():
        v = visitors[anonymous_id]
        if first < v.first_seen_at or last > v.last_seen_at:
            v.first_seen_at, v.last_seen_at = min(first, v.first_seen_at), max(last, v.last_seen_at)
            changed.append(v)
    if changed:
        Visitor.objects.bulk_update(changed, ["first_seen_at", "last_seen_at"])
    return visitors


def source_of(channel: str | None) -> str:
    """The original source of a contact whose first touch came through this channel."""
    if not channel:
        return "direct"
    return SOURCE_OF_CHANNEL.get(channel, "other")


def _contacts_for(events: Iterable[Event], visits: dict[int, Visit]) -> dict[str, Contact]:
    """Contacts by email for the batch; identify and form events create the missing ones."""
    emails = {e.email for e in events if e.email}
    found = {c.email: c for c in Contact.objects.filter(email__in=emails)} if emails else {}
    for e in events:
        if e.email and e.email not in found and e.type in ("identify", "form_submit"):
            found[e.email] = _create_contact(e, visits[e.pk])
    return found


def _create_contact(event: Event, visit: Visit) -> Contact:
    """A contact for an email seen first in tracking (a concurrent creator wins, we reuse theirs)."""
    source = source_of(visit.channel)
    traits: dict[str, Any] = _traits(event.properties)
    try:
        with transaction.atomic():
            return crm_services.create_contact(
                email=event.email,
                **traits,
                original_source=source,
                original_source_detail=(visit.utm.get("campaign") or visit.referrer_host)[:255],
                rule="tracking",
                created_at=event.occurred_at,
            )
    except Conflict as exc:
        return Contact.objects.get(pk=int(exc.existing_id or 0))
    except InvalidInput:
        # Traits that do not fit (too long, NUL): create with the email alone.
        with transaction.atomic():
            return crm_services.create_contact(
                email=event.email,
                original_source=source,
                rule="tracking",
                created_at=event.occurred_at,
            )


def _traits(properties: dict[str, Any]) -> dict[str, str]:
    """The allow-listed contact traits in an event's properties, as bounded text."""
    nested = properties.get("traits")
    traits: dict[str, Any] = nested if isinstance(nested, dict) else properties
    return {
        k: str(traits[k]).strip()[:limit]
        for k, limit in TRAITS.items()
        if isinstance(traits.get(k), (str, int)) and str(traits[k]).strip()
    }


def _identify(
    events: Sequence[Event],
    visitors: dict[str, Visitor],
    contacts: dict[str, Contact],
) -> dict[str, Contact]:
    """Link visitors to the contacts their identify/form events name; returns the newly linked."""
    linked: dict[str, Contact] = {}
    for e in events:
        if e.type not in ("identify", "form_submit") or not e.email or not e.anonymous_id:
            continue
        contact, visitor = contacts[e.email], visitors[e.anonymous_id]
        if visitor.contact_id != contact.pk:
            visitor.contact_id = contact.pk
            visitor.identified_at = e.occurred_at
            visitor.save(update_fields=["contact", "identified_at"])
            linked[e.anonymous_id] = contact
        if e.type == "identify":
            _fill_traits(contact, e.properties)
    return linked


def _fill_traits(contact: Contact, properties: dict[str, Any]) -> None:
    """Fill the contact's empty fields from identify traits; a filled field is never overwritten."""
    blanks = {k: v for k, v in _traits(properties).items() if not getattr(contact, k)}
    if blanks:
        Contact.objects.filter(pk=contact.pk).update(**blanks)
        for k, v in blanks.items():
            setattr(contact, k, v)


def _contact_of(
    event: Event, visitors: dict[str, Visitor], contacts: dict[str, Contact]
) -> Contact | None:
    """The contact an event belongs to: its email's, else its identified visitor's."""
    if event.email and event.email in contacts:
        return contacts[event.email]
    visitor = visitors.get(event.anonymous_id) if event.anonymous_id else None
    if visitor is not None and visitor.contact_id is not None:
        return Contact(pk=visitor.contact_id)
    return None


def _visits_for(events: Sequence[Event]) -> dict[int, Visit]:
    """Where each event of a batch came from, campaigns looked up once for all of them."""
    return visits_of({e.pk: e.context or {} for e in events})


def visit_of(context: dict[str, Any]) -> Visit:
    """Where one visit came from, given its context ({"url", "referrer", "utm"})."""
    return visits_of({0: context})[0]


def visits_of(contexts: dict[int, dict[str, Any]]) -> dict[int, Visit]:
    """UTM tags (sent, else in the URL), referrer host, campaign and channel of each context."""
    parsed = {}
    for key, context in contexts.items():
        url = context.get("url") or ""
        tags = utm_tags.parse_utm(context.get("utm")) or utm_tags.utm_from_url(url)
        parsed[key] = (
            tags,
            utm_tags.host_of(context.get("referrer") or ""),
            utm_tags.host_of(url),
        )
    campaigns = campaigns_for_tags({tags.get("campaign", "") for tags, _, _ in parsed.values()})
    visits = {}
    for key, (tags, referrer_host, own_host) in parsed.items():
        campaign = campaigns.get(tags.get("campaign", ""))
        channel = (
            campaign[1]
            if campaign
            else utm_tags.channel_for(
                utm=tags, referrer_host=referrer_host, own_hosts=(own_host,) if own_host else ()
            )
        )
        visits[key] = Visit(tags, referrer_host, campaign[0] if campaign else None, channel)
    return visits


def _timeline_properties(event: Event, visit: Visit) -> dict[str, Any]:
    context = event.context or {}
    extra = {k: context[k] for k in ("url", "referrer") if context.get(k)}
    if visit.utm:
        extra["utm"] = visit.utm
    return {**(event.properties or {}), **extra, "source_id": event.source_id}


def _write_timeline(
    events: Sequence[Event], owner_of: dict[int, Contact | None], visits: dict[int, Visit]
) -> int:
    """Timeline rows for the events that belong to a contact (identify calls are not history)."""
    rows = [
        TimelineEvent(
            type=e.type,
            occurred_at=e.occurred_at,
            contact_id=owner.pk,
            actor_label="tracking",
            campaign_id=visits[e.pk].campaign_id,
            properties=_timeline_properties(e, visits[e.pk]),
            idempotency_key=f"trk:{e.pk}",
        )
        for e in events
        if (owner := owner_of.get(e.pk)) is not None and e.type != "identify"
    ]
    return insert_missing(TimelineEvent, rows)


def _write_touchpoints(
    events: Sequence[Event], owner_of: dict[int, Contact | None], visits: dict[int, Visit]
) -> int:
    """A touchpoint for each event that came through a marketing channel."""
    touches = []
    for e in events:
        visit, kind = visits[e.pk], TOUCH_KINDS.get(e.type)
        if visit.channel is None or kind is None:
            continue
        owner = owner_of.get(e.pk)
        touches.append(
            Touchpoint(
                occurred_at=e.occurred_at,
                channel=visit.channel,
                campaign_id=visit.campaign_id,
                kind=kind,
                contact_id=owner.pk if owner else None,
                anonymous_id=e.anonymous_id,
                utm_source=visit.utm.get("source", ""),
                utm_medium=visit.utm.get("medium", ""),
                utm_campaign=visit.utm.get("campaign", ""),
                utm_term=visit.utm.get("term", ""),
                utm_content=visit.utm.get("content", ""),
                referrer_host=visit.referrer_host[:255],
                idempotency_key=f"trk:{e.pk}",
            )
        )
    return record_touchpoints(touchpoints=touches)


def _promote_form_fillers(events: Sequence[Event], owner_of: dict[int, Contact | None]) -> None:
    """A form filled through the events API makes its contact at least a Lead."""
    ids = {owner.pk for e in events if e.type == "form_submit" and (owner := owner_of.get(e.pk))}
    for contact in Contact.objects.filter(pk__in=ids):
        ensure_at_least_lead(contact=contact, rule="form-submission")


def ensure_at_least_lead(*, contact: Contact, rule: str) -> None:
    """Move a subscriber to Lead; a contact further along (or disqualified) stays where it is."""
    if contact.lifecycle_stage == LifecycleStage.SUBSCRIBER:
        crm_services.change_lifecycle_stage(
            contact=contact, to_stage=LifecycleStage.LEAD, rule=rule, reason="submitted a form"
        )
