"""Activities and tasks on deals: logging, task creation and completion, due reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from tandem import bus
from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm import services as crm_services
from tandem.crm.models import Activity, ActivityKind, Contact
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import Deal, DealContact

# Reminders sent per batch; a run loops until nothing is due.
REMINDER_BATCH = 500


@transaction.atomic
def log_deal_activity(
    *,
    deal: Deal,
    kind: str,
    by: User | None,
    contact: Contact | None = None,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    call_outcome: str = "",
    duration_seconds: Any = None,
    due_at: datetime | None = None,
    remind_at: datetime | None = None,
    direction: str = "",
) -> Activity:
    """Log a call, meeting, email, note or task on a deal (and its primary contact)."""
    if by is not None and not permissions.can_edit(by, deal):
        raise Forbidden("you may not log activities on this deal")
    if contact is None:
        role = (
            DealContact.objects.filter(deal=deal)
            .select_related("contact__company")
            .order_by("-is_primary", "added_at", "id")
            .first()
        )
        contact = role.contact if role is not None else None
    elif not DealContact.objects.filter(deal=deal, contact=contact).exists():
        raise InvalidInput(f"contact {contact.pk} is not on this deal", field="contact")
    if contact is None and deal.company_id is None:
        raise InvalidInput("the deal has no contact or company to log on", field="contact")
    return crm_services.log_activity(
        kind=kind,
        by=by,
        contact=contact,
        company=deal.company,
        subject=subject,
        body=body,
        occurred_at=occurred_at,
        call_outcome=call_outcome,
        duration_seconds=duration_seconds,
        due_at=due_at,
        remind_at=remind_at,
        direction=direction,
        deal_id=deal.pk,
    )


@transaction.atomic
def create_task(
    *,
    by: User,
    subject: str,
    due_at: datetime | None,
    remind_at: datetime | None = None,
    body: str = "",
    contact: Contact | None = None,
    deal: Deal | None = None,
) -> Activity:
    """Create a task with a due date (and optional reminder) on a deal or a contact."""
    if not permissions.can_sell(by):
        raise Forbidden("only sales users keep tasks")
    if not (subject or "").strip():
        raise InvalidInput("a task needs a subject", field="subject")
    if deal is not None:
        return log_deal_activity(
            deal=deal,
            kind=ActivityKind.TASK,
            by=by,
            contact=contact,
            subject=subject,
            body=body,
            due_at=due_at,
            remind_at=remind_at,
        )
    if contact is None:
        raise InvalidInput("a task needs a contact or a deal", field="contact_id")
    if not permissions.can_edit(by, contact):
        raise Forbidden("you may not add tasks to this contact")
    return crm_services.log_activity(
        kind=ActivityKind.TASK,
        by=by,
        contact=contact,
        subject=subject,
        body=body,
        due_at=due_at,
        remind_at=remind_at,
    )


@transaction.atomic
def complete_task(*, task: Activity, by: User) -> Activity:
    """Mark one of my (or my team's) tasks done; a sequence task advances its sequence."""
    if not permissions.can_edit(by, task):
        raise Forbidden("you may not complete this task")
    return crm_services.complete_task(activity=task, by=by)


def _reminder_text(task: Activity) -> str:
    subject = task.subject or "a task"
    due = f" (due {task.due_at:%b %-d, %H:%M} UTC)" if task.due_at else ""
    return f"Reminder: {subject}{due}"[:300]


def send_due_reminders(*, now: datetime) -> int:
    """Notify each open task's owner once its reminder time has come; returns how many were sent.

    Each task is claimed (reminded_at set) in the same transaction that publishes its
    notification, and the notification key is the task's, so overlapping runs send one.
    """
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                Activity.objects.select_for_update(skip_locked=True)
                .filter(
                    kind=ActivityKind.TASK,
                    remind_at__isnull=False,
                    remind_at__lte=now,
                    reminded_at__isnull=True,
                    done_at__isnull=True,
                    owner__isnull=False,
                )
                .only("id", "subject", "due_at", "owner_id", "contact_id")
                .order_by("remind_at", "id")[:REMINDER_BATCH]
            )
            if not batch:
                return sent
            claimed = Activity.objects.filter(
                pk__in=[t.pk for t in batch], reminded_at__isnull=True
            ).update(reminded_at=now)
            if claimed != len(batch):  # another run took some: start this batch again
                transaction.set_rollback(True)
                continue
            for task in batch:
                assert task.owner_id is not None
                bus.publish(
                    bus.UserNotified(
                        user_id=task.owner_id,
                        kind="task_reminder",
                        text=_reminder_text(task),
                        key=f"task_reminder:{task.pk}",
                        contact_id=task.contact_id,
                    )
                )
            sent += len(batch)
        if len(batch) < REMINDER_BATCH:
            return sent
