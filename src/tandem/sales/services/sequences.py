"""Sequences (outbound cadences): steps, enrolments, due steps turned into tasks, stop rules.

An active enrolment is in one of two states:
- waiting: `current_task_id` is empty and `next_due_at` is when the step after
  `current_position` falls due (advance_due turns it into a task, within the daily limit);
- working: `current_task_id` is the crm task of the step at `current_position` and
  `next_due_at` is empty; completing that task moves on (wait steps are added at once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm import services as crm_services
from tandem.crm.models import (
    STAGE_ORDER,
    Activity,
    ActivityKind,
    Contact,
    LifecycleStage,
    SubscriptionStatus,
    TimelineEvent,
)
from tandem.crm.normalise import clean_text
from tandem.errors import Conflict, Forbidden, InvalidInput
from tandem.marketing.models import ContentAsset
from tandem.sales.models import (
    EnrollmentStatus,
    Sequence,
    SequenceEnrollment,
    SequenceSettings,
    SequenceStep,
    SequenceStepKind,
    StopReason,
)
from tandem.sales.periods import day_bounds

MAX_WAIT_DAYS = 60
MAX_STEPS = 30
ADVANCE_BATCH = 500
# The timeline row written beside every sequence task: the contact's history shows the step,
# and rows per actor and day give each rep's daily count (the timeline_type_at index).
STEP_EVENT = "sequence_task_created"
REFUSED_SUBSCRIPTIONS = {SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.COMPLAINED}
# Timeline types that can stop or advance an enrolment; every other type costs no query.
REACTING_TYPES = {
    "activity_email",
    "email_replied",
    "activity_meeting",
    "meeting_booked",
    "lifecycle_stage_changed",
    "deal_created",
    "unsubscribed",
    "subscription_changed",
    "task_completed",
}


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` working days (Saturday and Sunday do not count)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def sequence_settings() -> SequenceSettings:
    """The one settings row (created with its defaults on first use)."""
    row, _ = SequenceSettings.objects.get_or_create(pk=1)
    return row


# ---------------------------------------------------------------- sequences and steps


def can_change(user: User, sequence: Sequence) -> bool:
    """Its owner (a seller) or a sales manager or admin changes a sequence."""
    return permissions.can_manage_sales(user) or (
        permissions.can_sell(user) and sequence.owner_id == user.pk
    )


def _clean_step(values: dict[str, Any]) -> dict[str, Any]:
    kind = values.get("kind") or ""
    if kind not in SequenceStepKind.values:
        raise InvalidInput(
            f"kind must be one of {', '.join(SequenceStepKind.values)}", field="kind"
        )
    out: dict[str, Any] = {
        "kind": kind,
        "subject": clean_text(values.get("subject") or "", field="subject", max_length=255),
        "instructions": clean_text(
            values.get("instructions") or "", field="instructions", max_length=5000
        ),
    }
    raw_wait = values.get("wait_days") or 0
    try:
        wait = int(raw_wait)
    except (TypeError, ValueError):
        raise InvalidInput("wait_days must be a whole number", field="wait_days") from None
    if kind == SequenceStepKind.WAIT:
        if not 1 <= wait <= MAX_WAIT_DAYS:
            raise InvalidInput(
                f"wait_days must be between 1 and {MAX_WAIT_DAYS} business days", field="wait_days"
            )
        out["wait_days"] = wait
    else:
        out["wait_days"] = 0
    asset = values.get("asset")
    if asset is None and values.get("asset_id"):
        asset = ContentAsset.objects.filter(pk=values["asset_id"]).first()
        if asset is None:
            raise InvalidInput(f"no content asset {values['asset_id']}", field="asset_id")
    out["asset"] = asset
    return out


@transaction.atomic
def create_sequence(
    *, name: str, by: User, description: str = "", steps: Iterable[dict[str, Any]] = ()
) -> Sequence:
    """Create a sequence owned by `by`, with its steps in the order given."""
    if not permissions.can_sell(by):
        raise Forbidden("only sales users create sequences")
    name = clean_text(name, field="name", max_length=160).strip()
    if not name:
        raise InvalidInput("name is required", field="name")
    if Sequence.objects.filter(name__iexact=name).exists():
        raise Conflict(f"a sequence named {name} exists")
    cleaned = [_clean_step(step) for step in steps]
    if len(cleaned) > MAX_STEPS:
        raise InvalidInput(f"a sequence has at most {MAX_STEPS} steps", field="steps")
    sequence = Sequence.objects.create(
        name=name,
        description=clean_text(description, field="description", max_length=5000),
        owner=by,
        created_at=timezone.now(),
    )
    SequenceStep.objects.bulk_create(
        SequenceStep(sequence=sequence, position=i, **values)
        for i, values in enumerate(cleaned, start=1)
    )
    return sequence


@transaction.atomic
def add_step(
    *,
    sequence: Sequence,
    kind: str,
    by: User,
    wait_days: int = 0,
    subject: str = "",
    instructions: str = "",
    asset: ContentAsset | None = None,
) -> SequenceStep:
    """Append a step to a sequence (its owner or a sales manager)."""
    if not can_change(by, sequence):
        raise Forbidden("you may not change this sequence")
    values = _clean_step(
        {
            "kind": kind,
            "wait_days": wait_days,
            "subject": subject,
            "instructions": instructions,
            "asset": asset,
        }
    )
    Sequence.objects.select_for_update().filter(pk=sequence.pk).first()
    last = sequence.steps.aggregate(m=Max("position"))["m"] or 0
    if last >= MAX_STEPS:
        raise InvalidInput(f"a sequence has at most {MAX_STEPS} steps", field="steps")
    return SequenceStep.objects.create(sequence=sequence, position=last + 1, **values)


@transaction.atomic
def update_step(*, step: SequenceStep, changes: dict[str, Any], by: User) -> SequenceStep:
    """Change a step's kind, wait, subject, instructions or asset."""
    if not can_change(by, step.sequence):
        raise Forbidden("you may not change this sequence")
    merged = {
        "kind": step.kind,
        "wait_days": step.wait_days,
        "subject": step.subject,
        "instructions": step.instructions,
        "asset": step.asset,
        **changes,
    }
    values = _clean_step(merged)
    for field, value in values.items():
        setattr(step, field, value)
    step.save(update_fields=list(values))
    return step


