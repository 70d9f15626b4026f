"""Click redirects go only to registered links; content links record and serve safely."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.crm.models import TimelineEvent
from tandem.marketing import links
from tandem.marketing.models import Touchpoint, TrackedLink
from tandem.tracking.models import Event, Visitor
from tests.marketing.factories import CampaignFactory, ContentAssetFactory

DESTINATION = "https://www.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring_launch"


@pytest.fixture
def link(db):
    campaign = CampaignFactory(channel="email", utm_campaign="spring_launch")
    return TrackedLink.objects.create(url=DESTINATION, campaign=campaign, label="Pricing")


def test_a_signed_click_redirects_to_the_stored_url_and_records_the_touch(link, world):
    """Given a token for a link sent to a known contact, when it is followed, then the browser
    goes to the stored URL, the contact's timeline has the click and the campaign gets a touch."""
    contact = world.rep1_contact
    response = Client().get(
        f"/t/c/{links.click_token(link.pk, contact.pk)}?url=https://evil.example"
    )
    assert response.status_code == 302
    assert response["Location"] == DESTINATION
    assert response["Cache-Control"] == "no-store"
    event = TimelineEvent.objects.get(contact=contact, type="link_click")
    assert event.campaign_id == link.campaign_id
    assert event.properties["url"] == DESTINATION
    touch = Touchpoint.objects.get(contact=contact)
    assert (touch.kind, touch.channel, touch.campaign_id) == ("click", "email", link.campaign_id)
    assert Visitor.objects.filter(anonymous_id=response.cookies["tdm_aid"].value).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/t/c/https://evil.example",
        "/t/c//evil.example",
        "/t/c/%2F%2Fevil.example",
        "/t/c/https%3A%2F%2Fevil.example",
        "/t/c/%68ttps:evil.example",
        "/t/c/",
        "/t/c/" + "a" * 500,
    ],
)
def test_urls_taken_from_the_request_are_never_redirected_to(db, path):
    """Given an absolute, protocol-relative or encoded URL where a token belongs, then 404."""
    response = Client().get(path)
    assert response.status_code == 404
    assert "Location" not in response
    assert not Event.objects.exists()


def test_a_tampered_or_unknown_token_is_a_404(link):
    """Given a token with one character changed, or a valid token for a deleted link, then 404."""
    token = links.click_token(link.pk)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_id = links.click_token(link.pk + 1)
    swapped = other_id.split(".")[0] + "." + token.split(".")[1]
    for bad in (flipped, swapped, links.click_token(link.pk + 1)):
        response = Client().get(f"/t/c/{bad}")
        assert response.status_code == 404
        assert "Location" not in response
    assert Client().post(f"/t/c/{token}").status_code == 405
    assert not Event.objects.exists()


def test_a_link_asset_redirects_to_its_url_and_records_a_view(db):
    """Given a link asset, when its public link is opened, then a content_view is logged and the
    browser goes to the asset's own URL."""
    asset = ContentAssetFactory(url="https://www.example.com/ebook.pdf")
    response = Client().get(f"/c/{asset.public_token}?utm_campaign=%20Spring_Launch%20")
    assert response.status_code == 302
    assert response["Location"] == "https://www.example.com/ebook.pdf"
    event = Event.objects.get()
    assert event.type == "content_view"
    assert event.properties["asset_id"] == asset.pk
    assert event.context["utm"] == {"campaign": "spring_launch"}
    assert event.anonymous_id == response.cookies["tdm_aid"].value


def test_unknown_and_archived_assets_are_404(db):
    asset = ContentAssetFactory(archived=True)
    assert Client().get(f"/c/{asset.public_token}").status_code == 404
    assert Client().get("/c/nope").status_code == 404
    assert not Event.objects.exists()
