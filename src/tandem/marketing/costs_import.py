"""Reading ad-spend CSV files: Google Ads, Meta, LinkedIn, or plain date,campaign,amount,currency.

The reader checks the whole file before anything is written: an unreadable file (encoding,
CSV syntax, no known header) raises InvalidInput; otherwise each data row is either accepted
or rejected with its physical line number and the reasons. Accepted rows are summed per
(campaign, day), since a report segmented by device or network lists a day several times.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from tandem.errors import InvalidInput
from tandem.marketing import utm
from tandem.marketing.models import Campaign

MAX_BYTES = 10 * 1024 * 1024
# Report titles and date ranges may come before the header row (Google Ads, LinkedIn).
HEADER_SEARCH_ROWS = 20
# The report keeps the first rejected rows; the count covers them all.
REJECTED_KEPT = 500
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Platform:
    """A header layout: the platform's key (the entries' import_key) and its columns."""

    key: str
    label: str
    date: tuple[str, ...]
    campaign: tuple[str, ...]
    amount: tuple[str, ...]
    currency: tuple[str, ...] = ()


# Header names in the form _header() gives them (lower case, single spaces). "amount spent"
# stands for Meta's "Amount spent (USD)": the currency in brackets is read off the header.
PLATFORMS = (
    Platform("google_ads", "Google Ads", ("day",), ("campaign",), ("cost",), ("currency code",)),
    Platform(
        "meta",
        "Meta",
        ("reporting starts", "day"),
        ("campaign name",),
        ("amount spent",),
        ("currency",),
    ),
    Platform(
        "linkedin",
        "LinkedIn",
        ("start date (in utc)",),
        ("campaign name",),
        ("total spent",),
        ("currency",),
    ),
    Platform("csv", "CSV", ("date",), ("campaign",), ("amount",), ("currency",)),
)

_SPACES = re.compile(r"\s+")
_BRACKETED_CURRENCY = re.compile(r"^(.*?)\s*\(([a-z]{3})\)$")


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class CostImportReport:
    """What an import did: counts of entries, and the rejected rows with their line numbers."""

    platform: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected_count: int = 0
    rejected: list[RowError] = field(default_factory=list)

    def reject(self, line: int, message: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REJECTED_KEPT:
            self.rejected.append(RowError(line, message))


@dataclass
class ParsedCosts:
    platform: Platform
    report: CostImportReport
    # (campaign id, day) → (amount, currency), summed over the file's rows.
    entries: dict[tuple[int, date], tuple[Decimal, str]]


@dataclass(frozen=True)
class Columns:
    date: int
    campaign: int
    amount: int
    currency: int | None
    header_currency: str


# ---------------------------------------------------------------- bytes and text


def read_bytes(file: Any) -> bytes:
    """The upload's bytes (a file object or bytes), refusing one over the size limit."""
    if isinstance(file, (bytes, bytearray)):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            f"the file is larger than {MAX_BYTES // 1_048_576} MB; split it and import each part",
            field="file",
        )
    return data


def decode(data: bytes) -> str:
    """UTF-8 text, with or without a byte-order mark (UTF-16 with its mark, as Excel saves)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidInput(
            f"line {line} is not UTF-8 text; save the file as CSV UTF-8 and import it again",
            field="file",
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InvalidInput(
            f"line {line} holds a NUL character: this is not a CSV text file", field="file"
        )
    if not text.strip():
        raise InvalidInput("the file is empty", field="file")
    return text


def _header(cell: str) -> str:
    return _SPACES.sub(" ", cell.replace("\ufeff", "")).strip().strip('"').strip().lower()


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the physical line it starts on; malformed CSV is unreadable."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for row in reader:
            yield line, row
            line = reader.line_num + 1
    except csv.Error as error:
        raise InvalidInput(
            f"line {reader.line_num} is not valid CSV ({error})", field="file"
        ) from None


def _find(names: list[str], wanted: tuple[str, ...]) -> int | None:
    for name in wanted:
        if name in names:
            return names.index(name)
    return None


def _columns(row: list[str], platform: Platform) -> Columns | None:
    """The platform's columns in this row, if it is that platform's header row."""
    names = [_header(cell) for cell in row]
    header_currency = ""
    amount = _find(names, platform.amount)
    if amount is None and platform.key == "meta":
        # "amount spent (usd)": the currency lives in the header.
        for i, name in enumerate(names):
            match = _BRACKETED_CURRENCY.match(name)
            if match and match.group(1) in platform.amount:
                amount, header_currency = i, match.group(2).upper()
                break
    found_date = _find(names, platform.date)
    found_campaign = _find(names, platform.campaign)
    if found_date is None or found_campaign is None or amount is None:
        return None
    return Columns(
        date=found_date,
        campaign=found_campaign,
        amount=amount,
        currency=_find(names, platform.currency),
        header_currency=header_currency,
    )


def _header_row(text: str, delimiter: str) -> tuple[int, Platform, Columns] | None:
    """Where the header row is (its record index) among the first rows, read with this delimiter."""
    try:
        for index, (_, row) in enumerate(_records(text, delimiter)):
            if index >= HEADER_SEARCH_ROWS:
                return None
            for platform in PLATFORMS:
                columns = _columns(row, platform)
                if columns is not None:
                    return index, platform, columns
    except InvalidInput:
        return None  # not this delimiter; the file is read strictly once one is chosen
    return None


def _locate_header(text: str) -> tuple[Platform, Columns, list[tuple[int, list[str]]]]:
    """The file's platform, its columns and the records after the header row."""
    for delimiter in (",", "\t", ";"):
        found = _header_row(text, delimiter)
        if found is not None:
            index, platform, columns = found
            return platform, columns, list(_records(text, delimiter))[index + 1 :]
    raise InvalidInput(
        "no known header row: expected Google Ads (Day, Campaign, Cost, Currency code), "
        "Meta (Reporting starts or Day, Campaign name, Amount spent (USD)), LinkedIn "
        "(Start Date (in UTC), Campaign Name, Total Spent, Currency) or date,campaign,amount,currency",
        field="file",
    )


