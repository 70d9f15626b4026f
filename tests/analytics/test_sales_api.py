"""GET /api/v1/analytics/sales and /sales/loss-reasons: each role sees the deals it may count.

The deals are the hand-computed quarter of test_sales_metrics (Q4 2026).
"""

from __future__ import annotations

from typing import Any

import pytest

from tandem.accounts.services import create_user
from tests.analytics.test_sales_metrics import quarter_deals
from tests.conftest import ApiClient, World

Q4 = {"period": "2026-Q4"}


@pytest.fixture
def q4(world: World) -> World:
    quarter_deals(world)
    return world


def rows(response: Any) -> list[tuple[str, str, int, int]]:
    assert response.status_code == 200, response.content
    return [(r["label"], r["key"], r["won"], r["lost"]) for r in response.json()["rows"]]


def test_admin_sees_every_rep_and_the_exact_total(q4: World, api_as: Any) -> None:
    response = api_as("admin").get("/analytics/sales", **Q4, group_by="rep")
    body = response.json()
    assert (body["start"], body["end"], body["group_by"]) == ("2026-10-01", "2026-12-31", "rep")
    assert rows(response) == [
        ("rep2", str(q4.rep2.pk), 1, 1),
        ("rep3", str(q4.rep3.pk), 1, 0),
        ("Riley", str(q4.rep1.pk), 2, 1),
    ]
    total = body["total"]
    assert total == {
        "key": "total",
        "label": "Total",
        "deals_created": 6,
        "pipeline_created": "49000.50",
        "won": 4,
        "lost": 2,
        "win_rate": 4 / 6,
        "revenue": "29000.50",
        "average_deal_size": "7250.13",
        "cycle_days": 32.5,
        "open_deals": 3,
        "open_amount": "28000.00",
        "velocity_per_day": "446.16",
    }


def test_a_rep_sees_only_their_own_row_and_their_own_total(q4: World, api_as: Any) -> None:
    response = api_as("rep2").get("/analytics/sales", **Q4, group_by="rep")
    assert rows(response) == [("rep2", str(q4.rep2.pk), 1, 1)]
    total = response.json()["total"]
    assert (total["won"], total["lost"], total["velocity_per_day"]) == (1, 1, "30.01")
    teams = api_as("rep2").get("/analytics/sales", **Q4, group_by="team")
    assert rows(teams) == [("Sales East", str(q4.east.pk), 1, 1)]


def test_a_manager_sees_their_teams_reps_and_only_their_team(q4: World, api_as: Any) -> None:
    reps = api_as("manager").get("/analytics/sales", **Q4, group_by="rep")
    assert rows(reps) == [("rep2", str(q4.rep2.pk), 1, 1), ("Riley", str(q4.rep1.pk), 2, 1)]
    teams = api_as("manager").get("/analytics/sales", **Q4, group_by="team")
    assert rows(teams) == [("Sales East", str(q4.east.pk), 3, 2)]
    assert teams.json()["total"]["velocity_per_day"] == "230.01"


def test_admin_and_marketing_see_both_teams(q4: World, api_as: Any) -> None:
    for who in ("admin", "marketing"):
        teams = api_as(who).get("/analytics/sales", **Q4, group_by="team")
        assert rows(teams) == [
            ("Sales East", str(q4.east.pk), 3, 2),
            ("Sales West", str(q4.west.pk), 1, 0),
        ]


def test_months_start_end_and_pipeline_parameters(q4: World, api_as: Any) -> None:
    months = api_as("admin").get(
        "/analytics/sales", start="2026-10-01", end="2026-12-31", group_by="month"
    )
    assert [r["key"] for r in months.json()["rows"]] == ["2026-10", "2026-11", "2026-12"]
    renewals = q4.rep3  # K, the only renewal, is rep3's
    from tandem.sales.models import Pipeline

    pipeline = Pipeline.objects.get(name="Renewals and upsells")
    one = api_as("admin").get("/analytics/sales", **Q4, pipeline=pipeline.pk, group_by="rep")
    assert rows(one) == [("rep3", str(renewals.pk), 1, 0)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "owner_id"}, "group_by"),
        ({"period": "2026-Q5"}, "period"),
        ({"start": "2026-13-01"}, "start"),
        ({"start": "2026-12-01", "end": "2026-11-01"}, "end"),
    ],
)
def test_bad_parameters_are_400_naming_them(
    world: World, api_as: Any, params: Any, field: str
) -> None:
    response = api_as("admin").get("/analytics/sales", **params)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert field in str(detail).lower() or "period" in str(detail).lower()
    if field == "group_by":
        assert "all, rep, team, month, week" in detail


def test_loss_reasons_follow_the_same_restriction(q4: World, api_as: Any) -> None:
    admin = api_as("admin").get("/analytics/sales/loss-reasons", **Q4)
    assert admin.status_code == 200
    assert admin.json()["rows"] == [
        {"reason": "Price", "deals": 1, "amount": "5000.00"},
        {"reason": "Timing", "deals": 1, "amount": "2500.00"},
    ]
    rep2 = api_as("rep2").get("/analytics/sales/loss-reasons", **Q4)
    assert rep2.json()["rows"] == [{"reason": "Timing", "deals": 1, "amount": "2500.00"}]
    sources = api_as("admin").get("/analytics/sales/win-sources", **Q4)
    assert sources.json()["rows"] == [
        {"reason": "Unknown source", "deals": 3, "amount": "23000.50"},
        {"reason": "Email", "deals": 1, "amount": "6000.00"},
    ]


def test_no_key_is_401_and_a_user_without_role_403(world: World) -> None:
    assert ApiClient(None).get("/analytics/sales").status_code == 401
    from tandem.accounts.services import create_api_key

    nobody = create_user(username="norole", password="pw-norole-123", role="sales_rep")
    type(nobody).objects.filter(pk=nobody.pk).update(role="")
    _, raw = create_api_key(user=nobody, name="test")
    assert ApiClient(raw).get("/analytics/sales").status_code == 403
