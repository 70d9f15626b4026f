"""Template context shared by every page: the role-aware navigation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from tandem.accounts import permissions

# (group, label, url name, who may use it or None for everyone signed in); the pages enforce the
# same permission helpers, so the menu never offers a page that answers 403.
NAV: list[tuple[str, str, str, Callable[[Any], bool] | None]] = [
    ("Records", "Contacts", "web:contacts", None),
    ("Records", "Companies", "web:companies", None),
    ("Records", "Import", "web:import", permissions.can_import),
    ("Marketing", "Campaigns", "web:campaigns", permissions.can_view_marketing),
    ("Marketing", "Personas", "web:personas", permissions.can_view_marketing),
    ("Marketing", "Content", "web:content", permissions.can_view_marketing),
    ("Marketing", "Forms", "web:forms", permissions.can_manage_marketing),
    ("Marketing", "Sources", "web:sources", permissions.can_manage_marketing),
    ("Marketing", "Segments", "web:segments", permissions.can_view_marketing),
    ("Marketing", "Scoring", "web:scoring", permissions.can_view_marketing),
    ("Hand-off", "Inbox", "web:lead_inbox", None),
    ("Hand-off", "Hand-off", "web:handoff", permissions.can_view_handoff),
    ("Hand-off", "Lead quality", "web:lead_quality", permissions.can_view_handoff),
    ("Hand-off", "Insights", "web:insights", None),
    ("Sales", "My day", "web:my_day", permissions.can_sell),
    ("Sales", "Deals", "web:deal_board", None),
    ("Sales", "Forecast", "web:forecast", None),
    ("Sales", "Sequences", "web:sequences", permissions.can_sell),
    ("Sales", "Library", "web:enablement", None),
    ("Sales", "Referrals", "web:referrals", None),
    ("Dashboards", "Shared goals", "web:dash_shared", permissions.can_view_analytics),
    ("Dashboards", "Marketing", "web:dash_marketing", permissions.can_view_analytics),
    ("Dashboards", "Sales", "web:dash_sales", permissions.can_view_analytics),
    ("Dashboards", "Hand-off", "web:dash_handoff", permissions.can_view_handoff),
    ("Dashboards", "Funnel", "web:dash_funnel", permissions.can_view_analytics),
    ("Dashboards", "Attribution", "web:dash_attribution", permissions.can_view_analytics),
    ("Settings", "API keys", "web:apikeys", None),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation entries the signed-in user's role may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items: list[dict[str, Any]] = []
    for group, label, name, allowed in NAV:
        if allowed is None or allowed(user):
            items.append({"group": group, "label": label, "url": reverse(name), "active": False})
    # The longest matching prefix wins: /dashboards/ must not light up on /dashboards/funnel/.
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    if user.is_admin_role:
        items.append(
            {"group": "Settings", "label": "Admin", "url": reverse("admin:index"), "active": False}
        )
    return {"nav": items, "can_import": permissions.can_import(user)}
