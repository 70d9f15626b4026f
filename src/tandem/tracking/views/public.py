"""Public redirects: tracked link clicks and content links, each recorded before it answers."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from tandem.crm.models import Contact
from tandem.marketing import links, utm
from tandem.marketing.models import TrackedLink
from tandem.marketing.queries import content as content_queries
from tandem.marketing.services.content import file_response
from tandem.tracking import http, services


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponseBase:
    """Record a click on a registered link and redirect to its stored destination (never the request's)."""
    parsed = links.parse_click_token(token)
    if parsed is None:
        raise Http404("unknown link")
    link_id, contact_id = parsed
    link = get_object_or_404(TrackedLink.objects.select_related("campaign"), pk=link_id)
    contact = Contact.objects.filter(pk=contact_id).first() if contact_id else None
    anonymous_id, new = http.visitor_id(request)
    services.record_server_event(
        type="link_click",
        anonymous_id=anonymous_id,
        contact=contact,
        properties={"link_id": link.pk, "label": link.label},
        context={
            "url": link.url,
            "referrer": request.headers.get("Referer", "")[:2000],
            "utm": utm.utm_from_url(link.url),
        },
    )
    response = _no_store(HttpResponseRedirect(link.url))
    if new:
        http.remember_visitor(response, request, anonymous_id)
    return response


@require_GET
def content(request: HttpRequest, token: str) -> HttpResponseBase:
    """Record a view (a link asset) or download (a file asset) and serve it safely."""
    asset = content_queries.public_asset(token)
    if asset is None:
        raise Http404("unknown content")
    anonymous_id, new = http.visitor_id(request)
    is_file = bool(asset.file)
    # Built first: a file missing from storage is a 404, not a recorded download.
    if is_file:
        response: HttpResponseBase = file_response(asset, download=request.GET.get("inline") != "1")
    else:
        response = HttpResponseRedirect(asset.url)
    services.record_server_event(
        type=content_queries.CONTENT_DOWNLOAD if is_file else content_queries.CONTENT_VIEW,
        anonymous_id=anonymous_id,
        properties={"asset_id": asset.pk, "title": asset.title, "asset_type": asset.type},
        context={
            "url": request.build_absolute_uri()[:2000],
            "referrer": request.headers.get("Referer", "")[:2000],
            "utm": utm.parse_utm(request.GET),
        },
    )
    _no_store(response)
    if new:
        http.remember_visitor(response, request, anonymous_id)
    return response
