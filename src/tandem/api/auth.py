"""API authentication: bearer API keys, or the browser's session (with CSRF)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from tandem.accounts.services import authenticate_api_key


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer <api key>`; acts with the key owner's rights."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_api_key(raw=token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """The logged-in browser user (CSRF checked on writes)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None
