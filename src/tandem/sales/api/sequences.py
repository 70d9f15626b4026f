"""REST routes for sequences: list, create with steps, read, enrol contacts, stop an enrolment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from tandem.accounts import permissions
from tandem.accounts.queries import current_user
from tandem.crm.models import Contact
from tandem.errors import DomainError, Forbidden
from tandem.pagination import RecordId
from tandem.sales.models import Sequence, SequenceEnrollment, StopReason
from tandem.sales.queries import sequences as queries
from tandem.sales.services import sequences as services

sequences_router = Router(tags=["sales"])


class StepIn(Schema):
    kind: str = Field(..., description="email, call, social or wait")
    wait_days: int = Field(
        0, ge=0, le=services.MAX_WAIT_DAYS, description="business days, for waits"
    )
    subject: str = ""
    instructions: str = ""


class StepOut(Schema):
    id: int
    position: int
    kind: str
    wait_days: int
    subject: str
    instructions: str


class SequenceIn(Schema):
    name: str = Field(..., max_length=160)
    description: str = ""
    steps: list[StepIn] = Field(default_factory=list, max_length=services.MAX_STEPS)


class SequenceOut(Schema):
    id: int
    name: str
    description: str
    owner: str | None
    is_active: bool
    created_at: datetime
    steps: list[StepOut]
    enrollments: dict[str, int] = Field(..., description="your visible enrolments by status")

    @staticmethod
    def resolve_owner(obj: Sequence) -> str | None:
        return obj.owner.username if obj.owner else None

    @staticmethod
    def resolve_steps(obj: Sequence) -> list[StepOut]:
        return [StepOut.model_validate(s, from_attributes=True) for s in obj.steps.all()]

    @staticmethod
    def resolve_enrollments(obj: Sequence) -> dict[str, int]:
        return dict(getattr(obj, "counts", {}))


class SequenceList(Schema):
    items: list[SequenceOut]


class EnrollmentOut(Schema):
    id: int
    sequence_id: int
    contact_id: int
    owner: str
    status: str
    stop_reason: str
    current_position: int
    next_due_at: datetime | None
    current_task_id: int | None
    enrolled_at: datetime
    ended_at: datetime | None

    @staticmethod
    def resolve_owner(obj: SequenceEnrollment) -> str:
        return obj.owner.username


class EnrollIn(Schema):
    contact_ids: list[RecordId] = Field(..., min_length=1, max_length=500)


class Skipped(Schema):
    contact_id: int
    error: str


class EnrollResult(Schema):
    enrolled: list[EnrollmentOut]
    skipped: list[Skipped]


class StopIn(Schema):
    reason: str = Field(StopReason.MANUAL, description="manual (default), replied, meeting, …")


@sequences_router.get(
    "", response=SequenceList, summary="Sequences, with your enrolments by status"
)
def list_sequences(request: HttpRequest) -> dict[str, list[Sequence]]:
    user = current_user(request)
    rows = queries.sequences_for(user)
    prefetch_related_objects(rows, "steps")  # every sequence's steps in one query
    return {"items": rows}


@sequences_router.post("", response={201: SequenceOut}, summary="Create a sequence with its steps")
def create_sequence(request: HttpRequest, payload: SequenceIn) -> Status[Sequence]:
    user = current_user(request)
    sequence = services.create_sequence(
        name=payload.name,
        description=payload.description,
        steps=[s.dict() for s in payload.steps],
        by=user,
    )
    return Status(201, queries.sequence_for(user, sequence.pk))


@sequences_router.get("/{sequence_id}", response=SequenceOut, summary="A sequence and its steps")
def get_sequence(request: HttpRequest, sequence_id: RecordId) -> Sequence:
    user = current_user(request)
    sequence = queries.sequence_for(user, sequence_id)
    sequence.counts = queries.enrollment_counts(user=user, sequence=sequence)  # type: ignore[attr-defined]
    return sequence


@sequences_router.post(
    "/{sequence_id}/enroll",
    response=EnrollResult,
    summary="Enrol contacts you may edit (refusals are listed, not raised)",
)
def enroll_contacts(
    request: HttpRequest, sequence_id: RecordId, payload: EnrollIn
) -> dict[str, list[Any]]:
    user = current_user(request)
    if not permissions.can_sell(user):
        raise Forbidden("only sales users enrol contacts")
    sequence = queries.sequence_for(user, sequence_id)
    wanted = list(dict.fromkeys(payload.contact_ids))
    contacts = {c.pk: c for c in permissions.visible(user, Contact.objects.filter(pk__in=wanted))}
    missing = [pk for pk in wanted if pk not in contacts]
    if missing:
        get_object_or_404(Contact.objects.none(), pk=missing[0])
    enrolled: list[Any] = []
    skipped: list[Any] = []
    for pk in wanted:
        try:
            enrolled.append(services.enroll(sequence=sequence, contact=contacts[pk], by=user))
        except Forbidden:
            raise
        except DomainError as exc:
            skipped.append({"contact_id": pk, "error": str(exc)})
    return {"enrolled": enrolled, "skipped": skipped}


@sequences_router.post(
    "/enrollments/{enrollment_id}/stop", response=EnrollmentOut, summary="Stop an enrolment"
)
def stop_enrollment(
    request: HttpRequest, enrollment_id: RecordId, payload: StopIn
) -> SequenceEnrollment:
    user = current_user(request)
    enrollment = queries.enrollment_for(user, enrollment_id)
    return services.stop_enrollment(enrollment=enrollment, reason=payload.reason, by=user)
