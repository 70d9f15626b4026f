"""Forecast arithmetic on a hand-computed quarter, quota fallbacks, snapshots and permissions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.http import Http404

from tandem.errors import Forbidden
from tandem.sales.models import ForecastSnapshot, Pipeline, Quota, Stage
from tandem.sales.periods import parse_period
from tandem.sales.queries import forecasts as queries
from tandem.sales.services import forecasts as services
from tests.conftest import World
from tests.sales.factories import DealFactory, stage

Q4 = parse_period("2026-Q4")
D = Decimal


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def won(owner: Any, amount: str, closed_at: datetime, **extra: Any) -> Any:
    return DealFactory(
        owner=owner,
        amount=D(amount),
        stage=stage("Closed Won"),
        status="won",
        closed_at=closed_at,
        **extra,
    )


def open_deal(owner: Any, amount: str, stage_name: str, close: date | None, **extra: Any) -> Any:
    return DealFactory(
        owner=owner,
        amount=D(amount),
        stage=stage(stage_name),
        expected_close_date=close,
        **extra,
    )


def quota(period: str, amount: str, *, user: Any = None, team: Any = None) -> Quota:
    p = parse_period(period)
    return Quota.objects.create(
        user=user,
        team=team,
        period_kind=p.kind,
        period_start=p.start,
        period_end=p.end,
        amount=D(amount),
    )


@pytest.fixture
def q4(world: World) -> World:
    return build_q4(world)


def build_q4(world: World) -> World:
    """rep1's Q4 2026, computed by hand in the comments; rep2 and rep3 add a won deal each."""
    rep1 = world.rep1
    # Closed won: 12,000.00 + 3,000.50 (won at the last second of the quarter) = 15,000.50.
    won(rep1, "12000.00", at(2026, 10, 15, 9, 30))
    won(rep1, "3000.50", at(2026, 12, 31, 23, 59, 59))
    won(rep1, "5000.00", at(2027, 1, 1, 0, 0, 0))  # next quarter
    won(rep1, "7000.00", at(2026, 9, 30, 23, 59, 59))  # previous quarter
    DealFactory(
        owner=rep1,
        amount=D("50000.00"),
        stage=stage("Closed Lost"),
        status="lost",
        closed_at=at(2026, 11, 1),
    )
    # Open in Q4: Negotiation (commit, 75 %) 20,000.00 and a EUR deal worth 1,080.00 USD;
    # Proposal (best case, 50 %) 8,000.00; Discovery (10 %) 4,000.00 and Demo (25 %) 1,000.10.
    open_deal(rep1, "20000.00", "Negotiation", date(2026, 11, 20))
    open_deal(
        rep1,
        "1000.00",
        "Negotiation",
        date(2026, 10, 31),
        currency="EUR",
        amount_base=D("1080.00"),
    )
    open_deal(rep1, "8000.00", "Proposal", date(2026, 12, 1))
    open_deal(rep1, "4000.00", "Discovery", date(2026, 10, 1))
    open_deal(rep1, "1000.10", "Demo", date(2026, 12, 31))
    # Not in Q4: no expected date, or expected the day after the quarter.
    open_deal(rep1, "9999.00", "Negotiation", None)
    open_deal(rep1, "9999.00", "Negotiation", date(2027, 1, 1))
    # An open deal in an omitted stage counts nowhere, not even in weighted.
    parking = Pipeline.objects.create(name="Parking lot", position=9)
    parked = Stage.objects.create(
        pipeline=parking, name="Parked", position=0, probability=30, forecast_category="omitted"
    )
    DealFactory(
        owner=rep1,
        pipeline=parking,
        stage=parked,
        amount=D("2500.00"),
        expected_close_date=date(2026, 11, 5),
    )
    won(world.rep2, "1000.00", at(2026, 11, 2))
    won(world.rep3, "2000.00", at(2026, 12, 2))
    return world


def test_a_reps_quarter_adds_up_as_computed_by_hand(q4: World) -> None:
    f = queries.forecast(user=q4.rep1, period=Q4)

    assert f.scope.kind == "user"
    assert f.closed_won == D("15000.50")
    # closed won + Negotiation 20,000.00 + 1,080.00 (the EUR deal in the reporting currency)
    assert f.commit == D("36080.50")
    assert f.best_case == D("44080.50")  # commit + Proposal 8,000.00
    assert f.pipeline == D("5000.10")  # Discovery + Demo, not in best case
    # 20,000x.75 + 1,080x.75 + 8,000x.5 + 4,000x.1 + 1,000.10x.25 = 20,460.025 → 20,460.03
    assert f.weighted == D("20460.03")
    assert f.expected == D("35460.53")
    assert f.quota is None and f.attainment is None and f.gap is None


