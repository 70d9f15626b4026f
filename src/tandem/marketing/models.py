"""Campaigns and their costs, personas, content, sources, forms, tracked links and touchpoints."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PAID_SEARCH = "paid_search", "Paid search"
    PAID_SOCIAL = "paid_social", "Paid social"
    ORGANIC_SEARCH = "organic_search", "Organic search"
    ORGANIC_SOCIAL = "organic_social", "Organic social"
    DISPLAY = "display", "Display"
    DIRECT_MAIL = "direct_mail", "Direct mail"
    EVENTS = "events", "Events"
    WEBINAR = "webinar", "Webinar"
    CONTENT = "content", "Content"
    REFERRAL = "referral", "Referral"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Outbound"


class JourneyStage(models.TextChoices):
    AWARENESS = "awareness", "Awareness"
    CONSIDERATION = "consideration", "Consideration"
    DECISION = "decision", "Decision"


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


class Persona(models.Model):
    """An audience archetype; `criteria` are fit conditions on contact and company fields."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    pains = models.TextField(blank=True)
    goals = models.TextField(blank=True)
    objections = models.TextField(blank=True)
    # [{"field": "company.industry", "op": "in", "value": [...]}, ...], all must hold;
    # fields and operators come from marketing.personas.CRITERIA_FIELDS / OPERATORS.
    criteria = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    objective = models.TextField(blank=True)
    personas = models.ManyToManyField(Persona, blank=True, related_name="campaigns")
    journey_stage = models.CharField(
        max_length=20, choices=JourneyStage.choices, default=JourneyStage.AWARENESS
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    # UTM tags, stored normalised (trimmed, lower case); utm_campaign identifies the campaign
    # in incoming traffic, so it is unique.
    utm_source = models.CharField(max_length=100)
    utm_medium = models.CharField(max_length=100)
    utm_campaign = models.CharField(max_length=150, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["channel", "id"], name="campaign_channel_id"),
            models.Index(fields=["status", "id"], name="campaign_status_id"),
        ]

    def __str__(self) -> str:
        return self.name


class CostOrigin(models.TextChoices):
    MANUAL = "manual", "Typed in"
    IMPORT = "import", "Ad-spend import"


