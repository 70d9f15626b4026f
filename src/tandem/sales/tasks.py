"""Background jobs of sales (Huey); each idempotent, because queues redeliver."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tandem.sales.services import activities, forecasts, sequences


@db_periodic_task(crontab(minute="*/5"))
def send_task_reminders() -> None:
    """Notify reps of tasks whose reminder time has come (once per task)."""
    activities.send_due_reminders(now=timezone.now())


@db_periodic_task(crontab(minute="*/15"))
def advance_sequences() -> None:
    """Turn due sequence steps into tasks, within each rep's daily limit."""
    sequences.advance_due(now=timezone.now())


@db_periodic_task(crontab(minute="0", hour="4", day_of_week="1"))
def take_forecast_snapshots() -> None:
    """Keep Monday's forecast of the current and next periods, to measure accuracy later."""
    forecasts.take_snapshots(on=timezone.now().date())
