"""The 1x1 pixel: always the same 43-byte GIF, uncached; a page view only for valid input."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.marketing.services.sources import revoke_source
from tandem.tracking.models import Event
from tandem.tracking.views.pixel import GIF
from tests.tracking.conftest import AID

pytestmark = pytest.mark.django_db

URL = "/t/p.gif"


def get(params: dict[str, str], **headers: str):
    return Client().get(URL, params, **headers)


def assert_gif(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == GIF
    assert len(response.content) == 43
    assert response.content.startswith(b"GIF89a\x01\x00\x01\x00")
    assert "no-store" in response["Cache-Control"]


def test_a_valid_hit_records_a_page_view(site):
    response = get(
        {
            "k": site.key,
            "aid": AID,
            "url": "https://www.example.com/pricing?utm_source=news&utm_medium=email",
            "ref": "https://mail.example.org/",
            "type": "page_view",
        },
        HTTP_USER_AGENT="Mail client",
    )

    assert_gif(response)
    stored = Event.objects.get()
    assert (stored.source_id, stored.type, stored.anonymous_id) == (
        site.source.pk,
        "page_view",
        AID,
    )
    assert stored.event_id.startswith("px-")
    assert stored.context == {
        "url": "https://www.example.com/pricing?utm_source=news&utm_medium=email",
        "referrer": "https://mail.example.org/",
        "ip": "127.0.0.1",
        "user_agent": "Mail client",
    }


def test_without_url_the_referer_names_the_page_and_the_cookie_the_visitor(site):
    client = Client()
    client.cookies["tdm_aid"] = "b" * 32

    response = client.get(URL, {"k": site.key}, HTTP_REFERER="https://www.example.com/blog/post")

    assert_gif(response)
    stored = Event.objects.get()
    assert stored.anonymous_id == "b" * 32
    assert stored.context["url"] == "https://www.example.com/blog/post"


def test_two_hits_are_two_page_views(site):
    get({"k": site.key, "aid": AID})
    get({"k": site.key, "aid": AID})

    assert Event.objects.count() == 2


KEY = "<the source's key>"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"aid": AID, "url": "https://www.example.com/"},
        {"k": "tdmw_unknown", "aid": AID},
        {"k": "tdm_an_api_key", "aid": AID},
        {"k": KEY, "aid": "not valid!", "url": "https://www.example.com/"},
        {"k": KEY, "aid": AID, "type": "identify"},
        {"k": KEY, "aid": AID, "type": "custom:x"},
        {"k": KEY, "aid": AID, "url": "https://www.example.com/" + "a" * 2100},
        {"k": KEY, "aid": AID, "url": "https://www.example.com/\x00"},
        {"k": KEY, "aid": AID, "ref": "\x00"},
    ],
)
def test_an_invalid_hit_still_answers_the_gif_and_stores_nothing(site, params):
    params = {k: site.key if v == KEY else v for k, v in params.items()}

    response = get(params)

    assert_gif(response)
    assert Event.objects.count() == 0


def test_a_revoked_key_stores_nothing(site):
    revoke_source(source=site.source)

    assert_gif(get({"k": site.key, "aid": AID}))
    assert Event.objects.count() == 0


def test_only_get_is_allowed(site):
    assert Client().post(URL, {"k": site.key}).status_code == 405
