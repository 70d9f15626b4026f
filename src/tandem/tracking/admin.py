"""Admin: the raw event log and visitors are evidence, so they are read-only here."""

from django.contrib import admin

from tandem.tracking.models import Event, Visitor


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "type", "source", "anonymous_id", "email", "processed_at")
    list_filter = ("type",)
    search_fields = ("event_id", "anonymous_id", "email")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    list_display = ("anonymous_id", "contact", "first_seen_at", "last_seen_at", "identified_at")
    search_fields = ("anonymous_id",)
    raw_id_fields = ("contact",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
