"""Object permissions, in one place: every page, API route and export asks here.

Rules (issue 2): a rep sees and edits what they own plus unassigned records of their team;
a manager sees and edits what belongs to the teams they manage; marketing sees everything
and edits everything but deals; admin sees and edits everything. Records carry `owner`
and `team`; models that marketing may not edit set `PERMISSION_KIND = "deal"`.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db.models import Model, Q, QuerySet

from tandem.accounts.models import Role, User


class Owned(Protocol):
    owner_id: int | None
    team_id: int | None


def _managed_team_ids(user: User) -> list[int]:
    """The teams a manager answers for, looked up once per user object (one per request)."""
    cached: list[int] | None = getattr(user, "_managed_team_ids", None)
    if cached is None:
        cached = list(user.managed_teams.values_list("id", flat=True))
        if user.team_id and user.team_id not in cached:
            cached.append(user.team_id)
        user._managed_team_ids = cached  # type: ignore[attr-defined]
    return cached


def _scope_q(user: User) -> Q | None:
    """The filter of records the user may see; None means everything."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin_role or user.role == Role.MARKETING:
        return None
    if user.role == Role.SALES_MANAGER:
        teams = _managed_team_ids(user)
        # The members as a subquery rather than `owner__team_id__in`: that joins the users table
        # on every candidate row, which cost a manager's 100k-deal board a third of its time.
        members = User.objects.filter(team_id__in=teams).values("id")
        return Q(owner=user) | Q(team_id__in=teams) | Q(owner_id__in=members)
    own = Q(owner=user)
    if user.team_id:
        own |= Q(owner__isnull=True, team_id=user.team_id)
    return own


def visible(user: Any, queryset: QuerySet) -> QuerySet:
    """Narrow a queryset of owned records to those the user may see."""
    q = _scope_q(user)
    return queryset if q is None else queryset.filter(q)


def editable(user: Any, queryset: QuerySet) -> QuerySet:
    """Narrow a queryset of owned records to those the user may change."""
    if (
        getattr(queryset.model, "PERMISSION_KIND", "record") == "deal"
        and user.role == Role.MARKETING
    ):
        return queryset.none()
    return visible(user, queryset)


def can_view(user: Any, obj: Model) -> bool:
    """Whether the user may see this record."""
    return visible(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def can_edit(user: Any, obj: Model) -> bool:
    """Whether the user may change this record (seeing it is checked separately for 404s)."""
    return editable(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def can_assign_anyone(user: Any) -> bool:
    """Whether every active user is among the user's assignable owners."""
    return user.is_authenticated and (user.is_admin_role or user.role == Role.MARKETING)


def assignable_owners(user: Any) -> QuerySet[User]:
    """Users this user may make the owner of a record."""
    users = User.objects.filter(is_active=True).select_related("team")
    if can_assign_anyone(user):
        return users
    if user.role == Role.SALES_MANAGER:
        return users.filter(Q(pk=user.pk) | Q(team_id__in=_managed_team_ids(user)))
    return users.filter(pk=user.pk)


def can_import(user: Any) -> bool:
    """Bulk import touches everyone's records: admin and marketing only."""
    return user.is_authenticated and (user.is_admin_role or user.role == Role.MARKETING)


def can_merge(user: Any) -> bool:
    """Merging destroys a record: admin, marketing and managers."""
    return user.is_authenticated and (
        user.is_admin_role or user.role in (Role.MARKETING, Role.SALES_MANAGER)
    )


def can_create_records(user: Any) -> bool:
    """Every signed-in role creates contacts and companies (a rep's are their own)."""
    return bool(user.is_authenticated and user.is_active)


def can_manage_marketing(user: Any) -> bool:
    """Campaigns, personas, content, forms and tracking sources: admin and marketing change them."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_admin_role or user.role == Role.MARKETING)
    )


def can_view_marketing(user: Any) -> bool:
    """Every signed-in role reads campaigns, personas and content (sales uses them too)."""
    return bool(user.is_authenticated and user.is_active)


def can_manage_routing(user: Any) -> bool:
    """Routing rules, rep capacities, SLA hours and MQL commitments: admins and sales managers."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_admin_role or user.role == Role.SALES_MANAGER)
    )


def can_view_handoff(user: Any) -> bool:
    """The manager's breach and load view: admins, sales managers and marketing (both sides)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_admin_role or user.role in (Role.SALES_MANAGER, Role.MARKETING))
    )


def can_sell(user: Any) -> bool:
    """Deals, tasks, sequences, content use and ratings: admins, sales managers and reps."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_admin_role or user.role in (Role.SALES_MANAGER, Role.SALES_REP))
    )


def can_manage_sales(user: Any) -> bool:
    """Pipelines, products, quotas, sequences' settings and checklists: admins and sales managers."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_admin_role or user.role == Role.SALES_MANAGER)
    )


def can_view_analytics(user: Any) -> bool:
    """Whether the user may read the shared numbers (every role: both teams steer on them)."""
    return bool(user.is_authenticated and user.is_active and user.role)


def can_set_goals(user: Any) -> bool:
    """Whether the user may set the joint goals (admins, marketing and sales managers)."""
    return user.is_authenticated and (
        user.is_admin_role or user.role in (Role.MARKETING, Role.SALES_MANAGER)
    )


def metric_user_ids(user: Any) -> list[int] | None:
    """Whose per-rep numbers the user may read: None is everyone; a rep sees only their own."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_admin_role or user.role == Role.MARKETING:
        return None
    if user.role == Role.SALES_MANAGER:
        teams = _managed_team_ids(user)
        members = list(User.objects.filter(team_id__in=teams).values_list("id", flat=True))
        return sorted({user.pk, *members})
    return [user.pk]
