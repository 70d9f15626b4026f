"""Deal pages: board, list, deal page and its forms; ownership on each; query ceilings; escaping."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tandem.sales.models import Deal, DealContact, LostReason, Product, StageChange
from tests.conftest import World
from tests.sales.factories import DealFactory, default_pipeline, stage

ClientAs = Callable[[str], Client]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deals(world: World) -> dict[str, Deal]:
    """Given one open deal per kind of owner."""
    return {
        "rep1": DealFactory(name="Rep one deal", owner=world.rep1, company=world.acme),
        "rep2": DealFactory(name="Rep two deal", owner=world.rep2),
        "rep3": DealFactory(name="Rep three deal", owner=world.rep3, company=world.globex),
        "east": DealFactory(name="East pool deal", owner=None, team=world.east),
        "nobody": DealFactory(name="Nobody deal", owner=None, team=None),
    }


SEES = {
    "admin": {"rep1", "rep2", "rep3", "east", "nobody"},
    "marketing": {"rep1", "rep2", "rep3", "east", "nobody"},
    "manager": {"rep1", "rep2", "east"},
    "rep1": {"rep1", "east"},
    "rep3": {"rep3"},
}


def _names(html: str, deals: dict[str, Deal]) -> set[str]:
    return {k for k, d in deals.items() if d.name in html}


@pytest.mark.parametrize("role", list(SEES))
def test_board_and_list_show_only_visible_deals(
    role: str, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    client = client_as(role)
    board = client.get("/sales/board/")
    listing = client.get("/sales/deals/")
    assert board.status_code == listing.status_code == 200
    assert _names(board.content.decode(), deals) == SEES[role]
    assert _names(listing.content.decode(), deals) == SEES[role]


@pytest.mark.parametrize("role", list(SEES))
def test_every_deal_route_is_404_for_a_deal_the_user_cannot_see(
    role: str, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    client = client_as(role)
    hidden = [d for k, d in deals.items() if k not in SEES[role]]
    for deal in hidden:
        for suffix in ("", "edit/", "close/", "items/"):
            assert client.get(f"/sales/deals/{deal.pk}/{suffix}").status_code == 404
        for suffix in ("move/", "close/", "reopen/", "contacts/", "items/", "edit/"):
            response = client.post(f"/sales/deals/{deal.pk}/{suffix}", {"stage": "1"})
            assert response.status_code == 404, suffix


def test_marketing_reads_but_changes_nothing(
    world: World, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    client = client_as("marketing")
    deal = deals["rep1"]
    # The pages render without the forms that change a deal
    board = client.get("/sales/board/").content.decode()
    assert "move-form" not in board and "New deal" not in board
    page = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert deal.name in page and "Close deal" not in page and "Add contact" not in page
    # And every write is a 403
    assert client.get("/sales/deals/new/").status_code == 403
    for suffix in ("edit/", "close/", "items/"):
        assert client.get(f"/sales/deals/{deal.pk}/{suffix}").status_code == 403
    for suffix in ("move/", "close/", "reopen/", "contacts/", "items/", "edit/"):
        response = client.post(f"/sales/deals/{deal.pk}/{suffix}", {"stage": stage("Demo").pk})
        assert response.status_code == 403, suffix
    deal.refresh_from_db()
    assert deal.stage.name == "Discovery"


def test_htmx_move_rerenders_the_board_and_triggers_the_forecast(
    world: World, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    deal = deals["rep1"]
    response = client_as("rep1").post(
        f"/sales/deals/{deal.pk}/move/", {"stage": stage("Demo").pk}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "dealMoved"
    html = response.content.decode()
    assert html.startswith('<div id="board"')
    deal.refresh_from_db()
    assert deal.stage.name == "Demo"
    assert StageChange.objects.filter(deal=deal, kind="moved").count() == 1


def test_plain_move_redirects_and_a_refused_move_says_why(
    world: World, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    client = client_as("rep1")
    deal = deals["rep1"]
    response = client.post(f"/sales/deals/{deal.pk}/move/", {"stage": stage("Proposal").pk})
    assert response.status_code == 302
    assert response["Location"].startswith("/sales/board/?pipeline=")
    # A stage of another pipeline is refused with a message, on the board (htmx: 422)
    other = default_pipeline().__class__.objects.exclude(pk=deal.pipeline_id).first()
    assert other is not None
    foreign = other.stages.first()
    assert foreign is not None
    response = client.post(f"/sales/deals/{deal.pk}/move/", {"stage": foreign.pk}, **HTMX)
    assert response.status_code == 422
    assert "choose a stage of the deal&#x27;s pipeline" in response.content.decode()


def test_moving_to_lost_opens_the_close_form_which_asks_for_the_reason(
    world: World, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    client = client_as("rep1")
    deal = deals["rep1"]
    lost = stage("Closed Lost")
    response = client.post(f"/sales/deals/{deal.pk}/move/", {"stage": lost.pk}, **HTMX)
    assert response.status_code == 204
    close_url = response["HX-Redirect"]
    assert close_url == f"/sales/deals/{deal.pk}/close/?outcome=lost&stage={lost.pk}&next=board"
    form = client.get(close_url)
    assert form.status_code == 200 and "Lost reason" in form.content.decode()
    # Without a reason the form refuses
    refused = client.post(close_url, {"outcome": "lost", "stage": lost.pk})
    assert refused.status_code == 422
    assert "choose why the deal was lost" in refused.content.decode()
    # With one, the deal is lost, and the rep is back on the board
    reason = LostReason.objects.first()
    assert reason is not None
    done = client.post(
        f"/sales/deals/{deal.pk}/close/",
        {
            "outcome": "lost",
            "reason": reason.pk,
            "competitor": "Initrode",
            "stage": lost.pk,
            "next": "board",
        },
    )
    assert done.status_code == 302 and done["Location"].startswith("/sales/board/")
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason_id, deal.competitor) == ("lost", reason.pk, "Initrode")


def test_win_then_reopen(world: World, deals: dict[str, Deal], client_as: ClientAs) -> None:
    client = client_as("rep1")
    deal = deals["rep1"]
    response = client.post(f"/sales/deals/{deal.pk}/close/", {"outcome": "won"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.status == "won" and deal.stage.name == "Closed Won"
    page = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "Reopen" in page
    assert client.post(f"/sales/deals/{deal.pk}/reopen/").status_code == 302
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name, deal.closed_at) == ("open", "Discovery", None)


def test_rep_creates_a_deal_prefilled_from_a_contact(world: World, client_as: ClientAs) -> None:
    client = client_as("rep1")
    contact = world.rep1_contact
    form = client.get(f"/sales/deals/new/?contact={contact.pk}").content.decode()
    assert 'value="ann@acme.com"' in form and 'value="acme.com"' in form
    response = client.post(
        "/sales/deals/new/",
        {
            "name": "Acme platform",
            "amount": "12000",
            "currency": "USD",
            "pipeline": default_pipeline().pk,
            "kind": "new_business",
            "company_domain": "acme.com",
            "contact_email": "ann@acme.com",
            "contact_role": "champion",
            "owner": "rep1",
            "expected_close_date": "2026-12-20",
        },
    )
    deal = Deal.objects.get(name="Acme platform")
    assert response.status_code == 302 and response["Location"] == f"/sales/deals/{deal.pk}/"
    assert (deal.owner, deal.company, deal.stage.name) == (world.rep1, world.acme, "Discovery")
    assert deal.amount == Decimal("12000.00")
    link = DealContact.objects.get(deal=deal)
    assert (link.contact, link.role) == (contact, "champion")


def test_rep_may_not_create_a_deal_for_someone_else(world: World, client_as: ClientAs) -> None:
    response = client_as("rep1").post(
        "/sales/deals/new/",
        {
            "name": "Not mine",
            "currency": "USD",
            "pipeline": default_pipeline().pk,
            "kind": "new_business",
            "owner": "rep2",
        },
    )
    assert response.status_code == 422  # rep2 is not among the offered owners
    assert not Deal.objects.filter(name="Not mine").exists()


def test_edit_renames_and_sets_the_next_step(
    world: World, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    deal = deals["east"]
    client = client_as("rep1")
    response = client.post(
        f"/sales/deals/{deal.pk}/edit/",
        {
            "name": "East renamed",
            "amount": "10000.00",
            "currency": "USD",
            "owner": "",
            "next_step": "Send the proposal",
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.next_step) == ("East renamed", "Send the proposal")


def test_contacts_and_line_items(world: World, deals: dict[str, Deal], client_as: ClientAs) -> None:
    deal = deals["rep1"]
    client = client_as("rep1")
    # Add a contact by email with a role
    client.post(
        f"/sales/deals/{deal.pk}/contacts/",
        {"action": "add", "email": "ann@acme.com", "role": "decision_maker", "is_primary": "on"},
    )
    link = DealContact.objects.get(deal=deal)
    assert (link.contact, link.role, link.is_primary) == (
        world.rep1_contact,
        "decision_maker",
        True,
    )
    # A contact the rep cannot see is refused
    client.post(
        f"/sales/deals/{deal.pk}/contacts/",
        {"action": "add", "email": "cy@globex.com", "role": "user"},
    )
    assert DealContact.objects.filter(deal=deal).count() == 1
    # Line items set the amount
    product = Product.objects.create(name="Seat", sku="SEAT", unit_price=Decimal("100.00"))
    response = client.post(
        f"/sales/deals/{deal.pk}/items/",
        {
            "product": [str(product.pk), ""],
            "item_name": ["", "Setup"],
            "quantity": ["10", "1"],
            "unit_price": ["", "500"],
            "discount_percent": ["10", "0"],
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.amount == Decimal("1400.00")
    page = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "Seat" in page and "Setup" in page and "Decision maker" in page
    # And removing the contact
    client.post(
        f"/sales/deals/{deal.pk}/contacts/", {"action": "remove", "contact": world.rep1_contact.pk}
    )
    assert not DealContact.objects.filter(deal=deal).exists()


def test_deal_page_shows_the_stage_path_and_timeline(
    world: World, deals: dict[str, Deal], client_as: ClientAs
) -> None:
    deal = deals["rep1"]
    client = client_as("rep1")
    client.post(f"/sales/deals/{deal.pk}/move/", {"stage": stage("Demo").pk, "next": "deal"})
    page = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert 'aria-current="step"' in page
    assert "Moved from Discovery to Demo" in page


SCRIPT = "<script>alert(1)</script>"


def test_a_deal_named_script_is_escaped_everywhere(world: World, client_as: ClientAs) -> None:
    deal = DealFactory(name=SCRIPT, owner=world.rep1, next_step=SCRIPT, competitor=SCRIPT)
    client = client_as("rep1")
    for url in ("/sales/board/", "/sales/deals/", f"/sales/deals/{deal.pk}/", "/sales/deals/?q=x"):
        html = client.get(url).content.decode()
        assert SCRIPT not in html, url
    html = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _many(world: World, n: int) -> None:
    stages = list(default_pipeline().stages.order_by("position"))
    now = timezone.now()
    Deal.objects.bulk_create(
        [
            Deal(
                name=f"Bulk {i}",
                owner=[world.rep1, world.rep2, world.rep3][i % 3],
                team=[world.east, world.east, world.west][i % 3],
                company=world.acme if i % 2 else world.globex,
                amount=Decimal(1000 + i),
                amount_base=Decimal(1000 + i),
                pipeline=default_pipeline(),
                stage=stages[i % 4],
                status="open",
                created_at=now,
                stage_entered_at=now,
                expected_close_date=now.date(),
            )
            for i in range(n)
        ]
    )


@pytest.mark.parametrize("role", ["admin", "manager", "rep1"])
def test_board_and_list_query_ceilings(
    role: str, world: World, client_as: ClientAs, django_assert_max_num_queries: Any
) -> None:
    _many(world, 120)
    client = client_as(role)
    client.get("/sales/board/")  # warm the session
    # session, user, pipeline, stages, one grouped sum, one per non-empty stage (4), the
    # switcher's pipelines, the owner and team filters; the manager's teams
    with django_assert_max_num_queries(14):
        assert client.get("/sales/board/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/sales/deals/").status_code == 200
    with django_assert_max_num_queries(11):
        assert client.get("/sales/board/", **HTMX).status_code == 200


def test_list_pages_with_a_cursor_link(world: World, client_as: ClientAs) -> None:
    _many(world, 60)
    client = client_as("admin")
    first = client.get("/sales/deals/?sort=name").content.decode()
    assert 'rel="next"' in first
    start = first.index('href="?', first.index('class="pager"')) + len('href="')
    next_url = first[start : first.index('"', start)].replace("&amp;", "&")
    second = client.get(f"/sales/deals/{next_url}").content.decode()
    assert "Bulk 9" in second and "Bulk 0<" not in second
    # A made-up cursor shows the first page rather than an error
    assert client.get("/sales/deals/?cursor=nonsense").status_code == 200
