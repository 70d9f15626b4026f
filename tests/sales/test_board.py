"""The board and list queries: column sums, scoping, filters, sort allow-list and keyset pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tandem.errors import InvalidInput
from tandem.sales.models import Deal, DealStatus
from tandem.sales.queries.board import DealFilter, board, deal_list
from tests.conftest import World
from tests.crm.factories import CompanyFactory
from tests.sales.factories import DealFactory, default_pipeline, stage


def _deal(name: str, stage_name: str = "Discovery", **kw: Any) -> Any:
    s = stage(stage_name)
    status = {"Closed Won": "won", "Closed Lost": "lost"}.get(stage_name, "open")
    closed = {"closed_at": timezone.now()} if status != "open" else {}
    return DealFactory(name=name, stage=s, status=status, **closed, **kw)


@pytest.fixture
def spread(world: World) -> dict[str, Any]:
    """Given deals across stages and owners (amounts in the reporting currency)."""
    return {
        "a": _deal("A", "Discovery", owner=world.rep1, amount=Decimal("1000.00")),
        "b": _deal("B", "Discovery", owner=world.rep1, amount=Decimal("3000.00")),
        "c": _deal("C", "Demo", owner=world.rep2, amount=Decimal("2000.00")),
        "d": _deal("D", "Proposal", owner=None, team=world.east, amount=Decimal("500.00")),
        "e": _deal("E", "Negotiation", owner=world.rep3, amount=Decimal("8000.00")),
        "f": _deal("F", "Closed Won", owner=world.rep1, amount=Decimal("700.00")),
        "g": _deal("G", "Closed Lost", owner=world.rep1, amount=Decimal("900.00")),
    }


def _summary(columns: list[Any]) -> dict[str, tuple[int, str, str, list[str]]]:
    return {
        c.stage.name: (c.count, str(c.total_base), str(c.weighted_base), [d.name for d in c.deals])
        for c in columns
    }


def test_admin_board_sums_every_stage(world: World, spread: dict[str, Any]) -> None:
    # When the admin reads the default pipeline's board
    columns = board(user=world.admin, pipeline=default_pipeline())
    # Then every stage is a column in order, with count, total and weighted total
    assert _summary(columns) == {
        "Discovery": (2, "4000.00", "400.00", ["B", "A"]),
        "Demo": (1, "2000.00", "500.00", ["C"]),
        "Proposal": (1, "500.00", "250.00", ["D"]),
        "Negotiation": (1, "8000.00", "6000.00", ["E"]),
        "Closed Won": (1, "700.00", "700.00", ["F"]),
        "Closed Lost": (1, "900.00", "0.00", ["G"]),
    }


def test_rep_board_shows_own_and_team_unassigned(world: World, spread: dict[str, Any]) -> None:
    columns = board(user=world.rep1, pipeline=default_pipeline())
    assert {k: v[:2] for k, v in _summary(columns).items()} == {
        "Discovery": (2, "4000.00"),
        "Demo": (0, "0.00"),
        "Proposal": (1, "500.00"),
        "Negotiation": (0, "0.00"),
        "Closed Won": (1, "700.00"),
        "Closed Lost": (1, "900.00"),
    }


def test_manager_board_shows_the_team(world: World, spread: dict[str, Any]) -> None:
    columns = board(user=world.manager, pipeline=default_pipeline())
    assert sum(c.count for c in columns) == 6  # everything but rep3's (west) deal


def test_cards_are_capped_per_stage_largest_first(world: World) -> None:
    # Given five Discovery deals
    for i in range(5):
        _deal(f"D{i}", owner=world.rep1, amount=Decimal(100 * (i + 1)))
    # When the board keeps two cards per stage
    discovery = board(user=world.admin, pipeline=default_pipeline(), per_stage=2)[0]
    # Then the column counts all five and shows the two largest
    assert (discovery.count, discovery.more) == (5, 3)
    assert [d.name for d in discovery.deals] == ["D4", "D3"]
    assert discovery.total_base == Decimal("1500.00")


def test_board_filters(world: World, spread: dict[str, Any]) -> None:
    pipeline = default_pipeline()
    acme_deal = _deal("Expansion", owner=world.rep1, company=world.acme, amount=Decimal(100))

    def names(**kw: Any) -> set[str]:
        columns = board(user=world.admin, pipeline=pipeline, filters=DealFilter(**kw))
        return {d.name for c in columns for d in c.deals}

    assert names(owner="rep2") == {"C"}
    assert names(owner="none") == {"D"}
    assert names(team=world.west.pk) == {"E"}
    assert names(min_amount=Decimal("2000")) == {"B", "C", "E"}
    assert names(q="acme") == {acme_deal.name}
    assert names(q="expan") == {acme_deal.name}
    assert names(status="won") == {"F"}


def test_board_query_count_is_fixed(
    world: World, spread: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    # One for the stages, one grouped sum, one per non-empty stage (six)
    pipeline = default_pipeline()
    with django_assert_max_num_queries(8):
        columns = board(user=world.admin, pipeline=pipeline)
        for c in columns:
            for d in c.deals:
                _ = (d.owner, d.company)


def test_filter_allow_list() -> None:
    flt = DealFilter.from_mapping({"status": "open", "close_from": "2026-01-01", "team": "3"})
    assert (flt.status, flt.close_from, flt.team) == ("open", date(2026, 1, 1), 3)
    with pytest.raises(InvalidInput, match="cannot filter by 'amount'"):
        DealFilter.from_mapping({"amount": "1"})
    with pytest.raises(InvalidInput, match="status must be one of open, won, lost"):
        DealFilter.from_mapping({"status": "maybe"})
    with pytest.raises(InvalidInput, match="close_to must be a date"):
        DealFilter.from_mapping({"close_to": "soon"})


def _all_pages(user: Any, sort: str, limit: int = 2) -> list[str]:
    names: list[str] = []
    cursor = None
    for _ in range(20):
        page = deal_list(user=user, sort=sort, cursor=cursor, limit=limit)
        names += [d.name for d in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return names
    raise AssertionError("pagination did not end")


def test_list_keyset_pages_in_every_sort(world: World) -> None:
    today = date(2026, 12, 1)
    base = timezone.now()
    rows = [
        ("n1", Decimal(300), today, 5),
        ("n2", Decimal(100), None, 4),
        ("n3", Decimal(300), today + timedelta(days=3), 3),
        ("n4", Decimal(200), None, 2),
        ("n5", Decimal(50), today - timedelta(days=1), 1),
    ]
    for name, amount, close, age in rows:
        _deal(
            name,
            owner=world.rep1,
            amount=amount,
            expected_close_date=close,
            created_at=base - timedelta(days=age),
        )
    assert _all_pages(world.rep1, "-created") == ["n5", "n4", "n3", "n2", "n1"]
    assert _all_pages(world.rep1, "created") == ["n1", "n2", "n3", "n4", "n5"]
    amount_desc = _all_pages(world.rep1, "-amount")
    assert amount_desc == ["n3", "n1", "n4", "n2", "n5"]  # ties broken by id, descending
    assert _all_pages(world.rep1, "amount") == ["n5", "n2", "n4", "n1", "n3"]
    # Empty close dates come last in both directions
    assert _all_pages(world.rep1, "close") == ["n5", "n1", "n3", "n2", "n4"]
    assert _all_pages(world.rep1, "-close") == ["n3", "n1", "n5", "n4", "n2"]
    assert _all_pages(world.rep1, "name", limit=3) == ["n1", "n2", "n3", "n4", "n5"]


def test_list_refuses_unknown_sort_and_bad_cursor(world: World) -> None:
    with pytest.raises(InvalidInput, match="cannot sort by 'owner'"):
        deal_list(user=world.admin, sort="owner")
    with pytest.raises(InvalidInput, match="cursor is not a cursor"):
        deal_list(user=world.admin, cursor="garbage!")
    with pytest.raises(InvalidInput, match="limit must be between 1 and 500"):
        deal_list(user=world.admin, limit=0)


def test_list_scopes_and_filters(world: World, spread: dict[str, Any]) -> None:
    def names(user: Any, **kw: Any) -> set[str]:
        return {d.name for d in deal_list(user=user, filters=DealFilter(**kw), limit=50).items}

    assert names(world.rep1) == {"A", "B", "D", "F", "G"}
    assert names(world.rep3) == {"E"}
    assert names(world.marketer) == set("ABCDEFG")
    assert names(world.admin, status=DealStatus.LOST) == {"G"}
    assert names(world.admin, stage=stage("Demo").pk) == {"C"}
    other = CompanyFactory(name="Initech")
    _deal("Other", company=other, owner=world.rep3)
    assert names(world.rep1, q="initech") == set()
    assert names(world.admin, q="initech") == {"Other"}


def test_a_reps_cards_are_ranked_in_one_query(
    world: World, django_assert_max_num_queries: Any
) -> None:
    # Given five Discovery deals of rep1, one of rep2, and two recently lost ones of rep1
    for i in range(5):
        _deal(f"D{i}", owner=world.rep1, amount=Decimal(100 * (i + 1)))
    _deal("Theirs", owner=world.rep2, amount=Decimal(99999))
    old = _deal("Lost early", "Closed Lost", owner=world.rep1)
    Deal.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=3))
    _deal("Lost now", "Closed Lost", owner=world.rep1)
    # When rep1's board keeps two cards per stage
    pipeline = default_pipeline()
    with django_assert_max_num_queries(2):  # stages; cards ranked with their stage sums
        columns = board(user=world.rep1, pipeline=pipeline, per_stage=2)
    summary = {c.stage.name: (c.count, [d.name for d in c.deals]) for c in columns}
    # Then the largest open deals and the most recently closed show, nobody else's
    assert summary["Discovery"] == (5, ["D4", "D3"])
    assert summary["Closed Lost"] == (2, ["Lost now", "Lost early"])


def test_closed_columns_hold_the_last_30_days(world: World) -> None:
    recent = _deal("Won lately", "Closed Won", owner=world.rep1, amount=Decimal(100))
    old = _deal("Won long ago", "Closed Won", owner=world.rep1, amount=Decimal(200))
    Deal.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=31))
    for user in (world.admin, world.rep1):
        won = board(user=user, pipeline=default_pipeline())[4]
        assert (won.count, won.total_base, [d.name for d in won.deals]) == (
            1,
            Decimal("100.00"),
            [recent.name],
        )
