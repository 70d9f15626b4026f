"""Click tokens: compact, url-safe, signed; anything tampered or made up parses to None."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from tandem.marketing import links
from tandem.pagination import MAX_ID
from tests.marketing.factories import CampaignFactory

URL_SAFE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def test_round_trip_with_and_without_a_contact():
    assert links.parse_click_token(links.click_token(42)) == (42, None)
    assert links.parse_click_token(links.click_token(42, 7)) == (42, 7)
    assert links.parse_click_token(links.click_token(MAX_ID, MAX_ID)) == (MAX_ID, MAX_ID)


def test_tokens_are_compact_and_url_safe():
    token = links.click_token(123_456, 9_876_543)
    assert URL_SAFE.match(token)
    # base-36 ids, a dot, then a 43-character SHA-256 signature
    assert token.startswith("2n9c-5vosf.")
    assert len(token) == len("2n9c-5vosf.") + 43


def test_different_ids_give_different_tokens():
    assert links.click_token(1) != links.click_token(2)
    assert links.click_token(1, 2) != links.click_token(1, 3)


def _flip(char: str) -> str:
    return "A" if char != "A" else "B"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: "2" + t[1:],  # another link id, old signature
        lambda t: t.replace("-", "-1", 1),  # another contact id
        lambda t: t.split("-")[0] + "." + t.split(".")[1],  # contact id dropped
        lambda t: t[:-1] + _flip(t[-1]),  # signature changed
        lambda t: t[:-3],  # signature cut short
        lambda t: t.split(".")[0],  # no signature
        lambda t: t + ".x",  # extra part
        lambda t: t.upper(),
    ],
)
def test_tampered_tokens_are_none(tamper):
    token = links.click_token(1, 99)
    assert links.parse_click_token(tamper(token)) is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "a.b",
        "x" * 5000,
        "../../etc/passwd",
        "\x00",
        "\ud800.abc",
        None,
        123,
        ["a"],
        "https://evil.example/",
    ],
)
def test_garbage_is_none_never_an_exception(garbage):
    assert links.parse_click_token(garbage) is None


def test_a_token_signed_with_another_salt_is_refused():
    """Another feature's signature over the same value cannot be replayed as a click token."""
    value = links.click_token(5).split(".")[0]
    other = signing.Signer(salt="tandem.other", sep=".", algorithm="sha256").sign(value)
    assert links.parse_click_token(other) is None


def test_a_validly_signed_value_that_is_not_ours_is_none():
    """Even correctly signed, only plain base-36 ids in range are accepted."""
    signer = signing.Signer(salt=links.SALT, sep=".", algorithm="sha256")
    for value in ("0", "-5", " 5", "5_0", "Z", "5-", "5-0", "zzzzzzzzzzzzzzzz", "1-2-3"):
        assert links.parse_click_token(signer.sign(value)) is None, value


def test_ids_out_of_range_cannot_be_signed():
    for args in ((0,), (MAX_ID + 1,), (1, 0), (-1,)):
        with pytest.raises(ValueError):
            links.click_token(*args)


def test_tracked_url_uses_the_click_route(db):
    """tracked_url is the absolute address of tracking:click with the link's token (once the
    tracking app registers that route)."""
    try:
        reverse("tracking:click", args=["x"])
    except NoReverseMatch:
        pytest.skip("the tracking:click route is not registered yet")
    link = CampaignFactory().links.create(url="https://example.com/")
    request = RequestFactory().get("/")
    url = links.tracked_url(request, link)
    prefix = "http://testserver/t/c/"
    assert url.startswith(prefix)
    assert links.parse_click_token(url.removeprefix(prefix)) == (link.pk, None)
    with_contact = links.tracked_url(request, link, contact_id=31)
    assert links.parse_click_token(with_contact.removeprefix(prefix)) == (link.pk, 31)
