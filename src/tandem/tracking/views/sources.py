"""Tracking source pages: list, create (key shown once), edit origins, rotate, revoke, live events."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic_core import to_json

from tandem.crm.views.common import AuthedRequest, form_error
from tandem.errors import DomainError
from tandem.htmx import render_page
from tandem.marketing.models import Source
from tandem.marketing.services import sources as services
from tandem.marketing.views.common import require_manage
from tandem.tracking import queries

LIVE_POLL_SECONDS = 3
_SEPARATORS = re.compile(r"[\s,]+")


class SourceForm(forms.Form):
    """A source's name and the browser origins allowed to send its events."""

    name = forms.CharField(max_length=120, label="Name")
    origins = forms.CharField(
        required=False,
        max_length=5000,
        label="Allowed origins",
        help_text="One per line, e.g. https://www.example.com (scheme, host and port; no path)",
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
    )

    def origin_list(self) -> list[str]:
        return [o for o in _SEPARATORS.split(self.cleaned_data.get("origins") or "") if o]


def _require_manage(request: AuthedRequest) -> None:
    require_manage(request.user, what="tracking sources")


def _source(pk: int) -> Source:
    return get_object_or_404(Source, pk=pk)


def snippet(request: HttpRequest, raw_key: str) -> dict[str, str]:
    """The ready-to-paste tags for a site: the script, and the pixel for browsers without JS."""
    script_src = request.build_absolute_uri(static("tracking/tandem.js"))
    endpoint = request.build_absolute_uri(reverse("api:ingest_events"))
    pixel = request.build_absolute_uri(reverse("tracking:pixel"))
    return {
        "script": (
            f'<script async src="{script_src}" data-key="{raw_key}" '
            f'data-endpoint="{endpoint}"></script>\n'
            f'<noscript><img src="{pixel}?k={raw_key}" width="1" height="1" alt="" '
            'style="position:absolute"></noscript>'
        ),
        "endpoint": endpoint,
    }


def _show_key(
    request: AuthedRequest, source: Source, raw_key: str, *, rotated: bool
) -> HttpResponse:
    """The one page that ever shows a raw write key; never cached."""
    context = {
        "source": source,
        "raw_key": raw_key,
        "rotated": rotated,
        **snippet(request, raw_key),
    }
    response = render(request, "tracking/source_key.html", context)
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def source_list(request: AuthedRequest) -> HttpResponse:
    """Every source with its origins, key prefix, status and events of the last 24 hours."""
    _require_manage(request)
    counts = queries.events_last_day()
    rows = [(s, counts.get(s.pk, 0)) for s in queries.sources()]
    return render(request, "tracking/source_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def source_new(request: AuthedRequest) -> HttpResponse:
    """Create a source; its write key and snippet are shown once."""
    _require_manage(request)
    form = SourceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                source, raw_key = services.create_source(
                    name=form.cleaned_data["name"], origins=form.origin_list(), by=request.user
                )
            except DomainError as exc:
                status = form_error(form, exc)
            else:
                return _show_key(request, source, raw_key, rotated=False)
        else:
            status = 422
    return render(request, "tracking/source_form.html", {"form": form}, status=status)


@login_required
@require_GET
def source_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One source: its settings, the snippet to paste (key elided) and the way to its live view."""
    _require_manage(request)
    source = _source(pk)
    form = SourceForm(initial={"name": source.name, "origins": "\n".join(source.origins)})
    context: dict[str, Any] = {
        "source": source,
        "form": form,
        "events_24h": queries.events_last_day().get(source.pk, 0),
        **snippet(request, f"{source.key_prefix}…"),
    }
    return render(request, "tracking/source_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def source_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Rename a source or change its allowed origins."""
    _require_manage(request)
    source = _source(pk)
    if request.method == "GET":
        return redirect("web:source", pk=source.pk)
    form = SourceForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.update_source(
                source=source, name=form.cleaned_data["name"], origins=form.origin_list()
            )
        except DomainError as exc:
            status = form_error(form, exc)
        else:
            messages.success(request, "Source saved.")
            return redirect("web:source", pk=source.pk)
    source.refresh_from_db()
    context: dict[str, Any] = {
        "source": source,
        "form": form,
        "events_24h": queries.events_last_day().get(source.pk, 0),
        **snippet(request, f"{source.key_prefix}…"),
    }
    return render(request, "tracking/source_detail.html", context, status=status)


@login_required
@require_POST
def source_rotate(request: AuthedRequest, pk: int) -> HttpResponse:
    """Give the source a new write key (the old one stops at once) and show it once."""
    _require_manage(request)
    source, raw_key = services.rotate_write_key(source=_source(pk))
    return _show_key(request, source, raw_key, rotated=True)


@login_required
@require_POST
def source_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    """Stop accepting the source's events."""
    _require_manage(request)
    source = services.revoke_source(source=_source(pk))
    messages.success(request, f"{source.name} is revoked: its key no longer sends events.")
    return redirect("web:source", pk=source.pk)


@login_required
@require_GET
def source_live(request: AuthedRequest, pk: int) -> HttpResponse:
    """The newest raw events of a source, refreshed by htmx polling."""
    _require_manage(request)
    source = _source(pk)
    context = {
        "source": source,
        "events": [_live_row(e) for e in queries.recent_events(source)],
        "poll_seconds": LIVE_POLL_SECONDS,
        "limit": queries.LIVE_EVENTS,
    }
    return render_page(
        request,
        page="tracking/source_live.html",
        partial="tracking/_source_live_table.html",
        context=context,
    )


def _live_row(event: Any) -> dict[str, Any]:
    """What the live table shows of one raw event (all of it visitor data, escaped on render)."""
    context = event.context if isinstance(event.context, dict) else {}
    raw_utm = context.get("utm")
    utm: dict[str, Any] = raw_utm if isinstance(raw_utm, dict) else {}
    return {
        "event": event,
        "url": context.get("url", ""),
        "referrer": context.get("referrer", ""),
        "utm": " · ".join(f"{k}={v}" for k, v in utm.items()),
        "properties": _compact(event.properties),
    }


def _compact(value: Any, limit: int = 300) -> str:
    """Properties as one line of JSON, shortened for the table."""
    if not value:
        return ""
    text = to_json(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"