@transaction.atomic
def remove_step(*, step: SequenceStep, by: User) -> None:
    """Delete a step; the later ones move up (enrolments past it keep their place)."""
    sequence = step.sequence
    if not can_change(by, sequence):
        raise Forbidden("you may not change this sequence")
    Sequence.objects.select_for_update().filter(pk=sequence.pk).first()
    position = step.position
    step.delete()
    later = list(sequence.steps.filter(position__gt=position).order_by("position"))
    # Two passes so that the unique (sequence, position) holds after every statement.
    for s in later:
        SequenceStep.objects.filter(pk=s.pk).update(position=s.position + 10_000)
    for s in later:
        SequenceStep.objects.filter(pk=s.pk).update(position=s.position - 1)
    SequenceEnrollment.objects.filter(sequence=sequence, current_position__gte=position).update(
        # The enrolment keeps pointing at the step it was at (or just before the removed one).
        current_position=Greatest(F("current_position") - 1, 0)
    )


@transaction.atomic
def set_active(*, sequence: Sequence, active: bool, by: User) -> Sequence:
    """Pause (no new enrolments) or resume a sequence."""
    if not can_change(by, sequence):
        raise Forbidden("you may not change this sequence")
    sequence.is_active = active
    sequence.save(update_fields=["is_active"])
    return sequence


# ---------------------------------------------------------------- enrolments


def refusal(contact: Contact) -> str | None:
    """Why this contact cannot be enrolled, or None."""
    if contact.subscription_status in REFUSED_SUBSCRIPTIONS:
        return f"{contact.email} has unsubscribed"
    stage = contact.lifecycle_stage
    if stage in STAGE_ORDER and STAGE_ORDER[stage] >= STAGE_ORDER[LifecycleStage.OPPORTUNITY]:
        return f"{contact.email} is already {LifecycleStage(stage).label.lower()}"
    return None


@transaction.atomic
def enroll(
    *, sequence: Sequence, contact: Contact, by: User, at: datetime | None = None
) -> SequenceEnrollment:
    """Enrol a contact I may edit; the first step is due at once and worked by me."""
    if not permissions.can_sell(by):
        raise Forbidden("only sales users enrol contacts")
    if not permissions.can_edit(by, contact):
        raise Forbidden(f"you may not enrol {contact.email}")
    if not sequence.is_active:
        raise InvalidInput("this sequence is paused", field="sequence")
    if not sequence.steps.exists():
        raise InvalidInput("this sequence has no steps", field="sequence")
    contact = Contact.objects.get(pk=contact.pk)
    problem = refusal(contact)
    if problem:
        raise InvalidInput(problem, field="contact")
    existing = SequenceEnrollment.objects.filter(
        sequence=sequence, contact=contact, status=EnrollmentStatus.ACTIVE
    ).first()
    if existing is not None:
        raise Conflict(f"{contact.email} is already in {sequence.name}", existing_id=existing.pk)
    when = at or timezone.now()
    try:
        with transaction.atomic():
            return SequenceEnrollment.objects.create(
                sequence=sequence,
                contact=contact,
                owner=by,
                team=by.team if by.team_id else contact.team,
                status=EnrollmentStatus.ACTIVE,
                current_position=0,
                next_due_at=when,
                enrolled_at=when,
            )
    except IntegrityError:
        raise Conflict(f"{contact.email} is already in {sequence.name}") from None


