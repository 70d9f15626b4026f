"""The pure funnel computation: entered, conversion, median and p75 days, both modes, breakdown.

The fixture funnel_contacts.csv holds ten contacts; every expected figure below was worked out
by hand (see the comments) and the expected CSVs hold the January 2026 funnel in both modes.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from tandem.analytics.compute import funnel as compute

FIXTURES = Path(__file__).parent / "fixtures"
TIME_COLUMNS = ["created_at", *(compute.became(s) for s in compute.RAW_STAGES)]
JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def read_contacts(name: str = "funnel_contacts.csv") -> pl.DataFrame:
    """A fixture CSV as the loader's frame: UTC datetimes, empty cells null."""
    frame = pl.read_csv(FIXTURES / name, infer_schema=False)
    return frame.with_columns(
        pl.col("id").cast(pl.Int64),
        *[
            pl.col(c).str.to_datetime("%Y-%m-%d %H:%M", time_unit="us", time_zone="UTC")
            for c in TIME_COLUMNS
        ],
    )


def expected(name: str) -> list[compute.StageStats]:
    def num(text: str) -> float | None:
        return float(text) if text else None

    with open(FIXTURES / name, newline="") as f:
        return [
            compute.StageStats(
                stage=r["stage"],
                entered=int(r["entered"]),
                conversion_to_next=num(r["conversion_to_next"]),
                median_days_to_next=num(r["median_days_to_next"]),
                p75_days_to_next=num(r["p75_days_to_next"]),
            )
            for r in csv.DictReader(f)
        ]


def assert_stats(got: list[compute.StageStats], want: list[compute.StageStats]) -> None:
    assert [s.stage for s in got] == list(compute.STAGES)
    for g, w in zip(got, want, strict=True):
        assert (g.stage, g.entered) == (w.stage, w.entered)
        for field in ("conversion_to_next", "median_days_to_next", "p75_days_to_next"):
            have, need = getattr(g, field), getattr(w, field)
            if need is None:
                assert have is None, (g.stage, field)
            else:
                assert have == pytest.approx(need, abs=1e-12), (g.stage, field)


def test_cohort_mode_january():
    # Created in January: contacts 1-6, 9, 10. Sub→lead days 1, 1, 0, 0, 0, 1/12 → sorted
    # 0, 0, 0, 1/12, 1, 1: median (rank 2.5) = 1/24, p75 (rank 3.75) = 1/12 + 0.75 * 11/12.
    # Contact 6's MQL (Feb 3) counts: a cohort counts entries ever, not only in the window.
    stats = compute.funnel_stats(read_contacts(), mode="cohort", start=JAN[0], end=JAN[1])
    assert_stats(stats, expected("funnel_expected_cohort.csv"))


def test_period_mode_january():
    # Entries in January: contact 7 (created in December) enters MQL Jan 2 and SQL Jan 9, so
    # MQL→SQL days are 6, 0, 1.5, 7 → median 3.75, p75 6.25. Contact 10's lead entry falls on
    # Feb 1 (out), contact 6's MQL on Feb 3 (out) but still converts its January lead entry.
    stats = compute.funnel_stats(read_contacts(), mode="period", start=JAN[0], end=JAN[1])
    assert_stats(stats, expected("funnel_expected_period.csv"))


def test_skipped_stages_take_the_next_entry_and_zero_time():
    frame = read_contacts().filter(pl.col("id").is_in([3, 5]))
    entries = compute.with_entry_times(frame).collect().sort("id")
    jan = lambda d, h=0: datetime(2026, 1, d, h, tzinfo=UTC)  # noqa: E731
    # Contact 3 went lead → sql: subscriber and MQL take the lead and SQL entries.
    assert entries.row(0, named=True)["entry_subscriber"] == jan(3)
    assert entries.row(0, named=True)["entry_mql"] == jan(7)
    # Contact 5 skipped customer for evangelist, which counts as customer.
    assert entries.row(1, named=True)["entry_customer"] == jan(25)
    assert entries.row(1, named=True)["entry_mql"] == jan(11, 12)
    stats = compute.funnel_stats(frame, mode="cohort", start=JAN[0], end=JAN[1])
    # Contact 3: MQL→SQL took 0 days; contact 5: 1.5 days → median 0.75.
    assert stats[2].median_days_to_next == pytest.approx(0.75)
    assert [s.entered for s in stats] == [2, 2, 2, 2, 1, 1]


def test_a_later_return_does_not_make_time_negative():
    # Lead Jan 1 → SQL Jan 3, then moved back to MQL on Jan 9: MQL counts from Jan 3.
    frame = pl.DataFrame(
        {
            "id": [1],
            "created_at": [datetime(2026, 1, 1, tzinfo=UTC)],
            **{compute.became(s): [None] for s in compute.RAW_STAGES},
        },
        schema_overrides={c: pl.Datetime("us", "UTC") for c in TIME_COLUMNS},
    ).with_columns(
        pl.lit(datetime(2026, 1, 1, tzinfo=UTC)).alias("became_lead_at"),
        pl.lit(datetime(2026, 1, 9, tzinfo=UTC)).alias("became_mql_at"),
        pl.lit(datetime(2026, 1, 3, tzinfo=UTC)).alias("became_sql_at"),
    )
    stats = compute.funnel_stats(frame, mode="cohort", start=JAN[0], end=JAN[1])
    assert stats[1].median_days_to_next == 2.0  # lead → MQL (at the SQL entry)
    assert stats[2].median_days_to_next == 0.0  # MQL → SQL


