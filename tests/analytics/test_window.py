"""The shared analytics date window: period, start/end, defaults and refusals."""

from __future__ import annotations

from datetime import date

import pytest

from tandem.analytics.queries.window import window_from
from tandem.errors import InvalidInput

TODAY = date(2026, 11, 17)


def w(**kwargs):
    args = {"period": None, "start": None, "end": None, "today": TODAY, **kwargs}
    return window_from(**args)


def test_month_and_quarter_periods():
    assert w(period="2026-11") == (date(2026, 11, 1), date(2026, 11, 30))
    assert w(period="2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert w(period="2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert w(period=" 2026-q1 ") == (date(2026, 1, 1), date(2026, 3, 31))


def test_start_end_inclusive_and_lone_start_runs_to_today():
    assert w(start="2026-01-05", end="2026-01-05") == (date(2026, 1, 5), date(2026, 1, 5))
    assert w(start="2026-01-05", end="2026-03-01") == (date(2026, 1, 5), date(2026, 3, 1))
    assert w(start="2026-06-01") == (date(2026, 6, 1), TODAY)


def test_defaults():
    assert w() == (date(2026, 10, 1), date(2026, 12, 31))
    assert w(default="month") == (date(2026, 11, 1), date(2026, 11, 30))
    assert w(default="all") == (date(2000, 1, 1), TODAY)
    assert w(period="", start="", end="", default="all") == (date(2000, 1, 1), TODAY)


def test_default_is_today_in_site_time_zone_when_not_given():
    start, end = window_from(period=None, start=None, end=None, default="all")
    assert start == date(2000, 1, 1) and end >= date(2026, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"period": "2026-13"}, "period", "not a period"),
        ({"period": "Q4"}, "period", "not a period"),
        ({"period": "2026-11", "start": "2026-01-01"}, "period", "not both"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start", "not a date"),
        ({"start": "yesterday"}, "start", "not a date"),
        ({"start": "2026-01-01", "end": "01/02/2026"}, "end", "not a date"),
        ({"end": "2026-01-01"}, "start", "required"),
        ({"start": "2026-03-01", "end": "2026-02-28"}, "end", "before start"),
        ({"start": "2010-01-01", "end": "2020-01-01"}, "end", "10 years"),
        ({"default": "decade"}, "default", "quarter, month, all"),
    ],
)
def test_refusals_name_the_field(kwargs, field, words):
    with pytest.raises(InvalidInput) as err:
        w(**kwargs)
    assert err.value.field == field
    assert words in str(err.value)


def test_exactly_ten_years_is_allowed():
    assert w(start="2016-01-01", end="2025-12-31") == (date(2016, 1, 1), date(2025, 12, 31))
