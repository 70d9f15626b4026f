"""The one htmx helper every list page uses: render the full page, or only its partial.

It lives beside pagination.py (shared, importable by every app) rather than in tandem.web,
because app views (crm, accounts) sit below web in the layer contract.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_partial(request: HttpRequest) -> bool:
    """True for an htmx swap; a boosted link or a history restore needs the whole page."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


def render_page(
    request: HttpRequest,
    *,
    page: str,
    partial: str,
    context: dict[str, Any],
    status: int = 200,
    push_url: str | None = None,
) -> HttpResponse:
    """Render `page`, or just `partial` when htmx asks for a swap (pushing `push_url` to history)."""
    partial_wanted = wants_partial(request)
    response = render(request, partial if partial_wanted else page, context, status=status)
    if partial_wanted and push_url:
        # The canonical address of what is shown, rather than the raw form fields htmx sent.
        response["HX-Push-Url"] = push_url
    # The same URL answers with two bodies, so caches must key on the htmx header.
    patch_vary_headers(response, ["HX-Request"])
    return response
