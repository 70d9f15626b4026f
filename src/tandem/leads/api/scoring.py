"""scoring API."""

from __future__ import annotations

from ninja import Router

scoring_router = Router(tags=["scoring"])
