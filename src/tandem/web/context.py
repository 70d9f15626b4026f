"""Template context shared by every page: the role-aware navigation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from tandem.accounts import permissions

# (label, url name, who may use it or None for everyone signed in); the pages enforce the same
# permission helpers, so the menu never offers a page that answers 403.
NAV: list[tuple[str, str, Callable[[Any], bool] | None]] = [
    ("Contacts", "web:contacts", None),
    ("Companies", "web:companies", None),
    ("Campaigns", "web:campaigns", permissions.can_view_marketing),
    ("Personas", "web:personas", permissions.can_view_marketing),
    ("Content", "web:content", permissions.can_view_marketing),
    ("Forms", "web:forms", permissions.can_manage_marketing),
    ("Sources", "web:sources", permissions.can_manage_marketing),
    ("Segments", "web:segments", permissions.can_view_marketing),
    ("Scoring", "web:scoring", permissions.can_view_marketing),
    ("Inbox", "web:lead_inbox", None),
    ("Hand-off", "web:handoff", permissions.can_view_handoff),
    ("Lead quality", "web:lead_quality", permissions.can_view_handoff),
    ("My day", "web:my_day", permissions.can_sell),
    ("Deals", "web:deal_board", None),
    ("Forecast", "web:forecast", None),
    ("Sequences", "web:sequences", permissions.can_sell),
    ("Library", "web:enablement", None),
    ("Insights", "web:insights", None),
    ("Import", "web:import", permissions.can_import),
    ("API keys", "web:apikeys", None),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation entries the signed-in user's role may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    for label, name, allowed in NAV:
        if allowed is None or allowed(user):
            url = reverse(name)
            items.append({"label": label, "url": url, "active": request.path.startswith(url)})
    if user.is_admin_role:
        items.append({"label": "Admin", "url": reverse("admin:index"), "active": False})
    return {"nav": items, "can_import": permissions.can_import(user)}
