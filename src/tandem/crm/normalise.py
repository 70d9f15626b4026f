"""Normalisation and validation of the values every CRM write shares."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from tandem.errors import InvalidInput

# The largest head count a company row holds (a 32-bit column on PostgreSQL).
MAX_EMPLOYEES = 2_147_483_647
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalise_email(raw: Any) -> str:
    """Lower-case and trim an email address, refusing one that is not valid."""
    if raw is None or not str(raw).strip():
        raise InvalidInput("email is required", field="email")
    email = str(raw).strip().lower()
    local, at, domain = email.rpartition("@")
    if at and domain and not domain.isascii():
        # One spelling per address: "ann@bücher.de" and "ann@xn--bcher-kva.de" are one person.
        email = f"{local}@{_idna(domain, field='email', raw=raw)}"
    if len(email) > 254:
        raise InvalidInput("email is longer than 254 characters", field="email")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(f"email {email[:80]!r} is not a valid address", field="email") from None
    return email


def _idna(host: str, *, field: str, raw: Any) -> str:
    """An internationalised host name in its ASCII (punycode) form, as DNS and email use it."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(
            f"{field} {str(raw)[:80]!r} is not a valid {'domain name' if field == 'domain' else 'address'}",
            field=field,
        ) from None


def normalise_domain(raw: Any) -> str | None:
    """Reduce a domain or website URL to its bare lower-case host ("https://www.Acme.com/x" → "acme.com")."""
    if raw is None or not str(raw).strip():
        return None
    value = str(raw).strip().lower()
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    value = value.removeprefix("www.")
    if not value.isascii():
        value = _idna(value, field="domain", raw=raw)
    if not _DOMAIN_RE.match(value):
        raise InvalidInput(f"domain {str(raw)[:80]!r} is not a valid domain name", field="domain")
    return value


def clean_text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    """Trim a text value and check its length."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    check_characters(text, field=field)
    return text


def check_characters(text: str, *, field: str) -> None:
    """Refuse text no database column can hold: NUL characters and lone UTF-16 surrogates."""
    if "\x00" in text:
        raise InvalidInput(f"{field} contains a NUL character", field=field)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{field} contains an invalid character", field=field) from None


def clean_date(value: Any, *, field: str) -> date | None:
    """An optional calendar day, from a date or an ISO "YYYY-MM-DD" string."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(
            f"{field} {str(value)[:40]!r} is not a date (YYYY-MM-DD)", field=field
        ) from None


def clean_datetime(value: datetime | None, *, field: str) -> datetime | None:
    """An optional time in UTC (naive means UTC), refusing one the calendar cannot hold in UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{field} is out of range", field=field) from None


def clean_choice(
    value: Any, *, field: str, choices: list[str], aliases: dict[str, str] | None = None
) -> str:
    """Map a value onto one of the allowed choices, tolerant of case, spaces and punctuation."""
    text = "" if value is None else str(value).strip()
    key = re.sub(r"[^a-z0-9]", "", text.lower())
    for choice in choices:
        if key == re.sub(r"[^a-z0-9]", "", choice.lower()):
            return choice
    if aliases and key in aliases:
        return aliases[key]
    raise InvalidInput(f"{field} {text[:60]!r} is not one of: {', '.join(choices)}", field=field)


def clean_int(value: Any, *, field: str, minimum: int = 0, maximum: int = 10**12) -> int | None:
    """Parse an optional whole number ("1,200" allowed)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().replace(",", "").replace("_", "")
    try:
        exact = Decimal(text)
        number = int(exact)
        # int() would silently truncate "1.5" to 1.
        if exact != number:
            raise ValueError
    except (InvalidOperation, ValueError, OverflowError):
        raise InvalidInput(
            f"{field} {str(value)[:40]!r} is not a whole number", field=field
        ) from None
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{field} must be between {minimum} and {maximum}", field=field)
    return number


def clean_decimal(value: Any, *, field: str) -> Decimal | None:
    """Parse an optional non-negative money amount."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().replace(",", "").replace("_", "").lstrip("$€£")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{field} {str(value)[:40]!r} is not a number", field=field) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 16:
        raise InvalidInput(f"{field} must be a non-negative amount below 10^16", field=field)
    return amount.quantize(Decimal("0.01"))


def clean_country(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased (or empty)."""
    text = "" if value is None else str(value).strip().upper()
    if text and not re.fullmatch(r"[A-Z]{2}", text):
        raise InvalidInput(f"country {text[:40]!r} must be a two-letter ISO code", field="country")
    return text


def clean_currency(value: Any) -> str:
    """An ISO 4217 code, upper-cased (default USD)."""
    text = "USD" if value is None or not str(value).strip() else str(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise InvalidInput(
            f"currency {text[:40]!r} must be a three-letter ISO code", field="currency"
        )
    return text


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def parse_stage(value: Any) -> str:
    """A lifecycle stage from its value, its label or a common CRM export's spelling."""
    from tandem.crm.models import LifecycleStage

    aliases = {_key(label): stage for stage, label in LifecycleStage.choices}
    aliases |= {
        "marketingqualified": "mql",
        "salesqualified": "sql",
        "salesqualifiedlead": "sql",
        "marketingqualifiedlead": "mql",
        "opp": "opportunity",
        "customers": "customer",
        "closedwon": "customer",
        "unqualified": "disqualified",
        "disqualifiedlead": "disqualified",
        "advocate": "evangelist",
        "newsletter": "subscriber",
        "prospect": "lead",
    }
    return clean_choice(
        value, field="lifecycle_stage", choices=list(LifecycleStage.values), aliases=aliases
    )
