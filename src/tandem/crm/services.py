"""Writes for the CRM core; each a keyword-only function in one transaction."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any, BinaryIO, cast

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone

from tandem import bus
from tandem.accounts.models import User
from tandem.crm.models import (
    STAGE_ORDER,
    SUBSCRIPTION_STRICTNESS,
    Activity,
    ActivityDirection,
    ActivityKind,
    CallOutcome,
    Company,
    Contact,
    ContactMerge,
    ImportJob,
    ImportStatus,
    LeadStatus,
    LifecycleChange,
    LifecycleStage,
    Source,
    SubscriptionStatus,
    TimelineEvent,
    became_field,
)
from tandem.crm.normalise import (
    MAX_EMPLOYEES,
    check_characters,
    clean_choice,
    clean_country,
    clean_currency,
    clean_datetime,
    clean_decimal,
    clean_int,
    clean_text,
    normalise_domain,
    normalise_email,
    parse_stage,
)
from tandem.errors import DomainError, InvalidInput, refuse_taken

log = logging.getLogger(__name__)

CUSTOM_FIELDS_MAX_CHARS = 65_536
CONTACT_TEXT_FIELDS = {"first_name": 120, "last_name": 120, "title": 160, "phone": 40}
CONTACT_EDITABLE = {
    *CONTACT_TEXT_FIELDS,
    "email",
    "company",
    "owner",
    "lead_status",
    "subscription_status",
    "original_source",
    "original_source_detail",
    "custom_fields",
    "persona_id",
}
# In display order: the importer lists them in this order too.
COMPANY_EDITABLE = (
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "currency",
    "country",
    "region",
    "owner",
)


def is_backward(from_stage: str, to_stage: str) -> bool:
    """A move against the lifecycle's order, or into or out of Disqualified."""
    if from_stage == to_stage or not from_stage:
        return False
    if LifecycleStage.DISQUALIFIED in (from_stage, to_stage):
        return True
    return STAGE_ORDER[to_stage] < STAGE_ORDER[from_stage]


def clean_contact_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise contact field values (keys must be editable fields)."""
    unknown = set(values) - CONTACT_EDITABLE - {"lifecycle_stage"}
    if unknown:
        raise InvalidInput(f"unknown contact field(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field == "email":
            out[field] = normalise_email(value)
        elif field in CONTACT_TEXT_FIELDS:
            out[field] = clean_text(value, field=field, max_length=CONTACT_TEXT_FIELDS[field])
        elif field == "original_source_detail":
            out[field] = clean_text(value, field=field, max_length=255)
        elif field == "lead_status":
            out[field] = (
                ""
                if not value
                else clean_choice(value, field=field, choices=list(LeadStatus.values))
            )
        elif field == "subscription_status":
            out[field] = clean_choice(value, field=field, choices=list(SubscriptionStatus.values))
        elif field == "original_source":
            out[field] = clean_choice(value, field=field, choices=list(Source.values))
        elif field == "lifecycle_stage":
            out[field] = parse_stage(value)
        elif field == "custom_fields":
            if not isinstance(value, dict):
                raise InvalidInput("custom_fields must be an object", field=field)
            try:
                text = json.dumps(value, default=str, ensure_ascii=False)
            except (RecursionError, ValueError):
                raise InvalidInput("custom_fields is nested too deeply", field=field) from None
            # PostgreSQL's jsonb refuses NUL characters (which JSON escapes) and lone surrogates;
            # say so instead of failing the write.
            check_characters(text.replace("\\u0000", "\x00"), field=field)
            # Every contact read carries these: a blob would slow every list and export.
            if len(text) > CUSTOM_FIELDS_MAX_CHARS:
                raise InvalidInput(
                    f"custom_fields is longer than {CUSTOM_FIELDS_MAX_CHARS:,} characters as JSON",
                    field=field,
                )
            out[field] = value
        else:
            out[field] = value
    return out


def _team_for(owner: User | None, fallback: Any) -> Any:
    return owner.team if owner is not None and owner.team_id else fallback


def record_event(
    *,
    type: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    contact: Contact | None = None,
    company: Company | None = None,
    actor: User | None = None,
    actor_label: str = "",
    campaign_id: int | None = None,
    properties: dict[str, Any] | None = None,
) -> tuple[TimelineEvent, bool]:
    """Append an event to the timeline once per idempotency key; returns (event, created)."""
    occurred = occurred_at or timezone.now()
    if company is None and contact is not None:
        company = contact.company
    try:
        with transaction.atomic():
            event = TimelineEvent.objects.create(
                type=type,
                occurred_at=occurred,
                actor=actor,
                actor_label=actor_label,
                contact=contact,
                company=company,
                campaign_id=campaign_id,
                properties=properties or {},
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        existing = TimelineEvent.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    if contact is not None:
        Contact.objects.filter(pk=contact.pk).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=occurred)
        ).update(last_activity_at=occurred)
    bus.publish(
        bus.TimelineEventRecorded(
            event_id=event.pk, contact_id=contact.pk if contact else None, type=type
        )
    )
    return event, True


def _refuse_taken(
    model: type[Company] | type[Contact], *, field: str, value: str, exclude_pk: int | None = None
) -> None:
    """Raise Conflict naming the record that already holds this unique email or domain."""
    noun = model._meta.verbose_name
    refuse_taken(
        model._default_manager.filter(**{field: value}).only("pk"),
        message=lambda _: f"a {noun} with {field} {value} exists",
        exclude_pk=exclude_pk,
    )


@contextmanager
def _conflict_if_taken(
    model: type[Company] | type[Contact],
    *,
    field: str,
    value: str | None,
    exclude_pk: int | None = None,
) -> Iterator[None]:
    """Write in a savepoint; a concurrent writer that took the value between check and write is a 409."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        if value:
            _refuse_taken(model, field=field, value=value, exclude_pk=exclude_pk)
        raise


