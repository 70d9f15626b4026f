"""Ad-spend CSV import: each platform's header, per-row errors with line numbers, all-or-nothing
on unreadable files, and idempotent re-imports."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tandem.errors import InvalidInput
from tandem.marketing import costs_import
from tandem.marketing.models import CampaignCost
from tandem.marketing.services.campaigns import import_costs
from tests.marketing.factories import CampaignFactory


@pytest.fixture
def spring(db):
    return CampaignFactory(name="Spring Launch", utm_campaign="spring_launch_25", currency="USD")


@pytest.fixture
def brand(db):
    return CampaignFactory(name="Brand Awareness", utm_campaign="brand", currency="EUR")


def entries() -> set[tuple[str, date, Decimal, str, str]]:
    return {
        (c.campaign.utm_campaign, c.incurred_on, c.amount, c.currency, c.import_key or "")
        for c in CampaignCost.objects.select_related("campaign")
    }


def run(text: str | bytes, by=None) -> costs_import.CostImportReport:
    data = text.encode() if isinstance(text, str) else text
    return import_costs(file=io.BytesIO(data), by=by)


# ---------------------------------------------------------------- each header style


GOOGLE_ADS = """Campaign report
"January 1, 2025 - January 31, 2025"
Day,Campaign,Cost,Currency code
2025-01-01,Spring Launch,"1,234.50",USD
2025-01-02,spring_launch_25,10.00,USD
2025-01-02,  SPRING   LAUNCH ,5.25,USD
2025-01-03,Brand,0.00,EUR
Total: Account,,"1,249.75",
"""


def test_google_ads_report_with_title_rows_totals_and_segments(spring, brand, world):
    """Given a Google Ads export (title rows, a day split in two rows, a zero day and a total
    row), then one entry per campaign and day, the split day summed, zero and total skipped."""
    report = run(GOOGLE_ADS, by=world.marketer)
    assert (report.platform, report.rows, report.created, report.updated) == ("Google Ads", 4, 2, 0)
    assert (report.skipped, report.rejected_count) == (2, 0)
    assert entries() == {
        ("spring_launch_25", date(2025, 1, 1), Decimal("1234.50"), "USD", "google_ads"),
        ("spring_launch_25", date(2025, 1, 2), Decimal("15.25"), "USD", "google_ads"),
    }
    cost = CampaignCost.objects.get(incurred_on=date(2025, 1, 1))
    assert (cost.origin, cost.created_by, cost.description) == (
        "import",
        world.marketer,
        "Google Ads import",
    )


def test_meta_report_takes_the_currency_from_the_header(spring, brand):
    text = (
        "Reporting starts,Reporting ends,Campaign name,Amount spent (EUR),Impressions\n"
        "2025-02-01,2025-02-01,Brand Awareness,99.90,1000\n"
        '2025-02-02,2025-02-02,brand awareness,"\u20ac 1.000,50",1200\n'
    )
    report = run(text)
    assert (report.platform, report.created, report.rejected_count) == ("Meta", 2, 0)
    assert entries() == {
        ("brand", date(2025, 2, 1), Decimal("99.90"), "EUR", "meta"),
        ("brand", date(2025, 2, 2), Decimal("1000.50"), "EUR", "meta"),
    }


def test_meta_report_with_a_day_column(spring):
    text = "Day,Campaign name,Amount spent (USD)\n2025-02-01,Spring Launch,12\n"
    report = run(text)
    assert (report.platform, report.created) == ("Meta", 1)
    assert entries() == {("spring_launch_25", date(2025, 2, 1), Decimal("12.00"), "USD", "meta")}


def test_linkedin_report_with_us_dates_settled_by_a_day_over_12(spring):
    """Given LinkedIn's month-first dates, one of them 1/15, then 2/3 is read as February 3."""
    text = (
        "Campaign Performance Report\n"
        "Report Start: 1/1/2025\n"
        "Start Date (in UTC),Campaign Name,Total Spent,Currency\n"
        "1/15/2025,Spring Launch,20.00,USD\n"
        "2/3/2025,Spring Launch,30.00,usd\n"
    )
    report = run(text)
    assert (report.platform, report.created, report.rejected_count) == ("LinkedIn", 2, 0)
    assert entries() == {
        ("spring_launch_25", date(2025, 1, 15), Decimal("20.00"), "USD", "linkedin"),
        ("spring_launch_25", date(2025, 2, 3), Decimal("30.00"), "USD", "linkedin"),
    }


