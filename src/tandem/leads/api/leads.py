"""The hand-off API: a rep's inbox of leads awaiting a decision, accept and reject."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tandem.accounts.queries import current_user
from tandem.crm.models import Contact
from tandem.leads.models import LeadAssignment
from tandem.leads.queries import handoff as queries
from tandem.leads.services import handoff as services
from tandem.pagination import Page, RecordId, keyset_page

leads_router = Router(tags=["leads"])


class InboxLead(Schema):
    id: int = Field(..., description="the assignment's id")
    contact_id: int
    email: str
    first_name: str
    last_name: str
    title: str
    company_id: int | None
    company_name: str | None
    lifecycle_stage: str
    score: int
    qualified_by: str = Field(..., description="the MQL rule that qualified the lead")
    team_id: int | None
    attempt: int
    assigned_at: datetime
    sla_due_at: datetime | None = Field(..., description="accept or reject by this time")
    first_touch_due_at: datetime | None

    @staticmethod
    def resolve_email(obj: LeadAssignment) -> str:
        return obj.contact.email

    @staticmethod
    def resolve_first_name(obj: LeadAssignment) -> str:
        return obj.contact.first_name

    @staticmethod
    def resolve_last_name(obj: LeadAssignment) -> str:
        return obj.contact.last_name

    @staticmethod
    def resolve_title(obj: LeadAssignment) -> str:
        return obj.contact.title

    @staticmethod
    def resolve_company_id(obj: LeadAssignment) -> int | None:
        return obj.contact.company_id

    @staticmethod
    def resolve_company_name(obj: LeadAssignment) -> str | None:
        return obj.contact.company.name if obj.contact.company else None

    @staticmethod
    def resolve_lifecycle_stage(obj: LeadAssignment) -> str:
        return obj.contact.lifecycle_stage

    @staticmethod
    def resolve_score(obj: LeadAssignment) -> int:
        return obj.contact.score

    @staticmethod
    def resolve_sla_due_at(obj: LeadAssignment) -> datetime | None:
        return obj.accept_due_at


class InboxPage(Schema):
    items: list[InboxLead]
    next_cursor: str | None


class InboxParams(Schema):
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


class Decision(Schema):
    contact_id: int
    status: str = Field(..., description="accepted or rejected")
    lifecycle_stage: str
    decided_at: datetime | None
    reason: str | None = Field(None, description="the rejection reason's code")
    recycle_on: date | None = None


class RejectIn(Schema):
    reason: str = Field(..., description="a rejection reason code, e.g. not_a_fit, not_now")
    note: str = Field("", max_length=2000)
    recycle_on: date | None = Field(None, description="required by reasons such as not_now")


def _decision(assignment: LeadAssignment) -> Decision:
    stage = Contact.objects.values_list("lifecycle_stage", flat=True).get(pk=assignment.contact_id)
    return Decision(
        contact_id=assignment.contact_id,
        status=assignment.status,
        lifecycle_stage=stage,
        decided_at=assignment.decided_at,
        reason=assignment.reason.code if assignment.reason else None,
        recycle_on=assignment.recycle_on,
    )


@leads_router.get(
    "/inbox",
    response=InboxPage,
    summary="Your leads awaiting a decision, the most urgent (earliest sla_due_at) first",
)
def inbox(request: HttpRequest, params: Query[InboxParams]) -> Page:
    user = current_user(request)
    return keyset_page(
        queries.inbox(user=user),
        limit=params.limit,
        cursor=params.cursor,
        time_field="accept_due_at",
    )


@leads_router.post(
    "/{contact_id}/accept",
    response=Decision,
    summary="Accept a lead assigned to you (it becomes an SQL); 404 if it is not pending for you",
)
def accept(request: HttpRequest, contact_id: RecordId) -> Decision:
    user = current_user(request)
    assignment = services.pending_for(contact_id=contact_id, user=user)
    return _decision(services.accept_lead(contact=assignment.contact, by=user))


@leads_router.post(
    "/{contact_id}/reject",
    response=Decision,
    summary="Reject a lead assigned to you with a reason (400 naming the choices if unknown)",
)
def reject(request: HttpRequest, contact_id: RecordId, payload: RejectIn) -> Decision:
    user = current_user(request)
    assignment = services.pending_for(contact_id=contact_id, user=user)
    done = services.reject_lead(
        contact=assignment.contact,
        by=user,
        reason=payload.reason,
        note=payload.note,
        recycle_on=payload.recycle_on,
    )
    return _decision(done)
