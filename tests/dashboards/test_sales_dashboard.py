"""The sales dashboard: every role, values equal the queries', CSVs, scope, escaping, query ceiling."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tandem.analytics.queries.sales import loss_reasons, sales_metrics
from tandem.crm.models import Activity
from tandem.dashboards.charts import cell
from tandem.sales.models import LostReason
from tandem.sales.periods import parse_period
from tandem.sales.queries.forecasts import attainment_rows
from tests.conftest import World
from tests.sales.factories import DealFactory, stage

pytestmark = pytest.mark.django_db

URL = "/dashboards/sales/?period=2026-Q2"
SCRIPT = "<script>alert(1)</script>"
ROLES = ["admin", "marketing", "manager", "rep1", "rep2", "rep3"]


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)


@pytest.fixture
def deals(world: World) -> dict[str, Any]:
    """Q2 2026: rep1 wins 10,000 (email) and loses 4,000 (<script>); rep2 wins 30,000 (events);
    rep3 has two open deals in Discovery (7,000 and 3,000); three activities in the week of 6 April."""
    reason = LostReason.objects.create(name=SCRIPT, position=99)
    won = stage("Closed Won")
    lost = stage("Closed Lost")
    out = {
        "a": DealFactory(
            owner=world.rep1,
            amount=Decimal(10000),
            status="won",
            stage=won,
            created_at=at("2026-04-02"),
            closed_at=at("2026-05-12"),
            source_channel="email",
        ),
        "b": DealFactory(
            owner=world.rep1,
            amount=Decimal(4000),
            status="lost",
            stage=lost,
            created_at=at("2026-04-10"),
            closed_at=at("2026-06-01"),
            lost_reason=reason,
        ),
        "c": DealFactory(
            owner=world.rep2,
            amount=Decimal(30000),
            status="won",
            stage=won,
            created_at=at("2026-04-05"),
            closed_at=at("2026-04-25"),
            source_channel="events",
        ),
        "d": DealFactory(owner=world.rep3, amount=Decimal(7000), created_at=at("2026-05-01")),
        "e": DealFactory(owner=world.rep3, amount=Decimal(3000), created_at=at("2026-05-03")),
    }
    for kind, owner, day in (
        ("call", world.rep1, "2026-04-07"),
        ("meeting", world.rep1, "2026-04-08"),
        ("email", world.rep3, "2026-04-08"),
    ):
        Activity.objects.create(
            kind=kind, owner=owner, occurred_at=at(day), contact=world.rep1_contact
        )
    return out


def table(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("name", ROLES)
def test_every_role_gets_the_page_with_every_card(deals: Any, client_as: Any, name: str) -> None:
    response = client_as(name).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sales · Q2 2026" in html
    for key in ("pipeline", "forecast", "activities", "losses", "wins", "reps"):
        assert f'id="chart-{key}"' in html
    assert html.count("plotly.min.js") == 1


def test_signed_out_visitors_are_sent_to_sign_in(world: World) -> None:
    from django.test import Client

    response = Client().get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_rep_table_is_hand_computed_and_equals_sales_metrics(
    world: World, deals: Any, client_as: Any
) -> None:
    rows = table(client_as("admin").get(URL + "&csv=reps"))
    assert rows[0] == [
        "Rep",
        "Deals created",
        "Pipeline created",
        "Won",
        "Lost",
        "Win rate (%)",
        "Revenue",
        "Average deal size",
        "Cycle (days)",
        "Open deals",
        "Open amount",
        "Velocity per day",
    ]
    by_rep = {r[0]: r for r in rows[1:]}
    assert sorted(by_rep) == ["Riley", "rep2", "rep3"]
    # rep1 (Riley): two deals created (14,000), one won of two closed, 40 days from created to won
    assert by_rep["Riley"][:9] == [
        "Riley",
        "2",
        "14000.00",
        "1",
        "1",
        "50",
        "10000.00",
        "10000.00",
        "40",
    ]
    assert by_rep["rep2"][:9] == [
        "rep2",
        "1",
        "30000.00",
        "1",
        "0",
        "100",
        "30000.00",
        "30000.00",
        "20",
    ]
    # rep3's two deals are open at the quarter's end: 10,000 open, nothing closed
    assert by_rep["rep3"][1:4] == ["2", "10000.00", "0"]
    assert by_rep["rep3"][9:11] == ["2", "10000.00"]
    # and every cell is what sales_metrics answers for the same window
    result = sales_metrics(
        start=parse_period("2026-Q2").start, end=parse_period("2026-Q2").end, group_by="rep"
    )
    for m in result.rows:
        expected = [
            m.label,
            m.deals_created,
            m.pipeline_created,
            m.won,
            m.lost,
            None if m.win_rate is None else round(m.win_rate * 100, 1),
            m.revenue,
            m.average_deal_size,
            None if m.cycle_days is None else round(m.cycle_days, 1),
            m.open_deals,
            m.open_amount,
            m.velocity_per_day,
        ]
        assert by_rep[m.label] == [cell(v) for v in expected]


@pytest.mark.parametrize(
    ("name", "reps"),
    [
        ("admin", ["rep2", "rep3", "Riley"]),
        ("marketing", ["rep2", "rep3", "Riley"]),
        ("manager", ["rep2", "Riley"]),
        ("rep1", ["Riley"]),
        ("rep2", ["rep2"]),
        ("rep3", ["rep3"]),
    ],
)
def test_the_rep_table_shows_only_the_reps_the_viewer_may_read(
    world: World, deals: Any, client_as: Any, name: str, reps: list[str]
) -> None:
    rows = table(client_as(name).get(URL + "&csv=reps"))
    # (sorted by name, as sales_metrics sorts them)
    assert [r[0] for r in rows[1:]] == reps


def test_pipeline_by_stage_counts_the_open_deals_the_viewer_sees(
    deals: Any, client_as: Any
) -> None:
    header, *rows = table(client_as("admin").get(URL + "&csv=pipeline"))
    assert header == ["Stage", "Open deals", "Open amount", "Weighted amount"]
    # Discovery holds both open deals (10 % probability); the other open stages are empty
    assert rows[0] == ["Discovery", "2", "10000.00", "1000.00"]
    assert all(r[1:3] == ["0", "0.00"] for r in rows[1:])
    assert [r[0] for r in rows] == ["Discovery", "Demo", "Proposal", "Negotiation"]
    # rep1 has no open deal: the card says so and the CSV holds only the header
    assert table(client_as("rep1").get(URL + "&csv=pipeline")) == [header]


def test_forecast_against_quota_equals_the_forecast_roll_up(
    world: World, deals: Any, client_as: Any
) -> None:
    header, *rows = table(client_as("manager").get(URL + "&csv=forecast"))
    assert header[:3] == ["Rep or team", "Quota", "Closed won"]
    expected = attainment_rows(user=world.manager, period=parse_period("2026-Q2"))
    assert len(rows) == len(expected)
    for row, line in zip(rows, expected, strict=True):
        assert row[2] == cell(line.forecast.closed_won)
        assert row[5] == cell(line.forecast.expected)
    # the east team closed 10,000 + 30,000 in the quarter
    assert rows[-1][0] == "Sales East total" and rows[-1][2] == "40000.00"


def test_activities_per_week_by_kind(deals: Any, client_as: Any) -> None:
    header, *rows = table(client_as("admin").get(URL + "&csv=activities"))
    assert header == ["Week starting", "Note", "Call", "Meeting", "Task", "Email", "Total"]
    # every Monday from the week holding 1 April to the one holding 30 June, zeros included
    assert [r[0] for r in rows][:2] == ["2026-03-30", "2026-04-06"]
    assert rows[-1][0] == "2026-06-29" and len(rows) == 14
    assert rows[1] == ["2026-04-06", "0", "1", "1", "0", "1", "3"]
    assert sum(int(r[-1]) for r in rows) == 3
    # a rep counts only their own
    rep_rows = table(client_as("rep1").get(URL + "&csv=activities"))[1:]
    assert rep_rows[1] == ["2026-04-06", "0", "1", "1", "0", "0", "2"]


def test_win_and_loss_reasons(deals: Any, client_as: Any) -> None:
    assert table(client_as("admin").get(URL + "&csv=losses")) == [
        ["Lost reason", "Deals", "Amount (USD)"],
        [SCRIPT, "1", "4000.00"],
    ]
    q2 = parse_period("2026-Q2")
    assert loss_reasons(start=q2.start, end=q2.end)[0].reason == SCRIPT
    assert table(client_as("admin").get(URL + "&csv=wins")) == [
        ["Source", "Deals", "Amount (USD)"],
        ["Email", "1", "10000.00"],
        ["Events", "1", "30000.00"],
    ]
    # rep2 sees only their own won deal
    assert table(client_as("rep2").get(URL + "&csv=wins"))[1:] == [["Events", "1", "30000.00"]]


def test_a_lost_reason_named_script_is_escaped(deals: Any, client_as: Any) -> None:
    html = client_as("admin").get(URL).content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_csv_is_404_and_a_bad_period_is_named(deals: Any, client_as: Any) -> None:
    client = client_as("admin")
    assert client.get(URL + "&csv=unknown").status_code == 404
    response = client.get("/dashboards/sales/?period=2026-Q7")
    assert response.status_code == 200
    assert "write a month as 2026-11 or a quarter as 2026-Q4" in response.content.decode()
    assert client.get("/dashboards/sales/?pipeline=999999").status_code == 404


@pytest.mark.parametrize("name", ["admin", "manager", "rep1"])
def test_query_ceiling(
    deals: Any, client_as: Any, django_assert_max_num_queries: Any, name: str
) -> None:
    client = client_as(name)
    client.get(URL)
    with django_assert_max_num_queries(30):
        assert client.get(URL).status_code == 200
