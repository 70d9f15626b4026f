"""After the sale from the deal pages and API: upsells, follow-ons and referral credit."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tandem.sales.models import Deal
from tests.sales.factories import DealFactory, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def won(world: Any) -> Deal:
    """Given rep1's won deal with Acme."""
    return DealFactory(
        name="Acme rollout",
        owner=world.rep1,
        company=world.acme,
        status="won",
        stage=stage("Closed Won"),
        closed_at=timezone.now(),
    )


def test_rep_opens_an_upsell_on_a_won_deal(world: Any, client_as: Any, won: Deal) -> None:
    """When rep1 opens an upsell, then it continues the deal, in the renewals pipeline, owned by rep1."""
    response = client_as("rep1").post(
        f"/sales/deals/{won.pk}/upsell/", {"name": "Acme seats", "amount": "3600.00"}
    )
    upsell = Deal.objects.get(name="Acme seats")
    assert response.status_code == 302 and response.url == f"/sales/deals/{upsell.pk}/"
    assert (upsell.kind, upsell.parent_id, upsell.owner_id, upsell.company_id) == (
        "upsell",
        won.pk,
        world.rep1.pk,
        world.acme.pk,
    )
    assert upsell.pipeline.name == "Renewals and upsells" and upsell.status == "open"
    panel = client_as("rep1").get(f"/sales/deals/{won.pk}/onboarding/").content.decode()
    assert "Acme seats" in panel and "Upsell" in panel
    back = client_as("rep1").get(f"/sales/deals/{upsell.pk}/onboarding/").content.decode()
    assert "Continues" in back and "Acme rollout" in back


def test_upsell_refusals(world: Any, client_as: Any, won: Deal) -> None:
    """Marketing may not open deals (403), rep3 cannot see the deal (404), bad amounts are 422."""
    body = {"name": "X", "amount": "10"}
    assert client_as("marketing").post(f"/sales/deals/{won.pk}/upsell/", body).status_code == 403
    assert client_as("rep3").post(f"/sales/deals/{won.pk}/upsell/", body).status_code == 404
    bad = client_as("rep1").post(f"/sales/deals/{won.pk}/upsell/", {"name": "X", "amount": "-5"})
    assert bad.status_code == 422
    open_deal = DealFactory(owner=world.rep1)
    refused = client_as("rep1").post(f"/sales/deals/{open_deal.pk}/upsell/", body)
    assert refused.status_code == 422 and "won" in refused.content.decode()
    assert Deal.objects.filter(kind="upsell").count() == 0


def test_new_deal_page_credits_a_referrer(world: Any, client_as: Any) -> None:
    """A deal created with "Referred by" names the referrer; an email rep1 cannot see is refused."""
    form = {
        "name": "Initech pilot",
        "amount": "2500",
        "currency": "USD",
        "pipeline": str(stage("Discovery").pipeline_id),
        "kind": "new_business",
        "owner": "rep1",
        "referred_by_email": world.rep1_contact.email,
    }
    response = client_as("rep1").post("/sales/deals/new/", form)
    deal = Deal.objects.get(name="Initech pilot")
    assert response.status_code == 302 and deal.referred_by_id == world.rep1_contact.pk
    hidden = client_as("rep1").post(
        "/sales/deals/new/", form | {"name": "Other", "referred_by_email": world.rep3_contact.email}
    )
    assert hidden.status_code == 422 and "no contact you can see" in hidden.content.decode()
    assert not Deal.objects.filter(name="Other").exists()


def test_api_creates_a_referred_deal(world: Any, api_as: Any) -> None:
    """POST /deals with referred_by_id credits that contact; one out of sight is a 400 naming it."""
    api = api_as("rep1")
    created = api.post("/deals", {"name": "Ref", "referred_by_id": world.rep1_contact.pk})
    assert created.status_code == 201 and created.json()["referred_by_id"] == world.rep1_contact.pk
    refused = api.post("/deals", {"name": "Ref2", "referred_by_id": world.rep3_contact.pk})
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"contact {world.rep3_contact.pk} does not exist"
    assert not Deal.objects.filter(name="Ref2").exists()