def test_plain_csv_with_bom_and_untidy_headers(spring, brand):
    """Given a UTF-8 BOM, headers in any case with spaces, and no currency for one row, then the
    campaign's currency is used."""
    text = "\ufeff Date ,CAMPAIGN,  Amount ,Currency\n2025-03-01,brand,$7.5,\n2025-03-01,Spring Launch,8,GBP\n"
    report = run(text.encode("utf-8"))
    assert (report.platform, report.created, report.rejected_count) == ("CSV", 2, 0)
    assert entries() == {
        ("brand", date(2025, 3, 1), Decimal("7.50"), "EUR", "csv"),
        ("spring_launch_25", date(2025, 3, 1), Decimal("8.00"), "GBP", "csv"),
    }


def test_google_ads_excel_export_in_utf16_with_tabs(spring):
    text = "Day\tCampaign\tCost\tCurrency code\r\n2025-01-05\tSpring Launch\t4.00\tUSD\r\n"
    report = run(text.encode("utf-16"))
    assert (report.platform, report.created) == ("Google Ads", 1)


def test_semicolon_separated_with_decimal_commas(spring):
    text = "date;campaign;amount;currency\n2025-01-05;Spring Launch;1.234,56;USD\n"
    report = run(text)
    assert report.created == 1
    assert entries() == {("spring_launch_25", date(2025, 1, 5), Decimal("1234.56"), "USD", "csv")}


# ---------------------------------------------------------------- bad rows


BAD_ROWS = (
    "date,campaign,amount,currency\n"  # line 1
    "2025-01-01,Spring Launch,10,USD\n"  # line 2: good
    "2025-13-01,Spring Launch,10,USD\n"  # line 3: no month 13
    "2025-01-02,Nobody,10,USD\n"  # line 4: unknown campaign
    '2025-01-03,"Spring\nLaunch",abc,USD\n'  # lines 5-6: one record, bad amount
    "2025-01-04,Spring Launch,-3,USD\n"  # line 7: negative
    "2025-01-05,Spring Launch,3,US\n"  # line 8: bad currency
    "2025-01-06\n"  # line 9: short row
    "\n"  # line 10: blank, skipped
    "2025-01-07,,5,USD\n"  # line 11: no campaign
    "2025-01-08,Spring Launch,5,USD\n"  # line 12: good
)


def test_bad_rows_are_rejected_with_their_physical_line_and_good_rows_written(spring):
    report = run(BAD_ROWS)
    assert [(e.line, e.message) for e in report.rejected] == [
        (3, "date '2025-13-01' is not a real day"),
        (4, "campaign 'Nobody' is not a campaign's UTM campaign tag or name"),
        # a quoted line break inside the name is whitespace: the campaign still matches
        (5, "amount 'abc' is not a number"),
        (7, "amount '-3' is negative"),
        (8, "currency 'US' is not a three-letter ISO code"),
        (9, "the row has 1 columns; the header has at least 4"),
        (11, "campaign is missing"),
    ]
    assert (report.rows, report.created, report.rejected_count, report.skipped) == (9, 2, 7, 1)
    assert {e[1] for e in entries()} == {date(2025, 1, 1), date(2025, 1, 8)}


def test_ambiguous_day_month_dates_are_rejected(spring):
    """Given only dates whose day and month could swap, then those rows are refused (3/3 is
    the same either way); one date with a day over 12 settles the whole file."""
    text = "date,campaign,amount\n3/4/2025,Spring Launch,1\n3/3/2025,Spring Launch,2\n"
    report = run(text)
    assert [(e.line, e.message) for e in report.rejected] == [
        (
            2,
            "date '3/4/2025' could be day-first or month-first and no other date in the file "
            "settles the order; write dates as YYYY-MM-DD",
        )
    ]
    assert report.created == 1
    settled = run("date,campaign,amount\n3/4/2025,Spring Launch,1\n13/4/2025,Spring Launch,2\n")
    assert (settled.created, settled.rejected_count) == (2, 0)
    assert date(2025, 4, 3) in {e[1] for e in entries()}


def test_mixed_orders_reject_the_ambiguous_dates(spring):
    text = "date,campaign,amount\n13/4/2025,Spring Launch,1\n4/13/2025,Spring Launch,1\n5/6/2025,Spring Launch,1\n"
    report = run(text)
    assert [e.line for e in report.rejected] == [4]
    assert "mixes day-first and month-first" in report.rejected[0].message


