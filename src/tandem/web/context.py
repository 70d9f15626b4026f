"""Template context shared by every page: the role-aware navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from tandem.accounts import permissions

# (label, url name, roles allowed or None for everyone signed in)
NAV: list[tuple[str, str, set[str] | None]] = [
    ("Contacts", "web:contacts", None),
    ("Companies", "web:companies", None),
    ("Import", "web:import", {"admin", "marketing"}),
    ("API keys", "web:apikeys", None),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation entries the signed-in user's role may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    role = "admin" if user.is_admin_role else user.role
    items = []
    for label, name, roles in NAV:
        if roles is None or role in roles:
            url = reverse(name)
            items.append({"label": label, "url": url, "active": request.path.startswith(url)})
    if user.is_admin_role:
        items.append({"label": "Admin", "url": reverse("admin:index"), "active": False})
    return {"nav": items, "can_import": permissions.can_import(user)}