def test_team_and_company_scopes_sum_deal_teams(q4: World) -> None:
    east = queries.forecast(user=q4.manager, period=Q4)
    company = queries.forecast(user=q4.admin, period=Q4)
    west = queries.forecast(user=q4.admin, period=Q4, scope_team=q4.west)

    assert (east.scope.kind, east.scope.label) == ("team", "Sales East")
    assert east.closed_won == D("16000.50")
    assert east.commit == D("37080.50")
    assert west.closed_won == D("2000.00")
    assert company.scope.kind == "company"
    assert company.closed_won == D("18000.50")
    assert company.weighted == D("20460.03")


def test_a_month_counts_only_its_own_days(q4: World) -> None:
    december = queries.forecast(user=q4.rep1, period=parse_period("2026-12"))

    assert december.closed_won == D("3000.50")
    assert december.commit == D("3000.50")
    assert december.best_case == D("11000.50")
    assert december.pipeline == D("1000.10")
    # 8,000x.5 + 1,000.10x.25 = 4,250.025 → 4,250.03
    assert december.weighted == D("4250.03")


def test_quarter_quota_falls_back_to_its_months_and_a_team_to_its_members(q4: World) -> None:
    quota("2026-Q4", "20000.00", user=q4.rep1)
    quota("2026-10", "5000.00", user=q4.rep2)
    quota("2026-12", "3000.00", user=q4.rep2)
    quota("2026-11", "1.00", user=q4.rep3)  # another team: not in east's sum

    rep1 = queries.forecast(user=q4.rep1, period=Q4)
    rep2 = queries.forecast(user=q4.rep2, period=Q4)
    east = queries.forecast(user=q4.manager, period=Q4)
    november = queries.forecast(user=q4.rep1, period=parse_period("2026-11"))

    assert (rep1.quota, rep1.quota_source) == (D("20000.00"), "own")
    assert rep1.attainment == D("0.7500")  # 15,000.50 / 20,000.00 = 0.750025
    assert rep1.attainment_percent == D("75.0")
    assert rep1.gap == D("4999.50")
    assert (rep2.quota, rep2.quota_source) == (D("8000.00"), "months")
    assert rep2.attainment == D("0.1250")
    assert (east.quota, east.quota_source) == (D("28000.00"), "members")
    assert november.quota is None  # a month never derives from its quarter

    quota("2026-Q4", "50000.00", team=q4.east)
    east = queries.forecast(user=q4.manager, period=Q4)
    assert (east.quota, east.quota_source) == (D("50000.00"), "own")
    assert east.attainment == D("0.3200")  # 16,000.50 / 50,000


def test_company_quota_is_the_sum_of_team_quotas(q4: World) -> None:
    quota("2026-Q4", "50000.00", team=q4.east)
    quota("2026-Q4", "7000.00", user=q4.rep3)

    company = queries.forecast(user=q4.marketer, period=Q4)

    assert (company.quota, company.quota_source) == (D("57000.00"), "teams")


def test_rollup_lists_each_rep_then_the_team_total(q4: World) -> None:
    quota("2026-Q4", "20000.00", user=q4.rep1)

    rows = queries.rollup(manager_or_admin=q4.manager, period=Q4)

    # Reps by username (rep1 is called Riley); the manager sells nothing and has no line.
    assert [(r.kind, r.label, r.forecast.closed_won) for r in rows] == [
        ("rep", "Riley", D("15000.50")),
        ("rep", "rep2", D("1000.00")),
        ("team", "Sales East", D("16000.50")),
    ]
    assert rows[0].forecast.weighted == D("20460.03")
    assert rows[0].forecast.attainment == D("0.7500")
    assert rows[2].forecast.quota == D("20000.00")


def test_admin_rollup_covers_every_team_and_the_company(q4: World) -> None:
    rows = queries.rollup(manager_or_admin=q4.admin, period=Q4)

    assert [(r.kind, r.label) for r in rows if r.kind != "rep"] == [
        ("team", "Sales East"),
        ("team", "Sales West"),
        ("company", "Company"),
    ]
    assert rows[-1].forecast.closed_won == D("18000.50")


def test_reps_get_no_rollup_and_no_one_elses_forecast(q4: World) -> None:
    with pytest.raises(Forbidden):
        queries.rollup(manager_or_admin=q4.rep1, period=Q4)
    with pytest.raises(Http404):
        queries.forecast(user=q4.rep1, period=Q4, scope_user=q4.rep2)
    with pytest.raises(Http404):
        queries.forecast(user=q4.rep1, period=Q4, scope_team=q4.east)
    with pytest.raises(Http404):
        queries.forecast(user=q4.manager, period=Q4, scope_user=q4.rep3)
    with pytest.raises(Http404):
        queries.forecast(user=q4.manager, period=Q4, scope_team=q4.west)
    assert queries.forecast(user=q4.manager, period=Q4, scope_user=q4.rep2).closed_won == D(
        "1000.00"
    )


