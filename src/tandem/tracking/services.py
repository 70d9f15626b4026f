"""Tracking writes made by the server itself (clicks, content links, pixels) and rate limits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from tandem.crm.models import Contact
from tandem.marketing.models import Source
from tandem.tracking.models import Event, RateCounter
from tandem.tracking.processing import process_events


@transaction.atomic
def record_server_event(
    *,
    type: str,
    anonymous_id: str = "",
    contact: Contact | None = None,
    properties: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    source: Source | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Append an event the server witnessed to the raw log and process it at once."""
    now = timezone.now()
    event = Event.objects.create(
        source=source,
        event_id=f"srv-{uuid.uuid4().hex}",
        type=type,
        occurred_at=occurred_at or now,
        received_at=now,
        anonymous_id=anonymous_id,
        email=contact.email if contact is not None else "",
        properties=properties or {},
        context=context or {},
    )
    process_events(event_ids=[event.pk])
    return event


def over_limit(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for key in the current fixed window; True once it exceeds the limit.

    One upsert statement (atomic in SQLite and PostgreSQL), so every process shares the count.
    """
    now = timezone.now()
    start = datetime.fromtimestamp(
        int(now.timestamp()) // window_seconds * window_seconds, tz=now.tzinfo
    )
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    # The table name comes from the model, never from input.
    sql = (
        f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + 1 RETURNING count"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [key[:200], connection.ops.adapt_datetimefield_value(start)],
        )
        (count,) = cursor.fetchone()
    return int(count) > limit


def prune_rate_counters(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete counters of windows long past."""
    deleted, _ = RateCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted
