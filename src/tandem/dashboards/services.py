"""Writes of the dashboards: the joint goals both teams steer on."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.dashboards.models import GoalMetric, JointGoal
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.periods import parse_period

# Rates are stored as fractions (0.25 = 25 %); the rest are money, counts or money per day.
RATE_METRICS = frozenset({GoalMetric.MQL_TO_SQL_RATE.value, GoalMetric.WIN_RATE.value})
# JointGoal.target is NUMERIC(16, 4): twelve digits before the point.
MAX_TARGET = Decimal("999999999999.9999")
PLACES = Decimal("0.0001")


def clean_target(metric: str, value: Any) -> Decimal | None:
    """A target ≥ 0 that the column holds (a rate at most 1), or None for "no goal"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise InvalidInput(f"{metric} {str(value)[:40]!r} is not a number", field=metric) from None
    if not amount.is_finite():
        raise InvalidInput(f"{metric} must be a finite number", field=metric)
    if amount < 0:
        raise InvalidInput(f"{metric} must not be negative", field=metric)
    if metric in RATE_METRICS and amount > 1:
        raise InvalidInput(
            f"{metric} is a rate: a fraction between 0 and 1 (100 %) at most", field=metric
        )
    if amount > MAX_TARGET:
        raise InvalidInput(f"{metric} must be at most {MAX_TARGET:,}", field=metric)
    return amount.quantize(PLACES)


@transaction.atomic
def set_goals(
    *, period: str, targets: Mapping[str, Decimal | None], by: User
) -> dict[str, JointGoal]:
    """Set (or, for None, remove) the period's targets of the metrics given; the period's goals."""
    if not permissions.can_set_goals(by):
        raise Forbidden("only admins, marketing and sales managers set the joint goals")
    key = parse_period(period).key
    allowed = {m.value for m in GoalMetric}
    unknown = sorted(set(targets) - allowed)
    if unknown:
        raise InvalidInput(
            f"unknown goal metric {unknown[0]!r}; use one of {', '.join(sorted(allowed))}",
            field=unknown[0],
        )
    # Check every value before writing any, so a bad field leaves the period untouched.
    cleaned = {metric: clean_target(metric, value) for metric, value in targets.items()}
    existing = {g.metric: g for g in JointGoal.objects.select_for_update().filter(period=key)}
    removed = [metric for metric, value in cleaned.items() if value is None]
    if removed:
        JointGoal.objects.filter(period=key, metric__in=removed).delete()
    for metric, value in cleaned.items():
        if value is None:
            existing.pop(metric, None)
            continue
        goal = existing.get(metric)
        if goal is None:
            existing[metric] = JointGoal.objects.create(
                period=key, metric=metric, target=value, set_by=by
            )
        elif goal.target != value:
            goal.target, goal.set_by = value, by
            goal.save(update_fields=["target", "set_by", "updated_at"])
    return existing