def test_a_name_shared_by_two_campaigns_is_ambiguous(spring):
    CampaignFactory(name="Retargeting", utm_campaign="rt_a")
    CampaignFactory(name="Retargeting", utm_campaign="rt_b")
    report = run("date,campaign,amount\n2025-01-01,Retargeting,1\n2025-01-01,RT_B,2\n")
    assert [(e.line, e.message) for e in report.rejected] == [
        (2, "campaign 'Retargeting' matches 2 campaigns; use its UTM campaign tag")
    ]
    assert report.created == 1


def test_one_day_in_two_currencies_is_rejected(spring):
    report = run(
        "date,campaign,amount,currency\n"
        "2025-01-01,Spring Launch,1,USD\n"
        "2025-01-01,Spring Launch,1,EUR\n"
    )
    assert [(e.line, e.message) for e in report.rejected] == [
        (3, "currency EUR differs from USD on an earlier row for the same campaign and day")
    ]


# ---------------------------------------------------------------- unreadable files


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"date,campaign,amount\n2025-01-01,Spring Launch,1\n2025-01-02,Caf\xe9,1\n",
            "line 3 is not UTF-8 text; save the file as CSV UTF-8 and import it again",
        ),
        (b"", "the file is empty"),
        (b"PK\x03\x04\x00\x00", "line 1 holds a NUL character: this is not a CSV text file"),
        (b"name,email\nann,ann@example.com\n", "no known header row"),
        (
            b'date,campaign,amount\n2025-01-01,"Spring Launch"x,1\n',
            "line 2 is not valid CSV",
        ),
    ],
)
def test_an_unreadable_file_writes_nothing(spring, data, message):
    with pytest.raises(InvalidInput) as error:
        run(data)
    assert str(error.value).startswith(message)
    assert error.value.field == "file"
    assert CampaignCost.objects.count() == 0


def test_a_file_over_the_limit_is_refused(spring, monkeypatch):
    monkeypatch.setattr(costs_import, "MAX_BYTES", 100)
    with pytest.raises(InvalidInput) as error:
        run(b"date,campaign,amount\n" + b"2025-01-01,Spring Launch,1\n" * 10)
    assert str(error.value) == "the file is larger than 0 MB; split it and import each part"


# ---------------------------------------------------------------- re-imports


def test_reimporting_the_same_file_updates_instead_of_duplicating(spring, brand):
    """Given a Google Ads file imported once, when imported again, then nothing new; when a
    day's cost changed in the platform, that entry is updated in place."""
    first = run(GOOGLE_ADS)
    ids = set(CampaignCost.objects.values_list("pk", flat=True))
    again = run(GOOGLE_ADS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = run(GOOGLE_ADS.replace("10.00,USD", "20.00,USD"))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert set(CampaignCost.objects.values_list("pk", flat=True)) == ids
    assert CampaignCost.objects.get(incurred_on=date(2025, 1, 2)).amount == Decimal("25.25")
    assert first.created == 2


def test_a_day_gone_to_zero_updates_its_entry(spring):
    run("date,campaign,amount\n2025-01-01,Spring Launch,5\n")
    report = run("date,campaign,amount\n2025-01-01,Spring Launch,0\n")
    assert (report.updated, report.skipped) == (1, 0)
    assert CampaignCost.objects.get().amount == Decimal("0.00")


def test_another_platform_and_typed_costs_are_separate_entries(spring):
    """The same campaign and day from Meta and Google Ads are two entries; a typed-in cost on
    that day is left alone."""
    CampaignCost.objects.create(campaign=spring, incurred_on=date(2025, 1, 1), amount=3)
    run("Day,Campaign,Cost\n2025-01-01,Spring Launch,5\n")
    run("Day,Campaign name,Amount spent (USD)\n2025-01-01,Spring Launch,7\n")
    assert sorted(CampaignCost.objects.values_list("import_key", "amount"), key=str) == [
        ("google_ads", Decimal("5.00")),
        ("meta", Decimal("7.00")),
        (None, Decimal("3.00")),
    ]


def test_an_uploaded_file_object_is_read_from_the_start(spring):
    upload = SimpleUploadedFile("spend.csv", b"date,campaign,amount\n2025-01-01,spring launch,5\n")
    upload.read()
    report = import_costs(file=upload)
    assert report.created == 1
