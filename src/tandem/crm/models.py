"""Companies, contacts, lifecycle history, the event timeline and activities."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing qualified lead"
    SQL = "sql", "Sales qualified lead"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    EVANGELIST = "evangelist", "Evangelist"
    DISQUALIFIED = "disqualified", "Disqualified"


# The forward order of the lifecycle; Disqualified stands outside it.
STAGE_ORDER: dict[str, int] = {
    stage: i
    for i, stage in enumerate(
        ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist"]
    )
}


def became_field(stage: str) -> str:
    """The Contact column holding when a forward stage was first entered."""
    return f"became_{stage}_at"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    ATTEMPTED = "attempted_to_contact", "Attempted to contact"
    CONNECTED = "connected", "Connected"
    BAD_TIMING = "bad_timing", "Bad timing"
    UNQUALIFIED = "unqualified", "Unqualified"


class SubscriptionStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    NOT_SUBSCRIBED = "not_subscribed", "Not subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained (spam report)"


# Higher is stricter: a merge keeps the stricter of two statuses.
SUBSCRIPTION_STRICTNESS: dict[str, int] = {
    "subscribed": 0,
    "not_subscribed": 1,
    "unsubscribed": 2,
    "bounced": 3,
    "complained": 4,
}


class Source(models.TextChoices):
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    EMAIL = "email", "Email marketing"
    ORGANIC_SOCIAL = "organic_social", "Organic social"
    PAID_SOCIAL = "paid_social", "Paid social"
    REFERRAL = "referral", "Referral"
    DIRECT = "direct", "Direct traffic"
    EVENTS = "events", "Events"
    OUTBOUND = "outbound", "Sales outbound"
    IMPORT = "import", "Import"
    OTHER = "other", "Other"


class Company(models.Model):
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, null=True, blank=True, unique=True)
    industry = models.CharField(max_length=120, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=60, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "companies"
        indexes = [
            models.Index(Lower("name"), name="company_name_lower"),
            models.Index(fields=["owner", "id"], name="company_owner_id"),
            models.Index(fields=["team", "id"], name="company_team_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    email = models.CharField(max_length=254, unique=True)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    title = models.CharField(max_length=160, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    # Slot for marketing's persona (a higher app): an id, so crm never imports marketing.
    persona_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    lifecycle_stage = models.CharField(
        max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.SUBSCRIBER
    )
    lead_status = models.CharField(max_length=30, choices=LeadStatus.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    original_source = models.CharField(max_length=30, choices=Source.choices, default=Source.OTHER)
    original_source_detail = models.CharField(max_length=255, blank=True)
    subscription_status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NOT_SUBSCRIBED
    )
    custom_fields = models.JSONField(default=dict, blank=True)
    # Written by lead scoring (fit + engagement); kept here so lists, the API and segments read it.
    score = models.IntegerField(default=0, db_default=0, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # When the contact first entered each forward stage (HubSpot's "Became a … date"): the
    # funnel reads one row per contact instead of replaying the history. Kept by the stage
    # services; bulk writers call crm.services.refresh_stage_dates.
    became_subscriber_at = models.DateTimeField(null=True, blank=True)
    became_lead_at = models.DateTimeField(null=True, blank=True)
    became_mql_at = models.DateTimeField(null=True, blank=True)
    became_sql_at = models.DateTimeField(null=True, blank=True)
    became_opportunity_at = models.DateTimeField(null=True, blank=True)
    became_customer_at = models.DateTimeField(null=True, blank=True)
    became_evangelist_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["lifecycle_stage", "id"], name="contact_stage_id"),
            models.Index(fields=["owner", "id"], name="contact_owner_id"),
            models.Index(fields=["team", "id"], name="contact_team_id"),
            # A rep sees their team's unassigned contacts: this keeps that branch of the
            # permission filter to those rows instead of every unassigned contact.
            models.Index(
                fields=["team", "id"],
                condition=models.Q(owner__isnull=True),
                name="contact_team_unassigned_id",
            ),
            models.Index(fields=["company", "id"], name="contact_company_id"),
            models.Index(fields=["last_name", "id"], name="contact_last_name_id"),
        ]
        # Case-insensitive prefix indexes for the ?q= search (first_name, last_name, email,
        # company name) differ per database, so migration 0002 creates them with SQL.

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class LifecycleChange(models.Model):
    """One row per stage change: from, to, when, who or which rule, and why."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="lifecycle_changes")
    from_stage = models.CharField(max_length=20, choices=LifecycleStage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=LifecycleStage.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(
        max_length=120, blank=True, help_text="The automatic rule that made the change"
    )
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "changed_at"], name="lifecycle_contact_at"),
            models.Index(fields=["to_stage", "changed_at"], name="lifecycle_to_at"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '—'} → {self.to_stage}"


