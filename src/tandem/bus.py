"""Domain events: one explicit table maps each event to its handlers, run after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactCreated:
    contact_id: int


@dataclass(frozen=True)
class LifecycleStageChanged:
    contact_id: int
    from_stage: str
    to_stage: str


@dataclass(frozen=True)
class ContactsImported:
    """A chunk of an import created or changed these contacts (one event per chunk, not per row)."""

    contact_ids: tuple[int, ...]


@dataclass(frozen=True)
class TimelineEventRecorded:
    event_id: int
    contact_id: int | None
    type: str


@dataclass(frozen=True)
class ContactsMerged:
    primary_id: int
    merged_id: int


@dataclass(frozen=True)
class ContactMerging:
    """Published inside the merge transaction, before the duplicate is deleted."""

    primary_id: int
    merged_id: int


@dataclass(frozen=True)
class EventsTracked:
    """Tracked behaviour (page views, forms, clicks, content) landed on these contacts."""

    contact_ids: tuple[int, ...]
    types: tuple[str, ...]


@dataclass(frozen=True)
class FormSubmitted:
    submission_id: int
    form_id: int
    contact_id: int
    hand_raise: bool


@dataclass(frozen=True)
class DealCreated:
    deal_id: int


@dataclass(frozen=True)
class DealStageChanged:
    """A deal moved stage, was won, lost or reopened (`status` is the new status)."""

    deal_id: int
    from_stage_id: int | None
    to_stage_id: int
    status: str


@dataclass(frozen=True)
class UserNotified:
    """Put a message in a user's in-app inbox (the inbox lives in leads, a sibling of sales)."""

    user_id: int
    kind: str
    text: str
    key: str
    contact_id: int | None = None


# Handlers are dotted paths so that a lower app can publish without importing a higher one.
# Later apps add their reactions here (scoring, segments, routing, automation).
HANDLERS: dict[type, list[str]] = {
    # A new contact reaches leads through its contact_created timeline row.
    ContactCreated: [],
    # Stage changes reach leads through their timeline row (TimelineEventRecorded).
    LifecycleStageChanged: [],
    TimelineEventRecorded: [
        "tandem.leads.handlers.timeline_event_recorded",
        "tandem.sales.handlers.timeline_event_recorded",
    ],
    ContactsMerged: ["tandem.leads.handlers.contacts_merged"],
    ContactsImported: ["tandem.leads.handlers.contacts_imported"],
    EventsTracked: ["tandem.leads.handlers.events_tracked"],
    # In-transaction (see run_now): higher apps re-parent their rows before the delete.
    ContactMerging: [
        "tandem.marketing.handlers.move_merged_contact",
        "tandem.tracking.handlers.move_merged_contact",
        "tandem.leads.handlers.move_merged_contact",
        "tandem.sales.handlers.move_merged_contact",
    ],
    # Analytics and automation react to deals later; nothing below sales listens today.
    DealCreated: [],
    DealStageChanged: [],
    UserNotified: ["tandem.leads.handlers.user_notified"],
    # A submission is processed as a form_submit event, so leads hears of it via EventsTracked.
    FormSubmitted: [],
}


def publish(event: Any) -> None:
    """Run the event's handlers once the current transaction commits."""
    paths = HANDLERS.get(type(event))
    if paths is None:
        raise KeyError(f"{type(event).__name__} is not in bus.HANDLERS")
    for path in paths:
        handler: Callable[[Any], None] = import_string(path)
        transaction.on_commit(partial(handler, event), robust=True)


def run_now(event: Any) -> None:
    """Run the event's handlers at once, inside the caller's transaction.

    Only for work that must happen before the caller goes on (rows of higher apps that a
    delete would otherwise cascade away); everything else goes through publish().
    """
    paths = HANDLERS.get(type(event))
    if paths is None:
        raise KeyError(f"{type(event).__name__} is not in bus.HANDLERS")
    for path in paths:
        import_string(path)(event)
