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


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ("type", "occurred_at", "contact", "company")
    list_filter = ("type",)
    raw_id_fields = ("contact", "company", "actor")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the timeline is append-only


admin.site.register(LifecycleChange)
admin.site.register(Activity)
admin.site.register(ContactMerge)
