"""tandem.js in a real browser: a page on another origin embeds the snippet; events arrive.

The host page is served by a tiny HTTP server on 127.0.0.1 while Tandem runs on localhost, so
the browser really makes cross-origin calls (CORS preflight included), as on a customer's site.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import OperationalError

from tandem.crm.models import Contact, TimelineEvent
from tandem.marketing.services.sources import create_source, revoke_source
from tandem.tracking.models import Event
from tests.web.test_browser import shot

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Acme pricing</title></head>
<body><h1>Pricing</h1>{snippet}</body></html>"""


@pytest.fixture
def host_site() -> Iterator[tuple[str, dict[str, str]]]:
    """An outside website: (its origin, {path: html}) — fill the dict to publish pages."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()


def snippet(tandem_url: str, key: str) -> str:
    return (
        f'<script async src="{tandem_url}/static/tracking/tandem.js" data-key="{key}" '
        f'data-endpoint="{tandem_url}/api/v1/events"></script>'
    )


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until check() is truthy (events arrive asynchronously from the browser)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except OperationalError:
            # The live server's thread is writing (ingestion, then scoring and segments): the
            # in-memory test database's table lock refuses readers at once instead of waiting.
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the browser's events")


def test_the_snippet_tracks_a_visitor_across_origins(
    transactional_db, live_server, page, host_site
):
    origin, pages = host_site
    source, key = create_source(name="Acme website", origins=[origin])
    pages["/pricing"] = HOST_PAGE.format(snippet=snippet(live_server.url, key))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # When a visitor lands from a campaign link
    page.goto(f"{origin}/pricing?utm_source=Google&utm_medium=CPC&utm_campaign=Spring%20Launch")

    # Then a page view arrives with the browser's random first-party id and the UTM tags
    view = wait_for(lambda: Event.objects.filter(type="page_view").first())
    aid = page.evaluate("window.localStorage.getItem('tdm_aid')")
    assert re.fullmatch(r"[0-9a-f]{32}", aid)
    assert view.anonymous_id == aid
    assert view.source_id == source.pk
    assert re.fullmatch(r"[0-9a-f]{32}", view.event_id)
    assert view.context["url"].startswith(f"{origin}/pricing?utm_source=Google")
    assert view.context["utm"] == {"source": "Google", "medium": "CPC", "campaign": "Spring Launch"}
    assert view.properties == {"title": "Acme pricing"}
    assert abs((datetime.now(UTC) - view.occurred_at).total_seconds()) < 60
    cookie = next(c for c in page.context.cookies(origin) if c["name"] == "tdm_aid")
    assert cookie["value"] == aid and cookie["sameSite"] == "Lax"
    # Asked for two years; Chromium caps every cookie at 400 days.
    assert 399 * 86400 < cookie["expires"] - time.time() <= 731 * 86400
    shot(page, "tracking-01-host-page")

    # When the visitor identifies and does something
    page.evaluate(
        "window.tandem.identify('Ann@Example.com', {first_name: 'Ann'});"
        "window.tandem.track('Video play', {seconds: 3})"
    )

    # Then the contact exists with the earlier page view stitched onto its timeline
    wait_for(
        lambda: Event.objects.filter(type="custom:Video play", processed_at__isnull=False).exists()
    )
    ann = wait_for(lambda: Contact.objects.filter(email="ann@example.com").first())
    assert ann.first_name == "Ann"
    types = set(TimelineEvent.objects.filter(contact=ann).values_list("type", flat=True))
    assert {"page_view", "custom:Video play"} <= types
    assert Event.objects.get(type="identify").anonymous_id == aid

    # and the next visit keeps the same id
    page.reload()
    wait_for(lambda: Event.objects.filter(type="page_view").count() == 2)
    assert set(Event.objects.filter(type="page_view").values_list("anonymous_id", flat=True)) == {
        aid
    }
    assert errors == []


def test_the_script_never_breaks_the_host_page(transactional_db, live_server, page, host_site):
    origin, pages = host_site
    source, key = create_source(name="Acme website", origins=[origin])
    revoke_source(source=source)
    pages["/revoked"] = HOST_PAGE.format(snippet=snippet(live_server.url, key))
    pages["/nokey"] = HOST_PAGE.format(
        snippet=f'<script src="{live_server.url}/static/tracking/tandem.js"></script>'
    )
    pages["/elsewhere"] = HOST_PAGE.format(snippet=snippet(live_server.url, key))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    for path in ("/revoked", "/nokey"):
        page.goto(origin + path)
        page.wait_for_function("window.tandem !== undefined")
        # Every call is safe, even with a refused key or none at all.
        page.evaluate(
            "window.tandem.identify('x@example.com'); window.tandem.track('x', [1]);"
            "window.tandem.page(); window.tandem.flush(); window.tandem.identify()"
        )
        page.wait_for_timeout(500)

    assert errors == []
    assert Event.objects.count() == 0


def test_the_live_view_renders_visitor_data_as_text_and_refreshes(
    world, transactional_db, live_server, page
):
    from tandem.tracking import ingest

    source, _ = create_source(name="Acme website", origins=["https://www.example.com"])
    payload = "<img src=x onerror=alert(document.domain)>"
    aid = "c" * 32

    def send(event_id: str) -> None:
        ingest.ingest(
            source_id=source.pk,
            items=[
                {
                    "event_id": event_id,
                    "type": "page_view",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "anonymous_id": aid,
                    "properties": {"title": payload},
                    "context": {
                        "url": f"https://www.example.com/?q={payload}",
                        "referrer": payload,
                    },
                }
            ],
        )

    send("first")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("marketing")
    page.get_by_label("Password").fill("pw-marketing-123")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/marketing/sources/{source.pk}/live/")

    rows = page.locator("#live-events tbody tr")
    from playwright.sync_api import expect

    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"https://www.example.com/?q={payload}")
    shot(page, "tracking-02-live-view")

    # A new event shows up without reloading: the table polls itself.
    send("second")
    expect(rows).to_have_count(2, timeout=8_000)
    assert dialogs == []
    assert page.locator("#live-events img").count() == 0