@transaction.atomic
def create_company(
    *,
    name: str,
    domain: str | None = None,
    industry: str = "",
    employees: Any = None,
    annual_revenue: Any = None,
    currency: str = "USD",
    country: str = "",
    region: str = "",
    owner: User | None = None,
    team: Any = None,
    by: User | None = None,
    created_at: datetime | None = None,
) -> Company:
    """Create a company; a domain already on file is a conflict."""
    clean_domain = normalise_domain(domain)
    if clean_domain:
        _refuse_taken(Company, field="domain", value=clean_domain)
    values = {
        "name": clean_text(name, field="name", max_length=255, required=True),
        "domain": clean_domain,
        "industry": clean_text(industry, field="industry", max_length=120),
        "employees": clean_int(employees, field="employees", maximum=MAX_EMPLOYEES),
        "annual_revenue": clean_decimal(annual_revenue, field="annual_revenue"),
        "currency": clean_currency(currency),
        "country": clean_country(country),
        "region": clean_text(region, field="region", max_length=60),
        "owner": owner,
        "team": _team_for(owner, team),
        "created_at": created_at or timezone.now(),
    }
    with _conflict_if_taken(Company, field="domain", value=clean_domain):
        company = Company.objects.create(**values)
    record_event(
        type="company_created",
        idempotency_key=f"company_created:{company.pk}",
        company=company,
        actor=by,
        occurred_at=company.created_at,
    )
    return company


