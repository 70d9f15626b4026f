"""segments API."""

from __future__ import annotations

from ninja import Router

segments_router = Router(tags=["segments"])
