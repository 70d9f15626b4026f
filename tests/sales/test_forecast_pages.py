"""Forecast pages: the numbers per role, the roll-up, the strip's markup, charts as data, 404s,
and query ceilings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tandem.sales.models import ForecastSnapshot
from tandem.sales.queries import forecasts as queries
from tandem.sales.views.forecasts import snapshot_figure
from tests.conftest import World
from tests.sales.factories import DealFactory, stage
from tests.sales.test_forecast import Q4, build_q4, quota

D = Decimal
URL = "/sales/forecast/"
STRIP = "/sales/forecast/strip/"


@pytest.fixture
def q4(world: World) -> World:
    return build_q4(world)


def test_anonymous_users_are_sent_to_sign_in(db: Any) -> None:
    for url in (URL, STRIP, "/sales/quotas/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/login" in response["Location"]


def test_a_rep_sees_their_own_numbers_and_no_rollup(q4: World, client_as: Any) -> None:
    quota("2026-Q4", "20000.00", user=q4.rep1)

    html = client_as("rep1").get(URL, {"period": "2026-Q4"}).content.decode()

    assert "Forecast · Q4 2026" in html
    assert 'id="fc-closed-won"><span class="figure">$15,001</span>' in html
    assert 'id="fc-commit"><span class="figure">$36,081</span>' in html
    assert 'id="fc-weighted"><span class="figure">$20,460</span>' in html
    assert "<strong>75.0%</strong> of a $20,000 quota" in html
    assert 'id="forecast-rollup"' not in html
    assert 'name="team"' not in html  # no scope picker for a rep


def test_a_rep_asking_for_someone_else_gets_a_404(q4: World, client_as: Any) -> None:
    rep1 = client_as("rep1")
    assert rep1.get(URL, {"user": "rep2"}).status_code == 404
    assert rep1.get(URL, {"team": str(q4.east.pk)}).status_code == 404
    assert rep1.get(URL, {"user": "nobody-by-that-name"}).status_code == 404
    assert client_as("manager").get(URL, {"user": "rep3"}).status_code == 404
    assert client_as("manager").get(URL, {"team": "x1"}).status_code == 404


def test_the_manager_sees_the_team_rollup_with_rep_rows_and_total(
    q4: World, client_as: Any
) -> None:
    html = client_as("manager").get(URL, {"period": "2026-Q4"}).content.decode()

    rows = re.findall(r'<tr class="rollup-(\w+)" data-(?:user|team)="([^"]+)"', html)
    assert rows == [("rep", "rep1"), ("rep", "rep2"), ("team", str(q4.east.pk))]
    assert "Sales East total" in html
    assert "Sales West" not in html.split('id="forecast-rollup"')[1]
    assert 'id="fc-closed-won"><span class="figure">$16,001</span>' in html


def test_admin_sees_every_team_and_the_company_and_can_pick_a_rep(
    q4: World, client_as: Any
) -> None:
    admin = client_as("admin")
    html = admin.get(URL, {"period": "2026-Q4"}).content.decode()
    assert "Company total" in html and "Sales West total" in html

    rep = admin.get(URL, {"period": "2026-Q4", "user": "rep1"}).content.decode()
    assert 'id="forecast-scope-label">Riley</span>' in rep
    assert 'id="fc-closed-won"><span class="figure">$15,001</span>' in rep


def test_period_switcher_links_keep_the_scope(q4: World, client_as: Any) -> None:
    html = client_as("admin").get(URL, {"period": "2026-Q4", "team": q4.west.pk}).content.decode()

    assert f'href="/sales/forecast/?period=2026-Q3&amp;team={q4.west.pk}" rel="prev"' in html
    assert f'href="/sales/forecast/?period=2027-Q1&amp;team={q4.west.pk}" rel="next"' in html


def test_a_bad_period_says_how_to_write_one(q4: World, client_as: Any) -> None:
    response = client_as("rep1").get(URL, {"period": "Q9-<b>"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "write a month as 2026-11 or a quarter as 2026-Q4" in html
    assert "<b>" not in html.split("</header>")[1]


def test_the_chart_appears_once_snapshots_exist(q4: World, client_as: Any) -> None:
    assert "plotly.min.js" not in client_as("rep1").get(URL, {"period": "2026-Q4"}).content.decode()
    for week, commit in ((date(2026, 10, 5), "20000.00"), (date(2026, 10, 12), "30000.00")):
        ForecastSnapshot.objects.create(
            taken_on=week,
            period_kind="quarter",
            period_start=Q4.start,
            user=q4.rep1,
            closed_won=D("0"),
            commit=D(commit),
            best_case=D("40000.00"),
            pipeline=D("0"),
            weighted=D("1000.00"),
            quota=None,
        )

    html = client_as("rep1").get(URL, {"period": "2026-Q4"}).content.decode()

    assert "plotly.min.js" in html
    assert "Plotly.newPlot" in html


def test_snapshot_figure_is_data() -> None:
    points = [
        queries.SnapshotPoint(
            date(2026, 10, 5), D("100"), D("1000"), D("2000"), D("50"), D("300"), D("5000")
        ),
        queries.SnapshotPoint(
            date(2026, 10, 12), D("400"), D("1500"), D("2500"), D("60"), D("200"), D("5000")
        ),
    ]

    figure = snapshot_figure(
        points, closed_won_now=D("900"), today=date(2026, 10, 20), quota=D("5000")
    )

    by_name = {trace.name: trace for trace in figure.data}
    assert list(by_name["Commit"].y) == [1000.0, 1500.0]
    assert list(by_name["Best case"].y) == [2000.0, 2500.0]
    assert list(by_name["Expected (won + weighted)"].y) == [400.0, 600.0]
    assert list(by_name["Closed won at the time"].y) == [100.0, 400.0]
    assert list(by_name["Closed won now"].x) == ["2026-10-20"]
    assert figure.layout.shapes[0].y0 == 5000.0


# ---------------------------------------------------------------- the strip


def _this_quarter_deals(world: World) -> None:
    period = queries.current_quarter()
    noon = datetime.combine(period.start, time(12), tzinfo=UTC)
    DealFactory(
        owner=world.rep1,
        amount=D("1000.00"),
        stage=stage("Closed Won"),
        status="won",
        closed_at=noon,
    )
    DealFactory(
        owner=world.rep1,
        amount=D("400.00"),
        stage=stage("Negotiation"),
        expected_close_date=period.end,
    )
    DealFactory(
        owner=world.rep3,
        amount=D("200.00"),
        stage=stage("Proposal"),
        expected_close_date=period.end - timedelta(days=1),
    )


@pytest.mark.parametrize(
    ("who", "scope", "won", "commit", "weighted"),
    [
        ("rep1", "user", "1000.00", "1400.00", "300.00"),
        ("rep2", "user", "0.00", "0.00", "0.00"),
        ("manager", "team", "1000.00", "1400.00", "300.00"),
        ("admin", "company", "1000.00", "1400.00", "400.00"),
        ("marketing", "company", "1000.00", "1400.00", "400.00"),
    ],
)
def test_the_strip_shows_the_current_quarter_in_the_viewers_scope(
    world: World,
    client_as: Any,
    who: str,
    scope: str,
    won: str,
    commit: str,
    weighted: str,
) -> None:
    _this_quarter_deals(world)

    html = client_as(who).get(STRIP).content.decode()

    key = queries.current_quarter().key
    assert html.startswith(
        f'<div id="forecast-strip" class="forecast-strip" data-period="{key}" '
        f'data-scope="{scope}" data-closed-won="{won}" data-commit="{commit}" '
    )
    assert f'data-weighted="{weighted}"' in html
    assert "<html" not in html


# ---------------------------------------------------------------- query ceilings


@pytest.mark.parametrize("who", ["rep1", "manager", "admin", "marketing"])
def test_forecast_page_query_ceiling(
    q4: World, client_as: Any, django_assert_max_num_queries: Any, who: str
) -> None:
    client = client_as(who)
    client.get(URL, {"period": "2026-Q4"})
    for i in range(10):
        DealFactory(
            owner=q4.rep2,
            amount=D(100 + i),
            stage=stage("Demo"),
            expected_close_date=date(2026, 11, 1 + i),
        )
    with django_assert_max_num_queries(12):
        assert client.get(URL, {"period": "2026-Q4"}).status_code == 200


def test_strip_query_ceiling(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    _this_quarter_deals(world)
    client = client_as("manager")
    with django_assert_max_num_queries(7):
        assert client.get(STRIP).status_code == 200


def test_a_username_with_a_nul_is_a_404(world: World, client_as: Any) -> None:
    assert client_as("admin").get(URL, {"user": "rep\x001"}).status_code == 404


def test_a_manager_of_two_teams_sees_both_in_the_rollup(q4: World, client_as: Any) -> None:
    q4.west.manager = q4.manager
    q4.west.save()

    html = client_as("manager").get(URL, {"period": "2026-Q4"}).content.decode()

    assert 'id="forecast-scope-label">My teams</span>' in html
    assert "Sales East total" in html and "Sales West total" in html
    assert 'id="fc-closed-won"><span class="figure">$18,001</span>' in html
