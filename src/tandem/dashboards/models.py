"""Joint goals: the targets marketing and sales share for a period."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class GoalMetric(models.TextChoices):
    REVENUE = "revenue", "Revenue won"
    PIPELINE_CREATED = "pipeline_created", "Pipeline created"
    MQLS = "mqls", "MQLs"
    MQL_TO_SQL_RATE = "mql_to_sql_rate", "MQL → SQL rate"
    WIN_RATE = "win_rate", "Win rate"
    VELOCITY = "velocity", "Sales velocity (per day)"


class JointGoal(models.Model):
    """One target for one metric in one period (a month `2026-11` or a quarter `2026-Q4`)."""

    period = models.CharField(max_length=7)
    metric = models.CharField(max_length=20, choices=GoalMetric.choices)
    # Money in the reporting currency, a count, or a rate as a fraction (0.25 = 25 %).
    target = models.DecimalField(max_digits=16, decimal_places=4)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "metric"], name="goal_period_metric"),
            models.CheckConstraint(
                condition=models.Q(target__gte=0), name="goal_target_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.period}: {self.target}"
