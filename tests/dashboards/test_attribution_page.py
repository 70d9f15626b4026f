"""The attribution page: model comparison, journey sankey, campaign economics, and its controls.

World (March 2026): deal D1 won 1 March for 1,000, contacts Ann and Bob. Their touches inside
the 90-day look-back: Ann paid search ("<script>…" campaign) 10 Jan, Bob events ("Summit")
20 Feb, Ann organic search 25 Feb. Deal D2 lost 15 March, contact Cy: paid search 5 Feb.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tandem.analytics.queries import attribution as queries
from tandem.dashboards.views.attribution import parse_controls
from tandem.sales.models import DealContact
from tests.marketing.factories import CampaignCostFactory, CampaignFactory, TouchpointFactory
from tests.sales.factories import DealFactory

URL = "/dashboards/attribution/"
MARCH = "2026-03"
START, END = date(2026, 3, 1), date(2026, 3, 31)
EVIL = "<script>alert(1)</script>"


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def rows_of(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def scene(world: Any) -> dict[str, Any]:
    evil = CampaignFactory(name=EVIL, channel="paid_search")
    summit = CampaignFactory(name="Summit", channel="events")
    ann, bob, cy = world.rep1_contact, world.rep2_contact, world.rep3_contact
    TouchpointFactory(contact=ann, occurred_at=at(1, 10), channel="paid_search", campaign=evil)
    TouchpointFactory(contact=bob, occurred_at=at(2, 20), channel="events", campaign=summit)
    TouchpointFactory(contact=ann, occurred_at=at(2, 25), channel="organic_search")
    TouchpointFactory(contact=cy, occurred_at=at(2, 5), channel="paid_search", campaign=evil)
    won = DealFactory(amount=Decimal(1000), status="won", created_at=at(2, 1), closed_at=at(3, 1))
    lost = DealFactory(
        amount=Decimal(700), status="lost", created_at=at(2, 10), closed_at=at(3, 15)
    )
    for deal, contact in ((won, ann), (won, bob), (lost, cy)):
        DealContact.objects.create(deal=deal, contact=contact, added_at=deal.created_at)
    CampaignCostFactory(campaign=evil, amount=Decimal(250), incurred_on=date(2026, 3, 2))
    CampaignCostFactory(campaign=summit, amount=Decimal(100), incurred_on=date(2026, 3, 3))
    return {"evil": evil, "summit": summit}


@pytest.mark.parametrize("role", ["admin", "marketing", "manager", "rep1"])
def test_every_role_reads_the_page(client_as, scene, role):
    response = client_as(role).get(URL, {"period": MARCH})
    assert response.status_code == 200
    body = response.content.decode()
    for key in ("models", "journeys", "economics"):
        assert f'id="chart-{key}"' in body
    assert body.count("plotly.min.js") == 1


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302


def test_model_comparison_shows_the_query_values(client_as, scene):
    client = client_as("marketing")
    table = rows_of(client.get(URL, {"period": MARCH, "csv": "models"}))
    models = queries.compare_models(group_by="channel", conversion="won", start=START, end=END)
    assert table[0] == [
        "Channel",
        "First touch revenue",
        "Last touch revenue",
        "Linear revenue",
        "Position-based revenue",
        "W-shaped revenue",
        "Time decay revenue",
        "Markov revenue",
        "Shapley revenue",
    ]
    shown = {row[0]: row[1:] for row in table[1:]}
    for i, model in enumerate(queries.ATTRIBUTION_MODELS):
        for r in models[model].rows:
            if r.label in shown:
                assert shown[r.label][i] == f"{r.value:.2f}"
    # Hand-computed: first touch = Ann's paid search of 10 Jan; last touch = her organic search
    # of 25 Feb; linear = a third each
    assert shown["Paid search"][:3] == ["1000.00", "0.00", "333.33"]
    assert shown["Organic search"][:3] == ["0.00", "1000.00", "333.33"]
    assert shown["Events"][2] == "333.33"
    body = client.get(URL, {"period": MARCH}).content.decode()
    assert '<span class="figure">1</span>Deals won' in body
    assert '<span class="figure">1,000</span>Revenue' in body


def test_created_conversions_show_pipeline(client_as, scene):
    table = rows_of(
        client_as("rep1").get(URL, {"period": "2026-02", "conversion": "created", "csv": "models"})
    )
    assert table[0][1] == "First touch pipeline"
    expected = queries.compare_models(
        group_by="channel",
        conversion="created",
        start=date(2026, 2, 1),
        end=date(2026, 2, 28),
    )
    total = sum((r.value for r in expected["linear"].rows), Decimal(0))
    assert total == Decimal("1700.00")
    assert sum(Decimal(row[3]) for row in table[1:]) == total


def test_group_by_campaign_escapes_the_names(client_as, scene):
    client = client_as("marketing")
    response = client.get(URL, {"period": MARCH, "group_by": "campaign"})
    body = response.content.decode()
    assert EVIL not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    table = rows_of(client.get(URL, {"period": MARCH, "group_by": "campaign", "csv": "models"}))
    assert table[0][0] == "Campaign"
    labels = [row[0] for row in table[1:]]
    assert EVIL in labels  # CSV cells keep the name (formula-safe, not HTML)


def test_journey_sankey_is_the_journey_links(client_as, scene):
    table = rows_of(client_as("manager").get(URL, {"period": MARCH, "csv": "journeys"}))
    links = queries.journey_links(start=START, end=END, conversion="won", max_steps=4)
    assert table[0] == ["From", "To", "Journeys"]
    assert table[1:] == [[x.source, x.target, str(x.journeys)] for x in links if x.journeys]
    assert ["1. Paid search", "2. Events", "1"] in table
    body = client_as("manager").get(URL, {"period": MARCH}).content.decode()
    assert '"type":"sankey"' in body


def test_economics_table_follows_the_model(client_as, scene):
    client = client_as("marketing")
    table = rows_of(client.get(URL, {"period": MARCH, "model": "first_touch", "csv": "economics"}))
    expected = queries.campaign_economics(start=START, end=END, model="first_touch")
    assert table[0] == [
        "Campaign",
        "Channel",
        "Cost",
        "Leads",
        "Cost per lead",
        "Customers",
        "CAC",
        "Pipeline",
        "Revenue",
        "ROI",
    ]
    by_name = {row[0]: row for row in table[1:]}
    assert len(by_name) == len(expected)
    evil = next(r for r in expected if r.name == EVIL)
    row = by_name[EVIL]
    assert row[2] == f"{evil.cost:.2f}" == "250.00"
    assert row[8] == f"{evil.revenue:.2f}" == "1000.00"  # first touch: all of D1
    assert row[9] == "4"  # ROI = 1000 / 250
    body = client.get(URL, {"period": MARCH, "model": "first_touch"}).content.decode()
    assert "(First touch)" in body


def test_unknown_csv_is_404(client_as, scene):
    assert client_as("admin").get(URL, {"period": MARCH, "csv": "nope"}).status_code == 404


@pytest.mark.parametrize(
    "params,message",
    [
        ({"model": "magic"}, "model &quot;magic&quot; is not one of"),
        ({"group_by": "rep"}, "group_by &quot;rep&quot; is not one of: channel, campaign"),
        ({"conversion": "lost"}, "conversion &quot;lost&quot; is not one of: won, created"),
        ({"lookback_days": "ten"}, "lookback_days &quot;ten&quot; is not a whole number of days"),
        ({"lookback_days": "0"}, "lookback_days must be between 1 and 730"),
        ({"half_life_days": "nan"}, "half_life_days must be above 0 and at most 365"),
        ({"half_life_days": "-3"}, "half_life_days must be above 0 and at most 365"),
        ({"period": "March"}, "is not a period"),
        ({"model": "<img src=x onerror=alert(1)>"}, "&lt;img src=x onerror=alert(1)&gt;"),
    ],
)
def test_bad_controls_give_a_message(client_as, scene, params, message):
    response = client_as("marketing").get(URL, {"period": MARCH, **params})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "<img src=x" not in body
    assert 'id="chart-models"' in body  # the page still shows the defaults' charts


def test_parse_controls_keeps_good_values():
    c = parse_controls(
        {
            "conversion": "created",
            "group_by": "campaign",
            "model": "markov",
            "lookback_days": "45",
            "half_life_days": "2.5",
        }
    )
    assert (c.conversion, c.group_by, c.model, c.lookback_days, c.half_life_days, c.errors) == (
        "created",
        "campaign",
        "markov",
        45,
        2.5,
        (),
    )


def test_query_count_is_bounded(client_as, scene, django_assert_max_num_queries):
    client = client_as("marketing")
    client.get(URL, {"period": MARCH})
    with django_assert_max_num_queries(25):
        assert client.get(URL, {"period": MARCH}).status_code == 200