class TimelineEvent(models.Model):
    """Append-only: everything that happens to a contact or company."""

    # Wide enough for the tracking types `custom:<name>` (a name is at most 64 characters).
    type = models.CharField(max_length=80)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True, help_text="A rule or system actor")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # Campaigns live in marketing (a higher app): an id, so crm never imports marketing.
    campaign_id = models.BigIntegerField(null=True, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="timeline_contact_at"),
            models.Index(fields=["company", "occurred_at"], name="timeline_company_at"),
            models.Index(fields=["type", "occurred_at"], name="timeline_type_at"),
            models.Index(fields=["campaign_id", "occurred_at"], name="timeline_campaign_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: an event, once written, is history (a merge re-parents rows in bulk)."""
        if not self._state.adding:
            raise ValueError("timeline events are append-only")
        super().save(*args, **kwargs)


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    TASK = "task", "Task"
    EMAIL = "email", "Email"


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    LEFT_VOICEMAIL = "left_voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    WRONG_NUMBER = "wrong_number", "Wrong number"


class ActivityDirection(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound (a reply)"


class Activity(models.Model):
    """A note, call, meeting, task or logged email on a contact, company and/or deal."""

    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField()
    call_outcome = models.CharField(max_length=20, choices=CallOutcome.choices, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    direction = models.CharField(
        max_length=8, choices=ActivityDirection.choices, blank=True, help_text="For emails"
    )
    # sales sits above crm, so the deal is referenced by id (the deal page reads by it).
    deal_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="activity_contact_at"),
            models.Index(fields=["owner", "kind", "due_at"], name="activity_owner_due"),
            models.Index(fields=["deal_id", "occurred_at"], name="activity_deal_at"),
            models.Index(
                fields=["remind_at"],
                name="activity_remind",
                condition=models.Q(reminded_at__isnull=True, remind_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()}: {self.subject}"
            if self.subject
            else self.get_kind_display()
        )


class ContactMerge(models.Model):
    """History of a merge: which contact was folded into which, and what it held."""

    primary = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges")
    merged_contact_id = models.BigIntegerField()
    merged_email = models.CharField(max_length=254)
    snapshot = models.JSONField(default=dict)
    merged_at = models.DateTimeField()
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.merged_email} → contact {self.primary_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """An uploaded CSV imported in the background, with its progress and its report."""

    kind = models.CharField(
        max_length=20, choices=[("contacts", "Contacts"), ("companies", "Companies")]
    )
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    file_name = models.CharField(max_length=255, help_text="The upload's name as the user sent it")
    stored_path = models.CharField(max_length=255, help_text="Where the upload waits in storage")
    size_bytes = models.BigIntegerField()
    bytes_read = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # The first rejected rows as [line, reason] pairs; the count above holds them all.
    rejected = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    ignored_columns = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importjob_by_created")]

    def __str__(self) -> str:
        return f"{self.kind} import {self.file_name} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return min(99, int(100 * self.bytes_read / self.size_bytes)) if self.size_bytes else 0