@transaction.atomic
def stop_enrollment(
    *,
    enrollment: SequenceEnrollment,
    reason: str,
    by: User | None = None,
    at: datetime | None = None,
) -> SequenceEnrollment:
    """Stop an active enrolment with a reason (a stopped or finished one is left as it is)."""
    if reason not in StopReason.values:
        raise InvalidInput(f"reason must be one of {', '.join(StopReason.values)}", field="reason")
    if by is not None and not (
        permissions.can_sell(by)
        and permissions.editable(by, SequenceEnrollment.objects.filter(pk=enrollment.pk)).exists()
    ):
        raise Forbidden("you may not stop this enrolment")
    SequenceEnrollment.objects.filter(pk=enrollment.pk, status=EnrollmentStatus.ACTIVE).update(
        status=EnrollmentStatus.STOPPED,
        stop_reason=reason,
        ended_at=at or timezone.now(),
        next_due_at=None,
    )
    enrollment.refresh_from_db()
    return enrollment


# ---------------------------------------------------------------- stepping


def _steps_by_sequence(sequence_ids: Iterable[int]) -> dict[int, list[SequenceStep]]:
    steps: dict[int, list[SequenceStep]] = defaultdict(list)
    for step in SequenceStep.objects.filter(sequence_id__in=set(sequence_ids)).order_by(
        "sequence_id", "position"
    ):
        steps[step.sequence_id].append(step)
    return steps


def _walk_waits(
    enrollment: SequenceEnrollment, steps: Seq[SequenceStep], start: datetime
) -> SequenceStep | None:
    """Pass the wait steps after the current one (moving next_due_at); return the next task step.

    With no step left the enrolment is finished. Fields are set, not saved.
    """
    due = start
    for step in steps:
        if step.position <= enrollment.current_position:
            continue
        if step.kind == SequenceStepKind.WAIT:
            due = add_business_days(due, step.wait_days)
            enrollment.current_position = step.position
            continue
        enrollment.next_due_at = due
        return step
    enrollment.status = EnrollmentStatus.FINISHED
    enrollment.ended_at = due
    enrollment.next_due_at = None
    return None


def _create_step_task(
    enrollment: SequenceEnrollment, step: SequenceStep, *, now: datetime
) -> Activity:
    assert enrollment.next_due_at is not None
    label = SequenceStepKind(step.kind).label
    subject = step.subject or label
    task = crm_services.log_activity(
        kind=ActivityKind.TASK,
        by=enrollment.owner,
        contact=enrollment.contact,
        subject=f"{subject} ({enrollment.sequence.name}, step {step.position})"[:255],
        body=step.instructions,
        occurred_at=now,
        due_at=enrollment.next_due_at,
    )
    crm_services.record_event(
        type=STEP_EVENT,
        idempotency_key=f"sequence_task:{task.pk}",
        occurred_at=now,
        contact=enrollment.contact,
        actor=enrollment.owner,
        actor_label=enrollment.sequence.name,
        # Plain values only: the contact's timeline shows them as "sequence: …, step: …".
        properties={"sequence": enrollment.sequence.name, "step": step.position, "task": subject},
    )
    return task


