"""Write-key authentication for ingestion: a source's public key may only send events."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from tandem.marketing.models import Source
from tandem.marketing.services.sources import source_for_key

UNAUTHORISED = "missing or invalid source write key (Authorization: Bearer tdmw_...)"


class WriteKeyAuth(HttpBearer):
    """`Authorization: Bearer <write key>` of an active source; an API key is not one."""

    def __call__(self, request: HttpRequest) -> Any:
        source = super().__call__(request)
        if source is None:
            # Say which key this route wants: the API-wide message speaks of API keys.
            raise HttpError(401, UNAUTHORISED)
        return source

    def authenticate(self, request: HttpRequest, token: str) -> Source | None:
        return source_for_key(raw=token.strip())
