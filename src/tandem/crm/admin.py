from django.contrib import admin

from tandem.crm.models import (
    Activity,
    Company,
    Contact,
    ContactMerge,
    LifecycleChange,
    TimelineEvent,
)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "industry", "country", "owner")
    search_fields = ("name", "domain")
    raw_id_fields = ("owner",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "lifecycle_stage", "owner")
    list_filter = ("lifecycle_stage",)
    search_fields = ("email", "last_name")
    raw_id_fields = ("owner", "company")
    # The stage moves only through crm.services, which writes its history; the email only
    # through the app, which normalises it. New contacts come in through the app or the API.
    readonly_fields = ("email", "lifecycle_stage")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ("type", "occurred_at", "contact", "company")
    list_filter = ("type",)
    raw_id_fields = ("contact", "company", "actor")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the timeline is append-only


@admin.register(LifecycleChange)
class LifecycleChangeAdmin(admin.ModelAdmin):
    list_display = ("contact", "from_stage", "to_stage", "changed_at", "changed_by", "rule")
    raw_id_fields = ("contact", "changed_by")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # the stage history is what happened: append-only, through services

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.register(Activity)
admin.site.register(ContactMerge)