def tasks_created_today(*, now: datetime) -> dict[int, int]:
    """Sequence tasks given to each rep on `now`'s calendar day (rep id → count)."""
    start, end = day_bounds(now)
    rows = (
        TimelineEvent.objects.filter(type=STEP_EVENT, occurred_at__gte=start, occurred_at__lt=end)
        .values("actor_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["actor_id"]: row["n"] for row in rows if row["actor_id"] is not None}


def _advance_one(
    pk: int,
    *,
    now: datetime,
    steps: dict[int, list[SequenceStep]],
    counts: dict[int, int],
    limit: int,
) -> bool:
    """Run one due enrolment (locked, re-checked); True when it created a task."""
    with transaction.atomic():
        enrollment = (
            SequenceEnrollment.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("sequence", "contact", "owner")
            .filter(
                pk=pk,
                status=EnrollmentStatus.ACTIVE,
                current_task_id__isnull=True,
                next_due_at__lte=now,
            )
            .first()
        )
        if enrollment is None or counts.get(enrollment.owner_id, 0) >= limit:
            return False
        assert enrollment.next_due_at is not None
        step = _walk_waits(
            enrollment, steps.get(enrollment.sequence_id, []), enrollment.next_due_at
        )
        fields = ["status", "ended_at", "next_due_at", "current_position"]
        created = False
        if (
            step is not None
            and enrollment.next_due_at is not None
            and enrollment.next_due_at <= now
        ):
            task = _create_step_task(enrollment, step, now=now)
            enrollment.current_position = step.position
            enrollment.current_task_id = task.pk
            enrollment.next_due_at = None
            fields.append("current_task_id")
            counts[enrollment.owner_id] = counts.get(enrollment.owner_id, 0) + 1
            created = True
        enrollment.save(update_fields=fields)
        return created


def advance_due(*, now: datetime) -> int:
    """Turn due steps into tasks for each enrolment's owner, at most the daily limit per rep.

    Intuition: every due, idle enrolment is locked and re-checked one at a time, so an
    overlapping or redelivered run finds nothing left to do; a rep at the limit is skipped
    and their steps stay due for the next run (the next day, once the count resets).
    """
    limit = sequence_settings().daily_limit_per_rep
    counts = tasks_created_today(now=now)
    created = 0
    after = Q()
    while True:
        full = [user_id for user_id, n in counts.items() if n >= limit]
        batch = list(
            SequenceEnrollment.objects.filter(
                status=EnrollmentStatus.ACTIVE,
                current_task_id__isnull=True,
                next_due_at__lte=now,
            )
            .exclude(owner_id__in=full)
            .filter(after)
            .order_by("next_due_at", "id")
            .values_list("id", "sequence_id", "next_due_at")[:ADVANCE_BATCH]
        )
        if not batch:
            return created
        steps = _steps_by_sequence(row[1] for row in batch)
        for pk, _seq, _due in batch:
            if _advance_one(pk, now=now, steps=steps, counts=counts, limit=limit):
                created += 1
        last_pk, last_due = batch[-1][0], batch[-1][2]
        after = Q(next_due_at__gt=last_due) | Q(next_due_at=last_due, id__gt=last_pk)
        if len(batch) < ADVANCE_BATCH:
            return created


# ---------------------------------------------------------------- reacting to the timeline


def _stop_reason(type: str, properties: dict[str, Any]) -> str | None:
    if type == "activity_email":
        return StopReason.REPLIED if properties.get("direction") == "inbound" else None
    if type == "email_replied":
        return StopReason.REPLIED
    if type in ("activity_meeting", "meeting_booked"):
        return StopReason.MEETING
    if type == "deal_created":
        return StopReason.OPPORTUNITY
    if type == "lifecycle_stage_changed":
        to = properties.get("to", "")
        opportunity = STAGE_ORDER[LifecycleStage.OPPORTUNITY]
        return StopReason.OPPORTUNITY if STAGE_ORDER.get(to, -1) >= opportunity else None
    if type == "unsubscribed":
        return StopReason.UNSUBSCRIBED
    if type == "subscription_changed":
        to = properties.get("to") or properties.get("status")
        return StopReason.UNSUBSCRIBED if to in REFUSED_SUBSCRIPTIONS else None
    return None


def react_to_timeline(*, event_id: int, contact_id: int, type: str) -> None:
    """Stop a contact's active enrolments on a reply, meeting, opportunity or unsubscribe;
    advance the one whose current task was completed.

    Runs for every timeline row: an unrelated type costs nothing, and a contact with no
    active enrolment costs one indexed query (enrollment_contact).
    """
    if type not in REACTING_TYPES:
        return
    active = list(
        SequenceEnrollment.objects.filter(
            contact_id=contact_id, status=EnrollmentStatus.ACTIVE
        ).values_list("id", "current_task_id")
    )
    if not active:
        return
    event = TimelineEvent.objects.filter(pk=event_id).values("properties", "occurred_at").first()
    if event is None:
        return
    properties = event["properties"] or {}
    at = event["occurred_at"]
    if type == "task_completed":
        activity_id = properties.get("activity_id")
        for pk, task_id in active:
            if task_id is not None and task_id == activity_id:
                _advance_after_task(pk, task_id=task_id, at=at)
        return
    reason = _stop_reason(type, properties)
    if reason is None:
        return
    with transaction.atomic():
        SequenceEnrollment.objects.filter(
            pk__in=[pk for pk, _ in active], status=EnrollmentStatus.ACTIVE
        ).update(status=EnrollmentStatus.STOPPED, stop_reason=reason, ended_at=at, next_due_at=None)


def _advance_after_task(pk: int, *, task_id: int, at: datetime) -> None:
    """The current step's task is done: pass any waits; the next task step falls due."""
    with transaction.atomic():
        enrollment = (
            SequenceEnrollment.objects.select_for_update()
            .filter(pk=pk, status=EnrollmentStatus.ACTIVE, current_task_id=task_id)
            .first()
        )
        if enrollment is None:  # redelivered, or stopped meanwhile
            return
        enrollment.current_task_id = None
        _walk_waits(
            enrollment, _steps_by_sequence([enrollment.sequence_id])[enrollment.sequence_id], at
        )
        enrollment.save(
            update_fields=[
                "current_task_id",
                "current_position",
                "next_due_at",
                "status",
                "ended_at",
            ]
        )
