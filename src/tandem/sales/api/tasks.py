"""REST routes for a seller's tasks: list by due window, create (with a reminder), mark done."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts import permissions
from tandem.accounts.queries import current_user
from tandem.crm.models import Activity, ActivityKind, Contact
from tandem.errors import Forbidden
from tandem.pagination import Page, RecordId, keyset_page
from tandem.sales.models import Deal
from tandem.sales.queries import myday as queries
from tandem.sales.services import activities as services

tasks_router = Router(tags=["sales"])


class TaskOut(Schema):
    id: int
    subject: str
    body: str
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    owner: str | None
    due_at: datetime | None
    remind_at: datetime | None
    reminded_at: datetime | None
    done_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_owner(obj: Activity) -> str | None:
        return obj.owner.username if obj.owner else None


class TaskIn(Schema):
    subject: str = Field(..., max_length=255)
    due_at: datetime
    remind_at: datetime | None = Field(None, description="when to notify the owner (≤ due_at)")
    body: str = ""
    contact_id: RecordId | None = None
    deal_id: RecordId | None = Field(
        None, description="a deal you may edit; contact defaults to its primary contact"
    )


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskParams(Schema):
    due: str = Field("today", description="today, overdue or upcoming")
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


def _seller(request: HttpRequest) -> None:
    if not permissions.can_sell(request.user):
        raise Forbidden("tasks are for sales users")


@tasks_router.get("", response=TaskPage, summary="My open tasks: due today, overdue or upcoming")
def list_tasks(request: HttpRequest, params: Query[TaskParams]) -> Page:
    user = current_user(request)
    _seller(request)
    qs = queries.tasks_due(user=user, due=params.due, now=timezone.now())
    return keyset_page(
        qs.select_related("owner"), limit=params.limit, cursor=params.cursor, time_field="due_at"
    )


@tasks_router.post("", response={201: TaskOut}, summary="Create a task on a contact or a deal")
def create_task(request: HttpRequest, payload: TaskIn) -> Status[Activity]:
    user = current_user(request)
    _seller(request)
    deal = contact = None
    if payload.deal_id is not None:
        deal = get_object_or_404(permissions.visible(user, Deal.objects.all()), pk=payload.deal_id)
    if payload.contact_id is not None:
        contact = get_object_or_404(
            permissions.visible(user, Contact.objects.select_related("company")),
            pk=payload.contact_id,
        )
    task = services.create_task(
        by=user,
        subject=payload.subject,
        due_at=payload.due_at,
        remind_at=payload.remind_at,
        body=payload.body,
        contact=contact,
        deal=deal,
    )
    return Status(201, Activity.objects.select_related("owner").get(pk=task.pk))


@tasks_router.post("/{task_id}/done", response=TaskOut, summary="Mark a task done")
def task_done(request: HttpRequest, task_id: RecordId) -> Activity:
    user = current_user(request)
    _seller(request)
    task = (
        permissions.visible(user, Activity.objects.select_related("owner", "contact"))
        .filter(pk=task_id, kind=ActivityKind.TASK)
        .first()
    )
    if task is None:
        raise Http404("no such task")
    return services.complete_task(task=task, by=user)
