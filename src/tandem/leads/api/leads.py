"""leads API."""

from __future__ import annotations

from ninja import Router

leads_router = Router(tags=["leads"])
