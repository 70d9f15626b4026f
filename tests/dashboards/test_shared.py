"""The shared goals page: actual, target and progress per goal, trends, funnel; roles and CSVs."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from tandem.analytics.queries.funnel import funnel
from tandem.analytics.queries.sales import sales_metrics
from tandem.dashboards.charts import cell
from tandem.dashboards.services import set_goals
from tandem.sales.periods import parse_period
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.dashboards.test_sales_dashboard import at, deals  # noqa: F401  (the Q2 deals fixture)

pytestmark = pytest.mark.django_db

URL = "/dashboards/?period=2026-Q2"
ROLES = ["admin", "marketing", "manager", "rep1", "rep2", "rep3"]


@pytest.fixture
def shared(world: World, deals: Any) -> None:  # noqa: F811
    """Q2 2026 beside the deals: two contacts become MQLs in Q2 (one reaches SQL), one became an
    MQL in Q1 and an SQL in Q2; goals for Q2 and a revenue goal for Q1."""
    ContactFactory(
        email="one@example.com",
        created_at=at("2026-04-03"),
        lifecycle_stage="sql",
        became_lead_at=at("2026-04-03"),
        became_mql_at=at("2026-04-10"),
        became_sql_at=at("2026-04-20"),
    )
    ContactFactory(
        email="two@example.com",
        created_at=at("2026-04-05"),
        lifecycle_stage="mql",
        became_lead_at=at("2026-04-05"),
        became_mql_at=at("2026-05-01"),
    )
    ContactFactory(
        email="three@example.com",
        created_at=at("2026-01-10"),
        lifecycle_stage="sql",
        became_lead_at=at("2026-01-10"),
        became_mql_at=at("2026-03-20"),
        became_sql_at=at("2026-04-02"),
    )
    set_goals(
        period="2026-Q2",
        targets={
            "revenue": Decimal(50000),
            "mqls": Decimal(4),
            "mql_to_sql_rate": Decimal("0.4"),
            "win_rate": Decimal("0.5"),
        },
        by=world.admin,
    )
    set_goals(period="2026-Q1", targets={"revenue": Decimal(20000)}, by=world.admin)


def table(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("name", ROLES)
def test_every_role_reads_the_shared_page(shared: None, client_as: Any, name: str) -> None:
    response = client_as(name).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shared goals · Q2 2026" in html
    for metric in ("revenue", "pipeline_created", "mqls", "mql_to_sql_rate", "win_rate"):
        assert f'id="goal-{metric}"' in html
    assert 'id="chart-funnel"' in html and 'id="chart-trend-velocity"' in html
    # only goal setters are offered the form
    assert ('id="set-goals"' in html) == (name in ("admin", "marketing", "manager"))


def test_the_tiles_show_the_query_values_and_progress(shared: None, client_as: Any) -> None:
    q2 = parse_period("2026-Q2")
    total = sales_metrics(start=q2.start, end=q2.end).total
    mql = next(
        s for s in funnel(start=q2.start, end=q2.end, mode="period").stages if s.stage == "mql"
    )
    # hand-computed: won 10,000 + 30,000; 2 of 3 closed deals won; two MQLs, one went on to SQL
    assert total.revenue == Decimal("40000.00")
    assert (mql.entered, mql.conversion_to_next) == (2, 0.5)
    html = client_as("rep1").get(URL).content.decode()
    assert 'data-actual="40000.00"' in html and "$40,000" in html
    assert 'data-target="50000.0000"' in html and "$50,000" in html
    assert "80.0 % of goal" in html  # revenue 40,000 of 50,000
    assert "50.0 % of goal" in html  # MQLs 2 of 4
    assert "125.0 % of goal" in html  # MQL → SQL 50 % of 40 %
    assert "133.3 % of goal" in html  # win rate 66.67 % of 50 %
    assert "66.7 %" in html and "no goal set" in html


def test_progress_csv(shared: None, client_as: Any) -> None:
    q2 = parse_period("2026-Q2")
    total = sales_metrics(start=q2.start, end=q2.end).total
    assert table(client_as("admin").get(URL + "&csv=progress")) == [
        ["Metric", "Unit", "Actual", "Target", "Progress (%)"],
        ["Revenue won", "USD", "40000.00", "50000.00", "80"],
        ["Pipeline created", "USD", "54000.00", "", ""],
        ["MQLs", "contacts", "2", "4", "50"],
        ["MQL → SQL rate", "%", "50", "40", "125"],
        ["Win rate", "%", "66.7", "50", "133.3"],
        ["Sales velocity (per day)", "USD per day", cell(total.velocity_per_day), "", ""],
    ]
    # velocity by hand: 2 open deals x 2/3 x 20,000 average / 30 days cycle
    assert abs(float(total.velocity_per_day or 0) - 2 * (2 / 3) * 20000 / 30) < 0.01


def test_trend_csv_has_the_last_six_quarters(shared: None, client_as: Any) -> None:
    rows = table(client_as("admin").get(URL + "&csv=trend-revenue"))
    assert rows[0] == ["Period", "Actual (USD)", "Target", "Progress (%)"]
    assert [r[0] for r in rows[1:]] == [
        "Q1 2025",
        "Q2 2025",
        "Q3 2025",
        "Q4 2025",
        "Q1 2026",
        "Q2 2026",
    ]
    assert rows[-2] == ["Q1 2026", "0.00", "20000.00", "0"]
    assert rows[-1] == ["Q2 2026", "40000.00", "50000.00", "80"]
    # a month page trends over months
    months = table(client_as("admin").get("/dashboards/?period=2026-05&csv=trend-mqls"))
    assert [r[0] for r in months[1:]][-2:] == ["April 2026", "May 2026"]
    assert months[-1][1] == "1"  # two@ became an MQL on 1 May


def test_funnel_csv_equals_the_period_funnel(shared: None, client_as: Any) -> None:
    rows = table(client_as("marketing").get(URL + "&csv=funnel"))
    assert rows[0] == [
        "Stage",
        "Entered",
        "Conversion to next (%)",
        "Median days to next",
        "p75 days to next",
    ]
    q2 = parse_period("2026-Q2")
    stages = funnel(start=q2.start, end=q2.end, mode="period").stages
    assert [r[:2] for r in rows[1:]] == [[s.label, str(s.entered)] for s in stages]
    mql = [s.stage for s in stages].index("mql")
    assert rows[1 + mql][1:3] == ["2", "50"]


def test_unknown_csv_404_and_bad_period(shared: None, client_as: Any) -> None:
    client = client_as("admin")
    assert client.get(URL + "&csv=unknown").status_code == 404
    response = client.get("/dashboards/?period=someday")
    assert response.status_code == 200
    assert "write a month as 2026-11 or a quarter as 2026-Q4" in response.content.decode()


def test_a_signed_out_visitor_is_sent_to_sign_in(world: World) -> None:
    from django.test import Client

    response = Client().get("/dashboards/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_query_ceiling(shared: None, client_as: Any, django_assert_max_num_queries: Any) -> None:
    client = client_as("manager")
    client.get(URL)
    with django_assert_max_num_queries(40):
        assert client.get(URL).status_code == 200


def test_the_batched_trend_equals_the_query_per_period(shared: None) -> None:
    from tandem.dashboards.queries import actuals, actuals_over, trailing_periods

    periods = trailing_periods(parse_period("2026-Q2"))
    batched = actuals_over(periods=periods)
    for period in periods:
        one = actuals(period=period)
        assert batched[period.key].values == one.values
        assert batched[period.key].stages == one.stages
    assert batched["2026-Q2"].values["revenue"] == Decimal("40000.00")
    assert batched["2026-Q1"].values["mqls"] == Decimal(1)
