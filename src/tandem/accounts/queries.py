"""Reads for accounts."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from tandem.accounts.models import ApiKey, User


def user_by_username(username: str) -> User | None:
    """The active user with this username, or None."""
    return User.objects.filter(username=username, is_active=True).select_related("team").first()


def api_keys_of(user: User) -> QuerySet[ApiKey]:
    """A user's keys, newest first."""
    return ApiKey.objects.filter(user=user).order_by("-created_at")


def current_user(request: HttpRequest) -> User:
    """The signed-in user of a request that passed authentication (anonymous → 403)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("sign in first")
    return user
