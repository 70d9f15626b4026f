"""Placeholder replaced by the module's owner."""

from ninja import Router

router = Router(tags=["analytics"])
