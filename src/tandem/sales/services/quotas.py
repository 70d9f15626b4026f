"""Quotas: a revenue target per rep or team for a month or a quarter (one row each, upserted)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from tandem.accounts import permissions
from tandem.accounts.models import Role, Team, TeamKind, User
from tandem.crm.normalise import clean_decimal
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import Quota
from tandem.sales.periods import Period

# Quota.amount is NUMERIC(16, 2).
MAX_QUOTA = Decimal("99999999999999.99")


def clean_quota_amount(value: Any) -> Decimal:
    """A required amount ≥ 0 that the quota column holds, rounded to cents."""
    amount = clean_decimal(str(value) if isinstance(value, float) else value, field="amount")
    if amount is None:
        raise InvalidInput("amount is required", field="amount")
    if amount > MAX_QUOTA:
        raise InvalidInput(f"amount must be at most {MAX_QUOTA:,}", field="amount")
    return amount


def _check_target(*, by: User, user: User | None, team: Team | None) -> None:
    if not permissions.can_manage_sales(by):
        raise Forbidden("only admins and sales managers may set quotas")
    if (user is None) == (team is None):
        raise InvalidInput("a quota is set for either a user or a team", field="user")
    if team is not None and team.kind != TeamKind.SALES:
        raise InvalidInput(f"team {team.name!r} is not a sales team", field="team")
    if user is not None and user.role not in (Role.SALES_REP, Role.SALES_MANAGER):
        raise InvalidInput(f"user {user.username!r} does not sell", field="user")
    if by.is_admin_role:
        return
    managed = set(by.managed_teams.values_list("pk", flat=True))
    if by.team_id:
        managed.add(by.team_id)
    target_team = team.pk if team is not None else (user.team_id if user is not None else None)
    if target_team not in managed:
        raise Forbidden("a manager sets quotas only for the teams they manage and their reps")


@transaction.atomic
def set_quota(
    *, user: User | None = None, team: Team | None = None, period: Period, amount: Any, by: User
) -> Quota:
    """Set the quota of a rep or a team for a month or quarter (replacing any earlier one)."""
    _check_target(by=by, user=user, team=team)
    value = clean_quota_amount(amount)
    quota, _ = Quota.objects.select_for_update().update_or_create(
        user=user,
        team=team,
        period_kind=period.kind,
        period_start=period.start,
        defaults={"period_end": period.end, "amount": value},
    )
    return quota


@transaction.atomic
def clear_quota(
    *, user: User | None = None, team: Team | None = None, period: Period, by: User
) -> bool:
    """Remove the quota of a rep or a team for the period; whether there was one."""
    _check_target(by=by, user=user, team=team)
    deleted, _ = Quota.objects.filter(
        user=user, team=team, period_kind=period.kind, period_start=period.start
    ).delete()
    return bool(deleted)
