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
class TimelineEventRecorded:
    event_id: int
    contact_id: int | None
    type: str


@dataclass(frozen=True)
class ContactsMerged:
    primary_id: int
    merged_id: int


# Handlers are dotted paths so that a lower app can publish without importing a higher one.
# Later apps add their reactions here (scoring, segments, routing, automation).
HANDLERS: dict[type, list[str]] = {
    ContactCreated: [],
    LifecycleStageChanged: [],
    TimelineEventRecorded: [],
    ContactsMerged: [],
}


def publish(event: Any) -> None:
    """Run the event's handlers once the current transaction commits."""
    paths = HANDLERS.get(type(event))
    if paths is None:
        raise KeyError(f"{type(event).__name__} is not in bus.HANDLERS")
    for path in paths:
        handler: Callable[[Any], None] = import_string(path)
        transaction.on_commit(partial(handler, event), robust=True)
