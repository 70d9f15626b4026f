"""Enablement: using and rating library assets, and the win-rate report (services, queries, API)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tandem.crm.models import TimelineEvent
from tandem.errors import Forbidden, InvalidInput
from tandem.marketing.models import ContentAsset
from tandem.sales.models import ContentRating, ContentUse, Deal, DealContact
from tandem.sales.queries import enablement as queries
from tandem.sales.services import enablement as services
from tests.conftest import World
from tests.marketing.factories import ContentAssetFactory, PersonaFactory
from tests.sales.factories import DealFactory, stage

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
Q4_START = datetime(2026, 10, 1, tzinfo=UTC)
Q4_END = datetime(2027, 1, 1, tzinfo=UTC)


def asset(**fields: Any) -> ContentAsset:
    """A sales-facing case study unless told otherwise."""
    fields.setdefault("audience", "enablement")
    fields.setdefault("type", "case_study")
    fields.setdefault("journey_stage", "decision")
    return ContentAssetFactory(**fields)


def closed(world: World, status: str, at: datetime, **fields: Any) -> Deal:
    """A deal of rep1 won or lost at `at`."""
    return DealFactory(
        owner=world.rep1,
        status=status,
        stage=stage("Closed Won" if status == "won" else "Closed Lost"),
        closed_at=at,
        **fields,
    )


def used(a: ContentAsset, deal: Deal, at: datetime = NOW) -> ContentUse:
    return ContentUse.objects.create(asset=a, deal=deal, kind="attached", used_at=at)


# ---------------------------------------------------------------- use_content


def test_attaching_an_asset_to_a_deal_records_it_on_the_deals_contacts(world: World) -> None:
    # given an open deal of rep1 with Ann as its contact
    deal = DealFactory(owner=world.rep1)
    DealContact.objects.create(
        deal=deal, contact=world.rep1_contact, role="champion", is_primary=True, added_at=NOW
    )
    a = asset(title="Acme case study")
    # when rep1 attaches the asset
    use = services.use_content(asset=a, by=world.rep1, kind="attached", deal=deal, note="for CFO")
    # then the use is stored and Ann's timeline shows it
    assert (use.deal_id, use.contact_id, use.kind, use.user_id, use.note) == (
        deal.pk,
        None,
        "attached",
        world.rep1.pk,
        "for CFO",
    )
    event = TimelineEvent.objects.get(type="content_shared")
    assert event.contact_id == world.rep1_contact.pk
    assert event.properties["asset_id"] == a.pk
    assert event.properties["deal_id"] == deal.pk


def test_sending_to_a_contact_records_on_that_contact_only(world: World) -> None:
    a = asset(audience="both")
    services.use_content(asset=a, by=world.rep1, kind="sent", contact=world.rep1_contact)
    assert list(
        TimelineEvent.objects.filter(type="content_shared").values_list("contact_id", flat=True)
    ) == [world.rep1_contact.pk]


def test_a_market_only_asset_is_refused(world: World) -> None:
    deal = DealFactory(owner=world.rep1)
    with pytest.raises(InvalidInput, match="market-facing only") as err:
        services.use_content(asset=asset(audience="market"), by=world.rep1, kind="sent", deal=deal)
    assert err.value.field == "asset"
    assert ContentUse.objects.count() == 0


def test_an_archived_asset_is_refused(world: World) -> None:
    deal = DealFactory(owner=world.rep1)
    with pytest.raises(InvalidInput, match="archived"):
        services.use_content(asset=asset(archived=True), by=world.rep1, kind="sent", deal=deal)


def test_using_content_needs_the_right_to_edit_the_deal(world: World) -> None:
    deal = DealFactory(owner=world.rep3)
    with pytest.raises(Forbidden):
        services.use_content(asset=asset(), by=world.rep1, kind="attached", deal=deal)
    with pytest.raises(Forbidden):
        services.use_content(asset=asset(), by=world.marketer, kind="attached", deal=deal)


def test_a_use_needs_a_deal_or_contact_and_a_known_kind(world: World) -> None:
    with pytest.raises(InvalidInput, match="deal or a contact"):
        services.use_content(asset=asset(), by=world.rep1, kind="sent")
    with pytest.raises(InvalidInput, match="kind") as err:
        services.use_content(asset=asset(), by=world.rep1, kind="faxed", contact=world.rep1_contact)
    assert err.value.field == "kind"


# ---------------------------------------------------------------- rate_content


def test_rating_again_replaces_the_reps_rating(world: World) -> None:
    a = asset()
    services.rate_content(asset=a, by=world.rep1, rating=5, comment="Closed Acme with it")
    services.rate_content(asset=a, by=world.rep2, rating=4)
    assert queries.asset_for(a.pk).avg_rating == Decimal("4.5")
    services.rate_content(asset=a, by=world.rep1, rating=3, comment="Dated now")
    rows = ContentRating.objects.filter(asset=a).order_by("user__username")
    assert [(r.user.username, r.rating, r.comment) for r in rows] == [
        ("rep1", 3, "Dated now"),
        ("rep2", 4, ""),
    ]
    stats = queries.asset_for(a.pk)
    assert (Decimal(str(stats.avg_rating)), stats.rating_count) == (Decimal("3.5"), 2)


@pytest.mark.parametrize("rating", [0, 6, -1, "x", None])
def test_a_rating_outside_one_to_five_is_refused(world: World, rating: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        services.rate_content(asset=asset(), by=world.rep1, rating=rating)
    assert err.value.field == "rating"
    assert ContentRating.objects.count() == 0


def test_only_sales_users_rate(world: World) -> None:
    with pytest.raises(Forbidden):
        services.rate_content(asset=asset(), by=world.marketer, rating=4)


def test_a_market_only_asset_cannot_be_rated(world: World) -> None:
    with pytest.raises(InvalidInput, match="market-facing only"):
        services.rate_content(asset=asset(audience="market"), by=world.rep1, rating=4)


# ---------------------------------------------------------------- library search


def test_the_library_lists_sales_facing_assets_by_stage_persona_type_and_text(
    world: World,
) -> None:
    cfo = PersonaFactory(name="CFO")
    study = asset(title="Acme ROI case study", journey_stage="decision")
    study.personas.add(cfo)
    sheet = asset(title="Pricing sheet", type="pricing_sheet", journey_stage="decision")
    guide = asset(title="Buyer guide", type="ebook", journey_stage="consideration", audience="both")
    asset(title="Blog post", audience="market")
    asset(title="Old study", archived=True)
    titles = lambda **f: sorted(a.title for a in queries.library(**f))  # noqa: E731
    assert titles() == ["Acme ROI case study", "Buyer guide", "Pricing sheet"]
    assert titles(stage="decision") == ["Acme ROI case study", "Pricing sheet"]
    assert titles(persona=cfo.pk) == ["Acme ROI case study"]
    assert titles(type="ebook") == ["Buyer guide"]
    assert titles(q="roi") == ["Acme ROI case study"]
    assert {study.pk, sheet.pk, guide.pk} == {a.pk for a in queries.library()}


def test_bad_library_filters_are_a_400(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        queries.clean_filters({"stage": "nirvana"})
    assert err.value.field == "stage"


# ---------------------------------------------------------------- the report


def test_the_report_compares_win_rates_with_and_without_each_asset(world: World) -> None:
    # given assets A (used) and B (never used), and deals closed in Q4 2026
    a, b = asset(title="A"), asset(title="B")
    market = asset(title="Market only", audience="market")
    d1 = closed(world, "won", datetime(2026, 10, 5, tzinfo=UTC))
    d2 = closed(world, "lost", datetime(2026, 11, 5, tzinfo=UTC))
    d3 = closed(world, "won", datetime(2026, 12, 5, tzinfo=UTC))
    closed(world, "won", datetime(2026, 10, 9, tzinfo=UTC))  # d4, without
    closed(world, "lost", datetime(2026, 10, 9, tzinfo=UTC))  # d5, without
    closed(world, "lost", datetime(2026, 12, 9, tzinfo=UTC))  # d6, without
    d7 = DealFactory(owner=world.rep1)  # open: in no win rate
    d8 = closed(world, "won", datetime(2026, 9, 30, 23, 59, tzinfo=UTC))  # Q3
    for deal in (d1, d2, d3, d3, d7, d8):
        used(a, deal, at=datetime(2026, 10, 1, 12, tzinfo=UTC))
    used(market, d1)
    services.rate_content(asset=a, by=world.rep1, rating=5)
    services.rate_content(asset=a, by=world.rep2, rating=2)
    # when the Q4 report is read
    rows = {r.title: r for r in queries.report(start=Q4_START, end=Q4_END)}
    # then A won 2 of its 3 closed deals, the rest won 1 of 3; B is compared against all 6
    assert set(rows) == {"A", "B"}
    ra = rows["A"]
    assert (ra.uses, ra.deals, ra.avg_rating, ra.rating_count) == (6, 5, Decimal("3.50"), 2)
    assert (ra.won_with, ra.lost_with, ra.win_rate_with) == (2, 1, Decimal("0.6667"))
    assert (ra.won_without, ra.lost_without, ra.win_rate_without) == (1, 2, Decimal("0.3333"))
    rb = rows["B"]
    assert (rb.uses, rb.deals, rb.avg_rating, rb.rating_count) == (0, 0, None, 0)
    assert (rb.won_with, rb.lost_with, rb.win_rate_with) == (0, 0, None)
    assert (rb.won_without, rb.lost_without, rb.win_rate_without) == (3, 3, Decimal("0.5000"))
    assert b.pk == rb.asset_id


def test_the_report_takes_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for i in range(8):
        a = asset(title=f"Asset {i}")
        deal = closed(world, "won" if i % 2 else "lost", NOW)
        used(a, deal)
        services.rate_content(asset=a, by=world.rep1, rating=1 + i % 5)
    with django_assert_max_num_queries(6):
        rows = queries.report(start=Q4_START, end=Q4_END)
    assert len(rows) == 8


# ---------------------------------------------------------------- API


def test_api_searches_the_library(world: World, api_as: Any) -> None:
    a = asset(title="Acme ROI case study")
    services.rate_content(asset=a, by=world.rep1, rating=4)
    asset(title="Blog post", audience="market")
    response = api_as("rep1").get("/enablement/assets", stage="decision")
    assert response.status_code == 200
    body = response.json()
    assert [(i["title"], i["avg_rating"], i["rating_count"]) for i in body["items"]] == [
        ("Acme ROI case study", "4.00", 1)
    ]
    assert api_as("rep1").get("/enablement/assets", stage="nirvana").status_code == 400


def test_api_uses_an_asset_on_a_deal(world: World, api_as: Any) -> None:
    a = asset()
    deal = DealFactory(owner=world.rep1)
    response = api_as("rep1").post(
        f"/enablement/assets/{a.pk}/use", {"kind": "sent", "deal_id": deal.pk, "note": "hi"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["deal_id"] == deal.pk
    assert response.json()["user"] == "rep1"
    # someone else's deal is not found; marketing may see it but not use content on it
    other = DealFactory(owner=world.rep3)
    path = f"/enablement/assets/{a.pk}/use"
    assert api_as("rep1").post(path, {"deal_id": other.pk}).status_code == 404
    assert api_as("marketing").post(path, {"deal_id": other.pk}).status_code == 403
    market = asset(audience="market")
    assert (
        api_as("rep1").post(f"/enablement/assets/{market.pk}/use", {"deal_id": deal.pk}).status_code
        == 404
    )


def test_api_rates_an_asset(world: World, api_as: Any) -> None:
    a = asset()
    api = api_as("rep2")

    def put(body: dict[str, Any]) -> Any:
        return api.client.put(
            f"/api/v1/enablement/assets/{a.pk}/rating",
            body,
            content_type="application/json",
            **api.headers,
        )

    assert put({"rating": 4, "comment": "good"}).json()["rating"] == 4
    body = put({"rating": 2}).json()
    body.pop("rated_at")
    assert body == {"asset_id": a.pk, "user": "rep2", "rating": 2, "comment": ""}
    assert ContentRating.objects.count() == 1
    assert put({"rating": 9}).status_code == 400
    marketing = api_as("marketing")
    response = marketing.client.put(
        f"/api/v1/enablement/assets/{a.pk}/rating",
        {"rating": 3},
        content_type="application/json",
        **marketing.headers,
    )
    assert response.status_code == 403


def test_api_report_for_marketing(world: World, api_as: Any) -> None:
    a = asset(title="A")
    used(a, closed(world, "won", NOW))
    closed(world, "lost", NOW)
    body = api_as("marketing").get("/enablement/report", period="2026-Q4").json()
    assert body["period"] == "2026-Q4"
    row = body["rows"][0]
    assert (row["title"], row["win_rate_with"], row["win_rate_without"]) == (
        "A",
        "1.0000",
        "0.0000",
    )
    assert api_as("marketing").get("/enablement/report", period="Q9").status_code == 400
