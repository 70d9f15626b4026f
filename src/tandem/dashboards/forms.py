"""The joint goals form: six optional targets for one period (rates typed in percent)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from tandem.dashboards.models import GoalMetric
from tandem.dashboards.services import RATE_METRICS

HUNDRED = Decimal(100)


def _label(metric: GoalMetric) -> str:
    if metric.value in RATE_METRICS:
        return f"{metric.label} (%)"
    if metric in (GoalMetric.REVENUE, GoalMetric.PIPELINE_CREATED):
        return f"{metric.label} ({settings.REPORTING_CURRENCY})"
    if metric == GoalMetric.VELOCITY:
        return f"{metric.label}, {settings.REPORTING_CURRENCY}"
    return str(metric.label)


class GoalsForm(forms.Form):
    """A field per GoalMetric; empty means "no goal" (an existing one is removed)."""

    period = forms.CharField(max_length=7, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for metric in GoalMetric:
            rate = metric.value in RATE_METRICS
            self.fields[metric.value] = forms.DecimalField(
                label=_label(metric),
                required=False,
                min_value=Decimal(0),
                max_value=HUNDRED if rate else None,
                max_digits=16,
                decimal_places=2 if rate else 4,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )

    @staticmethod
    def initial_from(period: str, targets: dict[str, Decimal]) -> dict[str, Any]:
        """The form's initial values from stored targets (rates shown in percent)."""
        initial: dict[str, Any] = {"period": period}
        for metric, target in targets.items():
            value = target * HUNDRED if metric in RATE_METRICS else target
            # Drop trailing zeros: 250000.0000 reads as 250000, 0.2500 x 100 as 25.
            integral = value == value.to_integral()
            initial[metric] = value.quantize(Decimal(1)) if integral else value.normalize()
        return initial

    def targets(self) -> dict[str, Decimal | None]:
        """The cleaned targets as the service takes them (rates as fractions)."""
        out: dict[str, Decimal | None] = {}
        for metric in GoalMetric:
            value = self.cleaned_data.get(metric.value)
            if value is not None and metric.value in RATE_METRICS:
                value = value / HUNDRED
            out[metric.value] = value
        return out