@transaction.atomic
def update_company(*, company: Company, changes: dict[str, Any], by: User | None = None) -> Company:
    """Change a company's fields (only those in COMPANY_EDITABLE)."""
    unknown = set(changes).difference(COMPANY_EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown company field(s): {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        if field == "name":
            company.name = clean_text(value, field="name", max_length=255, required=True)
        elif field == "domain":
            domain = normalise_domain(value)
            if domain:
                _refuse_taken(Company, field="domain", value=domain, exclude_pk=company.pk)
            company.domain = domain
        elif field == "employees":
            company.employees = clean_int(value, field="employees", maximum=MAX_EMPLOYEES)
        elif field == "annual_revenue":
            company.annual_revenue = clean_decimal(value, field="annual_revenue")
        elif field == "currency":
            company.currency = clean_currency(value)
        elif field == "country":
            company.country = clean_country(value)
        elif field == "owner":
            company.owner = value
            company.team = _team_for(value, company.team)
        else:
            # industry or region, each checked against its own column's length.
            max_length = {"industry": 120, "region": 60}[field]
            setattr(company, field, clean_text(value, field=field, max_length=max_length))
    changed = [*changes, *(["team"] if "owner" in changes else [])]
    with _conflict_if_taken(Company, field="domain", value=company.domain, exclude_pk=company.pk):
        company.save(update_fields=[*changed, "updated_at"])
    return company


@transaction.atomic
def delete_company(*, company: Company, by: User | None = None) -> None:
    """Delete a company; its contacts stay, unlinked."""
    company.delete()


@transaction.atomic
def create_contact(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    phone: str = "",
    company: Company | None = None,
    lifecycle_stage: str = LifecycleStage.SUBSCRIBER,
    lead_status: str = "",
    owner: User | None = None,
    team: Any = None,
    original_source: str = Source.OTHER,
    original_source_detail: str = "",
    subscription_status: str = SubscriptionStatus.NOT_SUBSCRIBED,
    custom_fields: dict[str, Any] | None = None,
    persona_id: int | None = None,
    by: User | None = None,
    rule: str = "",
    created_at: datetime | None = None,
) -> Contact:
    """Create a contact; an email already on file (after normalising) is a conflict."""
    values = clean_contact_values(
        {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "title": title,
            "phone": phone,
            "lifecycle_stage": lifecycle_stage,
            "lead_status": lead_status,
            "original_source": original_source,
            "original_source_detail": original_source_detail,
            "subscription_status": subscription_status,
            "custom_fields": custom_fields or {},
        }
    )
    _refuse_taken(Contact, field="email", value=values["email"])
    now = created_at or timezone.now()
    with _conflict_if_taken(Contact, field="email", value=values["email"]):
        contact = Contact.objects.create(
            **values,
            company=company,
            owner=owner,
            team=_team_for(owner, team),
            persona_id=persona_id,
            created_at=now,
            **_first_entry(values["lifecycle_stage"], now),
        )
    LifecycleChange.objects.create(
        contact=contact,
        from_stage="",
        to_stage=contact.lifecycle_stage,
        changed_at=now,
        changed_by=by,
        rule=rule,
        reason="created",
    )
    record_event(
        type="contact_created",
        idempotency_key=f"contact_created:{contact.pk}",
        contact=contact,
        actor=by,
        actor_label=rule,
        occurred_at=now,
        properties={"source": contact.original_source, "stage": contact.lifecycle_stage},
    )
    bus.publish(bus.ContactCreated(contact_id=contact.pk))
    return contact


@transaction.atomic
def change_lifecycle_stage(
    *,
    contact: Contact,
    to_stage: str,
    by: User | None = None,
    rule: str = "",
    reason: str = "",
    at: datetime | None = None,
) -> LifecycleChange | None:
    """Move a contact to a stage, writing history; a backward move needs a reason."""
    to_stage = parse_stage(to_stage)
    reason = clean_text(reason, field="reason", max_length=2000)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    from_stage = contact.lifecycle_stage
    if from_stage == to_stage:
        return None
    if is_backward(from_stage, to_stage) and not reason:
        raise InvalidInput(
            f"moving from {from_stage} back to {to_stage} needs a reason", field="reason"
        )
    when = at or timezone.now()
    contact.lifecycle_stage = to_stage
    entry = _first_entry(to_stage, when)
    for field, value in entry.items():
        if getattr(contact, field) is None or getattr(contact, field) > value:
            setattr(contact, field, value)
    contact.save(update_fields=["lifecycle_stage", "updated_at", *entry])
    change = LifecycleChange.objects.create(
        contact=contact,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_at=when,
        changed_by=by,
        rule=rule,
        reason=reason,
    )
    record_event(
        type="lifecycle_stage_changed",
        idempotency_key=f"lifecycle:{change.pk}",
        contact=contact,
        actor=by,
        actor_label=rule,
        occurred_at=when,
        properties={"from": from_stage, "to": to_stage, "reason": reason},
    )
    bus.publish(
        bus.LifecycleStageChanged(contact_id=contact.pk, from_stage=from_stage, to_stage=to_stage)
    )
    return change


def _first_entry(stage: str, when: datetime) -> dict[str, datetime]:
    """The "became a … date" column a stage entry sets (none for Disqualified)."""
    return {became_field(stage): when} if stage in STAGE_ORDER else {}


def refresh_stage_dates(*, contact_ids: list[int] | None = None) -> int:
    """Recompute the "became a … date" columns from the stage history (after bulk writes)."""
    contacts = (
        Contact.objects.all() if contact_ids is None else Contact.objects.filter(pk__in=contact_ids)
    )
    history = LifecycleChange.objects.filter(contact_id=OuterRef("pk"))
    first = {
        became_field(stage): Subquery(
            history.filter(to_stage=stage)
            .order_by()
            .values("contact_id")
            .annotate(first=Min("changed_at"))
            .values("first")[:1]
        )
        for stage in STAGE_ORDER
    }
    return contacts.update(**first)


@transaction.atomic
def update_contact(
    *, contact: Contact, changes: dict[str, Any], by: User | None = None, reason: str = ""
) -> Contact:
    """Change a contact's fields; a lifecycle change goes through the stage history."""
    stage = changes.get("lifecycle_stage")
    values = clean_contact_values({k: v for k, v in changes.items() if k != "lifecycle_stage"})
    if "email" in values:
        _refuse_taken(Contact, field="email", value=values["email"], exclude_pk=contact.pk)
    for field, value in values.items():
        setattr(contact, field, value)
    if "owner" in values:
        contact.team = _team_for(values["owner"], contact.team)
    # Only the changed columns: a full save from a stale instance would silently revert the
    # stage (bypassing its history) or last_activity_at written since the contact was loaded.
    changed = [*values, *(["team"] if "owner" in values else [])]
    with _conflict_if_taken(
        Contact, field="email", value=values.get("email"), exclude_pk=contact.pk
    ):
        contact.save(update_fields=[*changed, "updated_at"])
    if stage is not None:
        change_lifecycle_stage(contact=contact, to_stage=stage, by=by, reason=reason)
        contact.refresh_from_db()
    return contact


@transaction.atomic
def delete_contact(*, contact: Contact, by: User | None = None) -> None:
    """Delete a contact with its timeline and history (the right to erasure)."""
    contact.delete()


@transaction.atomic
def log_activity(
    *,
    kind: str,
    by: User | None,
    contact: Contact | None = None,
    company: Company | None = None,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    call_outcome: str = "",
    duration_seconds: Any = None,
    due_at: datetime | None = None,
    remind_at: datetime | None = None,
    direction: str = "",
    deal_id: int | None = None,
) -> Activity:
    """Log a note, call, meeting, task or email, and put it on the timeline."""
    kind = clean_choice(kind, field="kind", choices=list(ActivityKind.values))
    occurred_at = clean_datetime(occurred_at, field="occurred_at")
    due_at = clean_datetime(due_at, field="due_at")
    if contact is None and company is None:
        raise InvalidInput("an activity needs a contact or a company")
    if call_outcome and kind != ActivityKind.CALL:
        raise InvalidInput("call_outcome is only for calls", field="call_outcome")
    if kind == ActivityKind.TASK and due_at is None:
        raise InvalidInput("a task needs a due date", field="due_at")
    remind_at = clean_datetime(remind_at, field="remind_at")
    if remind_at is not None and kind != ActivityKind.TASK:
        raise InvalidInput("reminders are for tasks", field="remind_at")
    if remind_at is not None and due_at is not None and remind_at > due_at:
        raise InvalidInput("remind_at must not be after due_at", field="remind_at")
    if direction:
        direction = clean_choice(
            direction, field="direction", choices=list(ActivityDirection.values)
        )
        if kind != ActivityKind.EMAIL:
            raise InvalidInput("direction is only for emails", field="direction")
    outcome = (
        clean_choice(call_outcome, field="call_outcome", choices=list(CallOutcome.values))
        if call_outcome
        else ""
    )
    # A logger without a team (admin, a rule) leaves the activity in the record's team, so that
    # the team which sees the record also sees and completes it.
    record = contact if contact is not None else company
    team = by.team if by is not None and by.team_id else getattr(record, "team", None)
    activity = Activity.objects.create(
        kind=kind,
        subject=clean_text(subject, field="subject", max_length=255),
        body=clean_text(body, field="body", max_length=20000),
        contact=contact,
        company=company or (contact.company if contact else None),
        owner=by,
        team=team,
        occurred_at=occurred_at or timezone.now(),
        call_outcome=outcome,
        duration_seconds=clean_int(duration_seconds, field="duration_seconds", maximum=86400),
        due_at=due_at,
        remind_at=remind_at,
        direction=direction,
        deal_id=deal_id,
    )
    record_event(
        type=f"activity_{kind}",
        idempotency_key=f"activity:{activity.pk}",
        contact=contact,
        company=activity.company,
        actor=by,
        occurred_at=activity.occurred_at,
        properties={
            "activity_id": activity.pk,
            "subject": activity.subject,
            "outcome": outcome,
            "duration_seconds": activity.duration_seconds,
            # Only when set: sequences read the direction (a reply), the deal page the deal.
            **({"direction": direction} if direction else {}),
            **({"deal_id": deal_id} if deal_id else {}),
        },
    )
    return activity


@transaction.atomic
def complete_task(*, activity: Activity, by: User | None = None) -> Activity:
    """Mark a task done (idempotent)."""
    if activity.kind != ActivityKind.TASK:
        raise InvalidInput("only tasks can be completed")
    if activity.done_at is None:
        activity.done_at = timezone.now()
        activity.save(update_fields=["done_at"])
        record_event(
            type="task_completed",
            idempotency_key=f"task_completed:{activity.pk}",
            contact=activity.contact,
            company=activity.company,
            actor=by,
            properties={"activity_id": activity.pk, "subject": activity.subject},
        )
    return activity


def _snapshot(contact: Contact) -> dict[str, Any]:
    fields = [
        *CONTACT_TEXT_FIELDS,
        "email",
        "lifecycle_stage",
        "lead_status",
        "subscription_status",
        "original_source",
        "original_source_detail",
        "custom_fields",
        "owner_id",
        "company_id",
    ]
    return {f: getattr(contact, f) for f in fields} | {"created_at": contact.created_at.isoformat()}


@transaction.atomic
def merge_contacts(*, primary: Contact, duplicate: Contact, by: User | None = None) -> Contact:
    """Fold duplicate into primary: both timelines kept, blanks filled, the stricter subscription wins."""
    if primary.pk == duplicate.pk:
        raise InvalidInput("cannot merge a contact into itself")
    primary = Contact.objects.select_for_update().get(pk=primary.pk)
    duplicate = Contact.objects.select_for_update().get(pk=duplicate.pk)
    snapshot = _snapshot(duplicate)
    for field in [*CONTACT_TEXT_FIELDS, "lead_status", "original_source_detail"]:
        if not getattr(primary, field) and getattr(duplicate, field):
            setattr(primary, field, getattr(duplicate, field))
    for field in ("company_id", "owner_id", "team_id", "persona_id"):
        if getattr(primary, field) is None and getattr(duplicate, field) is not None:
            setattr(primary, field, getattr(duplicate, field))
    if (
        SUBSCRIPTION_STRICTNESS[duplicate.subscription_status]
        > SUBSCRIPTION_STRICTNESS[primary.subscription_status]
    ):
        primary.subscription_status = duplicate.subscription_status
    primary.custom_fields = {**duplicate.custom_fields, **primary.custom_fields}
    primary.created_at = min(primary.created_at, duplicate.created_at)
    if duplicate.last_activity_at and (
        not primary.last_activity_at or duplicate.last_activity_at > primary.last_activity_at
    ):
        primary.last_activity_at = duplicate.last_activity_at
    TimelineEvent.objects.filter(contact=duplicate).update(contact=primary)
    Activity.objects.filter(contact=duplicate).update(contact=primary)
    LifecycleChange.objects.filter(contact=duplicate).update(contact=primary)
    ContactMerge.objects.filter(primary=duplicate).update(primary=primary)
    bus.run_now(bus.ContactMerging(primary_id=primary.pk, merged_id=duplicate.pk))
    # The further stage wins, so merging never un-qualifies a lead.
    dup_stage, stage = duplicate.lifecycle_stage, primary.lifecycle_stage
    promote = (
        stage != dup_stage
        and STAGE_ORDER.get(dup_stage, -1) > STAGE_ORDER.get(stage, -1)
        and stage != LifecycleStage.DISQUALIFIED
    )
    duplicate_id = duplicate.pk
    duplicate.delete()
    primary.save()
    # Both histories are now the primary's: its "became a … date" columns are their earliest.
    refresh_stage_dates(contact_ids=[primary.pk])
    now = timezone.now()
    merge = ContactMerge.objects.create(
        primary=primary,
        merged_contact_id=duplicate_id,
        merged_email=snapshot["email"],
        snapshot=snapshot,
        merged_at=now,
        merged_by=by,
    )
    if promote:
        change_lifecycle_stage(
            contact=primary,
            to_stage=dup_stage,
            by=by,
            rule="merge",
            reason=f"merged with {snapshot['email']}",
            at=now,
        )
    record_event(
        type="contact_merged",
        idempotency_key=f"merge:{merge.pk}",
        contact=primary,
        actor=by,
        occurred_at=now,
        properties={"merged_email": snapshot["email"], "merged_id": duplicate_id},
    )
    bus.publish(bus.ContactsMerged(primary_id=primary.pk, merged_id=duplicate_id))
    primary.refresh_from_db()
    return primary


def touch_activity(*, contact_ids: list[int], at: datetime) -> int:
    """Advance last_activity_at for many contacts at once (bulk event writers)."""
    return (
        Contact.objects.filter(pk__in=contact_ids)
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at))
        .update(last_activity_at=at)
    )


