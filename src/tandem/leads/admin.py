"""Admin: the rejection-reason list is managed here; everything else is read-only history."""

from django.contrib import admin

from tandem.leads.models import (
    LeadAssignment,
    LeadScore,
    Notification,
    PredictiveModel,
    RejectionReason,
    ScoreChange,
    Segment,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to admins, changed only through the leads services and pages."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    """The managed list sales picks from; retire a reason with is_active (history keeps it)."""

    list_display = ("label", "code", "outcome", "needs_recycle_date", "is_active", "position")
    list_editable = ("is_active", "position")
    list_filter = ("outcome", "is_active")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The code is what the API accepts and the report groups by: fixed once created.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "member_count", "refreshed_at")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(LeadAssignment)
class LeadAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("contact", "rep", "team", "status", "assigned_at", "accept_due_at", "reason")
    list_filter = ("status", "team")
    raw_id_fields = ("contact",)


@admin.register(LeadScore)
class LeadScoreAdmin(ReadOnlyAdmin):
    list_display = ("contact", "fit", "engagement", "total", "probability", "computed_at")
    raw_id_fields = ("contact",)


@admin.register(ScoreChange)
class ScoreChangeAdmin(ReadOnlyAdmin):
    list_display = ("contact", "at", "fit", "engagement", "total", "cause")
    raw_id_fields = ("contact",)


@admin.register(PredictiveModel)
class PredictiveModelAdmin(ReadOnlyAdmin):
    list_display = ("trained_at", "chosen", "baseline_auc", "challenger_auc", "is_current")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "text", "created_at", "read_at")
    raw_id_fields = ("contact",)
