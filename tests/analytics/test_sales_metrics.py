"""Sales metrics on a hand-computed quarter: win rate, deal size, cycle, pipeline, open deals, velocity.

The fixture (Q4 2026 = 2026-10-01 .. 2026-12-31, UTC):

    deal  owner  status  amount    created              closed               counts in Q4 as
    A     rep1   won     12000.00  09-01 00:00          10-11 00:00          won, cycle 40 d
    B     rep1   won      8000.00  12-01 23:59:59       12-31 23:59:59       created + won, cycle 30 d
    C     rep1   lost     5000.00  10-15                11-15 (Price)        created + lost
    D     rep1   open    20000.00  11-01 00:00          -                    created + open at end
    E     rep2   won      3000.50  10-01 00:00:00       11-20 00:00          created + won, cycle 50 d
    F     rep2   lost     1000.00  06-01                2027-01-01 00:00     open at end (closed after)
    G     rep2   lost     2500.00  09-30 23:59:59       10-02 (Timing)       lost only
    H     rep3   won     10000.00  08-01                09-30 23:59:59       nothing (closed before)
    I     rep3   open     7000.00  12-31 23:59:59       -                    created + open at end
    J     -/east open     4000.00  2027-01-01 00:00     -                    nothing (created after)
    K     rep3   won      6000.00  10-10 (renewals)     10-20 (email)        created + won, cycle 10 d

Totals: created 6 (B C D E I K) = 49000.50; won 4 (A B E K) = 29000.50, lost 2 (C G), win rate
4/6; average 29000.50/4 = 7250.125 → 7250.13; cycle (40+30+50+10)/4 = 32.5 d; open 3 (D F I) =
28000.00; velocity = 3 x 4/6 x 7250.125 / 32.5 = 446.1615… → 446.16 per day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from tandem.analytics.compute.sales import figures, sales_sums
from tandem.analytics.queries.sales import (
    GROUPS,
    ReasonCount,
    SalesMetrics,
    loss_reasons,
    sales_metrics,
    win_sources,
)
from tandem.errors import InvalidInput
from tandem.sales.models import Deal, LostReason, Pipeline
from tests.conftest import World
from tests.sales.factories import DealFactory, default_pipeline

START, END = date(2026, 10, 1), date(2026, 12, 31)


def at(year: int, month: int, day: int, h: int = 0, m: int = 0, s: int = 0) -> datetime:
    return datetime(year, month, day, h, m, s, tzinfo=UTC)


def deal(
    owner: Any,
    status: str,
    amount: str,
    created: datetime,
    closed: datetime | None = None,
    **extra: Any,
) -> Deal:
    pipeline = extra.pop("pipeline", None) or default_pipeline()
    stage_name = {"open": "Discovery", "won": "Closed Won", "lost": "Closed Lost"}[status]
    if pipeline != default_pipeline() and status == "open":
        stage_name = "Up for renewal"
    made: Any = DealFactory(
        owner=owner,
        status=status,
        amount=Decimal(amount),
        created_at=created,
        closed_at=closed,
        pipeline=pipeline,
        stage=pipeline.stages.get(name=stage_name),
        **extra,
    )
    return made


def quarter_deals(world: World) -> dict[str, Deal]:
    """The deals of the table above."""
    price = LostReason.objects.get(name="Price")
    timing = LostReason.objects.get(name="Timing")
    renewals = Pipeline.objects.get(name="Renewals and upsells")
    return {
        "A": deal(world.rep1, "won", "12000.00", at(2026, 9, 1), at(2026, 10, 11)),
        "B": deal(
            world.rep1, "won", "8000.00", at(2026, 12, 1, 23, 59, 59), at(2026, 12, 31, 23, 59, 59)
        ),
        "C": deal(
            world.rep1, "lost", "5000.00", at(2026, 10, 15), at(2026, 11, 15), lost_reason=price
        ),
        "D": deal(world.rep1, "open", "20000.00", at(2026, 11, 1)),
        "E": deal(world.rep2, "won", "3000.50", at(2026, 10, 1), at(2026, 11, 20)),
        "F": deal(world.rep2, "lost", "1000.00", at(2026, 6, 1), at(2027, 1, 1), lost_reason=price),
        "G": deal(
            world.rep2,
            "lost",
            "2500.00",
            at(2026, 9, 30, 23, 59, 59),
            at(2026, 10, 2),
            lost_reason=timing,
        ),
        "H": deal(world.rep3, "won", "10000.00", at(2026, 8, 1), at(2026, 9, 30, 23, 59, 59)),
        "I": deal(world.rep3, "open", "7000.00", at(2026, 12, 31, 23, 59, 59)),
        "J": deal(None, "open", "4000.00", at(2027, 1, 1), team=world.east),
        "K": deal(
            world.rep3,
            "won",
            "6000.00",
            at(2026, 10, 10),
            at(2026, 10, 20),
            pipeline=renewals,
            source_channel="email",
        ),
    }


@pytest.fixture
def q4(world: World) -> World:
    quarter_deals(world)
    return world


def numbers(m: SalesMetrics) -> tuple[Any, ...]:
    return (
        m.deals_created,
        m.pipeline_created,
        m.won,
        m.lost,
        m.win_rate,
        m.revenue,
        m.average_deal_size,
        m.cycle_days,
        m.open_deals,
        m.open_amount,
        m.velocity_per_day,
    )


D = Decimal
TOTAL = (
    6,
    D("49000.50"),
    4,
    2,
    4 / 6,
    D("29000.50"),
    D("7250.13"),
    32.5,
    3,
    D("28000.00"),
    D("446.16"),
)
REP1 = (
    3,
    D("33000.00"),
    2,
    1,
    2 / 3,
    D("20000.00"),
    D("10000.00"),
    35.0,
    1,
    D("20000.00"),
    D("190.48"),
)
# 1 x 0.5 x 3000.50 / 50 = 30.005: half-up rounding gives 30.01.
REP2 = (1, D("3000.50"), 1, 1, 0.5, D("3000.50"), D("3000.50"), 50.0, 1, D("1000.00"), D("30.01"))
REP3 = (2, D("13000.00"), 1, 0, 1.0, D("6000.00"), D("6000.00"), 10.0, 1, D("7000.00"), D("600.00"))
# East = rep1 + rep2: 2 x 3/5 x 23000.50/3 / 40 = 230.005 → 230.01.
EAST = (
    4,
    D("36000.50"),
    3,
    2,
    0.6,
    D("23000.50"),
    D("7666.83"),
    40.0,
    2,
    D("21000.00"),
    D("230.01"),
)


def test_quarter_totals_match_the_hand_computation(q4: World) -> None:
    result = sales_metrics(start=START, end=END)
    assert (result.start, result.end, result.group_by) == (START, END, "all")
    assert [(r.key, r.label) for r in result.rows] == [("all", "All deals")]
    assert numbers(result.rows[0]) == TOTAL
    assert numbers(result.total) == TOTAL
    assert (result.total.key, result.total.label) == ("total", "Total")


def test_per_rep_rows_are_labelled_by_name_or_username(q4: World) -> None:
    result = sales_metrics(start=START, end=END, group_by="rep")
    # rep1 has the first name Riley; rep2 and rep3 have none, so their usernames label them.
    assert [(r.key, r.label) for r in result.rows] == [
        (str(q4.rep2.pk), "rep2"),
        (str(q4.rep3.pk), "rep3"),
        (str(q4.rep1.pk), "Riley"),
    ]
    assert [numbers(r) for r in result.rows] == [REP2, REP3, REP1]
    assert numbers(result.total) == TOTAL


def test_per_team_rows_use_the_deals_team(q4: World) -> None:
    result = sales_metrics(start=START, end=END, group_by="team")
    assert [(r.key, r.label) for r in result.rows] == [
        (str(q4.east.pk), "Sales East"),
        (str(q4.west.pk), "Sales West"),
    ]
    assert [numbers(r) for r in result.rows] == [EAST, REP3]


def test_months_each_count_their_own_days_and_their_own_end(q4: World) -> None:
    result = sales_metrics(start=START, end=END, group_by="month")
    assert [(r.key, r.label) for r in result.rows] == [
        ("2026-10", "2026-10"),
        ("2026-11", "2026-11"),
        ("2026-12", "2026-12"),
    ]
    october, november, december = (numbers(r) for r in result.rows)
    # October: created C E K; won A K, lost G; open on Nov 1 00:00: C E F (D starts that instant).
    assert october == (
        3,
        D("14000.50"),
        2,
        1,
        2 / 3,
        D("18000.00"),
        D("9000.00"),
        25.0,
        3,
        D("9000.50"),
        D("720.00"),
    )
    assert november == (
        1,
        D("20000.00"),
        1,
        1,
        0.5,
        D("3000.50"),
        D("3000.50"),
        50.0,
        2,
        D("21000.00"),
        D("60.01"),
    )
    # December: B's close at 23:59:59 on the last day counts; I created that second is open at the end.
    assert december == (
        2,
        D("15000.00"),
        1,
        0,
        1.0,
        D("8000.00"),
        D("8000.00"),
        30.0,
        3,
        D("28000.00"),
        D("800.00"),
    )
    assert numbers(result.total) == TOTAL


def test_weeks_are_keyed_by_their_monday(q4: World) -> None:
    result = sales_metrics(start=START, end=END, group_by="week")
    keys = [r.key for r in result.rows]
    # 2026-10-01 is a Thursday: the first (clipped) week is the one of Monday 2026-09-28.
    assert keys[0] == "2026-09-28" and keys[-1] == "2026-12-28" and len(keys) == 14
    assert sum(r.deals_created for r in result.rows) == 6
    assert sum(r.won for r in result.rows) == 4
    first = result.rows[0]  # Oct 1-4: E created; G lost on Oct 2
    assert (first.deals_created, first.won, first.lost, first.win_rate) == (1, 0, 1, 0.0)
    assert result.rows[-1].open_deals == 3


def test_edges_a_deal_closed_on_the_last_second_counts_and_one_after_does_not(q4: World) -> None:
    december = sales_metrics(start=date(2026, 12, 31), end=date(2026, 12, 31))
    # Only B (won 23:59:59) and I (created 23:59:59) move on Dec 31; F closes Jan 1 00:00.
    assert numbers(december.total) == (
        1,
        D("7000.00"),
        1,
        0,
        1.0,
        D("8000.00"),
        D("8000.00"),
        30.0,
        3,
        D("28000.00"),
        D("800.00"),
    )
    january = sales_metrics(start=date(2027, 1, 1), end=date(2027, 1, 1))
    assert (january.total.deals_created, january.total.lost, january.total.open_deals) == (1, 1, 3)


def test_open_at_end_counts_deals_closed_after_the_window(q4: World) -> None:
    # At the end of September: C D E B I K were not yet created; A F are open; G, created at
    # 23:59:59 on Sep 30, is open too; H closed at that second and is not.
    september = sales_metrics(start=date(2026, 9, 1), end=date(2026, 9, 30))
    assert september.total.open_deals == 3
    assert september.total.open_amount == D("15500.00")
    assert (september.total.won, september.total.deals_created) == (1, 2)


def test_user_ids_restrict_the_deals_to_those_owners(q4: World) -> None:
    rep2_only = sales_metrics(start=START, end=END, group_by="rep", user_ids=[q4.rep2.pk])
    assert [r.key for r in rep2_only.rows] == [str(q4.rep2.pk)]
    assert numbers(rep2_only.total) == REP2
    nobody = sales_metrics(start=START, end=END, group_by="team", user_ids=[])
    assert nobody.rows == []
    assert numbers(nobody.total) == (
        0,
        D("0.00"),
        0,
        0,
        None,
        D("0.00"),
        None,
        None,
        0,
        D("0.00"),
        None,
    )


def test_pipeline_filter_keeps_one_pipeline(q4: World) -> None:
    renewals = Pipeline.objects.get(name="Renewals and upsells")
    result = sales_metrics(start=START, end=END, pipeline_id=renewals.pk)
    assert numbers(result.total) == (
        1,
        D("6000.00"),
        1,
        0,
        1.0,
        D("6000.00"),
        D("6000.00"),
        10.0,
        0,
        D("0.00"),
        D("0.00"),
    )


def test_unknown_group_is_refused_naming_the_allowed_ones(world: World) -> None:
    with pytest.raises(InvalidInput) as error:
        sales_metrics(start=START, end=END, group_by="owner_id; drop table")
    assert error.value.field == "group_by"
    assert ", ".join(GROUPS) in str(error.value)


def test_loss_reasons_and_win_sources(q4: World) -> None:
    # F is lost for Price but closed on Jan 1: outside the quarter.
    assert loss_reasons(start=START, end=END) == [
        ReasonCount("Price", 1, D("5000.00")),
        ReasonCount("Timing", 1, D("2500.00")),
    ]
    assert loss_reasons(start=START, end=END, user_ids=[q4.rep2.pk]) == [
        ReasonCount("Timing", 1, D("2500.00"))
    ]
    assert win_sources(start=START, end=END) == [
        ReasonCount("Unknown source", 3, D("23000.50")),
        ReasonCount("Email", 1, D("6000.00")),
    ]


def test_compute_takes_floats_and_decimals_alike() -> None:
    """The pure function sums cents exactly whether amounts come as floats or Decimals."""
    frame = {
        "owner_id": [1, 1, 1],
        "status": ["won", "won", "lost"],
        "created_at": [at(2026, 1, 1), at(2026, 1, 1), at(2026, 1, 2)],
        "closed_at": [at(2026, 1, 2), at(2026, 1, 4), at(2026, 1, 3)],
    }
    edges = [at(2026, 1, 1), at(2026, 2, 1)]
    as_float = pl.DataFrame({**frame, "amount_base": [0.1, 0.2, 0.29]})
    as_decimal = pl.DataFrame({**frame, "amount_base": [D("0.10"), D("0.20"), D("0.29")]})
    for deals in (as_float, as_decimal):
        f = figures(sales_sums(deals, edges=edges).row(0, named=True))
        assert (f.pipeline_created, f.revenue, f.average_deal_size) == (
            D("0.59"),
            D("0.30"),
            D("0.15"),
        )
        assert f.cycle_days == 2.0
        assert f.open_deals == 0 and f.velocity_per_day == D("0.00")  # nothing open: no velocity
