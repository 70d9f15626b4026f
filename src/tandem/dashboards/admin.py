from django.contrib import admin

from tandem.dashboards.models import JointGoal


@admin.register(JointGoal)
class JointGoalAdmin(admin.ModelAdmin):
    list_display = ("period", "metric", "target", "set_by", "updated_at")
    list_filter = ("metric",)
    search_fields = ("period",)
