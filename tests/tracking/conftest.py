"""Fixtures for tracking tests: a source with its raw write key, and a poster for /api/v1/events."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from tandem.marketing.models import Source
from tandem.marketing.services.sources import create_source
from tests.web.test_browser import page  # noqa: F401

AID = "a" * 32
ORIGIN = "https://www.example.com"


@dataclass
class Site:
    source: Source
    key: str


@pytest.fixture
def site(db: Any) -> Site:
    source, key = create_source(name="Website", origins=[ORIGIN, "http://localhost:3000"])
    return Site(source, key)


def when(minutes_ago: int = 10) -> str:
    """An ISO-8601 time a few minutes back."""
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def event(event_id: str = "e1", type: str = "page_view", **fields: Any) -> dict[str, Any]:
    """A valid event, with fields overridden (None removes the field)."""
    base: dict[str, Any] = {
        "event_id": event_id,
        "type": type,
        "occurred_at": when(),
        "anonymous_id": AID,
        "context": {"url": "https://www.example.com/pricing", "referrer": ""},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def post_events(
    django_capture_on_commit_callbacks: Any,
) -> Callable[..., Any]:
    """post_events(key, events or raw body, origin=None) → the response; on-commit jobs run."""

    def post(key: str | None, body: Any, *, origin: str | None = None, **headers: Any) -> Any:
        client = Client()
        data = body if isinstance(body, (bytes, str)) else json.dumps({"events": body})
        extra = dict(headers)
        if key is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        if origin is not None:
            extra["HTTP_ORIGIN"] = origin
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/events", data, content_type="application/json", **extra)

    return post