def test_empty_population():
    stats = compute.funnel_stats(read_contacts().clear(), mode="cohort", start=JAN[0], end=JAN[1])
    assert [s.entered for s in stats] == [0] * 6
    assert [s.conversion_to_next for s in stats] == [0.0] * 5 + [None]
    assert all(s.median_days_to_next is None and s.p75_days_to_next is None for s in stats)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="cohort, period"):
        compute.funnel_stats(read_contacts(), mode="weekly", start=JAN[0], end=JAN[1])


def test_breakdown_by_channel_matches_per_group_funnels():
    frame = read_contacts().rename({"channel": "group"})
    groups = compute.funnel_breakdown(frame, mode="cohort", start=JAN[0], end=JAN[1])
    assert list(groups) == ["direct", "email", "paid_search", "referral"]
    # email: contacts 1, 2, 5 (8 is created in February).
    email = groups["email"]
    assert [s.entered for s in email] == [3, 3, 3, 2, 2, 2]
    assert email[2].conversion_to_next == pytest.approx(2 / 3)
    assert email[2].median_days_to_next == 3.75  # MQL→SQL days 6 and 1.5
    assert email[2].p75_days_to_next == 4.875  # 1.5 + 0.75 * 4.5
    assert email[0].median_days_to_next == 1.0  # sub→lead days 0, 1, 1
    # paid_search: contact 3 (skipped subscriber and MQL), contact 4 (subscriber only).
    paid = groups["paid_search"]
    assert [s.entered for s in paid] == [2, 1, 1, 1, 0, 0]
    assert paid[0].conversion_to_next == 0.5
    assert paid[3].conversion_to_next == 0.0 and paid[3].median_days_to_next is None
    assert paid[4].conversion_to_next == 0.0  # nobody entered: 0.0, not a division error
    # referral: contact 6 only (7 was created in December).
    assert [s.entered for s in groups["referral"]] == [1, 1, 1, 1, 0, 0]
    assert groups["referral"][1].median_days_to_next == 14.0
    # direct: contact 9 entered nothing, contact 10 subscriber → lead in 2 hours.
    direct = groups["direct"]
    assert [s.entered for s in direct] == [1, 1, 0, 0, 0, 0]
    assert direct[0].median_days_to_next == pytest.approx(1 / 12)
    assert direct[1].conversion_to_next == 0.0


def test_breakdown_totals_add_up_to_the_whole_funnel():
    frame = read_contacts()
    whole = compute.funnel_stats(frame, mode="period", start=JAN[0], end=JAN[1])
    groups = compute.funnel_breakdown(
        frame, mode="period", start=JAN[0], end=JAN[1], group="channel"
    )
    for i, stage in enumerate(compute.STAGES):
        assert sum(g[i].entered for g in groups.values()) == whole[i].entered, stage


def test_weekly_mql_and_sql_entries_with_zero_weeks():
    # January 1 2026 is a Thursday: weeks start Mon Dec 29, Jan 5, 12, 19, 26.
    # MQLs: Jan 4 (c1) and Jan 2 (c7) → Dec 29; Jan 5, 7 (c3 via SQL), 11 (c5) → Jan 5.
    # SQLs: Jan 7, 9, 10 → Jan 5; Jan 13 → Jan 12.
    weeks = compute.weekly_entries(read_contacts(), start=JAN[0], end=JAN[1])
    assert weeks.to_dicts() == [
        {"week": date(2025, 12, 29), "mql": 2, "sql": 0},
        {"week": date(2026, 1, 5), "mql": 3, "sql": 3},
        {"week": date(2026, 1, 12), "mql": 0, "sql": 1},
        {"week": date(2026, 1, 19), "mql": 0, "sql": 0},
        {"week": date(2026, 1, 26), "mql": 0, "sql": 0},
    ]


def test_weekly_entries_bucket_in_the_given_time_zone():
    # Contact 10 subscribed Jan 31 23:00 UTC = Feb 1 00:00 in Paris (a Sunday either way), and
    # became a lead Feb 1 01:00 UTC; contact 8 entered both on Mon Feb 2. In Paris, February
    # starts at Jan 31 23:00 UTC.
    start = datetime(2026, 1, 31, 23, tzinfo=UTC)
    end = datetime(2026, 2, 7, 23, tzinfo=UTC)
    weeks = compute.weekly_entries(
        read_contacts(),
        stages=("subscriber", "lead"),
        start=start,
        end=end,
        time_zone="Europe/Paris",
    )
    assert weeks.to_dicts() == [
        {"week": date(2026, 1, 26), "subscriber": 1, "lead": 1},
        {"week": date(2026, 2, 2), "subscriber": 1, "lead": 1},
    ]
