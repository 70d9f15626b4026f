"""Every deal route (API and pages), every role, every kind of deal: the ownership rules of issue 2.

A rep changes only their own deals (and the unassigned deals of their team); a manager the deals
of the teams they manage; marketing sees every deal but changes none (403); admin everything.
A deal the caller may not see is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tandem.sales.models import Deal
from tests.api.test_permissions_matrix import ASSIGNABLE, RECORDS, ROLES, VISIBLE
from tests.sales.factories import DealFactory, stage

EDITORS = {"admin", "manager", "rep1", "rep2", "rep3"}


@pytest.fixture
def deals(world: Any) -> dict[str, Deal]:
    """Given one open deal for every kind of record owner."""
    owners = {
        "rep1": (world.rep1, world.east),
        "rep2": (world.rep2, world.east),
        "rep3": (world.rep3, world.west),
        "east_unassigned": (None, world.east),
        "west_unassigned": (None, world.west),
        "unassigned": (None, None),
    }
    return {
        kind: DealFactory(name=f"{kind} deal", owner=owner, team=team)
        for kind, (owner, team) in owners.items()
    }


def _can_edit(role: str, kind: str) -> int:
    if kind not in VISIBLE[role]:
        return 404
    return 200 if role in EDITORS else 403


def _listed(api: Any, deals: dict[str, Deal]) -> dict[str, int]:
    response = api.get("/deals", limit=500)
    assert response.status_code == 200, response.content
    shown = {item["id"] for item in response.json()["items"]}
    return {kind: 200 if deal.pk in shown else 404 for kind, deal in deals.items()}


def _each(deals: dict[str, Deal], call: Callable[[Deal, str], Any]) -> dict[str, int]:
    return {kind: call(deal, kind).status_code for kind, deal in deals.items()}


def _create(api: Any, deals: dict[str, Deal]) -> dict[str, int]:
    def call(deal: Deal, kind: str) -> Any:
        body: dict[str, Any] = {"name": f"New {kind}", "amount": "1200.00", "currency": "USD"}
        if deal.owner is not None:
            body["owner"] = deal.owner.username
        return api.post("/deals", body)

    return _each(deals, call)


def _create_expected(role: str, kind: str) -> int:
    if role == "marketing":
        return 403
    if kind in ("rep1", "rep2", "rep3") and kind not in ASSIGNABLE[role]:
        return 403
    return 201


ROUTES: dict[
    str, tuple[Callable[[Any, dict[str, Deal]], dict[str, int]], Callable[[str, str], int]]
] = {
    "GET /deals": (_listed, lambda role, kind: 200 if kind in VISIBLE[role] else 404),
    "POST /deals": (_create, _create_expected),
    "GET /deals/{id}": (
        lambda api, deals: _each(deals, lambda d, k: api.get(f"/deals/{d.pk}")),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "PATCH /deals/{id} name": (
        lambda api, deals: _each(
            deals, lambda d, k: api.patch(f"/deals/{d.pk}", {"name": "Renamed"})
        ),
        _can_edit,
    ),
    "PATCH /deals/{id} stage": (
        lambda api, deals: _each(
            deals, lambda d, k: api.patch(f"/deals/{d.pk}", {"stage_id": stage("Demo").pk})
        ),
        _can_edit,
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", list(ROUTES))
def test_deal_route_answers_each_role_as_the_rules_say(
    route: str, role: str, deals: dict[str, Deal], api_as: Any
) -> None:
    """Given a deal of every kind, when `role` calls `route` on each, then each status follows the rules."""
    call, expected_for = ROUTES[route]
    assert call(api_as(role), deals) == {kind: expected_for(role, kind) for kind in RECORDS}


@pytest.mark.parametrize("role", ROLES)
def test_refused_writes_change_nothing(role: str, deals: dict[str, Deal], api_as: Any) -> None:
    """Given deals the role may not change, when it renames and moves them, then they are unchanged."""
    api = api_as(role)
    refused = [d for kind, d in deals.items() if _can_edit(role, kind) != 200]
    for deal in refused:
        api.patch(f"/deals/{deal.pk}", {"name": "Hacked", "stage_id": stage("Proposal").pk})
    for deal in refused:
        deal.refresh_from_db()
        assert deal.name != "Hacked"
        assert deal.stage.name == "Discovery"


@pytest.mark.parametrize("role", ROLES)
def test_deal_page_follows_visibility(
    role: str, deals: dict[str, Deal], client_as: Callable[[str], Client]
) -> None:
    """The deal page is a 200 for a visible deal and a 404 otherwise."""
    client = client_as(role)
    actual = {kind: client.get(f"/sales/deals/{d.pk}/").status_code for kind, d in deals.items()}
    assert actual == {kind: 200 if kind in VISIBLE[role] else 404 for kind in RECORDS}


@pytest.mark.parametrize("role", ROLES)
def test_board_move_follows_edit_rights(
    role: str, deals: dict[str, Deal], client_as: Callable[[str], Client]
) -> None:
    """Dragging a deal on the board moves it only for those who may change it."""
    client = client_as(role)
    demo = stage("Demo")
    actual = {}
    for kind, deal in deals.items():
        response = client.post(f"/sales/deals/{deal.pk}/move/", {"stage": demo.pk})
        # A page answers a refused move with 403 (visible) or 404, and a done move with 200 or a redirect.
        actual[kind] = 200 if response.status_code in (200, 302) else response.status_code
    assert actual == {kind: _can_edit(role, kind) for kind in RECORDS}
