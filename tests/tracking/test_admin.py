"""What visitors sent is shown as text in the admin too."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from tandem.tracking.models import Event

PAYLOAD = '<script>alert("x")</script>'


def test_raw_events_are_escaped_and_read_only_in_the_admin(world):
    """Given a raw event whose url, referrer and properties carry a script tag, when an admin
    opens its list and change pages, then the tag appears escaped and the page offers no save."""
    now = timezone.now()
    event = Event.objects.create(
        event_id=PAYLOAD,
        type="page_view",
        occurred_at=now,
        received_at=now,
        anonymous_id="a" * 32,
        properties={"title": PAYLOAD},
        context={"url": f"https://site.example/?q={PAYLOAD}", "referrer": PAYLOAD},
    )
    client = Client()
    client.force_login(world.admin)
    for url in ("/admin/tracking/event/", f"/admin/tracking/event/{event.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        assert PAYLOAD.encode() not in page.content
    change = client.get(f"/admin/tracking/event/{event.pk}/change/").content.decode()
    assert "&lt;script&gt;" in change
    assert 'name="_save"' not in change
    assert client.post(f"/admin/tracking/event/{event.pk}/change/", {}).status_code == 403
