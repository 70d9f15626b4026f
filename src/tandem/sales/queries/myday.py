"""Reads for a rep's day: open tasks by due date, today's meetings, sequence tasks, deal activities."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from tandem.accounts.models import User
from tandem.crm.models import Activity, ActivityKind
from tandem.errors import InvalidInput
from tandem.sales.models import EnrollmentStatus, SequenceEnrollment
from tandem.sales.periods import day_bounds

UPCOMING_DAYS = 7
MAX_ROWS = 200
DUE_FILTERS = ("today", "overdue", "upcoming")


@dataclass
class MyDay:
    """What a rep has on today: each list at most MAX_ROWS rows."""

    now: datetime
    overdue: list[Activity] = field(default_factory=list)
    due_today: list[Activity] = field(default_factory=list)
    meetings: list[Activity] = field(default_factory=list)
    upcoming: list[Activity] = field(default_factory=list)
    sequence_tasks: list[Activity] = field(default_factory=list)


def open_tasks(user: User) -> QuerySet[Activity]:
    """The user's open tasks (the activity_owner_due index)."""
    return Activity.objects.filter(
        owner=user, kind=ActivityKind.TASK, done_at__isnull=True, due_at__isnull=False
    ).select_related("contact", "company")


def tasks_due(*, user: User, due: str, now: datetime) -> QuerySet[Activity]:
    """The user's open tasks that are overdue, due today (from now to midnight) or upcoming."""
    _, end = day_bounds(now)
    tasks = open_tasks(user)
    if due == "overdue":
        return tasks.filter(due_at__lt=now)
    if due == "today":
        return tasks.filter(due_at__gte=now, due_at__lt=end)
    if due == "upcoming":
        return tasks.filter(due_at__gte=end)
    raise InvalidInput(f"due must be one of {', '.join(DUE_FILTERS)}", field="due")


def my_day(*, user: User, now: datetime | None = None) -> MyDay:
    """The rep's overdue and due-today tasks, today's meetings, the next week and sequence tasks."""
    now = now or timezone.now()
    start, end = day_bounds(now)
    sequence_task_ids = set(
        SequenceEnrollment.objects.filter(
            owner=user, status=EnrollmentStatus.ACTIVE, current_task_id__isnull=False
        ).values_list("current_task_id", flat=True)
    )
    day = MyDay(now=now)
    tasks = open_tasks(user).filter(due_at__lt=end + timedelta(days=UPCOMING_DAYS))
    for task in tasks.order_by("due_at", "id")[: MAX_ROWS * 3]:
        assert task.due_at is not None
        if task.pk in sequence_task_ids:
            if task.due_at < end:
                day.sequence_tasks.append(task)
        elif task.due_at < now:
            day.overdue.append(task)
        elif task.due_at < end:
            day.due_today.append(task)
        else:
            day.upcoming.append(task)
    day.meetings = list(
        Activity.objects.filter(
            owner=user,
            kind=ActivityKind.MEETING,
            occurred_at__gte=start,
            occurred_at__lt=end,
        )
        .select_related("contact", "company")
        .order_by("occurred_at", "id")[:MAX_ROWS]
    )
    for name in ("overdue", "due_today", "upcoming", "sequence_tasks"):
        setattr(day, name, getattr(day, name)[:MAX_ROWS])
    return day


def deal_activities(*, deal_id: int, limit: int = 50) -> list[Activity]:
    """A deal's activities, newest first (the activity_deal_at index)."""
    return list(
        Activity.objects.filter(deal_id=deal_id)
        .select_related("owner", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
