"""The value normalisers every CRM write shares (crm/normalise.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tandem.crm.normalise import (
    clean_choice,
    clean_country,
    clean_currency,
    clean_datetime,
    clean_decimal,
    clean_int,
    clean_text,
    normalise_domain,
    normalise_email,
    parse_stage,
)
from tandem.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann@Acme.COM ", "ann@acme.com"),
        ("ann@acme.com", "ann@acme.com"),
        ("\tO'Brien+crm@Sub.Example.org\n", "o'brien+crm@sub.example.org"),
    ],
)
def test_emails_are_trimmed_and_lower_cased(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "email is required"),
        ("   ", "email is required"),
        ("ann@", "email 'ann@' is not a valid address"),
        ("Ann Acme.com", "email 'ann acme.com' is not a valid address"),
        ("ann@@acme.com", "email 'ann@@acme.com' is not a valid address"),
        ("a" * 250 + "@x.com", "email is longer than 254 characters"),
    ],
)
def test_invalid_emails_are_refused_with_a_message(raw, message):
    with pytest.raises(InvalidInput) as caught:
        normalise_email(raw)
    assert str(caught.value) == message
    assert caught.value.field == "email"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.com/x", "acme.com"),
        ("acme.com", "acme.com"),
        ("  WWW.ACME.COM. ", "acme.com"),
        ("http://user@shop.acme.co.uk:8080/path?q=1#top", "shop.acme.co.uk"),
        ("acme.com?ref=ad", "acme.com"),
        ("mailto:ann@acme.com", "acme.com"),
        (None, None),
        ("  ", None),
    ],
)
def test_domains_reduce_to_bare_host(raw, expected):
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize("raw", ["not a domain", "localhost", "acme", "-acme.com", "https://"])
def test_invalid_domains_are_refused(raw):
    with pytest.raises(InvalidInput, match="is not a valid domain name"):
        normalise_domain(raw)


def test_clean_text_trims_and_checks():
    assert clean_text("  Ann  ", field="first_name", max_length=5) == "Ann"
    assert clean_text(None, field="title", max_length=5) == ""
    with pytest.raises(InvalidInput, match=r"^name is required$"):
        clean_text(" ", field="name", max_length=5, required=True)
    with pytest.raises(InvalidInput, match=r"^title is longer than 5 characters$"):
        clean_text("abcdef", field="title", max_length=5)
    with pytest.raises(InvalidInput, match="NUL"):
        clean_text("a\x00b", field="title", max_length=5)


def test_clean_choice_tolerates_case_and_punctuation():
    choices = ["not_subscribed", "subscribed"]
    assert clean_choice("Not Subscribed", field="status", choices=choices) == "not_subscribed"
    assert clean_choice("SUBSCRIBED", field="status", choices=choices) == "subscribed"
    assert (
        clean_choice("optin", field="status", choices=choices, aliases={"optin": "subscribed"})
        == "subscribed"
    )
    with pytest.raises(
        InvalidInput, match=r"^status 'maybe' is not one of: not_subscribed, subscribed$"
    ):
        clean_choice("maybe", field="status", choices=choices)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1,200", 1200), (" 42 ", 42), (7, 7), ("", None), (None, None)]
)
def test_clean_int_parses_whole_numbers(raw, expected):
    assert clean_int(raw, field="employees") == expected


@pytest.mark.parametrize("raw", ["lots", "1.5", "NaN", "Infinity", "-1", "1e13"])
def test_clean_int_refuses_what_is_not_a_whole_number_in_range(raw):
    with pytest.raises(InvalidInput, match=r"^employees "):
        clean_int(raw, field="employees")


def test_clean_decimal_parses_money():
    assert clean_decimal("$1,200.5", field="amount") == Decimal("1200.50")
    assert clean_decimal("0", field="amount") == Decimal("0.00")
    assert clean_decimal(None, field="amount") is None
    for bad in ["-5", "NaN", "1e17", "ten"]:
        with pytest.raises(InvalidInput, match=r"^amount "):
            clean_decimal(bad, field="amount")


def test_country_and_currency_codes():
    assert clean_country(" de ") == "DE"
    assert clean_country(None) == ""
    assert clean_currency(None) == "USD"
    assert clean_currency("eur") == "EUR"
    with pytest.raises(InvalidInput, match="two-letter"):
        clean_country("USA")
    with pytest.raises(InvalidInput, match="three-letter"):
        clean_currency("EURO")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MQL", "mql"),
        ("Marketing Qualified Lead", "mql"),
        ("sales-qualified", "sql"),
        ("Closed Won", "customer"),
        ("opportunity", "opportunity"),
        ("Unqualified", "disqualified"),
    ],
)
def test_parse_stage_accepts_values_labels_and_aliases(raw, expected):
    assert parse_stage(raw) == expected


def test_parse_stage_refuses_unknown():
    with pytest.raises(
        InvalidInput, match=r"^lifecycle_stage 'hot' is not one of: subscriber, lead, mql"
    ):
        parse_stage("hot")


def test_internationalised_domains_are_stored_in_their_ascii_form():
    """Given an IDN written in Unicode or in punycode, then both normalise to the same value, so
    one person is one contact and one company one domain."""
    assert normalise_email("Ann@Bücher.DE") == "ann@xn--bcher-kva.de"
    assert normalise_email("ann@xn--bcher-kva.de") == "ann@xn--bcher-kva.de"
    assert normalise_domain("https://www.bücher.de/shop") == "xn--bcher-kva.de"
    with pytest.raises(InvalidInput, match="is not a valid domain name"):
        normalise_domain("bücher..de")


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "x\x00"])
def test_text_no_database_can_hold_is_refused(text):
    with pytest.raises(InvalidInput, match=r"^title contains an? (invalid|NUL) character"):
        clean_text(text, field="title", max_length=50)


def test_datetimes_are_utc_and_overflow_is_refused():
    plus_two = datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert clean_datetime(plus_two, field="at") == datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert clean_datetime(datetime(2025, 1, 1), field="at") == datetime(2025, 1, 1, tzinfo=UTC)
    assert clean_datetime(None, field="at") is None
    edge = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(InvalidInput, match=r"^at is out of range$"):
        clean_datetime(edge, field="at")
