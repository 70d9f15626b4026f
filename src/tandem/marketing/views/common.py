"""What every marketing page checks first: who may see and who may change marketing records."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from tandem.accounts import permissions


def require_view(user: Any, *, what: str) -> None:
    """Refuse (403) a user who may not see marketing records such as these."""
    if not permissions.can_view_marketing(user):
        raise PermissionDenied(f"you may not see {what}")


def require_manage(user: Any, *, what: str) -> None:
    """Refuse (403) a user who may not change marketing records such as these."""
    if not permissions.can_manage_marketing(user):
        raise PermissionDenied(f"only admins and marketing may change {what}")
