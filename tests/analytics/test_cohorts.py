"""Monthly creation cohorts: size, entered per stage (ever) and rates, empty months included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.analytics.compute.cohorts import monthly_cohorts
from tests.analytics.test_funnel import read_contacts

DEC_TO_FEB = (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def test_cohorts_by_month_of_creation():
    rows = monthly_cohorts(read_contacts(), start=DEC_TO_FEB[0], end=DEC_TO_FEB[1])
    assert [r.month for r in rows] == ["2025-12", "2026-01", "2026-02"]
    dec, jan, feb = rows
    # December: contact 7 (lead → MQL → SQL, the last two in January: entries count ever).
    assert dec.size == 1
    assert dec.entered == {
        "subscriber": 1,
        "lead": 1,
        "mql": 1,
        "sql": 1,
        "opportunity": 0,
        "customer": 0,
    }
    # January: eight contacts (the cohort funnel of test_funnel).
    assert jan.size == 8
    assert jan.entered == {
        "subscriber": 7,
        "lead": 6,
        "mql": 5,
        "sql": 4,
        "opportunity": 2,
        "customer": 2,
    }
    assert jan.rates == {
        "subscriber": 0.875,
        "lead": 0.75,
        "mql": 0.625,
        "sql": 0.5,
        "opportunity": 0.25,
        "customer": 0.25,
    }
    # February: contact 8, a lead (so also a subscriber).
    assert (feb.size, feb.entered["subscriber"], feb.entered["lead"], feb.rates["mql"]) == (
        1,
        1,
        1,
        0.0,
    )


def test_empty_months_are_listed_with_zero_rates():
    rows = monthly_cohorts(
        read_contacts(),
        start=datetime(2026, 2, 1, tzinfo=UTC),
        end=datetime(2026, 5, 1, tzinfo=UTC),
    )
    assert [(r.month, r.size) for r in rows] == [("2026-02", 1), ("2026-03", 0), ("2026-04", 0)]
    assert rows[1].rates == dict.fromkeys(rows[1].rates, 0.0)


def test_months_follow_the_time_zone():
    # Contact 10 was created Jan 31 23:00 UTC: already February in Paris.
    start, end = datetime(2026, 1, 31, 23, tzinfo=UTC), datetime(2026, 2, 28, 23, tzinfo=UTC)
    rows = monthly_cohorts(read_contacts(), start=start, end=end, time_zone="Europe/Paris")
    assert [(r.month, r.size) for r in rows] == [("2026-02", 2)]
    utc = monthly_cohorts(read_contacts(), start=start, end=end)
    assert [(r.month, r.size) for r in utc] == [("2026-01", 1), ("2026-02", 1)]
    assert utc[0].rates["lead"] == pytest.approx(1.0)
