"""Quotas: attainment across period boundaries, setting quotas (who may, what is refused),
the quota API and the quota page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import Quota
from tandem.sales.periods import parse_period
from tandem.sales.queries import forecasts as queries
from tandem.sales.services.quotas import set_quota
from tests.conftest import World
from tests.sales.factories import DealFactory, stage

D = Decimal
URL = "/sales/quotas/"


def won_at(world: World, amount: str, when: datetime) -> None:
    DealFactory(
        owner=world.rep1,
        amount=D(amount),
        stage=stage("Closed Won"),
        status="won",
        closed_at=when,
    )


def attained(world: World, period: str) -> tuple[Decimal, Decimal | None]:
    f = queries.forecast(user=world.rep1, period=parse_period(period))
    return f.closed_won, f.attainment


# ---------------------------------------------------------------- attainment at the edges


def test_a_deal_won_in_the_last_second_counts_in_that_period(world: World) -> None:
    set_quota(user=world.rep1, period=parse_period("2026-12"), amount="1000", by=world.manager)
    set_quota(user=world.rep1, period=parse_period("2027-01"), amount="1000", by=world.manager)
    set_quota(user=world.rep1, period=parse_period("2026-Q4"), amount="4000", by=world.manager)
    set_quota(user=world.rep1, period=parse_period("2027-Q1"), amount="4000", by=world.manager)
    won_at(world, "500.00", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    won_at(world, "250.00", datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC))

    assert attained(world, "2026-12") == (D("500.00"), D("0.5000"))
    assert attained(world, "2026-Q4") == (D("500.00"), D("0.1250"))
    assert attained(world, "2027-01") == (D("250.00"), D("0.2500"))
    assert attained(world, "2027-Q1") == (D("250.00"), D("0.0625"))


def test_month_and_quarter_boundaries_inside_a_quarter(world: World) -> None:
    won_at(world, "300.00", datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    won_at(world, "700.00", datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC))
    won_at(world, "1000.00", datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC))

    assert attained(world, "2026-11")[0] == D("300.00")
    assert attained(world, "2026-12")[0] == D("700.00")
    assert attained(world, "2026-Q4")[0] == D("1000.00")
    assert attained(world, "2026-09")[0] == D("1000.00")
    assert attained(world, "2026-Q3")[0] == D("1000.00")


def test_attainment_is_live_and_follows_a_reopened_deal(world: World) -> None:
    set_quota(user=world.rep1, period=parse_period("2026-Q4"), amount="2000", by=world.admin)
    won_at(world, "1000.00", datetime(2026, 10, 2, 9, tzinfo=UTC))
    assert attained(world, "2026-Q4") == (D("1000.00"), D("0.5000"))

    DealFactory._meta.model.objects.update(status="open", closed_at=None)

    assert attained(world, "2026-Q4") == (D("0.00"), D("0.0000"))


# ---------------------------------------------------------------- set_quota


def test_setting_a_quota_again_replaces_it(world: World) -> None:
    q4 = parse_period("2026-Q4")
    first = set_quota(user=world.rep1, period=q4, amount="1000", by=world.manager)
    second = set_quota(user=world.rep1, period=q4, amount=D("1500.555"), by=world.manager)

    assert first.pk == second.pk
    row = Quota.objects.get()
    assert (row.period_kind, row.period_start, row.period_end, row.amount) == (
        "quarter",
        q4.start,
        q4.end,
        D("1500.56"),
    )


def test_who_may_set_which_quota(world: World) -> None:
    q4 = parse_period("2026-Q4")
    with pytest.raises(Forbidden):
        set_quota(user=world.rep1, period=q4, amount="1", by=world.rep1)
    with pytest.raises(Forbidden):
        set_quota(team=world.east, period=q4, amount="1", by=world.marketer)
    with pytest.raises(Forbidden):  # another manager's team
        set_quota(user=world.rep3, period=q4, amount="1", by=world.manager)
    with pytest.raises(Forbidden):
        set_quota(team=world.west, period=q4, amount="1", by=world.manager)
    set_quota(team=world.east, period=q4, amount="1", by=world.manager)
    set_quota(team=world.west, period=q4, amount="1", by=world.admin)
    assert Quota.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": "-1"}, "amount must be a non-negative amount"),
        ({"amount": "abc"}, "amount 'abc' is not a number"),
        ({"amount": ""}, "amount is required"),
        ({"amount": "100000000000000"}, "amount must be at most"),
    ],
)
def test_bad_amounts_are_refused_by_name(world: World, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        set_quota(user=world.rep1, period=parse_period("2026-11"), by=world.admin, **kwargs)


def test_a_quota_needs_exactly_one_sales_target(world: World) -> None:
    q4 = parse_period("2026-Q4")
    with pytest.raises(InvalidInput, match="either a user or a team"):
        set_quota(period=q4, amount="1", by=world.admin)
    with pytest.raises(InvalidInput, match="either a user or a team"):
        set_quota(user=world.rep1, team=world.east, period=q4, amount="1", by=world.admin)
    with pytest.raises(InvalidInput, match="is not a sales team"):
        set_quota(team=world.marketing_team, period=q4, amount="1", by=world.admin)
    with pytest.raises(InvalidInput, match="does not sell"):
        set_quota(user=world.marketer, period=q4, amount="1", by=world.admin)


# ---------------------------------------------------------------- API


def put(api: Any, period: str, body: dict) -> Any:
    return api.client.put(
        f"/api/v1/quotas?period={period}",
        json.dumps(body),
        content_type="application/json",
        **api.headers,
    )


def test_api_put_and_get_quotas(world: World, api_as: Any) -> None:
    manager = api_as("manager")
    won_at(world, "5000.00", datetime(2026, 11, 3, tzinfo=UTC))

    response = put(manager, "2026-Q4", {"user": "rep1", "amount": "20000"})
    assert response.status_code == 200
    assert response.json() == {
        "period": "2026-Q4",
        "period_kind": "quarter",
        "period_start": "2026-10-01",
        "period_end": "2026-12-31",
        "user": "rep1",
        "team_id": None,
        "amount": "20000.00",
    }

    listed = manager.get("/quotas", period="2026-Q4").json()
    assert listed["period_label"] == "Q4 2026"
    assert [
        (i["kind"], i["user"], i["quota"], i["quota_source"], i["own_quota"], i["closed_won"])
        for i in listed["items"]
    ] == [
        ("rep", "rep1", "20000.00", "own", "20000.00", "5000.00"),
        ("rep", "rep2", None, "", None, "0.00"),
        ("team", None, "20000.00", "members", None, "5000.00"),
    ]
    assert listed["items"][0]["attainment"] == "0.2500"


def test_api_a_rep_reads_only_their_own_quota_and_may_not_set_one(
    world: World, api_as: Any
) -> None:
    set_quota(user=world.rep2, period=parse_period("2026-Q4"), amount="9", by=world.admin)
    rep1 = api_as("rep1")

    items = rep1.get("/quotas", period="2026-Q4").json()["items"]
    assert [(i["kind"], i["user"], i["quota"]) for i in items] == [("rep", "rep1", None)]
    response = put(rep1, "2026-Q4", {"user": "rep1", "amount": "1"})
    assert response.status_code == 403
    assert (
        put(api_as("marketing"), "2026-Q4", {"team_id": world.east.pk, "amount": "1"}).status_code
        == 403
    )


def test_api_put_refusals(world: World, api_as: Any) -> None:
    manager = api_as("manager")
    assert put(manager, "2026-Q4", {"user": "rep3", "amount": "1"}).status_code == 403
    bad_period = put(manager, "2026-Q9", {"user": "rep1", "amount": "1"})
    assert bad_period.status_code == 400
    assert "2026-Q4" in bad_period.json()["detail"]
    nobody = put(manager, "2026-Q4", {"user": "ghost", "amount": "1"})
    assert (nobody.status_code, nobody.json()) == (
        400,
        {"detail": "user 'ghost' is not an active user"},
    )
    negative = put(manager, "2026-Q4", {"user": "rep1", "amount": "-5"})
    assert negative.status_code == 400
    assert put(manager, "2026-Q4", {"amount": "5"}).status_code == 400


def test_api_put_null_removes_the_quota(world: World, api_as: Any) -> None:
    set_quota(team=world.east, period=parse_period("2026-11"), amount="9", by=world.admin)

    response = put(api_as("admin"), "2026-11", {"team_id": world.east.pk, "amount": None})

    assert response.status_code == 200
    assert response.json()["amount"] is None
    assert not Quota.objects.exists()


# ---------------------------------------------------------------- page


def test_quota_page_manager_edits_a_row(world: World, client_as: Any) -> None:
    client = client_as("manager")
    html = client.get(URL, {"period": "2026-Q4"}).content.decode()
    assert f'name="target" value="user:{world.rep1.pk}"' in html
    assert f'name="target" value="team:{world.east.pk}"' in html
    assert f"user:{world.rep3.pk}" not in html

    response = client.post(
        URL, {"period": "2026-Q4", "target": f"user:{world.rep1.pk}", "amount": "12345.67"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/sales/quotas/?period=2026-Q4"
    assert Quota.objects.get(user=world.rep1).amount == D("12345.67")
    page = client.get(URL, {"period": "2026-Q4"}).content.decode()
    assert 'value="12345.67"' in page
    assert "Saved the Q4 2026 quota of rep1." in page


def test_quota_page_shows_the_error_on_its_row(world: World, client_as: Any) -> None:
    response = client_as("manager").post(
        URL, {"period": "2026-Q4", "target": f"user:{world.rep1.pk}", "amount": "-3"}
    )

    assert response.status_code == 422
    assert "amount must be a non-negative amount" in response.content.decode()
    assert not Quota.objects.exists()


def test_quota_page_refuses_reps_and_other_teams(world: World, client_as: Any) -> None:
    rep_page = client_as("rep1").get(URL).content.decode()
    assert 'name="amount"' not in rep_page
    body = {"period": "2026-Q4", "target": f"user:{world.rep1.pk}", "amount": "1"}
    assert client_as("rep1").post(URL, body).status_code == 403
    assert client_as("marketing").post(URL, body).status_code == 403
    other = {"period": "2026-Q4", "target": f"user:{world.rep3.pk}", "amount": "1"}
    assert client_as("manager").post(URL, other).status_code == 403
    assert client_as("manager").post(URL, {**other, "target": "user:999999"}).status_code == 404
    assert not Quota.objects.exists()


@pytest.mark.parametrize("who", ["rep1", "manager", "admin"])
def test_quota_page_query_ceiling(
    world: World, client_as: Any, django_assert_max_num_queries: Any, who: str
) -> None:
    for month in ("2026-10", "2026-11", "2026-12"):
        set_quota(user=world.rep1, period=parse_period(month), amount="10", by=world.admin)
        set_quota(user=world.rep2, period=parse_period(month), amount="10", by=world.admin)
    client = client_as(who)
    with django_assert_max_num_queries(9):
        assert client.get(URL, {"period": "2026-Q4"}).status_code == 200
