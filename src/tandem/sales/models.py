"""Pipelines, deals, products, quotas, forecasts, sequences, enablement, insights, onboarding."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


class StageOutcome(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Pipeline(models.Model):
    """An ordered set of stages a deal moves through (new business, renewals, …)."""

    name = models.CharField(max_length=120, unique=True)
    is_default = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_pipeline"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """A step of a pipeline with its win probability and forecast category."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    position = models.PositiveIntegerField()
    probability = models.PositiveSmallIntegerField(help_text="Win probability in percent, 0 to 100")
    forecast_category = models.CharField(max_length=12, choices=ForecastCategory.choices)
    outcome = models.CharField(
        max_length=5,
        choices=StageOutcome.choices,
        default=StageOutcome.OPEN,
        help_text="Won and lost stages close the deal",
    )

    class Meta:
        ordering = ["pipeline_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_per_pipeline"),
            models.UniqueConstraint(
                fields=["pipeline", "position"], name="stage_position_per_pipeline"
            ),
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="stage_probability_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name}: {self.name}" if self.pipeline_id else self.name


class LostReason(models.Model):
    """A managed reason a deal was lost (seeded by a migration, edited in the admin)."""

    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ExchangeRate(models.Model):
    """How many units of the reporting currency one unit of `currency` is worth."""

    currency = models.CharField(max_length=3, unique=True)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.currency} x {self.rate}"


class Product(models.Model):
    """A priced item deals are built from; recurring ones make renewals."""

    name = models.CharField(max_length=160)
    sku = models.CharField(max_length=60, unique=True)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    term_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Subscription term; empty for one-off items"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class DealKind(models.TextChoices):
    NEW_BUSINESS = "new_business", "New business"
    RENEWAL = "renewal", "Renewal"
    UPSELL = "upsell", "Upsell"


class Deal(models.Model):
    """A sales opportunity with one company, owned by a rep."""

    PERMISSION_KIND = "deal"

    name = models.CharField(max_length=200)
    company = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    # The amount in the reporting currency, written with `amount` so that sums need no join.
    amount_base = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(max_length=5, choices=DealStatus.choices, default=DealStatus.OPEN)
    kind = models.CharField(max_length=12, choices=DealKind.choices, default=DealKind.NEW_BUSINESS)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ons",
        help_text="The won deal this renewal or upsell continues",
    )
    expected_close_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    stage_entered_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    source_campaign = models.ForeignKey(
        "marketing.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_channel = models.CharField(max_length=20, blank=True)
    referred_by = models.ForeignKey(
        "crm.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_deals",
        help_text="The evangelist credited with the referral",
    )
    lost_reason = models.ForeignKey(
        LostReason, null=True, blank=True, on_delete=models.PROTECT, related_name="deals"
    )
    lost_note = models.TextField(blank=True)
    competitor = models.CharField(max_length=120, blank=True)
    next_step = models.CharField(max_length=255, blank=True)
    next_step_due = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            # The board: one pipeline's open deals per stage, newest stage entry first.
            models.Index(fields=["pipeline", "status", "stage", "-amount_base"], name="deal_board"),
            models.Index(fields=["owner", "status", "expected_close_date"], name="deal_owner_open"),
            models.Index(fields=["team", "status", "expected_close_date"], name="deal_team_open"),
            models.Index(fields=["status", "closed_at"], name="deal_closed"),
            models.Index(fields=["status", "expected_close_date"], name="deal_expected"),
            models.Index(fields=["-created_at", "-id"], name="deal_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="deal_closed_at_iff_closed",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class DealRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
    CHAMPION = "champion", "Champion"
    INFLUENCER = "influencer", "Influencer"
    TECHNICAL_BUYER = "technical_buyer", "Technical buyer"
    USER = "user", "User"
    BLOCKER = "blocker", "Blocker"
    OTHER = "other", "Other"


class DealContact(models.Model):
    """A contact's part in a deal."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="deal_contacts")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="deal_roles")
    role = models.CharField(max_length=20, choices=DealRole.choices, default=DealRole.OTHER)
    is_primary = models.BooleanField(default=False)
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "contact"], name="deal_contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} as {self.role} on deal {self.deal_id}"


class LineItem(models.Model):
    """A product (or a free-text item) on a deal; a deal with items is worth their total."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=160)
    quantity = models.DecimalField(max_digits=12, decimal_places=2, default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["deal_id", "position", "id"]

    def __str__(self) -> str:
        return self.name


class StageChangeKind(models.TextChoices):
    CREATED = "created", "Created"
    MOVED = "moved", "Moved"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    REOPENED = "reopened", "Reopened"


class StageChange(models.Model):
    """One step of a deal's history; `seconds_in_from_stage` is the time spent before it."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    kind = models.CharField(max_length=10, choices=StageChangeKind.choices)
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=5, choices=DealStatus.choices, blank=True)
    to_status = models.CharField(max_length=5, choices=DealStatus.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seconds_in_from_stage = models.BigIntegerField(null=True, blank=True)
    amount_base = models.DecimalField(
        max_digits=16, decimal_places=2, default=0, help_text="The deal's value at this moment"
    )

    class Meta:
        ordering = ["deal_id", "changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="stagechange_deal_at"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_stage_at"),
        ]

    def __str__(self) -> str:
        return f"deal {self.deal_id} {self.kind} at {self.changed_at:%Y-%m-%d}"


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class Quota(models.Model):
    """A revenue target for one rep or one team over a month or a quarter."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive last day")
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="quota_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["user", "period_kind", "period_start"],
                condition=Q(user__isnull=False),
                name="quota_once_per_user_period",
            ),
            models.UniqueConstraint(
                fields=["team", "period_kind", "period_start"],
                condition=Q(team__isnull=False),
                name="quota_once_per_team_period",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.period_kind} from {self.period_start}: {self.amount}"


class ForecastSnapshot(models.Model):
    """The forecast for a period as it stood on one day (weekly), kept to measure accuracy."""

    taken_on = models.DateField()
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    closed_won = models.DecimalField(max_digits=16, decimal_places=2)
    commit = models.DecimalField(max_digits=16, decimal_places=2)
    best_case = models.DecimalField(max_digits=16, decimal_places=2)
    pipeline = models.DecimalField(max_digits=16, decimal_places=2)
    weighted = models.DecimalField(max_digits=16, decimal_places=2)
    quota = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["taken_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["taken_on", "period_kind", "period_start", "user"],
                condition=Q(user__isnull=False),
                name="snapshot_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["taken_on", "period_kind", "period_start", "team"],
                condition=Q(team__isnull=False),
                name="snapshot_once_per_team",
            ),
            models.UniqueConstraint(
                fields=["taken_on", "period_kind", "period_start"],
                condition=Q(user__isnull=True, team__isnull=True),
                name="snapshot_once_company",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_kind} {self.period_start} as of {self.taken_on}"


class SequenceStepKind(models.TextChoices):
    EMAIL = "email", "Email task"
    CALL = "call", "Call task"
    SOCIAL = "social", "Social touch task"
    WAIT = "wait", "Wait N business days"


class Sequence(models.Model):
    """An outbound cadence: ordered steps a rep works through for each enrolled contact."""

    name = models.CharField(max_length=160, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SequenceStep(models.Model):
    """One step: a task for the rep, or a wait of N business days."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=6, choices=SequenceStepKind.choices)
    wait_days = models.PositiveSmallIntegerField(default=0, help_text="Business days, for waits")
    subject = models.CharField(max_length=255, blank=True)
    instructions = models.TextField(blank=True)
    asset = models.ForeignKey(
        "marketing.ContentAsset",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["sequence_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="step_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FINISHED = "finished", "Finished"
    STOPPED = "stopped", "Stopped"


class StopReason(models.TextChoices):
    REPLIED = "replied", "Replied"
    MEETING = "meeting", "Booked a meeting"
    OPPORTUNITY = "opportunity", "Became an opportunity"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    MANUAL = "manual", "Stopped by hand"


class SequenceEnrollment(models.Model):
    """A contact working through a sequence for one rep."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrollments")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=8, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    stop_reason = models.CharField(max_length=12, choices=StopReason.choices, blank=True)
    current_position = models.PositiveIntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True)
    current_task_id = models.BigIntegerField(
        null=True, blank=True, help_text="The crm task of the step in progress"
    )
    enrolled_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "contact"],
                condition=Q(status="active"),
                name="one_active_enrollment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_due_at"], name="enrollment_due"),
            models.Index(fields=["contact", "status"], name="enrollment_contact"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} in sequence {self.sequence_id} ({self.status})"


