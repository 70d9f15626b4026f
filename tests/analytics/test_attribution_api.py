"""GET /api/v1/analytics/attribution[/campaigns] over a small, hand-computed world.

Window: March 2026. Deals and touches (C1 = "Search Q1", paid search; C2 = "Summit", events):

- D1 won 1 March, 1,000, new business, contacts Ann and Bob, created 1 February. Touches in
  the 90 days before 1 March: Ann paid search/C1 10 Jan, Bob events/C2 20 Feb, Ann organic
  search (no campaign) 25 Feb. Not counted: Ann 1 Oct 2025 (before the look-back), Ann 5 March
  (after the conversion). Ann became a lead 15 Jan: lead and opportunity touch = the C1 touch.
- D2 won 10 March, 500 (400 when created 1 March), an upsell, contact Cy: events/C2 28 Feb.
- D3 lost 15 March (created 10 Feb), contact Dee: paid search/C1 5 Feb.
- Eve is in no deal: display 2 March.

Costs in March: C1 $300; C2 €100 at 1.1 = $110, and £50 without a rate (left out); C1's
$999 of February is outside. Leads in March: Cy (15 Mar; first touch C2), Dee (3 Mar; C1),
Eve (skipped lead, MQL 4 Mar; display, no campaign); Ann became one in January.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tandem.analytics.queries import attribution as q
from tandem.crm.models import Contact
from tandem.sales.models import DealContact, ExchangeRate, StageChange
from tests.conftest import World
from tests.marketing.factories import CampaignCostFactory, CampaignFactory, TouchpointFactory
from tests.sales.factories import DealFactory

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


@pytest.fixture
def scene(world: World) -> dict[str, Any]:
    c1 = CampaignFactory(name="Search Q1", channel="paid_search")
    c2 = CampaignFactory(name="Summit", channel="events")
    ann, bob, cy, dee, eve = (
        world.rep1_contact,
        world.rep2_contact,
        world.rep3_contact,
        world.east_unassigned,
        world.nobody_contact,
    )
    Contact.objects.filter(pk=ann.pk).update(became_lead_at=at(1, 15))
    Contact.objects.filter(pk=cy.pk).update(became_lead_at=at(3, 15))
    Contact.objects.filter(pk=dee.pk).update(became_lead_at=at(3, 3))
    Contact.objects.filter(pk=eve.pk).update(became_lead_at=None, became_mql_at=at(3, 4))
    Contact.objects.filter(pk=bob.pk).update(became_lead_at=None)

    def touch(contact: Contact, when: datetime, channel: str, campaign: Any = None) -> None:
        TouchpointFactory(contact=contact, occurred_at=when, channel=channel, campaign=campaign)

    touch(ann, at(10, 1, 2025), "email")
    touch(ann, at(1, 10), "paid_search", c1)
    touch(bob, at(2, 20), "events", c2)
    touch(ann, at(2, 25), "organic_search")
    touch(ann, at(3, 5), "content")
    touch(cy, at(2, 28), "events", c2)
    touch(dee, at(2, 5), "paid_search", c1)
    touch(eve, at(3, 2), "display")

    d1 = DealFactory(
        amount=Decimal(1000), status="won", created_at=at(2, 1), closed_at=at(3, 1, 2026)
    )
    d2 = DealFactory(
        amount=Decimal(500), status="won", kind="upsell", created_at=at(3, 1), closed_at=at(3, 10)
    )
    StageChange.objects.create(
        deal=d2,
        kind="created",
        to_stage=d2.stage,
        to_status="open",
        changed_at=d2.created_at,
        amount_base=Decimal(400),
    )
    d3 = DealFactory(amount=Decimal(700), status="lost", created_at=at(2, 10), closed_at=at(3, 15))
    for deal, contact in ((d1, ann), (d1, bob), (d2, cy), (d3, dee)):
        DealContact.objects.create(deal=deal, contact=contact, added_at=deal.created_at)

    ExchangeRate.objects.update_or_create(currency="EUR", defaults={"rate": Decimal("1.1")})
    ExchangeRate.objects.filter(currency="GBP").delete()
    CampaignCostFactory(campaign=c1, amount=Decimal(300), incurred_on=date(2026, 3, 2))
    CampaignCostFactory(campaign=c1, amount=Decimal(999), incurred_on=date(2026, 2, 15))
    CampaignCostFactory(
        campaign=c2, amount=Decimal(100), currency="EUR", incurred_on=date(2026, 3, 20)
    )
    CampaignCostFactory(
        campaign=c2, amount=Decimal(50), currency="GBP", incurred_on=date(2026, 3, 21)
    )
    return {"c1": c1, "c2": c2}


def rows(body: dict[str, Any]) -> dict[str, tuple[float, str, str | None, float | None]]:
    return {
        r["key"]: (round(r["conversions"], 9), r["value"], r["cost"], r["roi"])
        for r in body["rows"]
    }


def get(api: Any, **params: Any) -> dict[str, Any]:
    response = api.get("/analytics/attribution", **MARCH, **params)
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.django_db
def test_linear_by_channel_credits_each_touch_of_the_won_deals(scene: Any, api_as: Any) -> None:
    body = get(api_as("marketing"), model="linear")
    assert body["model"] == "linear"
    assert (body["group_by"], body["conversion"]) == ("channel", "won")
    assert (body["start"], body["end"]) == ("2026-03-01", "2026-03-31")
    assert (body["total_conversions"], body["total_value"]) == (2, "1500.00")
    assert body["total_cost"] == "410.00"
    assert body["unconverted_costs"] == {"GBP": "50.00"}
    third = round(1 / 3, 9)
    assert rows(body) == {
        "events": (round(4 / 3, 9), "833.33", "110.00", pytest.approx(833.33 / 110)),
        "paid_search": (third, "333.33", "300.00", pytest.approx(333.33 / 300)),
        "organic_search": (third, "333.33", "0.00", None),
    }
    # Ties (paid and organic search) go by label
    assert [r["key"] for r in body["rows"]] == ["events", "organic_search", "paid_search"]
    assert body["rows"][0]["label"] == "Events"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", {"paid_search": (1.0, "1000.00"), "events": (1.0, "500.00")}),
        ("last_touch", {"organic_search": (1.0, "1000.00"), "events": (1.0, "500.00")}),
        # D1: 40/20/40 over paid, events, organic; D2: events 100 %
        (
            "position_based",
            {
                "paid_search": (0.4, "400.00"),
                "events": (1.2, "700.00"),
                "organic_search": (0.4, "400.00"),
            },
        ),
        # D1: the C1 touch is first, lead and opportunity touch (90 %), the others 5 % each
        (
            "w_shaped",
            {
                "paid_search": (0.9, "900.00"),
                "events": (1.05, "550.00"),
                "organic_search": (0.05, "50.00"),
            },
        ),
        # D1 has distinct channels paid, events, organic: a third each
        (
            "shapley",
            {
                "paid_search": (round(1 / 3, 9), "333.33"),
                "events": (round(4 / 3, 9), "833.33"),
                "organic_search": (round(1 / 3, 9), "333.33"),
            },
        ),
    ],
)
def test_each_model_by_channel(
    scene: Any, api_as: Any, model: str, expected: dict[str, tuple[float, str]]
) -> None:
    got = {k: v[:2] for k, v in rows(get(api_as("admin"), model=model)).items()}
    zero = {k: (0.0, "0.00") for k in ("paid_search", "events", "organic_search", "display")}
    assert {k: v for k, v in got.items() if v != (0.0, "0.00")} == expected
    assert set(got) <= set(zero)


@pytest.mark.django_db
def test_time_decay_weighs_recent_touches(scene: Any, api_as: Any) -> None:
    # D1 converts 1 March noon: touches 50, 9 and 4 days before; half-life 1 day.
    body = get(api_as("admin"), model="time_decay", half_life_days=1)
    w = [2.0**-50, 2.0**-9, 2.0**-4]
    share = [x / sum(w) for x in w]
    got = rows(body)
    assert got["paid_search"][0] == pytest.approx(share[0], abs=1e-9)
    assert got["events"][0] == pytest.approx(share[1] + 1, abs=1e-9)
    assert got["organic_search"][0] == pytest.approx(share[2], abs=1e-9)
    assert got["organic_search"][1] == str(Decimal(1000 * share[2]).quantize(Decimal("0.01")))


@pytest.mark.django_db
def test_markov_uses_the_lost_deal_and_the_contact_without_a_deal(scene: Any, api_as: Any) -> None:
    # Paths: paid>events>organic (won 1,000), events (won 500), paid (lost D3), display (Eve).
    # P(conv) = 1/2; removal effects paid 1/2, events 1, organic 1/2, display 0 → credits over
    # 2 conversions 0.5 / 1 / 0.5 / 0. Value chain: effects 1/2, 1, 2/3 → 1,500 x 3/13, 6/13, 4/13.
    got = rows(get(api_as("admin"), model="markov"))
    assert got["paid_search"][:2] == (0.5, "346.15")
    assert got["events"][:2] == (1.0, "692.31")
    assert got["organic_search"][:2] == (0.5, "461.54")
    assert got["display"][:2] == (0.0, "0.00")


@pytest.mark.django_db
def test_by_campaign_with_the_untagged_touches_and_costs(scene: Any, api_as: Any) -> None:
    c1, c2 = str(scene["c1"].pk), str(scene["c2"].pk)
    body = get(api_as("rep1"), model="linear", group_by="campaign")
    third = round(1 / 3, 9)
    assert rows(body) == {
        c2: (round(4 / 3, 9), "833.33", "110.00", pytest.approx(833.33 / 110)),
        c1: (third, "333.33", "300.00", pytest.approx(333.33 / 300)),
        "(no campaign)": (third, "333.33", None, None),
    }
    labels = {r["key"]: r["label"] for r in body["rows"]}
    assert labels == {c1: "Search Q1", c2: "Summit", "(no campaign)": "(no campaign)"}


@pytest.mark.django_db
def test_created_conversions_use_the_amount_at_creation(scene: Any, api_as: Any) -> None:
    # Only D2 was created in March (value 400 then); Cy's C2 touch of 28 Feb is its journey.
    body = get(api_as("manager"), model="first_touch", conversion="created")
    assert (body["total_conversions"], body["total_value"]) == (1, "400.00")
    assert rows(body)["events"] == (1.0, "400.00", "110.00", None)  # no ROI on pipeline


@pytest.mark.django_db
def test_every_model_credits_sum_to_the_totals(scene: Any) -> None:
    for conversion in ("won", "created"):
        results = q.compare_models(
            group_by="campaign",
            conversion=conversion,
            start=date(2026, 3, 1),
            end=date(2026, 3, 31),
        )
        assert list(results) == list(q.ATTRIBUTION_MODELS)
        for result in results.values():
            assert sum(r.conversions for r in result.rows) == pytest.approx(
                result.total_conversions
            )
            assert abs(sum(r.value for r in result.rows) - result.total_value) <= Decimal("0.02")


@pytest.mark.django_db
def test_a_conversion_without_touches_is_credited_to_no_touchpoint(scene: Any, api_as: Any) -> None:
    # With no look-back, D2 (created 1 March) has no touch: Cy's was on 28 February.
    body = get(api_as("admin"), model="linear", conversion="created", lookback_days=0)
    assert rows(body) == {
        "(no touchpoint)": (1.0, "400.00", None, None),
        "events": (0.0, "0.00", "110.00", None),
        "paid_search": (0.0, "0.00", "300.00", None),
    }


@pytest.mark.django_db
def test_every_role_reads_the_same_numbers(scene: Any, api_as: Any) -> None:
    bodies = [get(api_as(name), model="w_shaped") for name in ("admin", "marketing", "manager")]
    bodies.append(get(api_as("rep3"), model="w_shaped"))
    assert all(b == bodies[0] for b in bodies)


@pytest.mark.django_db
def test_without_a_key_401(scene: Any) -> None:
    from tests.conftest import ApiClient

    assert ApiClient(None).get("/analytics/attribution").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "needle"),
    [
        (
            {"model": "u_shaped"},
            "allowed: first_touch, last_touch, linear, position_based, w_shaped, time_decay, "
            "markov, shapley",
        ),
        ({"group_by": "persona"}, "allowed: channel, campaign"),
        ({"conversion": "lost"}, "allowed: won, created"),
        ({"lookback_days": -1}, "lookback_days"),
        ({"lookback_days": "abc"}, "lookback_days"),
        ({"half_life_days": "inf"}, "half_life_days"),
        ({"half_life_days": 0}, "half_life_days"),
        ({"period": "2026-13"}, "period"),
    ],
)
def test_bad_parameters_are_400_naming_the_problem(
    scene: Any, api_as: Any, params: dict[str, Any], needle: str
) -> None:
    query = {"period": "2026-03", **params}
    response = api_as("admin").get("/analytics/attribution", **query)
    assert response.status_code == 400, response.content
    assert needle in response.json()["detail"]


@pytest.mark.django_db
def test_a_bad_start_date_is_400(scene: Any, api_as: Any) -> None:
    response = api_as("admin").get("/analytics/attribution", start="2026-03-xx")
    assert response.status_code == 400
    assert "start" in response.json()["detail"]


@pytest.mark.django_db
def test_campaign_economics(scene: Any, api_as: Any) -> None:
    c1, c2 = scene["c1"], scene["c2"]
    response = api_as("marketing").get("/analytics/attribution/campaigns", **MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["model"], body["group_by"]) == ("linear", "campaign")
    got = {r["name"]: r for r in body["rows"]}
    assert set(got) == {"Search Q1", "Summit", "(no campaign)"}
    # Customers: D1 only (D2 is an upsell): a third to each of its three touches' campaigns.
    assert got["Search Q1"] == {
        "campaign_id": c1.pk,
        "name": "Search Q1",
        "channel": "paid_search",
        "cost": "300.00",
        "leads": 1,  # Dee
        "cost_per_lead": "300.00",
        "customers": pytest.approx(1 / 3),
        "cac": "900.00",
        "pipeline": "0.00",
        "revenue": "333.33",
        "roi": pytest.approx(333.33 / 300),
    }
    assert got["Summit"] == {
        "campaign_id": c2.pk,
        "name": "Summit",
        "channel": "events",
        "cost": "110.00",
        "leads": 1,  # Cy
        "cost_per_lead": "110.00",
        "customers": pytest.approx(1 / 3),
        "cac": "330.00",
        "pipeline": "400.00",  # D2 at creation
        "revenue": "833.33",
        "roi": pytest.approx(833.33 / 110),
    }
    assert got["(no campaign)"]["leads"] == 1  # Eve, through her MQL date
    assert got["(no campaign)"]["cost"] == "0.00"
    assert got["(no campaign)"]["cost_per_lead"] == "0.00"  # costs always belong to a campaign
    assert got["(no campaign)"]["roi"] is None
    assert [r["name"] for r in body["rows"]] == ["Summit", "Search Q1", "(no campaign)"]


@pytest.mark.django_db
def test_channel_economics(scene: Any, api_as: Any) -> None:
    response = api_as("manager").get(
        "/analytics/attribution/campaigns", group_by="channel", model="first_touch", **MARCH
    )
    assert response.status_code == 200, response.content
    got = {r["channel"]: r for r in response.json()["rows"]}
    assert set(got) == {"paid_search", "events", "organic_search", "display"}
    # First touch: D1 (1,000) to paid search, D2 (500) to events; D1 is the one customer.
    assert (got["paid_search"]["revenue"], got["paid_search"]["customers"]) == ("1000.00", 1.0)
    assert (got["paid_search"]["cac"], got["paid_search"]["roi"]) == ("300.00", 1000 / 300)
    assert (got["events"]["revenue"], got["events"]["customers"], got["events"]["cac"]) == (
        "500.00",
        0.0,
        None,
    )
    assert got["events"]["pipeline"] == "400.00"
    assert got["display"]["leads"] == 1
    assert got["display"]["name"] == "Display"
    assert got["display"]["campaign_id"] is None


@pytest.mark.django_db
def test_economics_refuse_an_unknown_model(scene: Any, api_as: Any) -> None:
    response = api_as("admin").get("/analytics/attribution/campaigns", model="nope", **MARCH)
    assert response.status_code == 400
    assert "allowed: first_touch" in response.json()["detail"]


@pytest.mark.django_db
def test_journey_links(scene: Any) -> None:
    links = q.journey_links(start=date(2026, 3, 1), end=date(2026, 3, 31), max_steps=2)
    assert [(x.source, x.target, x.journeys) for x in links] == [
        ("1. Display", "Lost/none", 1),
        ("1. Events", "Won", 1),
        ("1. Paid search", "2. Events", 1),
        ("1. Paid search", "Lost/none", 1),
        ("2. Events", "Won", 1),
    ]


@pytest.mark.django_db
def test_a_won_deal_looks_back_from_its_creation(scene: Any, api_as: Any) -> None:
    # 25 days: D1 (created 1 Feb, won 1 Mar) reaches back to 7 Jan, so Ann's paid search touch
    # of 10 Jan counts although it is 50 days before the win; D2 (created 1 Mar) keeps Cy's
    # events touch of 28 Feb.
    body = get(api_as("admin"), model="linear", conversion="won", lookback_days=25)
    credits = {key: row[0] for key, row in rows(body).items()}
    assert credits["paid_search"] == pytest.approx(1 / 3)
    assert credits["organic_search"] == pytest.approx(1 / 3)
    assert credits["events"] == pytest.approx(1 / 3 + 1)
    assert "(no touchpoint)" not in credits or credits["(no touchpoint)"] == 0


@pytest.mark.django_db
def test_one_loaded_window_gives_the_same_results_as_separate_reads(
    scene: Any, django_assert_max_num_queries: Any
) -> None:
    s, e = date(2026, 3, 1), date(2026, 3, 31)
    apart = (
        q.compare_models(group_by="campaign", conversion="won", start=s, end=e),
        q.compare_models(group_by="channel", conversion="created", start=s, end=e),
        q.journey_links(start=s, end=e, max_steps=2),
        q.campaign_economics(start=s, end=e),
        q.channel_economics(start=s, end=e),
    )
    loaded = q.window(start=s, end=e)
    # The window's deals, touches and dealt contacts, and nothing more once loaded.
    with django_assert_max_num_queries(0):
        links = q.journey_links(start=s, end=e, max_steps=2, loaded=loaded)
    together = (
        q.compare_models(group_by="campaign", conversion="won", start=s, end=e, loaded=loaded),
        q.compare_models(group_by="channel", conversion="created", start=s, end=e, loaded=loaded),
        links,
        q.campaign_economics(start=s, end=e, loaded=loaded),
        q.channel_economics(start=s, end=e, loaded=loaded),
    )
    assert together == apart


@pytest.mark.django_db
def test_a_loaded_window_of_another_period_is_refused(scene: Any) -> None:
    loaded = q.window(start=date(2026, 3, 1), end=date(2026, 3, 31), lookback_days=30)
    with pytest.raises(ValueError, match="another window"):
        q.journey_links(start=date(2026, 3, 1), end=date(2026, 3, 31), loaded=loaded)