# ---------------------------------------------------------------- dates


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
# a/b/yyyy or a-b-yyyy: day-first in Europe, month-first in the US.
_AMBIGUOUS = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
# d.m.yyyy is day-first wherever dots are used.
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_NAMED = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")


def day_order(values: list[str]) -> str | None:
    """ "dmy" or "mdy" when the file's a/b/yyyy dates settle the order (a day over 12).

    "mixed" when some dates are day-first and others month-first; None when nothing settles it.
    """
    day_first = month_first = False
    for value in values:
        match = _AMBIGUOUS.match(value.strip())
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            day_first |= a > 12 >= b
            month_first |= b > 12 >= a
    if day_first and month_first:
        return "mixed"
    if day_first or month_first:
        return "dmy" if day_first else "mdy"
    return None


def parse_day(value: str, *, order: str | None) -> date:
    """A calendar day from ISO, yyyy/mm/dd, d.m.yyyy, month names, or a/b/yyyy in `order`."""
    text = value.strip()
    if not text:
        raise ValueError("date is missing")
    parts: tuple[int, int, int] | None = None
    if match := _ISO.match(text) or _YMD_SLASH.match(text):
        parts = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif match := _DOTTED.match(text):
        parts = (int(match.group(3)), int(match.group(2)), int(match.group(1)))
    elif match := _AMBIGUOUS.match(text):
        a, b, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if a > 12 or (order == "dmy" and b <= 12) or a == b:
            parts = (year, b, a)
        elif b > 12 or order == "mdy":
            parts = (year, a, b)
        else:
            why = (
                "the file mixes day-first and month-first dates"
                if order == "mixed"
                else "no other date in the file settles the order"
            )
            raise ValueError(
                f"date {text!r} could be day-first or month-first and {why}; "
                "write dates as YYYY-MM-DD"
            )
    else:
        for fmt in _NAMED:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError(f"date {text[:40]!r} is not a date (use YYYY-MM-DD)")
    try:
        return date(*parts)
    except ValueError:
        raise ValueError(f"date {text[:40]!r} is not a real day") from None


# ---------------------------------------------------------------- amounts and currencies


# A currency code or symbol before or after the number: "$1,200.00", "1.200,00 €", "USD 12".
_CURRENCY_AFFIX = re.compile(r"^(?:[A-Za-z]{3}|US\$|[$€£¥₹])\s*|\s*(?:[A-Za-z]{3}|[$€£¥₹])$")
# Spaces (also no-break and thin ones) and apostrophes group thousands in some locales.
_GROUPING = re.compile(r"[\s\u00a0\u202f']")


def parse_amount(value: str) -> Decimal:
    """A non-negative amount: currency symbols/codes and thousands separators dropped."""
    raw = value.strip()
    if raw in ("", "-", "--"):
        raise ValueError("amount is missing")
    text = _GROUPING.sub("", _CURRENCY_AFFIX.sub("", raw))
    if raw.startswith(("-", "(")) or text.startswith(("-", "(")):
        raise ValueError(f"amount {raw[:40]!r} is negative")
    if not re.fullmatch(r"\d[\d.,]*", text):
        raise ValueError(f"amount {raw[:40]!r} is not a number")
    if "," in text and "." in text:
        # The later separator is the decimal point: 1,234.56 or 1.234,56.
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif "," in text:
        # 1,234 and 12,345,678 group thousands; 12,5 uses a decimal comma.
        grouped = re.fullmatch(r"\d{1,3}(,\d{3})+", text)
        text = text.replace(",", "") if grouped else text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"amount {raw[:40]!r} is not a number") from None
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount {raw[:40]!r} is too large")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_currency(value: str) -> str:
    text = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValueError(f"currency {value[:20]!r} is not a three-letter ISO code")
    return text