class SequenceSettings(models.Model):
    """The one row of sequence settings (pk 1)."""

    daily_limit_per_rep = models.PositiveIntegerField(
        default=40, help_text="Sequence tasks a rep is given per day; the rest roll over"
    )

    def __str__(self) -> str:
        return "Sequence settings"


class ContentUseKind(models.TextChoices):
    ATTACHED = "attached", "Attached"
    SENT = "sent", "Sent"


class ContentUse(models.Model):
    """A rep attached or sent an enablement asset to a deal and/or contact."""

    asset = models.ForeignKey("marketing.ContentAsset", on_delete=models.CASCADE, related_name="+")
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="content_uses"
    )
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=ContentUseKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    used_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["asset", "used_at"], name="contentuse_asset")]

    def __str__(self) -> str:
        return f"asset {self.asset_id} {self.kind} {self.used_at:%Y-%m-%d}"


class ContentRating(models.Model):
    """A rep's 1 to 5 usefulness rating of an asset, with a comment (one per rep, editable)."""

    asset = models.ForeignKey("marketing.ContentAsset", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    rated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "user"], name="rating_once_per_rep"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="rating_one_to_five"
            ),
        ]

    def __str__(self) -> str:
        return f"asset {self.asset_id}: {self.rating}/5"


class InsightKind(models.TextChoices):
    OBJECTION = "objection", "Objection"
    PAIN_POINT = "pain_point", "Pain point"
    COMPETITOR = "competitor", "Competitor mention"
    FEATURE_REQUEST = "feature_request", "Feature request"
    PRAISE = "praise", "Praise"


class InsightTag(models.Model):
    """A label that groups insights across deals (normalised lower-case)."""

    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Insight(models.Model):
    """What a rep heard from the market: an objection, a pain, a competitor, on a deal."""

    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="insights"
    )
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=InsightKind.choices)
    text = models.TextField()
    competitor = models.CharField(max_length=120, blank=True)
    tags = models.ManyToManyField(InsightTag, blank=True, related_name="insights")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "created_at"], name="insight_kind_at")]

    def __str__(self) -> str:
        return self.text[:60]


class OnboardingTemplateStep(models.Model):
    """One item of the checklist every won deal starts (seeded, edited in the admin)."""

    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    due_after_days = models.PositiveSmallIntegerField(default=7)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class OnboardingStep(models.Model):
    """One checklist item of a won deal's onboarding."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="onboarding_steps")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["deal_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "title"], name="onboarding_step_once"),
        ]

    def __str__(self) -> str:
        return self.title
