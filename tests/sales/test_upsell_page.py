"""Opening an upsell from a won deal's page, and the follow-ons shown there."""

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