# ---------------------------------------------------------------- campaigns


class CampaignIndex:
    """Campaigns found by their utm_campaign tag first, then by name (case/space tolerant)."""

    def __init__(self, campaigns: list[tuple[int, str, str, str]]) -> None:
        self.exact: dict[str, int] = {}
        self.by_tag: dict[str, set[int]] = {}
        self.by_name: dict[str, set[int]] = {}
        self.currency: dict[int, str] = {}
        for pk, name, tag, currency in campaigns:
            self.exact[utm.clean_tag(tag)] = pk
            self.by_tag.setdefault(utm.match_key(tag), set()).add(pk)
            self.by_name.setdefault(utm.match_key(name), set()).add(pk)
            self.currency[pk] = currency

    @classmethod
    def load(cls) -> CampaignIndex:
        return cls(list(Campaign.objects.values_list("pk", "name", "utm_campaign", "currency")))

    def find(self, value: str) -> int:
        """The campaign id a report's campaign cell names, or ValueError saying why not."""
        shown = value.strip()[:80]
        if not shown:
            raise ValueError("campaign is missing")
        exact = self.exact.get(utm.clean_tag(value))
        if exact is not None:
            return exact
        key = utm.match_key(value)
        for found in (self.by_tag.get(key, set()), self.by_name.get(key, set())):
            if len(found) == 1:
                return next(iter(found))
            if len(found) > 1:
                raise ValueError(
                    f"campaign {shown!r} matches {len(found)} campaigns; use its UTM campaign tag"
                )
        raise ValueError(f"campaign {shown!r} is not a campaign's UTM campaign tag or name")


# ---------------------------------------------------------------- the file


def _is_total(row: list[str], columns: Columns) -> bool:
    """Google Ads ends its reports with "Total: …" rows, whose day cell holds no day."""
    day = row[columns.date].strip().lower() if columns.date < len(row) else ""
    if day not in ("", "--") and not day.startswith("total"):
        return False
    return any(cell.strip().lower().startswith("total") for cell in row)


def read_costs(data: bytes, index: CampaignIndex | None = None) -> ParsedCosts:
    """Check a whole ad-spend file; InvalidInput when it cannot be read at all."""
    platform, columns, records = _locate_header(decode(data))
    report = CostImportReport(platform=platform.label)
    index = index or CampaignIndex.load()
    width = max(columns.date, columns.campaign, columns.amount, columns.currency or 0) + 1
    body = [
        (line, row)
        for line, row in records
        if any(cell.strip() for cell in row) and not _is_total(row, columns)
    ]
    report.skipped = len(records) - len(body)
    order = day_order([row[columns.date] for _, row in body if columns.date < len(row)])
    entries: dict[tuple[int, date], tuple[Decimal, str]] = {}
    for line, row in body:
        report.rows += 1
        if len(row) < width:
            report.reject(line, f"the row has {len(row)} columns; the header has at least {width}")
            continue
        problems: list[str] = []
        day = campaign_id = amount = currency = None
        try:
            day = parse_day(row[columns.date], order=order)
        except ValueError as error:
            problems.append(str(error))
        try:
            campaign_id = index.find(row[columns.campaign])
        except ValueError as error:
            problems.append(str(error))
        try:
            amount = parse_amount(row[columns.amount])
        except ValueError as error:
            problems.append(str(error))
        raw_currency = row[columns.currency] if columns.currency is not None else ""
        try:
            if raw_currency.strip():
                currency = parse_currency(raw_currency)
            elif columns.header_currency:
                currency = columns.header_currency
            elif campaign_id is not None:
                currency = index.currency[campaign_id]
        except ValueError as error:
            problems.append(str(error))
        if problems:
            report.reject(line, "; ".join(problems))
            continue
        assert day is not None and campaign_id is not None and amount is not None
        assert currency is not None
        key = (campaign_id, day)
        if key in entries:
            total, seen_currency = entries[key]
            if seen_currency != currency:
                report.reject(
                    line,
                    f"currency {currency} differs from {seen_currency} on an earlier row for "
                    "the same campaign and day",
                )
                continue
            amount += total
            if amount > MAX_AMOUNT:
                report.reject(line, "the day's total amount is too large")
                continue
        entries[key] = (amount, currency)
    return ParsedCosts(platform=platform, report=report, entries=entries)