def test_rollup_is_one_query_over_deals(q4: World, django_assert_max_num_queries: Any) -> None:
    # teams, their users, stages, the one grouped query over deals, quotas
    with django_assert_max_num_queries(5):
        queries.rollup(manager_or_admin=q4.admin, period=Q4)


# ---------------------------------------------------------------- snapshots


def test_snapshots_cover_reps_teams_and_company_for_four_periods(q4: World) -> None:
    quota("2026-Q4", "20000.00", user=q4.rep1)

    written = services.take_snapshots(on=date(2026, 11, 16))

    # Periods: 2026-11, 2026-12, 2026-Q4, 2027-Q1. Reps with deals in the period or a quota:
    # November rep1 + rep2; December rep1 + rep3; Q4 rep1, rep2, rep3; Q1 rep1 (won 1 Jan).
    # Plus two sales teams and the company per period: 4 x 3 = 12.
    assert written == 2 + 2 + 3 + 1 + 12
    row = ForecastSnapshot.objects.get(
        taken_on=date(2026, 11, 16), period_kind="quarter", period_start=Q4.start, user=q4.rep1
    )
    assert (row.closed_won, row.commit, row.best_case, row.pipeline, row.weighted, row.quota) == (
        D("15000.50"),
        D("36080.50"),
        D("44080.50"),
        D("5000.10"),
        D("20460.03"),
        D("20000.00"),
    )
    company = ForecastSnapshot.objects.get(
        taken_on=date(2026, 11, 16),
        period_kind="quarter",
        period_start=Q4.start,
        user=None,
        team=None,
    )
    assert company.closed_won == D("18000.50")


def test_taking_snapshots_twice_on_a_day_keeps_one_row_each(q4: World) -> None:
    first = services.take_snapshots(on=date(2026, 11, 16))
    won(q4.rep1, "100.00", at(2026, 11, 16, 8))
    second = services.take_snapshots(on=date(2026, 11, 16))

    assert first == second
    assert ForecastSnapshot.objects.count() == first
    row = ForecastSnapshot.objects.get(
        taken_on=date(2026, 11, 16), period_kind="quarter", period_start=Q4.start, user=q4.rep1
    )
    assert row.closed_won == D("15100.50")


def test_accuracy_compares_the_opening_snapshot_with_what_closed(q4: World) -> None:
    ForecastSnapshot.objects.create(
        taken_on=date(2026, 9, 28),
        period_kind="quarter",
        period_start=Q4.start,
        closed_won=D("0"),
        commit=D("10000.00"),
        best_case=D("30000.00"),
        pipeline=D("0"),
        weighted=D("12000.00"),
        quota=None,
    )
    ForecastSnapshot.objects.create(
        taken_on=date(2026, 10, 5),
        period_kind="quarter",
        period_start=Q4.start,
        closed_won=D("0"),
        commit=D("20000.00"),
        best_case=D("30000.00"),
        pipeline=D("0"),
        weighted=D("16000.00"),
        quota=None,
    )

    result = queries.accuracy(period=Q4)

    assert result.closed_won == D("18000.50")
    assert [p.taken_on for p in result.points] == [date(2026, 9, 28), date(2026, 10, 5)]
    assert result.opening is not None and result.opening.taken_on == date(2026, 10, 5)
    # (20,000 - 18,000.50) / 18,000.50 = 11.108 % ; (16,000 - 18,000.50) / 18,000.50 = -11.113 %
    assert result.commit_error == D("11.1")
    assert result.expected_error == D("-11.1")


def test_a_manager_of_two_teams_sees_both_summed(q4: World) -> None:
    q4.west.manager = q4.manager
    q4.west.save()
    quota("2026-Q4", "50000.00", team=q4.east)
    quota("2026-Q4", "7000.00", user=q4.rep3)

    both = queries.forecast(user=q4.manager, period=Q4)
    rows = queries.rollup(manager_or_admin=q4.manager, period=Q4)

    assert (both.scope.kind, both.scope.label) == ("teams", "My teams")
    assert both.closed_won == D("18000.50")
    assert (both.quota, both.quota_source) == (D("57000.00"), "teams")
    assert [(r.kind, r.label) for r in rows] == [
        ("rep", "Riley"),
        ("rep", "rep2"),
        ("team", "Sales East"),
        ("rep", "rep3"),
        ("team", "Sales West"),
    ]
    assert queries.forecast(user=q4.manager, period=Q4, scope_user=q4.rep3).quota == D("7000.00")
