"""The API docs page works offline: its assets come from our static files, not a CDN."""

from __future__ import annotations

from django.test import Client


def test_docs_use_bundled_assets(db):
    body = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body
    assert "cdn." not in body and "unpkg" not in body