# ---------------------------------------------------------------- background imports

IMPORT_REJECTED_KEPT = 500


def start_import(*, kind: str, upload: Any, by: User) -> ImportJob:
    """Store an uploaded CSV and queue its import; the job reports progress and the result."""
    if kind not in ("contacts", "companies"):
        raise InvalidInput(f"kind must be contacts or companies, not {kind!r}", field="kind")
    # Storage, not a temp file: with several machines the worker that runs the job is elsewhere.
    stored = default_storage.save(f"imports/{secrets.token_hex(16)}.csv", upload)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            file_name=clean_text(upload.name, field="file", max_length=255) or "upload.csv",
            stored_path=stored,
            size_bytes=upload.size,
            created_by=by,
        )
        transaction.on_commit(partial(_enqueue_import, job.pk))
    return job


def _enqueue_import(job_id: int) -> None:
    from tandem.crm.tasks import run_import  # tasks import services: resolve at call time

    run_import(job_id)


def run_import_job(*, job_id: int) -> ImportJob | None:
    """Run a queued import once (a redelivered job finds it taken and does nothing)."""
    from tandem.crm import imports  # the importer builds on this module's helpers

    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    last_saved = [0.0]

    def progress(bytes_read: int) -> None:
        # At most one progress write a second: the import itself is what must be fast.
        now = time.monotonic()
        if now - last_saved[0] >= 1.0:
            last_saved[0] = now
            ImportJob.objects.filter(pk=job_id).update(bytes_read=bytes_read)

    run = imports.import_contacts if job.kind == "contacts" else imports.import_companies
    try:
        with default_storage.open(job.stored_path, "rb") as source:
            result = run(
                source=cast(BinaryIO, source),
                by=job.created_by,
                progress=progress,
                total_bytes=job.size_bytes,
            )
    except DomainError as error:
        job.status, job.error = ImportStatus.FAILED, str(error)
    except Exception as error:  # a job must always end in a state the user can see
        log.exception("import job %s failed", job_id)
        job.status, job.error = (
            ImportStatus.FAILED,
            f"the import stopped unexpectedly ({type(error).__name__})",
        )
    else:
        job.status = ImportStatus.DONE
        job.created, job.updated = result.created, result.updated
        job.rejected_count = len(result.rejected)
        job.rejected = [[r.line, r.reason] for r in result.rejected[:IMPORT_REJECTED_KEPT]]
        job.mapping, job.ignored_columns = result.mapping, result.ignored_columns
        job.bytes_read = job.size_bytes
    job.finished_at = timezone.now()
    job.save()
    default_storage.delete(job.stored_path)
    return job
