from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from tandem.accounts.models import ApiKey, Team, Territory, User


@admin.register(User)
class TandemUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "team", "is_active", "is_away")
    list_filter = ("role", "team", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Tandem", {"fields": ("role", "team", "is_away")}))


class TerritoryInline(admin.TabularInline):
    model = Territory
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "manager")
    inlines = [TerritoryInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
