"""What public endpoints may believe about a request: client IP, origin, and CORS headers."""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from tandem.marketing.services.sources import normalise_origin

ANONYMOUS_COOKIE = "tdm_aid"
ANONYMOUS_COOKIE_AGE = 2 * 365 * 24 * 3600


def client_ip(request: HttpRequest) -> str | None:
    """The caller's IP: the proxy's last X-Forwarded-For hop when behind one, else the socket's."""
    candidates = []
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The trusted proxy appends the address it saw; anything left of it is client-supplied.
        if forwarded:
            candidates.append(forwarded.split(",")[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def request_origin(request: HttpRequest) -> str | None:
    """The browser's Origin header, normalised; None for same-site-less or server-to-server calls."""
    raw = request.headers.get("Origin")
    if not raw or raw == "null":
        return None
    return normalise_origin(raw) or "invalid"


def own_origin(request: HttpRequest) -> str:
    """This server's own origin as the browser sees it."""
    return normalise_origin(request.build_absolute_uri("/")[:-1]) or ""


def origin_allowed(request: HttpRequest, origins: Iterable[str]) -> bool:
    """No Origin (server-to-server), our own, or one of the configured origins."""
    origin = request_origin(request)
    if origin is None or origin == own_origin(request):
        return True
    return origin in {normalise_origin(o) for o in origins}


def allow_cors(
    response: HttpResponse, request: HttpRequest, origins: Iterable[str]
) -> HttpResponse:
    """Let the calling page read the response, when its origin is one of these (exact match)."""
    origin = request_origin(request)
    if origin and origin != "invalid" and origin in {normalise_origin(o) for o in origins}:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def new_anonymous_id() -> str:
    """A fresh first-party anonymous id: 128 random bits as 32 hex characters."""
    return secrets.token_hex(16)


# 16 to 64 ASCII letters, digits, - or _ (a regex: this runs for every ingested event).
_ANONYMOUS_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def valid_anonymous_id(value: str | None) -> str:
    """The id when it looks like one we (or our script) made, else '' (hostile input is dropped)."""
    if not value or not isinstance(value, str) or not _ANONYMOUS_ID.fullmatch(value):
        return ""
    return value


def visitor_id(request: HttpRequest) -> tuple[str, bool]:
    """The browser's anonymous id from our first-party cookie, or a fresh one (and whether new)."""
    existing = valid_anonymous_id(request.COOKIES.get(ANONYMOUS_COOKIE))
    return (existing, False) if existing else (new_anonymous_id(), True)


def remember_visitor(response: HttpResponseBase, request: HttpRequest, anonymous_id: str) -> None:
    """Keep the anonymous id in our first-party cookie (HttpOnly: only the server reads it)."""
    response.set_cookie(
        ANONYMOUS_COOKIE,
        anonymous_id,
        max_age=ANONYMOUS_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
