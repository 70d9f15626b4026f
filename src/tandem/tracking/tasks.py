"""Background jobs of tracking (Huey); each idempotent, because queues redeliver."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tandem.tracking import services
from tandem.tracking.models import Event
from tandem.tracking.processing import process_events

SWEEP_AFTER = timedelta(seconds=60)
SWEEP_CHUNK = 1000


@db_task(retries=3, retry_delay=5)
def process_batch(event_ids: list[int]) -> None:
    """Process one ingested batch (already-processed rows are skipped)."""
    process_events(event_ids=event_ids)


@db_periodic_task(crontab(minute="*"))
def sweep_pending() -> None:
    """Process events whose batch job was lost (a crash between commit and enqueue)."""
    cutoff = timezone.now() - SWEEP_AFTER
    while True:
        ids = list(
            Event.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:SWEEP_CHUNK]
        )
        if not ids or not process_events(event_ids=ids):
            return


@db_periodic_task(crontab(minute="17"))
def prune_rate_counters() -> None:
    """Forget rate-limit windows from yesterday and before."""
    services.prune_rate_counters()
