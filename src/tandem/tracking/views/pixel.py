"""The 1x1 tracking pixel: the no-JavaScript fallback of the tracking script."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tandem.marketing.services.sources import source_for_key
from tandem.tracking import http, ingest

# The smallest transparent GIF (1x1, one transparent colour): 43 bytes.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _gif() -> HttpResponse:
    response = HttpResponse(GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def pixel(request: HttpRequest) -> HttpResponse:
    """Always the GIF; a page view is stored only for a valid key and valid values.

    `?k=<write key>&aid=<anonymous id>&url=&ref=&type=page_view`. Without `aid`, the browser's
    first-party cookie on this host (set by our own pages and links) names the visitor; without
    `url`, the Referer header (the page that shows the image).
    """
    params = request.GET
    if params.get("type", "page_view") != "page_view":
        return _gif()
    source = source_for_key(raw=params.get("k", ""))
    if source is None:
        return _gif()
    aid = params.get("aid")
    if aid is None:
        aid = http.valid_anonymous_id(request.COOKIES.get(http.ANONYMOUS_COOKIE)) or None
    # A <noscript> image cannot fill in its page's URL: the browser's Referer names the page.
    url = params.get("url") or request.headers.get("Referer", "")
    context = {k: v for k, v in (("url", url), ("referrer", params.get("ref"))) if v}
    item = {
        "event_id": f"px-{secrets.token_hex(16)}",
        "type": "page_view",
        "occurred_at": datetime.now(UTC).isoformat(),
        "anonymous_id": aid,
        "context": context,
    }
    # The same checks and insert as the events API (query strings may hold NULs: checked).
    ingest.ingest(
        source_id=source.pk,
        items=[item],
        ip=http.client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return _gif()
