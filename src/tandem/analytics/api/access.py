"""Who may call the analytics API: one check for every route."""

from __future__ import annotations

from django.http import HttpRequest

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.accounts.queries import current_user
from tandem.errors import Forbidden


def analytics_viewer(request: HttpRequest) -> User:
    """The caller, when their role may read analytics; anyone else is a 403."""
    user = current_user(request)
    if not permissions.can_view_analytics(user):
        raise Forbidden("you may not view analytics")
    return user
