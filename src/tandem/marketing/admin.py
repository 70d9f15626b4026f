"""Admin: read-mostly, because writes go through marketing.services (keys, UTM tags, versions)."""

from django.contrib import admin

from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    ConsentText,
    ContentAsset,
    Form,
    FormSubmission,
    Persona,
    Source,
    Touchpoint,
    TrackedLink,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to admins, changed only by the app (history and proofs are not editable)."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "channel", "status", "starts_on", "ends_on", "utm_campaign")
    list_filter = ("channel", "status")
    search_fields = ("name", "utm_campaign")


@admin.register(Source)
class SourceAdmin(ReadOnlyAdmin):
    list_display = ("name", "key_prefix", "created_at", "revoked_at")
    exclude = ("key_digest",)


@admin.register(FormSubmission)
class FormSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("form", "submitted_at", "contact", "consent_given", "consent_text", "ip")
    list_filter = ("form",)
    raw_id_fields = ("contact",)


@admin.register(Touchpoint)
class TouchpointAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "channel", "kind", "campaign", "contact", "anonymous_id")
    list_filter = ("channel", "kind")
    raw_id_fields = ("contact",)


for model in (CampaignCost, ConsentText, ContentAsset, Form, Persona, TrackedLink):
    admin.site.register(model, ReadOnlyAdmin)
