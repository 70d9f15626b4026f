"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from tandem.accounts.models import ApiKey, User


def user_by_username(username: str) -> User | None:
    """The active user with this username, or None."""
    return User.objects.filter(username=username, is_active=True).select_related("team").first()


def api_keys_of(user: User) -> QuerySet[ApiKey]:
    """A user's keys, newest first."""
    return ApiKey.objects.filter(user=user).order_by("-created_at")
