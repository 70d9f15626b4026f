"""/api/v1/campaigns: everyone signed in reads, marketing and admins write, errors in house format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tandem.marketing.models import Campaign, CampaignCost
from tests.marketing.factories import CampaignCostFactory, CampaignFactory, PersonaFactory


def test_marketing_creates_a_campaign(world, api_as):
    persona = PersonaFactory()
    response = api_as("marketing").post(
        "/campaigns",
        {
            "name": "Spring Launch",
            "channel": "paid_social",
            "personas": [persona.pk],
            "starts_on": "2025-03-01",
            "ends_on": "2025-03-31",
            "budget": "5000.00",
            "currency": "eur",
            "utm_campaign": "  Spring  Launch ",
        },
    )
    assert response.status_code == 201
    body = response.json()
    campaign = Campaign.objects.get()
    assert body == {
        "id": campaign.pk,
        "name": "Spring Launch",
        "channel": "paid_social",
        "objective": "",
        "personas": [persona.pk],
        "journey_stage": "awareness",
        "starts_on": "2025-03-01",
        "ends_on": "2025-03-31",
        "status": "planned",
        "budget": "5000.00",
        "currency": "EUR",
        "utm_source": "linkedin",
        "utm_medium": "paid_social",
        "utm_campaign": "spring launch",
        "owner": "marketing",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


@pytest.mark.parametrize("role", ["manager", "rep1"])
def test_sales_reads_but_may_not_write(world, api_as, role):
    campaign = CampaignFactory()
    api = api_as(role)
    assert api.get("/campaigns").status_code == 200
    assert api.get(f"/campaigns/{campaign.pk}").status_code == 200
    assert api.get(f"/campaigns/{campaign.pk}/costs").status_code == 200
    refused = api.post("/campaigns", {"name": "X", "channel": "email"})
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "only admins and marketing may change campaigns"},
    )
    assert api.patch(f"/campaigns/{campaign.pk}", {"name": "Y"}).status_code == 403
    cost = {"incurred_on": "2025-01-01", "amount": "5"}
    assert api.post(f"/campaigns/{campaign.pk}/costs", cost).status_code == 403
    assert Campaign.objects.count() == 1
    assert CampaignCost.objects.count() == 0


def test_no_key_is_401_and_unknown_campaign_404(world, api_as):
    from tests.conftest import ApiClient

    assert ApiClient(None).get("/campaigns").status_code == 401
    missing = api_as("admin").get("/campaigns/999999")
    assert (missing.status_code, missing.json()) == (404, {"detail": "not found"})
    assert api_as("rep1").patch("/campaigns/999999", {"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"name": "A", "channel": "tv"}, 400, "channel 'tv' is not one of"),
        ({"name": " ", "channel": "email"}, 400, "name is required"),
        ({"name": "A", "channel": "email", "budget": "-1"}, 400, "budget must be a non-negative"),
        ({"name": "A", "channel": "email", "personas": [424242]}, 400, "no persona has the id"),
        (
            {"name": "A", "channel": "email", "starts_on": "2025-02-02", "ends_on": "2025-02-01"},
            400,
            "ends_on (2025-02-01) is before starts_on (2025-02-02)",
        ),
        ({"name": "A", "channel": "email", "currency": "euro"}, 400, "currency 'EURO' must be"),
        ({"name": "A\x00", "channel": "email"}, 400, "name contains a NUL character"),
        ({"channel": "email"}, 422, None),
        ({"name": "A", "channel": "email", "starts_on": "March"}, 422, None),
        ({"name": "A", "channel": "email", "personas": [0]}, 422, None),
    ],
)
def test_bad_input_is_a_clear_4xx(world, api_as, body, status, detail):
    response = api_as("marketing").post("/campaigns", body)
    assert response.status_code == status
    if detail is not None:
        assert response.json()["detail"].startswith(detail)
    assert Campaign.objects.count() == 0


def test_taken_utm_campaign_is_409_with_the_existing_id(world, api_as):
    existing = CampaignFactory(utm_campaign="brand")
    response = api_as("admin").post(
        "/campaigns", {"name": "Brand 2", "channel": "display", "utm_campaign": "BRAND"}
    )
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": f"utm_campaign 'brand' is already used by campaign {existing.pk}",
            "existing_id": existing.pk,
        },
    )


def test_patch_changes_only_what_is_sent(world, api_as):
    campaign = CampaignFactory(name="Old", status="planned", budget=Decimal("10"))
    persona = PersonaFactory()
    api = api_as("marketing")
    response = api.patch(
        f"/campaigns/{campaign.pk}",
        {"status": "active", "personas": [persona.pk], "budget": None},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["status"], body["personas"], body["budget"]) == (
        "Old",
        "active",
        [persona.pk],
        None,
    )
    null_name = api.patch(f"/campaigns/{campaign.pk}", {"name": None})
    assert (null_name.status_code, null_name.json()) == (400, {"detail": "name may not be null"})


def test_list_filters_and_keyset_pages(world, api_as):
    made = [CampaignFactory(channel="email" if i % 2 else "webinar") for i in range(5)]
    api = api_as("rep1")
    first = api.get("/campaigns", limit=2).json()
    assert [c["id"] for c in first["items"]] == [made[0].pk, made[1].pk]
    second = api.get("/campaigns", limit=2, cursor=first["next_cursor"]).json()
    third = api.get("/campaigns", limit=2, cursor=second["next_cursor"]).json()
    assert [c["id"] for c in second["items"] + third["items"]] == [m.pk for m in made[2:]]
    assert third["next_cursor"] is None
    emails = api.get("/campaigns", channel="email").json()["items"]
    assert [c["id"] for c in emails] == [made[1].pk, made[3].pk]
    assert api.get("/campaigns", status="active").json()["items"][0]["id"] == made[0].pk
    bad = api.get("/campaigns", channel="tv")
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("channel must be one of email")
    assert api.get("/campaigns", cursor="nope").status_code == 400
    assert api.get("/campaigns", limit=501).status_code == 422


def test_costs_are_added_and_listed(world, api_as):
    campaign = CampaignFactory(currency="GBP")
    older = CampaignCostFactory(campaign=campaign, amount=Decimal("3"), currency="GBP")
    api = api_as("marketing")
    response = api.post(
        f"/campaigns/{campaign.pk}/costs",
        {"incurred_on": "2025-05-05", "amount": "12.50", "description": "Booth"},
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("incurred_on", "amount", "currency", "origin", "import_key")} == {
        "incurred_on": "2025-05-05",
        "amount": "12.50",
        "currency": "GBP",
        "origin": "manual",
        "import_key": None,
    }
    listed = api_as("rep1").get(f"/campaigns/{campaign.pk}/costs").json()
    assert [c["id"] for c in listed["items"]] == [older.pk, body["id"]]
    zero = api.post(f"/campaigns/{campaign.pk}/costs", {"incurred_on": "2025-05-05", "amount": 0})
    assert (zero.status_code, zero.json()) == (400, {"detail": "amount must be greater than zero"})
    huge = api.post(
        f"/campaigns/{campaign.pk}/costs", {"incurred_on": "2025-05-05", "amount": "1e20"}
    )
    assert huge.status_code == 400
    assert api.post(f"/campaigns/{campaign.pk}/costs", {"amount": "5"}).status_code == 422
