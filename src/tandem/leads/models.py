"""Segments, scoring, the predictive model, MQL rules, routing, SLAs and sales' feedback."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", "Dynamic (rule-based)"
    STATIC = "static", "Static list"


class Segment(models.Model):
    """A named set of contacts: a JSON rule tree (dynamic) or a hand-kept list (static)."""

    name = models.CharField(max_length=160, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    definition = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    member_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """One stay of a contact in a segment; `left_at` is null while the contact is a member."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "contact"],
                condition=models.Q(left_at__isnull=True),
                name="segment_member_current_unique",
            )
        ]
        indexes = [
            models.Index(fields=["segment", "left_at", "contact"], name="segment_member_current"),
            models.Index(fields=["contact", "entered_at"], name="segment_member_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.segment_id}"


class ScoreAxis(models.TextChoices):
    FIT = "fit", "Fit (who they are)"
    ENGAGEMENT = "engagement", "Engagement (what they do)"


class ScoreRule(models.Model):
    """A scoring rule.

    Fit rules give `points` once when `condition` (a segment condition tree over contact and
    company fields) holds. Engagement rules give `points` per matching timeline event of
    `event_type` (with `event_filters` on its properties), decayed by the half-life and capped
    at `cap` per contact.
    """

    axis = models.CharField(max_length=12, choices=ScoreAxis.choices)
    name = models.CharField(max_length=160)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    points = models.IntegerField()
    condition = models.JSONField(default=dict, blank=True)
    event_type = models.CharField(max_length=80, blank=True)
    event_filters = models.JSONField(default=list, blank=True)
    cap = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["axis", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["axis", "name"], name="score_rule_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class LeadSettings(models.Model):
    """The one row of scoring, qualification and SLA settings (id 1)."""

    half_life_days = models.PositiveIntegerField(default=30)
    engagement_window_days = models.PositiveIntegerField(default=365)
    mql_fit_min = models.IntegerField(default=40)
    mql_engagement_min = models.IntegerField(default=30)
    mql_probability_min = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, default=None
    )
    mql_on_hand_raise = models.BooleanField(default=True)
    accept_sla_hours = models.PositiveIntegerField(default=24)
    first_touch_sla_hours = models.PositiveIntegerField(default=48)
    max_reroutes = models.PositiveIntegerField(default=2)
    default_capacity = models.PositiveIntegerField(default=25)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Lead settings"


class LeadScore(models.Model):
    """A contact's current scores; the total is mirrored to Contact.score for lists and the API."""

    contact = models.OneToOneField(
        "crm.Contact", primary_key=True, on_delete=models.CASCADE, related_name="lead_score"
    )
    fit = models.IntegerField(default=0)
    engagement = models.IntegerField(default=0)
    total = models.IntegerField(default=0)
    probability = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["total"], name="lead_score_total"),
            models.Index(fields=["fit", "engagement"], name="lead_score_axes"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.total}"


class ScoreChange(models.Model):
    """Score history: one row each time a contact's fit or engagement changes."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    fit = models.IntegerField()
    engagement = models.IntegerField()
    total = models.IntegerField()
    cause = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["contact", "at"], name="score_change_contact_at")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.total} ({self.cause})"


class PredictiveModel(models.Model):
    """One training run: both models' held-out AUC, the chosen one's parameters and diagnostics."""

    trained_at = models.DateTimeField()
    training_rows = models.PositiveIntegerField()
    positives = models.PositiveIntegerField()
    holdout_rows = models.PositiveIntegerField()
    baseline_auc = models.FloatField(null=True)
    challenger_auc = models.FloatField(null=True)
    chosen = models.CharField(max_length=20)
    # JSON only (no pickles): the chosen model is rebuilt from these numbers.
    parameters = models.JSONField(default=dict)
    reliability = models.JSONField(default=list)
    factors = models.JSONField(default=list)
    is_current = models.BooleanField(default=False)

    class Meta:
        ordering = ["-trained_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="one_current_predictive_model",
            )
        ]

    def __str__(self) -> str:
        return f"{self.chosen} model of {self.trained_at:%Y-%m-%d}"


class RoutingMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round-robin"
    CAPACITY = "capacity", "Balanced by capacity"


class RoutingRule(models.Model):
    """Ordered; the first rule whose conditions all hold picks the team (empty = any)."""

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=160, unique=True)
    is_active = models.BooleanField(default=True)
    territory = models.ForeignKey(
        "accounts.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    min_employees = models.PositiveIntegerField(null=True, blank=True)
    max_employees = models.PositiveIntegerField(null=True, blank=True)
    persona_id = models.BigIntegerField(null=True, blank=True)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(
        max_length=12, choices=RoutingMethod.choices, default=RoutingMethod.ROUND_ROBIN
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RepCapacity(models.Model):
    """Per-rep routing state: capacity (max open leads) and the round-robin pointer."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    max_open_leads = models.PositiveIntegerField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"capacity of {self.user_id}"


class RejectionOutcome(models.TextChoices):
    NURTURE = "nurture", "Back to marketing's nurture (Lead)"
    DISQUALIFY = "disqualify", "Disqualified"


class RejectionReason(models.Model):
    """The managed list of reasons sales gives for rejecting a lead."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    outcome = models.CharField(max_length=12, choices=RejectionOutcome.choices)
    needs_recycle_date = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "Awaiting decision"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    REROUTED = "rerouted", "Re-routed (not accepted in time)"
    UNROUTED = "unrouted", "No rep available"


class LeadAssignment(models.Model):
    """One hand-off of an MQL to a rep, with both SLA clocks and sales' decision."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    routing_rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    qualified_by = models.CharField(max_length=120, help_text="The MQL rule that qualified it")
    attempt = models.PositiveIntegerField(default=1)
    # Snapshots for the lead-quality report, taken at hand-off so later edits don't rewrite it.
    source = models.CharField(max_length=30, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    persona_id = models.BigIntegerField(null=True, blank=True)
    assigned_at = models.DateTimeField()
    accept_due_at = models.DateTimeField(null=True, blank=True)
    first_touch_due_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    first_touch_at = models.DateTimeField(null=True, blank=True)
    accept_breached_at = models.DateTimeField(null=True, blank=True)
    touch_breached_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    recycle_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["rep", "status", "accept_due_at"], name="assignment_rep_status"),
            # The hand-off panel and the lead-quality report read a period's assignments.
            models.Index(fields=["assigned_at"], name="assignment_assigned_at"),
            models.Index(fields=["status", "accept_due_at"], name="assignment_accept_due"),
            models.Index(fields=["status", "first_touch_due_at"], name="assignment_touch_due"),
            models.Index(fields=["contact", "assigned_at"], name="assignment_contact"),
            models.Index(fields=["team", "assigned_at"], name="assignment_team"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=models.Q(status="pending"),
                name="one_pending_assignment_per_contact",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} → {self.rep_id} ({self.status})"


class MqlCommitment(models.Model):
    """Marketing's side of the SLA: N MQLs delivered to a team in a month."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month")
    target = models.PositiveIntegerField()

    class Meta:
        ordering = ["-month", "team"]
        constraints = [
            models.UniqueConstraint(fields=["team", "month"], name="mql_commitment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.month:%Y-%m}: {self.target}"


class Notification(models.Model):
    """An in-app inbox message for a user (new lead, SLA breach, escalation)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30)
    text = models.CharField(max_length=300)
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "read_at", "created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return self.text