class CampaignCost(models.Model):
    """A dated spend entry; a campaign's cost is the sum of its entries."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="costs")
    incurred_on = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    description = models.CharField(max_length=255, blank=True)
    origin = models.CharField(max_length=10, choices=CostOrigin.choices, default=CostOrigin.MANUAL)
    # For imported rows: one entry per (campaign, day, platform key), so a re-import updates.
    # NULL for typed-in rows, so the unique constraint below binds imported rows only.
    import_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "incurred_on"], name="cost_campaign_on")]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "incurred_on", "import_key"], name="cost_import_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.incurred_on}"


class ContentType(models.TextChoices):
    BLOG_POST = "blog_post", "Blog post"
    EBOOK = "ebook", "Ebook"
    CASE_STUDY = "case_study", "Case study"
    PRODUCT_SHEET = "product_sheet", "Product sheet"
    FAQ = "faq", "FAQ"
    VIDEO = "video", "Video"
    WEBINAR_RECORDING = "webinar_recording", "Webinar recording"
    ONE_PAGER = "one_pager", "One-pager"
    PRICING_SHEET = "pricing_sheet", "Pricing sheet"


class Audience(models.TextChoices):
    MARKET = "market", "Market-facing"
    ENABLEMENT = "enablement", "Sales enablement"
    BOTH = "both", "Both"


class ContentAsset(models.Model):
    """A piece of content: a link or an uploaded file, served through a public token."""

    title = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=ContentType.choices)
    journey_stage = models.CharField(max_length=20, choices=JourneyStage.choices)
    personas = models.ManyToManyField(Persona, blank=True, related_name="assets")
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.MARKET)
    description = models.TextField(blank=True)
    url = models.URLField(max_length=2000, blank=True)
    file = models.FileField(upload_to="content/%Y/%m/", blank=True, max_length=255)
    file_name = models.CharField(max_length=255, blank=True, help_text="The upload's own name")
    mime_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    # 128 random bits (url-safe) in the public link, so asset ids cannot be enumerated.
    public_token = models.CharField(max_length=32, unique=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    archived = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["audience", "type"], name="asset_audience_type"),
            models.Index(fields=["journey_stage", "id"], name="asset_stage_id"),
        ]

    def __str__(self) -> str:
        return self.title


class Source(models.Model):
    """A website or app that sends tracking events with a public write key (ingest only)."""

    name = models.CharField(max_length=120, unique=True)
    # Origins (scheme://host[:port]) allowed to call the ingestion API and embedded forms
    # from a browser (CORS); server-to-server calls carry no Origin.
    origins = models.JSONField(default=list, blank=True)
    key_prefix = models.CharField(max_length=16)
    key_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class FormStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Form(models.Model):
    """A capture form with its hosted landing page; `slug` is its public address."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    status = models.CharField(max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT)
    headline = models.CharField(max_length=200, blank=True)
    intro = models.TextField(blank=True)
    submit_label = models.CharField(max_length=60, default="Submit")
    thank_you = models.TextField(default="Thank you! We will be in touch.")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="forms"
    )
    # Embedded on a source's sites: its origins are the only ones CORS lets submit.
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="forms"
    )
    asset = models.ForeignKey(
        ContentAsset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forms",
        help_text="Gated content offered after submitting",
    )
    # A hand-raise (demo or pricing request) qualifies a lead on its own in lead scoring.
    is_hand_raise = models.BooleanField(default=False)
    consent_required = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class FormField(models.Model):
    """One input of a form, mapped to a contact field from marketing.forms_schema.TARGETS."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(default=0)
    target = models.CharField(max_length=80)
    label = models.CharField(max_length=120)
    input_type = models.CharField(max_length=20, default="text")
    required = models.BooleanField(default=False)
    choices = models.JSONField(default=list, blank=True)
    help_text = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "target"], name="formfield_target_unique")
        ]

    def __str__(self) -> str:
        return self.label


class ConsentText(models.Model):
    """A version of a form's consent wording; versions are never edited, only added."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="consent_texts")
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "version"], name="consent_version_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class FormSubmission(models.Model):
    """A submission with its consent proof: which text version, when, from which IP and page."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="submissions")
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()
    values = models.JSONField(default=dict)
    created_contact = models.BooleanField(default=False)
    anonymous_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    origin = models.CharField(max_length=255, blank=True, help_text="hosted, or the embedding site")
    utm = models.JSONField(default=dict, blank=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    consent_given = models.BooleanField(default=False)
    consent_text = models.ForeignKey(
        ConsentText, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions"
    )

    class Meta:
        indexes = [
            models.Index(fields=["form", "-submitted_at"], name="submission_form_at"),
            models.Index(fields=["contact", "submitted_at"], name="submission_contact_at"),
            models.Index(fields=["campaign", "submitted_at"], name="submission_campaign_at"),
        ]

    def __str__(self) -> str:
        return f"{self.form} at {self.submitted_at:%Y-%m-%d %H:%M}"


class TrackedLink(models.Model):
    """A destination registered for click tracking; redirects go only to these URLs."""

    url = models.URLField(max_length=2000)
    label = models.CharField(max_length=200, blank=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.label or self.url


class TouchKind(models.TextChoices):
    VISIT = "visit", "Visit"
    FORM = "form_submit", "Form submission"
    CLICK = "click", "Link click"
    CONTENT = "content_view", "Content view"
    EMAIL_OPEN = "email_open", "Email open"
    EVENT = "event", "Event attendance"
    OTHER = "other", "Other"


class Touchpoint(models.Model):
    """One marketing touch (campaign, channel, time, who): the input of attribution."""

    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    kind = models.CharField(max_length=20, choices=TouchKind.choices, default=TouchKind.VISIT)
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Until identity stitching links the visitor to a contact.
    anonymous_id = models.CharField(max_length=64, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=150, blank=True)
    utm_term = models.CharField(max_length=150, blank=True)
    utm_content = models.CharField(max_length=150, blank=True)
    referrer_host = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="touch_contact_at"),
            models.Index(fields=["campaign", "occurred_at"], name="touch_campaign_at"),
            models.Index(fields=["channel", "occurred_at"], name="touch_channel_at"),
            # The marketing dashboard's weekly traffic, reach and engagement read a period.
            models.Index(fields=["occurred_at", "kind"], name="touch_at_kind"),
            models.Index(
                fields=["anonymous_id", "occurred_at"],
                condition=models.Q(contact__isnull=True),
                name="touch_anonymous_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} at {self.occurred_at:%Y-%m-%d}"
