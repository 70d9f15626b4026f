"""The deals and pipelines API: contract fields, ownership on every route, bad input, pagination."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tandem.crm.models import Contact
from tandem.sales.models import Deal, DealContact, Product
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.sales.factories import DealFactory, stage

CONTRACT_FIELDS = {
    "id",
    "name",
    "amount",
    "currency",
    "pipeline",
    "stage",
    "status",
    "owner",
    "company_id",
    "expected_close_date",
    "closed_at",
}


def put(api: Any, path: str, body: Any) -> Any:
    return api.client.put(
        "/api/v1" + path, json.dumps(body), content_type="application/json", **api.headers
    )


@pytest.fixture
def deals(world: World) -> dict[str, Deal]:
    """One deal for rep1, rep2 (teammate), rep3 (west), and one unassigned in east."""
    return {
        "rep1": DealFactory(owner=world.rep1, company=world.acme, name="Rep1 deal"),
        "rep2": DealFactory(owner=world.rep2, name="Rep2 deal"),
        "rep3": DealFactory(owner=world.rep3, company=world.globex, name="Rep3 deal"),
        "east": DealFactory(owner=None, team=world.east, name="East pool deal"),
    }


# ---------------------------------------------------------------- reading


def test_a_deal_carries_the_contract_fields(world: World, api_as: Any, deals: dict) -> None:
    deal = deals["rep1"]
    DealContact.objects.create(
        deal=deal,
        contact=world.rep1_contact,
        role="champion",
        is_primary=True,
        added_at=deal.created_at,
    )
    body = api_as("rep1").get(f"/deals/{deal.pk}").json()
    assert set(body) >= CONTRACT_FIELDS
    assert {k: body[k] for k in CONTRACT_FIELDS} == {
        "id": deal.pk,
        "name": "Rep1 deal",
        "amount": "10000.00",
        "currency": "USD",
        "pipeline": "New business",
        "stage": "Discovery",
        "status": "open",
        "owner": "rep1",
        "company_id": world.acme.pk,
        "expected_close_date": None,
        "closed_at": None,
    }
    assert body["contacts"] == [
        {"contact_id": world.rep1_contact.pk, "role": "champion", "is_primary": True}
    ]
    assert (body["amount_base"], body["kind"], body["lost_reason"]) == (
        "10000.00",
        "new_business",
        None,
    )


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("rep1", {"rep1", "east"}),
        ("rep2", {"rep2", "east"}),
        ("rep3", {"rep3"}),
        ("manager", {"rep1", "rep2", "east"}),
        ("marketing", {"rep1", "rep2", "rep3", "east"}),
        ("admin", {"rep1", "rep2", "rep3", "east"}),
    ],
)
def test_each_role_lists_and_reads_only_the_deals_it_may_see(
    api_as: Any, deals: dict, who: str, sees: set
) -> None:
    api = api_as(who)
    listed = {item["id"] for item in api.get("/deals").json()["items"]}
    assert listed == {deals[k].pk for k in sees}
    for key, deal in deals.items():
        assert api.get(f"/deals/{deal.pk}").status_code == (200 if key in sees else 404)


def test_without_a_key_every_route_is_401(deals: dict) -> None:
    client = Client()
    pk = deals["rep1"].pk
    assert client.get("/api/v1/deals").status_code == 401
    assert client.get(f"/api/v1/deals/{pk}").status_code == 401
    assert (
        client.patch(f"/api/v1/deals/{pk}", "{}", content_type="application/json").status_code
        == 401
    )
    assert client.post("/api/v1/deals", "{}", content_type="application/json").status_code == 401
    assert client.get("/api/v1/pipelines").status_code == 401


def test_filters_narrow_the_list(world: World, api_as: Any, deals: dict) -> None:
    api = api_as("admin")
    won = DealFactory(
        owner=world.rep1,
        status="won",
        stage=stage("Closed Won"),
        closed_at=deals["rep1"].created_at,
    )

    def ids(**params: Any) -> set[int]:
        response = api.get("/deals", **params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids(status="won") == {won.pk}
    assert ids(owner="rep1") == {deals["rep1"].pk, won.pk}
    assert ids(owner="none") == {deals["east"].pk}
    assert ids(company_id=world.globex.pk) == {deals["rep3"].pk}
    assert ids(stage="closed won") == {won.pk}
    assert ids(stage=str(stage("Closed Won").pk)) == {won.pk}
    assert len(ids(pipeline="New business")) == 5
    assert ids(pipeline="Renewals and upsells") == set()
    bad = api.get("/deals", status="pending")
    assert (bad.status_code, bad.json()["detail"]) == (400, "status must be one of open, won, lost")


def test_keyset_pages_walk_the_whole_list_with_few_queries(
    world: World, api_as: Any, django_assert_max_num_queries: Any
) -> None:
    made = [DealFactory(owner=world.rep1) for _ in range(7)]
    for deal in made:
        DealContact.objects.create(
            deal=deal,
            contact=world.rep1_contact,
            role="user",
            is_primary=True,
            added_at=deal.created_at,
        )
    api = api_as("rep1")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        # auth (key + user) + page ids/rows + contacts prefetch
        with django_assert_max_num_queries(8):
            body = api.get("/deals", **params).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(d.pk for d in made)
    assert api.get("/deals", cursor="garbage").status_code == 400


def test_the_list_query_count_does_not_grow_with_the_page(
    world: World, api_as: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(40):
        deal = DealFactory(owner=world.rep1, company=world.acme)
        DealContact.objects.create(
            deal=deal,
            contact=ContactFactory(),
            role="user",
            is_primary=True,
            added_at=deal.created_at,
        )
    api = api_as("rep1")
    with django_assert_max_num_queries(8):
        response = api.get("/deals", limit=50)
    assert len(response.json()["items"]) == 40


# ---------------------------------------------------------------- creating


def test_a_rep_creates_a_deal_for_an_sql_contact(world: World, api_as: Any) -> None:
    world.rep1_contact.lifecycle_stage = "sql"
    world.rep1_contact.save()
    response = api_as("rep1").post(
        "/deals",
        {
            "name": "Acme expansion",
            "amount": "5000",
            "currency": "EUR",
            "stage": "Demo",
            "company_id": world.acme.pk,
            "expected_close_date": "2026-06-30",
            "contacts": [{"contact_id": world.rep1_contact.pk, "role": "champion"}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["stage"], body["amount"], body["amount_base"], body["status"]) == (
        "rep1",
        "Demo",
        "5000.00",
        "5400.00",
        "open",
    )
    assert body["expected_close_date"] == "2026-06-30"
    assert Contact.objects.get(pk=world.rep1_contact.pk).lifecycle_stage == "opportunity"


def test_creating_with_line_items_takes_their_total(world: World, api_as: Any) -> None:
    product = Product.objects.create(name="Seat", sku="SEAT", unit_price=Decimal("50.00"))
    response = api_as("rep1").post(
        "/deals",
        {
            "name": "Seats",
            "line_items": [{"product_id": product.pk, "quantity": "4", "discount_percent": "25"}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["line_items"][0]["total"]) == ("150.00", "150.00")


def test_create_permissions(world: World, api_as: Any) -> None:
    assert api_as("marketing").post("/deals", {"name": "Nope"}).status_code == 403
    # A rep gives deals only to themselves.
    assert api_as("rep1").post("/deals", {"name": "Gift", "owner": "rep2"}).status_code == 403
    ok = api_as("manager").post("/deals", {"name": "For rep2", "owner": "rep2"})
    assert (ok.status_code, ok.json()["owner"]) == (201, "rep2")
    # A contact the rep cannot see is "not found", never attached.
    hidden = api_as("rep1").post(
        "/deals", {"name": "X", "contacts": [{"contact_id": world.rep3_contact.pk}]}
    )
    assert (hidden.status_code, hidden.json()["detail"]) == (
        400,
        f"contact {world.rep3_contact.pk} does not exist",
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": ""}, "name is required"),
        ({"name": "X", "currency": "JPY"}, "currency JPY has no exchange rate"),
        ({"name": "X", "amount": "-1"}, "amount must be a non-negative amount below 10^16"),
        (
            {"name": "X", "stage": "Closed Won"},
            "a deal cannot be created in the won stage Closed Won; create it open, then close it",
        ),
        (
            {"name": "X", "stage": "Limbo"},
            "stage 'Limbo' is not a stage of pipeline New business (Discovery, Demo, Proposal, Negotiation, Closed Won, Closed Lost)",
        ),
        ({"name": "X", "pipeline": "Nope"}, "pipeline 'Nope' does not exist"),
        ({"name": "X", "kind": "gift"}, "kind 'gift' is not one of: new_business, renewal, upsell"),
        ({"name": "X", "company_id": 999999}, "company 999999 does not exist"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    api_as: Any, world: World, body: dict, detail: str
) -> None:
    response = api_as("rep1").post("/deals", body)
    assert (response.status_code, response.json()["detail"]) == (400, detail)


# ---------------------------------------------------------------- changing


@pytest.mark.parametrize(
    ("who", "key", "status"),
    [
        ("rep1", "rep1", 200),
        ("rep1", "east", 200),  # the team's unassigned deal
        ("rep1", "rep2", 404),  # a teammate's deal is not visible to a rep
        ("rep1", "rep3", 404),
        ("manager", "rep2", 200),
        ("manager", "rep3", 404),
        ("marketing", "rep1", 403),  # reads every deal, changes none
        ("admin", "rep3", 200),
    ],
)
def test_who_may_patch_which_deal(
    api_as: Any, deals: dict, who: str, key: str, status: int
) -> None:
    response = api_as(who).patch(f"/deals/{deals[key].pk}", {"next_step": "Call back"})
    assert response.status_code == status, response.content
    expected = "Call back" if status == 200 else ""
    assert Deal.objects.get(pk=deals[key].pk).next_step == expected


def test_every_write_route_keeps_ownership(world: World, api_as: Any, deals: dict) -> None:
    theirs, mine = deals["rep3"].pk, deals["rep1"].pk
    rep1, marketing = api_as("rep1"), api_as("marketing")
    contact = {"contact_id": world.rep1_contact.pk, "role": "user"}
    assert rep1.post(f"/deals/{theirs}/contacts", contact).status_code == 404
    assert rep1.delete(f"/deals/{theirs}/contacts/{world.rep3_contact.pk}").status_code == 404
    assert put(rep1, f"/deals/{theirs}/line-items", {"items": []}).status_code == 404
    assert marketing.post(f"/deals/{mine}/contacts", contact).status_code == 403
    assert put(marketing, f"/deals/{mine}/line-items", {"items": []}).status_code == 403
    assert marketing.patch(f"/deals/{mine}", {"status": "won"}).status_code == 403
    assert Deal.objects.get(pk=mine).status == "open"


def test_patch_moves_wins_loses_and_reopens(world: World, api_as: Any, deals: dict) -> None:
    api = api_as("rep1")
    pk = deals["rep1"].pk
    moved = api.patch(f"/deals/{pk}", {"stage": "Proposal"}).json()
    assert (moved["stage"], moved["status"]) == ("Proposal", "open")
    moved = api.patch(f"/deals/{pk}", {"stage_id": stage("Negotiation").pk}).json()
    assert moved["stage_id"] == stage("Negotiation").pk
    no_reason = api.patch(f"/deals/{pk}", {"status": "lost"})
    assert (no_reason.status_code, no_reason.json()["detail"]) == (
        400,
        "lost_reason is required to lose a deal",
    )
    lost = api.patch(
        f"/deals/{pk}", {"status": "lost", "lost_reason": "price", "competitor": "Initech"}
    ).json()
    assert (lost["status"], lost["stage"], lost["lost_reason"], lost["competitor"]) == (
        "lost",
        "Closed Lost",
        "Price",
        "Initech",
    )
    assert lost["closed_at"] is not None
    closed_move = api.patch(f"/deals/{pk}", {"stage": "Demo"})
    assert (closed_move.status_code, closed_move.json()["detail"]) == (400, "reopen the deal first")
    reopened = api.patch(f"/deals/{pk}", {"status": "open"}).json()
    assert (
        reopened["status"],
        reopened["stage"],
        reopened["closed_at"],
        reopened["lost_reason"],
    ) == (
        "open",
        "Negotiation",
        None,
        None,
    )
    won = api.patch(f"/deals/{pk}", {"status": "won"}).json()
    assert (won["status"], won["stage"]) == ("won", "Closed Won")


def test_patch_to_a_lost_stage_needs_a_known_reason(api_as: Any, deals: dict) -> None:
    api = api_as("rep1")
    pk = deals["rep1"].pk
    bad = api.patch(f"/deals/{pk}", {"stage": "Closed Lost", "lost_reason": "Bad luck"})
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("lost_reason 'Bad luck' is not one of: Price, ")
    ok = api.patch(f"/deals/{pk}", {"stage": "Closed Lost", "lost_reason": "Timing"}).json()
    assert (ok["status"], ok["lost_reason"]) == ("lost", "Timing")


def test_a_failed_patch_changes_nothing(api_as: Any, deals: dict) -> None:
    pk = deals["rep1"].pk
    response = api_as("rep1").patch(f"/deals/{pk}", {"name": "Renamed", "stage": "Limbo"})
    assert response.status_code == 400
    assert Deal.objects.get(pk=pk).name == "Rep1 deal"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"currency": "XXX"}, "currency XXX has no exchange rate"),
        ({"name": None}, "name may not be null"),
        ({"status": "maybe"}, "status must be one of open, won, lost"),
        ({"stage_id": 999999}, "stage 999999 is not a stage of pipeline New business"),
        ({"owner": "rep2"}, "you may not assign records to rep2"),
    ],
)
def test_bad_patches_are_refused_with_the_field_named(
    api_as: Any, deals: dict, body: dict, detail: str
) -> None:
    response = api_as("rep1").patch(f"/deals/{deals['rep1'].pk}", body)
    assert response.json()["detail"] == detail
    assert response.status_code == (403 if "owner" in body else 400)


def test_contacts_and_line_items_routes(world: World, api_as: Any, deals: dict) -> None:
    api = api_as("rep1")
    pk = deals["rep1"].pk
    added = api.post(
        f"/deals/{pk}/contacts", {"contact_id": world.rep1_contact.pk, "role": "champion"}
    )
    assert added.status_code == 201
    assert added.json()["contacts"] == [
        {"contact_id": world.rep1_contact.pk, "role": "champion", "is_primary": True}
    ]
    bad_role = api.post(
        f"/deals/{pk}/contacts", {"contact_id": world.rep1_contact.pk, "role": "boss"}
    )
    assert bad_role.status_code == 400
    items = put(
        api,
        f"/deals/{pk}/line-items",
        {
            "items": [
                {"name": "Licence", "quantity": "2", "unit_price": "300", "discount_percent": "5"}
            ]
        },
    )
    assert items.status_code == 200, items.content
    assert (items.json()["amount"], items.json()["line_items"][0]["name"]) == ("570.00", "Licence")
    refused = api.patch(f"/deals/{pk}", {"amount": "1"})
    assert (refused.status_code, refused.json()["detail"]) == (
        400,
        "amount comes from the line items",
    )
    assert api.delete(f"/deals/{pk}/contacts/{world.rep1_contact.pk}").status_code == 204
    assert api.delete(f"/deals/{pk}/contacts/{world.rep1_contact.pk}").status_code == 400


# ---------------------------------------------------------------- pipelines


def test_pipelines_list_their_stages_and_lost_reasons(api_as: Any, world: World) -> None:
    body = api_as("rep1").get("/pipelines").json()
    assert [p["name"] for p in body] == ["New business", "Renewals and upsells"]
    assert [
        (s["name"], s["probability"], s["forecast_category"], s["outcome"])
        for s in body[0]["stages"]
    ] == [
        ("Discovery", 10, "pipeline", "open"),
        ("Demo", 25, "pipeline", "open"),
        ("Proposal", 50, "best_case", "open"),
        ("Negotiation", 75, "commit", "open"),
        ("Closed Won", 100, "closed", "won"),
        ("Closed Lost", 0, "omitted", "lost"),
    ]
    reasons = api_as("marketing").get("/pipelines/lost-reasons").json()
    assert [r["name"] for r in reasons][:2] == ["Price", "Chose a competitor"]
