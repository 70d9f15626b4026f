"""Admin: managed lists (lost reasons, products, exchange rates, the onboarding checklist, sequence
settings) are edited here; deals and their history change only through the sales services."""

from django.contrib import admin

from tandem.sales.models import (
    Deal,
    ExchangeRate,
    ForecastSnapshot,
    LostReason,
    OnboardingTemplateStep,
    Product,
    Quota,
    SequenceSettings,
    StageChange,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to admins, changed only through the sales services and pages."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    """The list reps pick from when a deal is lost; retire a reason with is_active."""

    list_display = ("name", "is_active", "position")
    list_editable = ("is_active", "position")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Lost deals keep pointing at their reason (PROTECT): retire it instead.
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "sku", "unit_price", "currency", "term_months", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "sku")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Rates into the reporting currency; deals convert when their amount is written."""

    list_display = ("currency", "rate", "updated_at")


@admin.register(OnboardingTemplateStep)
class OnboardingTemplateStepAdmin(admin.ModelAdmin):
    list_display = ("title", "due_after_days", "position", "is_active")
    list_editable = ("due_after_days", "position", "is_active")


@admin.register(SequenceSettings)
class SequenceSettingsAdmin(admin.ModelAdmin):
    list_display = ("daily_limit_per_rep",)


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "stage", "status", "amount", "currency", "expected_close_date")
    list_filter = ("status", "pipeline", "kind")
    search_fields = ("name",)
    raw_id_fields = ("company", "referred_by", "parent")


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ("deal", "kind", "from_stage", "to_stage", "changed_at", "changed_by")
    raw_id_fields = ("deal",)


@admin.register(Quota)
class QuotaAdmin(ReadOnlyAdmin):
    list_display = ("user", "team", "period_kind", "period_start", "amount")


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("taken_on", "period_kind", "period_start", "user", "team", "commit", "weighted")
