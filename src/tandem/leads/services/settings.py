"""The one row of lead settings: scoring half-life, MQL thresholds, SLA hours, routing limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from tandem.crm.normalise import clean_int
from tandem.errors import InvalidInput
from tandem.leads.models import LeadSettings

# Field -> (minimum, maximum): what a settings form or the API may change.
LIMITS: dict[str, tuple[int, int]] = {
    "half_life_days": (1, 3650),
    "engagement_window_days": (1, 3650),
    "mql_fit_min": (0, 100_000),
    "mql_engagement_min": (0, 100_000),
    "accept_sla_hours": (1, 24 * 30),
    "first_touch_sla_hours": (1, 24 * 60),
    "max_reroutes": (0, 20),
    "default_capacity": (1, 10_000),
}


def lead_settings() -> LeadSettings:
    """The settings row, created with the defaults on first use."""
    row, _ = LeadSettings.objects.get_or_create(pk=1)
    return row


@transaction.atomic
def update_lead_settings(*, changes: dict[str, Any]) -> LeadSettings:
    """Validate and store changed settings; an unknown or out-of-range value is refused whole."""
    row = LeadSettings.objects.select_for_update().get(pk=lead_settings().pk)
    known = {*LIMITS, "mql_probability_min", "mql_on_hand_raise"}
    for name, value in changes.items():
        if name not in known:
            raise InvalidInput(f"{name} is not a lead setting", field=name)
        if name in LIMITS:
            low, high = LIMITS[name]
            number = clean_int(value, field=name)
            if number is None or not low <= number <= high:
                raise InvalidInput(
                    f"{name} must be a whole number from {low} to {high}", field=name
                )
            setattr(row, name, number)
        elif name == "mql_probability_min":
            setattr(row, name, _probability(value))
        else:
            if not isinstance(value, bool):
                raise InvalidInput(f"{name} must be true or false", field=name)
            setattr(row, name, value)
    row.save()
    return row


def _probability(value: Any) -> Decimal | None:
    """A probability threshold in (0, 1], or None to switch the predictive MQL rule off."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(
            "mql_probability_min must be a number", field="mql_probability_min"
        ) from None
    if not Decimal("0") < number <= Decimal("1"):
        raise InvalidInput(
            "mql_probability_min must be above 0 and at most 1", field="mql_probability_min"
        )
    return number.quantize(Decimal("0.001"))
