"""GET /api/v1/forecasts and /forecasts/rollup: the contract fields and who sees what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.sales.test_forecast import build_q4, quota


@pytest.fixture
def q4(world: World) -> World:
    return build_q4(world)


def test_a_reps_forecast_in_the_api(q4: World, api_as: Any) -> None:
    quota("2026-10", "10000.00", user=q4.rep1)
    quota("2026-11", "10000.00", user=q4.rep1)

    response = api_as("rep1").get("/forecasts", period="2026-Q4")

    assert response.status_code == 200
    assert response.json() == {
        "period": "2026-Q4",
        "period_label": "Q4 2026",
        "period_start": "2026-10-01",
        "period_end": "2026-12-31",
        "scope": "user",
        "label": "Riley",
        "user": "rep1",
        "team_id": None,
        "closed_won": "15000.50",
        "commit": "36080.50",
        "best_case": "44080.50",
        "pipeline": "5000.10",
        "weighted": "20460.03",
        "expected": "35460.53",
        "quota": "20000.00",
        "quota_source": "months",
        "attainment": "0.7500",
        "gap": "4999.50",
    }


@pytest.mark.parametrize(
    ("who", "params", "status"),
    [
        ("rep1", {"user": "rep2"}, 404),
        ("rep1", {"user": "rep1"}, 200),
        ("rep1", {"team": "TEAM_EAST"}, 404),
        ("rep1", {"user": "ghost"}, 404),
        ("manager", {"user": "rep2"}, 200),
        ("manager", {"user": "rep3"}, 404),
        ("manager", {"team": "TEAM_WEST"}, 404),
        ("manager", {"team": "TEAM_EAST"}, 200),
        ("manager", {"team": "999999"}, 404),
        ("admin", {"user": "rep3"}, 200),
        ("marketing", {"team": "TEAM_WEST"}, 200),
        ("rep1", {"period": "2026-Q5"}, 400),
    ],
)
def test_forecast_visibility(
    q4: World, api_as: Any, who: str, params: dict[str, str], status: int
) -> None:
    ids = {"TEAM_EAST": str(q4.east.pk), "TEAM_WEST": str(q4.west.pk)}
    params = {k: ids.get(v, v) for k, v in params.items()}

    response = api_as(who).get("/forecasts", **params)

    assert response.status_code == status, response.content


def test_default_scopes(q4: World, api_as: Any) -> None:
    manager = api_as("manager").get("/forecasts", period="2026-Q4").json()
    admin = api_as("admin").get("/forecasts", period="2026-Q4").json()

    assert (manager["scope"], manager["team_id"], manager["closed_won"]) == (
        "team",
        q4.east.pk,
        "16000.50",
    )
    assert (admin["scope"], admin["label"], admin["closed_won"]) == (
        "company",
        "Company",
        "18000.50",
    )


def test_rollup_in_the_api(q4: World, api_as: Any) -> None:
    quota("2026-Q4", "50000.00", team=q4.east)

    response = api_as("manager").get("/forecasts/rollup", period="2026-Q4")

    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "2026-Q4"
    assert [
        (r["kind"], r["user"], r["team_id"], r["closed_won"], r["quota"], r["attainment"])
        for r in body["rows"]
    ] == [
        ("rep", "rep1", q4.east.pk, "15000.50", None, None),
        ("rep", "rep2", q4.east.pk, "1000.00", None, None),
        ("team", None, q4.east.pk, "16000.50", "50000.00", "0.3200"),
    ]


def test_rollup_refuses_reps_and_covers_the_company_for_marketing(q4: World, api_as: Any) -> None:
    assert api_as("rep1").get("/forecasts/rollup").status_code == 403
    rows = api_as("marketing").get("/forecasts/rollup", period="2026-Q4").json()["rows"]
    assert rows[-1]["kind"] == "company"
    assert rows[-1]["closed_won"] == "18000.50"


def test_no_key_is_a_401(db: Any) -> None:
    from tests.conftest import ApiClient

    assert ApiClient(None).get("/forecasts").status_code == 401
    assert ApiClient(None).get("/quotas").status_code == 401


def test_text_no_database_holds_is_a_404_or_a_400(q4: World, api_as: Any) -> None:
    admin = api_as("admin")
    assert admin.get("/forecasts", user="rep\x001").status_code == 404
    response = admin.client.put(
        "/api/v1/quotas?period=2026-Q4",
        '{"user": "rep\\u00001", "amount": "1"}',
        content_type="application/json",
        **admin.headers,
    )
    assert response.status_code == 400
