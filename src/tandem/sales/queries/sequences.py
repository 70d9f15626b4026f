"""Reads for sequences: the list with enrolment counts, one sequence, its enrolments."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.sales.models import EnrollmentStatus, Sequence, SequenceEnrollment

ENROLLMENT_STATUSES = tuple(EnrollmentStatus.values)


def sequences_for(user: User) -> list[Sequence]:
    """Every sequence (a shared playbook) with `counts`: the user's visible enrolments by status."""
    rows: list[Sequence] = list(
        Sequence.objects.select_related("owner").annotate(step_count=Count("steps"))
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ENROLLMENT_STATUSES, 0))
    for row in (
        permissions.visible(user, SequenceEnrollment.objects.all())
        .values("sequence_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["sequence_id"]][row["status"]] = row["n"]
    for sequence in rows:
        sequence.counts = counts[sequence.pk]  # type: ignore[attr-defined]
    return rows


def enrollment_counts(*, user: User, sequence: Sequence) -> dict[str, int]:
    """The user's visible enrolments of one sequence by status."""
    counts = dict.fromkeys(ENROLLMENT_STATUSES, 0)
    for row in (
        permissions.visible(user, SequenceEnrollment.objects.filter(sequence=sequence))
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["status"]] = row["n"]
    return counts


def sequence_for(user: User, pk: int) -> Sequence:
    """One sequence with its steps (every signed-in user may read sequences), or Http404."""
    sequence = (
        Sequence.objects.select_related("owner").prefetch_related("steps").filter(pk=pk).first()
    )
    if sequence is None or not user.is_authenticated:
        raise Http404("no such sequence")
    return sequence


def enrollments_of(
    *, user: User, sequence: Sequence, status: str = "", limit: int = 200
) -> list[SequenceEnrollment]:
    """The sequence's enrolments the user may see, newest first."""
    qs: QuerySet[SequenceEnrollment] = permissions.visible(
        user, SequenceEnrollment.objects.filter(sequence=sequence)
    )
    if status in ENROLLMENT_STATUSES:
        qs = qs.filter(status=status)
    return list(qs.select_related("contact", "owner").order_by("-enrolled_at", "-id")[:limit])


def enrollment_for(user: User, pk: int) -> SequenceEnrollment:
    """One enrolment the user may see, or Http404."""
    enrollment = (
        permissions.visible(user, SequenceEnrollment.objects.all())
        .select_related("sequence", "contact", "owner")
        .filter(pk=pk)
        .first()
    )
    if enrollment is None:
        raise Http404("no such enrolment")
    return enrollment


def step_summary(sequence: Sequence) -> list[dict[str, Any]]:
    """The steps in words, for pages and the API."""
    return [
        {
            "id": step.pk,
            "position": step.position,
            "kind": step.kind,
            "label": step.get_kind_display(),
            "wait_days": step.wait_days,
            "subject": step.subject,
            "instructions": step.instructions,
        }
        for step in sequence.steps.all()
    ]
