"""CSV import of contacts and companies: column mapping, dedupe, chunked bulk writes.

Intuition: a file is read once to check it is valid UTF-8 CSV (so a broken file imports
nothing), then again row by row. Each row is cleaned with the same helpers the services use;
a bad row becomes a RowError with its physical line number while the others go on. Rows are
written in chunks: one query finds the chunk's existing records, new ones are bulk-created,
changed ones bulk-updated, and the stage history and timeline rows are bulk-inserted, all in
one transaction per chunk. That keeps 100,000 rows well under half a minute on SQLite.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import CharField, Field, ForeignKey, IntegerField, Model, TextField
from django.db.models.functions import Lower
from django.utils import timezone

from tandem import bus
from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm.models import (
    SUBSCRIPTION_STRICTNESS,
    Company,
    Contact,
    LeadStatus,
    LifecycleChange,
    LifecycleStage,
    Source,
    SubscriptionStatus,
    TimelineEvent,
)
from tandem.crm.normalise import (
    MAX_EMPLOYEES,
    clean_choice,
    clean_country,
    clean_currency,
    clean_decimal,
    clean_int,
    clean_text,
    normalise_domain,
    normalise_email,
    parse_stage,
)
from tandem.crm.services import CONTACT_TEXT_FIELDS, is_backward
from tandem.errors import Forbidden, InvalidInput

CHUNK_ROWS = 5000  # rows per transaction: fewer, larger commits make SQLite faster
READ_BLOCK = 1 << 16
MAX_CUSTOM_VALUE = 2000  # characters per custom-field cell: a JSON column is no place for blobs
IGNORE = "ignore"
CUSTOM = "custom:"
RULE = "import"

CONTACT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "full_name",
    "title",
    "phone",
    "company",
    "company_domain",
    "lifecycle_stage",
    "lead_status",
    "owner",
    "original_source",
    "original_source_detail",
    "subscription_status",
    "created_at",
    "last_activity_at",
)
COMPANY_FIELDS = (
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "currency",
    "country",
    "region",
    "owner",
    "created_at",
)


@dataclass
class RowError:
    """A rejected row: its physical line in the file (the header is line 1) and why."""

    line: int
    reason: str


@dataclass
class ImportResult:
    """What an import did: counts, rejected rows, and how the columns were read."""

    kind: str
    created: int
    updated: int
    rejected: list[RowError]
    mapping: dict[str, str]
    ignored_columns: list[str]


# ---------------------------------------------------------------------------------------------
# Column mapping


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(alias): fld for fld, names in table.items() for alias in (fld, *names)}


# Header spellings of HubSpot, Salesforce, Pipedrive, Zoho and Mautic exports, compared after
# dropping case, spaces and punctuation ("E-mail" == "email", "Country/Region" == "countryregion").
CONTACT_ALIASES = _aliases(
    {
        "email": (
            "Email Address",
            "E-mail",
            "Mail",
            "Primary Email",
            "Work Email",
            "Business Email",
            "Email 1",
            "Contact Email",
            "Person Email",
        ),
        "first_name": ("First Name", "First", "Given Name", "Forename", "firstname"),
        "last_name": ("Last Name", "Last", "Surname", "Family Name", "lastname"),
        "full_name": ("Name", "Full Name", "Contact Name", "Person Name", "Lead Name"),
        "title": ("Job Title", "Title", "Position", "Job Position", "Designation"),
        "phone": (
            "Phone Number",
            "Mobile Phone",
            "Mobile Phone Number",
            "Mobile",
            "Mobile Number",
            "Cell Phone",
            "Work Phone",
            "Business Phone",
            "Telephone",
            "Tel",
            "Direct Phone",
        ),
        "company": (
            "Company Name",
            "Company",
            "Account Name",
            "Account",
            "Organization",
            "Organisation",
            "Organization Name",
            "Organisation Name",
            "Associated Company",
            "Employer",
        ),
        "company_domain": (
            "Company Domain Name",
            "Company Domain",
            "Website",
            "Website URL",
            "Company Website",
            "Domain",
            "Web Site",
        ),
        "lifecycle_stage": ("Lifecycle Stage", "Lifecycle", "Stage"),
        "lead_status": ("Lead Status", "Status"),
        "owner": (
            "Contact Owner",
            "Owner",
            "Lead Owner",
            "Account Owner",
            "HubSpot Owner",
            "Record Owner",
            "Assigned To",
            "Owner Email",
            "Owner Name",
            "Sales Rep",
        ),
        "original_source": ("Original Source", "Source", "Lead Source", "Original Source Type"),
        "original_source_detail": (
            "Original Source Drill-Down 1",
            "Original Source Detail",
            "Source Detail",
        ),
        "subscription_status": ("Subscription Status", "Email Subscription Status"),
        "created_at": (
            "Create Date",
            "Created Date",
            "Created Time",
            "Created At",
            "Date Created",
            "Created On",
            "Creation Date",
            "Date Added",
        ),
        "last_activity_at": ("Last Activity Date", "Last Activity", "Last Activity Time"),
    }
)
COMPANY_ALIASES = _aliases(
    {
        "name": (
            "Company Name",
            "Name",
            "Account Name",
            "Organization Name",
            "Organisation Name",
            "Organization",
            "Organisation",
            "Company",
            "Account",
        ),
        "domain": (
            "Company Domain Name",
            "Company Domain",
            "Domain Name",
            "Website",
            "Website URL",
            "Web Site",
            "URL",
        ),
        "industry": ("Industry", "Sector"),
        "employees": (
            "Number of Employees",
            "Employees",
            "Employee Count",
            "No of Employees",
            "Headcount",
        ),
        "annual_revenue": ("Annual Revenue", "Revenue"),
        "currency": ("Currency", "Currency Code", "Annual Revenue Currency"),
        "country": ("Country/Region", "Country", "Billing Country", "Country Code"),
        "region": (
            "State/Region",
            "Region",
            "State",
            "Billing State",
            "State/Province",
            "Province",
        ),
        "owner": ("Company Owner", "Owner", "Account Owner", "Record Owner", "Assigned To"),
        "created_at": (
            "Create Date",
            "Created Date",
            "Created Time",
            "Created At",
            "Date Created",
            "Created On",
            "Creation Date",
        ),
    }
)
# Pipedrive and Zoho prefix or suffix the field ("Person - Email - Work"): tried when the
# whole header is not known.
_PREFIXES = {
    "contacts": ("person", "contact", "lead"),
    "companies": ("organization", "organisation", "org", "account", "company"),
}
_SUFFIXES = ("work", "home", "other", "primary", "main", "mobile")


def _auto_field(header: str, kind: str) -> str | None:
    aliases = CONTACT_ALIASES if kind == "contacts" else COMPANY_ALIASES
    key = _key(header)
    candidates = [key]
    for prefix in _PREFIXES[kind]:
        if key.startswith(prefix) and len(key) > len(prefix):
            candidates.append(key[len(prefix) :])
    for cand in list(candidates):
        candidates += [
            cand[: -len(s)] for s in _SUFFIXES if cand.endswith(s) and len(cand) > len(s)
        ]
    return next((aliases[c] for c in candidates if c in aliases), None)


def parse_mapping(spec: list[str]) -> dict[str, str]:
    """Read CLI `--map "Header=field"` pairs into {header: field}; a malformed pair is refused."""
    known = {*CONTACT_FIELDS, *COMPANY_FIELDS, IGNORE}
    mapping: dict[str, str] = {}
    for item in spec:
        if "=" not in item:
            raise InvalidInput(f'--map {item[:80]!r} must look like "Header=field"', field="map")
        header, target = (part.strip() for part in item.rsplit("=", 1))
        if not header:
            raise InvalidInput(f"--map {item[:80]!r} names no column", field="map")
        target = target if target.lower().startswith(CUSTOM) else target.lower()
        if target.lower().startswith(CUSTOM):
            if not target[len(CUSTOM) :].strip():
                raise InvalidInput(f"--map {item[:80]!r} names no custom field", field="map")
            target = CUSTOM + target[len(CUSTOM) :].strip()
        elif target not in known:
            raise InvalidInput(
                f"--map {item[:80]!r}: unknown field {target[:40]!r}; choose one of "
                f"{', '.join(sorted(known))} or custom:NAME",
                field="map",
            )
        if header in mapping:
            raise InvalidInput(f"--map names column {header[:80]!r} twice", field="map")
        mapping[header] = target
    return mapping


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    target: str  # a field name, or "custom:<key>"


def _check_target(target: str, header: str, kind: str) -> str:
    fields = CONTACT_FIELDS if kind == "contacts" else COMPANY_FIELDS
    if target == IGNORE or target in fields:
        return target
    if kind == "contacts" and target.startswith(CUSTOM) and target[len(CUSTOM) :].strip():
        return target
    noun = "contact" if kind == "contacts" else "company"
    extra = ", ignore or custom:NAME" if kind == "contacts" else " or ignore"
    raise InvalidInput(
        f"column {header[:80]!r} is mapped to {target[:40]!r}, which is not a {noun} field; "
        f"choose one of {', '.join(fields)}{extra}",
        field="mapping",
    )


def _resolve_columns(
    header: list[str], overrides: dict[str, str], kind: str
) -> tuple[list[_Column], dict[str, str], list[str]]:
    """Decide what each column feeds: an override, a recognised header, a custom field, or nothing."""
    names = [h.strip() for h in header]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise InvalidInput(f"column {name[:80]!r} appears twice in the header row")
        seen.add(name)
    by_key = {_key(n): n for n in names if n}
    chosen: dict[str, str] = {}
    for wanted, target in overrides.items():
        found = wanted.strip() if wanted.strip() in seen else by_key.get(_key(wanted))
        if not found:
            raise InvalidInput(
                f"the mapping names column {wanted[:80]!r}, which is not in the header row"
            )
        chosen[found] = _check_target(target, found, kind)
    columns: list[_Column] = []
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(names):
        if not name:
            ignored.append(f"(blank header, column {index + 1})")
            continue
        target = (
            chosen.get(name)
            or _auto_field(name, kind)
            or (CUSTOM + name if kind == "contacts" else IGNORE)
        )
        if target == IGNORE:
            ignored.append(name)
            continue
        columns.append(_Column(index, name, target))
        mapping[name] = target
    targets = {c.target for c in columns}
    if kind == "contacts" and "email" not in targets:
        raise InvalidInput(
            "no column holds the email address: name one 'Email' or map a column to email"
        )
    if kind == "companies" and not targets & {"name", "domain"}:
        raise InvalidInput(
            "no column holds the company name or domain: name one 'Company Name' or "
            "'Company Domain Name', or map a column to name or domain"
        )
    return columns, mapping, ignored


# ---------------------------------------------------------------------------------------------
# Reading: physical lines, UTF-8, CSV


class _CsvSource:
    """Rows of a binary CSV source with the physical line each starts on, and bytes read."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.bytes_read = 0
        self.physical = 0  # physical lines handed to the csv reader so far

    def _raw_lines(self) -> Iterator[bytes]:
        # Split on b"\n" ourselves so that every line's byte offset is known for error messages.
        pieces: list[bytes] = []
        while block := self.source.read(READ_BLOCK):
            self.bytes_read += len(block)
            parts = block.split(b"\n")
            if len(parts) == 1:
                pieces.append(block)
                continue
            pieces.append(parts[0])
            yield b"".join(pieces) + b"\n"
            for part in parts[1:-1]:
                yield part + b"\n"
            pieces = [parts[-1]] if parts[-1] else []
        if pieces:
            yield b"".join(pieces)

    def _lines(self) -> Iterator[str]:
        offset = 0
        for raw in self._raw_lines():
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"the file is not valid UTF-8: line {self.physical + 1}, byte offset "
                    f"{offset + exc.start} (0x{raw[exc.start]:02x}); save it as 'CSV UTF-8' and try again"
                ) from None
            if offset == 0:
                text = text.removeprefix("\ufeff")
            offset += len(raw)
            # Old Mac files end lines with a lone CR: split them so line numbers stay physical.
            parts = _LONE_CR.split(text) if "\r" in text[:-2] else (text,)
            for part in parts:
                if part:
                    self.physical += 1
                    yield part

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (line the row starts on, cells) for every row, the header included."""
        reader = csv.reader(self._lines())
        while True:
            start = self.physical + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(f"line {start}: the CSV cannot be read ({exc})") from None
            yield start, cells


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


@contextmanager
def _field_limit() -> Iterator[None]:
    # csv refuses fields over 128 KiB by default; a long cell is a row problem, not a crash.
    limit = int(getattr(settings, "TANDEM_IMPORT_MAX_BYTES", 200 * 1024 * 1024)) + 1
    old = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _source_size(source: BinaryIO, total_bytes: int | None) -> int | None:
    if total_bytes is not None:
        return total_bytes
    try:
        if source.seekable():
            here = source.tell()
            size = source.seek(0, 2) - here
            source.seek(here)
            return size
    except (AttributeError, OSError):
        return None
    return None


# ---------------------------------------------------------------------------------------------
# Cell cleaners


_DATE_FORMATS = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def _parse_when(raw: str, *, field: str) -> datetime:
    text = raw.strip()
    value: datetime | None = None
    if len(text) <= 40:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    value = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if value is None:
        raise InvalidInput(
            f"{field} {text[:40]!r} is not a date (use YYYY-MM-DD or ISO 8601)", field=field
        )
    if not 1900 <= value.year <= 2200:
        raise InvalidInput(f"{field} {text[:40]!r} is out of range", field=field)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_LEAD_STATUS_ALIASES = {
    "opennotcontacted": "open",
    "notcontacted": "new",
    "workingcontacted": "in_progress",
    "working": "in_progress",
    "contacted": "attempted_to_contact",
    "attempted": "attempted_to_contact",
    "closednotconverted": "unqualified",
    "closedconverted": "connected",
    "opendeal": "connected",
    "disqualified": "unqualified",
}
_SOURCE_ALIASES = {
    **{_key(label): value for value, label in Source.choices},
    **{_key(value): value for value in Source.values},
    "referrals": "referral",
    "partnerreferral": "referral",
    "employeereferral": "referral",
    "externalreferral": "referral",
    "wordofmouth": "referral",
    "web": "direct",
    "website": "direct",
    "tradeshow": "events",
    "event": "events",
    "webinar": "events",
    "conference": "events",
    "coldcall": "outbound",
    "coldemail": "outbound",
    "purchasedlist": "import",
    "offlinesources": "import",
    "othercampaigns": "other",
    "socialmedia": "organic_social",
    "emailcampaign": "email",
    "googleads": "paid_search",
    "adwords": "paid_search",
    "ppc": "paid_search",
    "seo": "organic_search",
}
_SUBSCRIPTION_ALIASES = {
    "optedin": "subscribed",
    "optin": "subscribed",
    "optedout": "unsubscribed",
    "optout": "unsubscribed",
    "unsubscribe": "unsubscribed",
    "hardbounce": "bounced",
    "bounce": "bounced",
    "spamreport": "complained",
    "spam": "complained",
    "none": "not_subscribed",
}
_COUNTRIES = {
    "unitedstates": "US",
    "unitedstatesofamerica": "US",
    "usa": "US",
    "america": "US",
    "unitedkingdom": "GB",
    "uk": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "canada": "CA",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "espana": "ES",
    "italy": "IT",
    "netherlands": "NL",
    "thenetherlands": "NL",
    "holland": "NL",
    "belgium": "BE",
    "switzerland": "CH",
    "austria": "AT",
    "ireland": "IE",
    "portugal": "PT",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "iceland": "IS",
    "poland": "PL",
    "czechrepublic": "CZ",
    "czechia": "CZ",
    "hungary": "HU",
    "romania": "RO",
    "greece": "GR",
    "turkey": "TR",
    "turkiye": "TR",
    "russia": "RU",
    "ukraine": "UA",
    "israel": "IL",
    "unitedarabemirates": "AE",
    "uae": "AE",
    "saudiarabia": "SA",
    "india": "IN",
    "china": "CN",
    "japan": "JP",
    "southkorea": "KR",
    "korea": "KR",
    "singapore": "SG",
    "hongkong": "HK",
    "taiwan": "TW",
    "australia": "AU",
    "newzealand": "NZ",
    "brazil": "BR",
    "mexico": "MX",
    "argentina": "AR",
    "chile": "CL",
    "colombia": "CO",
    "southafrica": "ZA",
    "nigeria": "NG",
    "kenya": "KE",
    "egypt": "EG",
    "indonesia": "ID",
    "philippines": "PH",
    "vietnam": "VN",
    "thailand": "TH",
    "malaysia": "MY",
    "pakistan": "PK",
    "luxembourg": "LU",
}


def _country(raw: str) -> str:
    code = _COUNTRIES.get(_key(raw))
    if code:
        return code
    try:
        return clean_country(raw)
    except InvalidInput:
        raise InvalidInput(
            f"country {raw.strip()[:40]!r} is neither a two-letter ISO code nor a known country name",
            field="country",
        ) from None


class _Owners:
    """Active users by username, email or unique full name, loaded once per import."""

    def __init__(self) -> None:
        users = list(User.objects.filter(is_active=True).select_related("team").order_by("id"))
        self.by_key: dict[str, User | None] = {u.username.lower(): u for u in users}
        usernames = set(self.by_key)
        for user in users:
            for value in {user.email.strip().lower(), user.get_full_name().strip().lower()}:
                if value and value not in usernames:
                    # A shared email or name points at nobody rather than at a guess.
                    self.by_key[value] = None if value in self.by_key else user

    def find(self, raw: str) -> User:
        user = self.by_key.get(raw.strip().lower())
        if user is None:
            raise InvalidInput(
                f"owner {raw.strip()[:60]!r} is not an active user (give a username or email, "
                f"or ignore the column)",
                field="owner",
            )
        return user


def _custom_value(raw: str, header: str) -> str:
    text = raw.strip()
    if len(text) > MAX_CUSTOM_VALUE:
        raise InvalidInput(f"column {header[:60]!r} is longer than {MAX_CUSTOM_VALUE} characters")
    if "\x00" in text:
        raise InvalidInput(f"column {header[:60]!r} contains a NUL character")
    return text


def _memo(fn: Callable[[str], Any], limit: int = 20_000) -> Callable[[str], Any]:
    """Cache a cleaner per raw cell: stages, statuses, owners and companies repeat row after row."""
    cache: dict[str, tuple[bool, Any, str | None]] = {}

    def clean(raw: str) -> Any:
        hit = cache.get(raw)
        if hit is None:
            try:
                hit = (True, fn(raw), None)
            except InvalidInput as exc:
                hit = (False, str(exc), exc.field)
            if len(cache) < limit:
                cache[raw] = hit
        if not hit[0]:
            raise InvalidInput(hit[1], field=hit[2])
        return hit[1]

    return clean


def _text(name: str, max_length: int) -> Callable[[str], str]:
    return lambda raw: clean_text(raw, field=name, max_length=max_length)


# ---------------------------------------------------------------------------------------------
# Companies: found by normalised domain, else by exact name (case-insensitive)


class _CompanyBook:
    """Companies by domain and by lower-cased name, cached across chunks; new ones wait for flush()."""

    def __init__(self) -> None:
        self.by_domain: dict[str, Company] = {}
        self.by_name: dict[str, Company] = {}
        self.pending: list[Company] = []
        self.filled: list[Company] = []

    def reset(self) -> None:
        """Forget everything (after a rolled-back chunk, cached new companies do not exist)."""
        self.by_domain.clear()
        self.by_name.clear()
        self.pending.clear()
        self.filled.clear()

    def prefetch(self, domains: set[str], names: dict[str, str]) -> None:
        """Load the companies these domains and names (lower → as written) refer to, in two queries."""
        missing = [d for d in domains if d not in self.by_domain]
        if missing:
            for company in Company.objects.filter(domain__in=missing):
                self.by_domain[company.domain] = company  # type: ignore[index]
        lowered = [n for n in names if n not in self.by_name]
        if lowered:
            found: list[Company] = list(
                Company.objects.alias(lname=Lower("name")).filter(lname__in=lowered)
            )
            # SQLite's LOWER only folds ASCII: look up other names as written too.
            odd = [names[n] for n in lowered if not names[n].isascii()]
            if odd:
                found += list(Company.objects.filter(name__in=odd))
            for company in sorted(found, key=lambda c: c.pk):
                self.by_name.setdefault(company.name.lower(), company)

    def find(self, domain: str | None, name: str) -> Company | None:
        """The company for this domain, else for this name when that one has no other domain."""
        if domain and domain in self.by_domain:
            return self.by_domain[domain]
        if not name:
            return None
        company = self.by_name.get(name.lower())
        if company is None or (domain and company.domain and company.domain != domain):
            return None
        if domain and not company.domain:
            company.domain = domain
            self.by_domain[domain] = company
            if company.pk is not None:
                self.filled.append(company)
        return company

    def new(
        self,
        *,
        domain: str | None,
        name: str,
        now: datetime,
        owner: User | None = None,
        values: dict[str, Any] | None = None,
    ) -> Company:
        """Make an unsaved company (written by flush) and index it."""
        company = Company(
            name=name or domain or "",
            domain=domain,
            owner=owner,
            team_id=owner.team_id if owner is not None else None,
            **{"created_at": now, **(values or {})},
        )
        self.pending.append(company)
        if domain:
            self.by_domain[domain] = company
        self.by_name.setdefault(company.name.lower(), company)
        return company

    def flush(self, now: datetime) -> list[Company]:
        """Write pending companies and filled-in domains; returns the created companies."""
        created, self.pending = self.pending, []
        if created:
            Company.objects.bulk_create(created)
        filled, self.filled = self.filled, []
        for company in filled:
            company.updated_at = now
        _update(Company, filled, {"domain", "updated_at"}, {})
        return created


def _company_event(company: Company, *, by: User | None, now: datetime) -> TimelineEvent:
    return TimelineEvent(
        type="company_imported",
        occurred_at=now,
        actor=by,
        actor_label=RULE,
        company=company,
        properties={"name": company.name, "domain": company.domain or ""},
        idempotency_key=f"import:company:{company.pk}:created",
    )


# ---------------------------------------------------------------------------------------------
# Contacts


@dataclass
class _ContactRow:
    line: int
    email: str
    values: dict[str, Any]
    custom: dict[str, str] = field(default_factory=dict)


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.get_field(name)  # a field name or its attname ("owner_id")
    if not isinstance(found, Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return found


def _prepare(
    fields: list[Any], rows: list[tuple[Any, ...]], conn: Any, times: dict[datetime, Any]
) -> list[Any]:
    """Parameters for executemany: text, whole numbers and None pass; other values are prepared
    by their field (as the ORM would), each distinct datetime once."""
    plain = (CharField, TextField, IntegerField, ForeignKey)
    prepared = [(i, f) for i, f in enumerate(fields) if not isinstance(f, plain)]
    if not prepared:
        return rows
    params = []
    for row in rows:
        values = list(row)
        for i, f in prepared:
            value = values[i]
            if type(value) is datetime:
                if value not in times:
                    times[value] = f.get_db_prep_save(value, conn)
                values[i] = times[value]
            elif value is not None:
                values[i] = f.get_db_prep_save(value, conn)
        params.append(values)
    return params


def _insert(
    model: type[Model],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    times: dict[datetime, Any],
) -> None:
    """INSERT rows (tuples in the order of `columns`, attnames) with one executemany.

    bulk_create compiles every value through the SQL compiler, and on SQLite in statements of at
    most 999 parameters; for the 300,000 rows a 100,000-contact import writes, that was most of
    the run.
    """
    if not rows:
        return
    conn = connections[router.db_for_write(model)]
    fields = [_field(model, name) for name in columns]
    qn = conn.ops.quote_name
    # Table and column names come from the model, values are parameters: nothing from the file.
    names = ", ".join(qn(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with conn.cursor() as cursor:
        cursor.executemany(sql, _prepare(fields, rows, conn, times))


def _update(
    model: type[Model], objs: list[Any], names: set[str], times: dict[datetime, Any]
) -> None:
    """UPDATE the named fields of each object by primary key with one executemany.

    bulk_update builds a CASE WHEN expression per object and field: re-importing a file of
    known contacts would spend minutes there.
    """
    if not objs:
        return
    conn = connections[router.db_for_write(model)]
    fields = [_field(model, name) for name in sorted(names)]
    pk = _field(model, "id")
    qn = conn.ops.quote_name
    assignments = ", ".join(f"{qn(str(f.column))} = %s" for f in fields)
    sql = f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE {qn(str(pk.column))} = %s"  # noqa: S608
    rows = [(*(getattr(o, f.attname) for f in fields), o.pk) for o in objs]
    with conn.cursor() as cursor:
        cursor.executemany(sql, _prepare([*fields, pk], rows, conn, times))


class _NewContact:
    """A contact still to be inserted; its company may be new too, so it is held as an object."""

    def __init__(self, row: _ContactRow, company: Company | None, now: datetime) -> None:
        v = row.values
        owner: User | None = v.get("owner")
        self.pk = 0  # set once inserted
        self.email = row.email
        self.first_name: str = v.get("first_name", "")
        self.last_name: str = v.get("last_name", "")
        self.title: str = v.get("title", "")
        self.phone: str = v.get("phone", "")
        self.company = company
        self.lifecycle_stage: str = v.get("lifecycle_stage", LifecycleStage.SUBSCRIBER.value)
        self.first_stage = self.lifecycle_stage
        self.lead_status: str = v.get("lead_status", "")
        self.owner_id = owner.pk if owner is not None else None
        self.team_id = owner.team_id if owner is not None else None
        self.original_source: str = v.get("original_source", Source.IMPORT.value)
        self.original_source_detail: str = v.get("original_source_detail", "")
        self.subscription_status: str = v.get(
            "subscription_status", SubscriptionStatus.NOT_SUBSCRIBED.value
        )
        self.custom_fields: dict[str, str] = dict(row.custom)
        self.created_at: datetime = v.get("created_at") or now
        # As create_contact leaves it: the creation is the latest thing that happened.
        self.last_activity_at: datetime = v.get("last_activity_at") or self.created_at

    @property
    def company_id(self) -> int | None:
        return self.company.pk if self.company is not None else None

    def as_row(self, now: datetime) -> tuple[Any, ...]:
        """The values of NEW_CONTACT_COLUMNS, in order."""
        return (
            self.email,
            self.first_name,
            self.last_name,
            self.title,
            self.phone,
            self.company_id,
            self.lifecycle_stage,
            self.lead_status,
            self.owner_id,
            self.team_id,
            self.original_source,
            self.original_source_detail,
            self.subscription_status,
            self.custom_fields,
            self.created_at,
            now,
            self.last_activity_at,
        )


NEW_CONTACT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "company_id",
    "lifecycle_stage",
    "lead_status",
    "owner_id",
    "team_id",
    "original_source",
    "original_source_detail",
    "subscription_status",
    "custom_fields",
    "created_at",
    "updated_at",
    "last_activity_at",
)
HISTORY_COLUMNS = (
    "contact_id",
    "from_stage",
    "to_stage",
    "changed_at",
    "changed_by_id",
    "rule",
    "reason",
)
EVENT_COLUMNS = (
    "type",
    "occurred_at",
    "recorded_at",
    "actor_id",
    "actor_label",
    "contact_id",
    "company_id",
    "idempotency_key",
    "properties",
)


class _ContactImporter:
    """Cleans contact rows and writes them a chunk at a time."""

    kind = "contacts"

    def __init__(self, columns: list[_Column], width: int, by: User | None) -> None:
        self.columns = columns
        self.width = width
        self.by = by
        self.owners = _Owners()
        self.companies = _CompanyBook()
        self.cleaners: dict[str, Callable[[str], Any]] = {
            "email": normalise_email,
            **{name: _text(name, size) for name, size in CONTACT_TEXT_FIELDS.items()},
            "full_name": _text("name", 241),
            "company": _memo(_text("company", 255)),
            "company_domain": _memo(normalise_domain),
            "lifecycle_stage": _memo(parse_stage),
            "lead_status": _memo(
                lambda raw: clean_choice(
                    raw,
                    field="lead_status",
                    choices=list(LeadStatus.values),
                    aliases=_LEAD_STATUS_ALIASES,
                )
            ),
            "owner": _memo(self.owners.find),
            "original_source": _memo(_text("original_source", 255)),
            "original_source_detail": _text("original_source_detail", 255),
            "subscription_status": _memo(
                lambda raw: clean_choice(
                    raw,
                    field="subscription_status",
                    choices=list(SubscriptionStatus.values),
                    aliases=_SUBSCRIPTION_ALIASES,
                )
            ),
            "created_at": lambda raw: _parse_when(raw, field="created_at"),
            "last_activity_at": lambda raw: _parse_when(raw, field="last_activity_at"),
        }

    def clean(self, line: int, cells: list[str]) -> _ContactRow:
        """Validate one row into cleaned values (empty cells are left out, so they never overwrite)."""
        _check_width(cells, self.width)
        values: dict[str, Any] = {}
        custom: dict[str, str] = {}
        for col in self.columns:
            raw = cells[col.index] if col.index < len(cells) else ""
            if not raw or raw.isspace():
                continue
            if col.target.startswith(CUSTOM):
                key = col.target[len(CUSTOM) :]
                if key not in custom:
                    custom[key] = _custom_value(raw, col.header)
            elif col.target not in values:
                values[col.target] = self.cleaners[col.target](raw)
        email = values.pop("email", None)
        if email is None:
            raise InvalidInput("email is required", field="email")
        if "full_name" in values:
            first, _, last = values.pop("full_name").partition(" ")
            values.setdefault("first_name", first[:120])
            values.setdefault("last_name", last.strip()[:120])
        if "original_source" in values:
            # A source we do not know is kept as detail under "other" rather than refused.
            raw_source = values["original_source"]
            known = _SOURCE_ALIASES.get(_key(raw_source))
            values["original_source"] = known or Source.OTHER.value
            if not known:
                values.setdefault("original_source_detail", raw_source)
        return _ContactRow(line, email, values, custom)

    def write(self, rows: list[_ContactRow]) -> tuple[int, int]:
        """Write one chunk in one transaction, retrying once if a concurrent writer collided."""
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    return self._write(rows)
            except IntegrityError:
                self.companies.reset()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _company_for(self, row: _ContactRow, now: datetime) -> Company | None:
        name = row.values.get("company", "")
        domain = row.values.get("company_domain")
        if not name and not domain:
            return None
        company = self.companies.find(domain, name)
        if company is None:
            company = self.companies.new(
                domain=domain, name=name, now=now, owner=row.values.get("owner")
            )
        return company

    def _write(self, rows: list[_ContactRow]) -> tuple[int, int]:
        now = timezone.now()
        existing = {c.email: c for c in Contact.objects.filter(email__in={r.email for r in rows})}
        self.companies.prefetch(
            {r.values["company_domain"] for r in rows if r.values.get("company_domain")},
            {
                r.values["company"].lower(): r.values["company"]
                for r in rows
                if r.values.get("company")
            },
        )
        records: dict[str, Contact | _NewContact] = {}
        new: list[_NewContact] = []
        dirty: dict[int, Contact] = {}
        fields: set[str] = set()
        moves: list[tuple[Contact | _NewContact, str, str]] = []
        created = updated = 0
        for row in rows:
            company = self._company_for(row, now)
            contact = records.get(row.email) or existing.get(row.email)
            if contact is None:
                contact = _NewContact(row, company, now)
                new.append(contact)
                created += 1
            else:
                changed, move = self._apply(contact, row, company, fields, now)
                if move:
                    moves.append((contact, *move))
                if changed and isinstance(contact, Contact):
                    dirty[contact.pk] = contact
                updated += 1
            records[row.email] = contact
        new_companies = self.companies.flush(now)
        times: dict[datetime, Any] = {}
        _insert(Contact, NEW_CONTACT_COLUMNS, [c.as_row(now) for c in new], times)
        ids = dict(
            Contact.objects.filter(email__in=[c.email for c in new]).values_list("email", "pk")
        )
        for contact in new:
            contact.pk = ids[contact.email]
        for contact in dirty.values():
            contact.updated_at = now
            # A company created in this chunk got its id after being linked: copy it over.
            if (
                contact.company_id is None
                and Contact.company.is_cached(contact)
                and contact.company
            ):
                contact.company_id = contact.company.pk
        _update(Contact, list(dirty.values()), fields | {"updated_at"}, times)
        by_id = self.by.pk if self.by is not None else None
        # Each new contact's first stage, as create_contact writes it.
        history = [(c.pk, "", c.first_stage, c.created_at, by_id, RULE, "created") for c in new]
        _insert(LifecycleChange, HISTORY_COLUMNS, history, times)
        # Forward moves are few and their timeline keys need the history row's id: the ORM does them.
        changes = LifecycleChange.objects.bulk_create(
            [
                LifecycleChange(
                    contact_id=c.pk,
                    from_stage=f,
                    to_stage=t,
                    changed_at=now,
                    changed_by_id=by_id,
                    rule=RULE,
                )
                for c, f, t in moves
            ]
        )
        company_events = [_company_event(c, by=self.by, now=now) for c in new_companies]
        company_events += [
            TimelineEvent(
                type="lifecycle_stage_changed",
                occurred_at=now,
                actor_id=by_id,
                actor_label=RULE,
                contact_id=c.pk,
                company_id=c.company_id,
                idempotency_key=f"lifecycle:{ch.pk}",
                properties={"from": ch.from_stage, "to": ch.to_stage, "reason": ""},
            )
            for ch, (c, _, _) in zip(changes, moves, strict=True)
        ]
        TimelineEvent.objects.bulk_create(company_events)
        imported = [
            (
                "contact_imported",
                now,
                now,
                by_id,
                RULE,
                c.pk,
                c.company_id,
                f"import:{c.pk}:created",
                {"source": c.original_source, "stage": c.first_stage},
            )
            for c in new
        ]
        _insert(TimelineEvent, EVENT_COLUMNS, imported, times)
        for contact in new:
            bus.publish(bus.ContactCreated(contact_id=contact.pk))
        for ch in changes:
            bus.publish(
                bus.LifecycleStageChanged(
                    contact_id=ch.contact_id, from_stage=ch.from_stage, to_stage=ch.to_stage
                )
            )
        events = [(e.pk, e.contact_id, e.type) for e in company_events]
        if imported and bus.HANDLERS.get(bus.TimelineEventRecorded):
            # Reading back the new events' ids costs a query: only done when someone listens.
            keys = dict(
                TimelineEvent.objects.filter(
                    idempotency_key__in=[e[7] for e in imported]
                ).values_list("idempotency_key", "pk")
            )
            events += [(keys[e[7]], e[5], e[0]) for e in imported]
        for event_id, contact_id, type_ in events:
            bus.publish(
                bus.TimelineEventRecorded(event_id=event_id, contact_id=contact_id, type=type_)
            )
        return created, updated

    def _apply(
        self,
        contact: Contact | _NewContact,
        row: _ContactRow,
        company: Company | None,
        fields: set[str],
        now: datetime,
    ) -> tuple[bool, tuple[str, str] | None]:
        """Apply a row's filled cells to a known contact; returns (changed, stage move or None)."""
        v = row.values
        changed = False

        def put(name: str, value: Any) -> None:
            nonlocal changed
            if getattr(contact, name) != value:
                setattr(contact, name, value)
                fields.add(name.removesuffix("_id"))
                changed = True

        for name in (*CONTACT_TEXT_FIELDS, "lead_status"):
            if name in v:
                put(name, v[name])
        owner: User | None = v.get("owner")
        if owner is not None:
            put("owner_id", owner.pk)
            if owner.team_id:
                put("team_id", owner.team_id)
        if company is not None and (company.pk is None or contact.company_id != company.pk):
            contact.company = company
            fields.add("company")
            changed = True
        # The original source is history: only an unknown one is filled in.
        if "original_source" in v and contact.original_source == Source.OTHER:
            put("original_source", v["original_source"])
        if "original_source_detail" in v and not contact.original_source_detail:
            put("original_source_detail", v["original_source_detail"])
        # Consent only ever gets stricter from a file: an old export must not resubscribe anyone.
        status = v.get("subscription_status")
        if (
            status
            and SUBSCRIPTION_STRICTNESS[status]
            > SUBSCRIPTION_STRICTNESS[contact.subscription_status]
        ):
            put("subscription_status", status)
        if "created_at" in v and v["created_at"] < contact.created_at:
            put("created_at", v["created_at"])
        last = v.get("last_activity_at")
        if last and (contact.last_activity_at is None or last > contact.last_activity_at):
            put("last_activity_at", last)
        if row.custom:
            put("custom_fields", {**contact.custom_fields, **row.custom})
        move = None
        stage = v.get("lifecycle_stage")
        # Backward moves need a person's reason, so a file never makes them.
        if (
            stage
            and stage != contact.lifecycle_stage
            and not is_backward(contact.lifecycle_stage, stage)
        ):
            move = (contact.lifecycle_stage, stage)
            put("lifecycle_stage", stage)
            if contact.last_activity_at is None or contact.last_activity_at < now:
                put("last_activity_at", now)
        return changed, move


# ---------------------------------------------------------------------------------------------
# Companies


@dataclass
class _CompanyRow:
    line: int
    name: str
    domain: str | None
    values: dict[str, Any]


class _CompanyImporter:
    """Cleans company rows and writes them a chunk at a time."""

    kind = "companies"

    def __init__(self, columns: list[_Column], width: int, by: User | None) -> None:
        self.columns = columns
        self.width = width
        self.by = by
        self.owners = _Owners()
        self.companies = _CompanyBook()
        self.cleaners: dict[str, Callable[[str], Any]] = {
            "name": _text("name", 255),
            "domain": _memo(normalise_domain),
            "industry": _memo(_text("industry", 120)),
            "employees": lambda raw: clean_int(raw, field="employees", maximum=MAX_EMPLOYEES),
            "annual_revenue": lambda raw: clean_decimal(raw, field="annual_revenue"),
            "currency": clean_currency,
            "country": _memo(_country),
            "region": _memo(_text("region", 60)),
            "owner": _memo(self.owners.find),
            "created_at": lambda raw: _parse_when(raw, field="created_at"),
        }

    def clean(self, line: int, cells: list[str]) -> _CompanyRow:
        """Validate one row (a company needs a name or a domain)."""
        _check_width(cells, self.width)
        values: dict[str, Any] = {}
        for col in self.columns:
            raw = cells[col.index] if col.index < len(cells) else ""
            if raw and not raw.isspace() and col.target not in values:
                values[col.target] = self.cleaners[col.target](raw)
        name = values.pop("name", "")
        domain = values.pop("domain", None)
        if not name and not domain:
            raise InvalidInput("name is required (or a domain)", field="name")
        return _CompanyRow(line, name, domain, values)

    def write(self, rows: list[_CompanyRow]) -> tuple[int, int]:
        """Write one chunk in one transaction, retrying once if a concurrent writer collided."""
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    return self._write(rows)
            except IntegrityError:
                self.companies.reset()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _write(self, rows: list[_CompanyRow]) -> tuple[int, int]:
        now = timezone.now()
        book = self.companies
        book.prefetch(
            {r.domain for r in rows if r.domain}, {r.name.lower(): r.name for r in rows if r.name}
        )
        dirty: dict[int, Company] = {}
        fields: set[str] = set()
        created = updated = 0
        for row in rows:
            company = book.find(row.domain, row.name)
            owner: User | None = row.values.get("owner")
            if company is None:
                values = {k: v for k, v in row.values.items() if k != "owner"}
                book.new(domain=row.domain, name=row.name, now=now, owner=owner, values=values)
                created += 1
                continue
            updated += 1
            changed = False
            for name, value in row.values.items():
                if name == "owner":
                    name, value = "owner_id", value.pk
                if name == "created_at" and value >= company.created_at:
                    continue
                if getattr(company, name) != value:
                    setattr(company, name, value)
                    fields.add(name.removesuffix("_id"))
                    changed = True
            if owner is not None and owner.team_id and company.team_id != owner.team_id:
                company.team_id = owner.team_id
                fields.add("team")
                changed = True
            if row.name and company.name != row.name:
                company.name = row.name
                fields.add("name")
                changed = True
            if changed and company.pk is not None:
                dirty[company.pk] = company
        # Domains filled in by find() are written by flush(); these rows' other edits here.
        new_companies = book.flush(now)
        for company in dirty.values():
            company.updated_at = now
        _update(Company, list(dirty.values()), fields | {"updated_at", "domain"}, {})
        events = [_company_event(c, by=self.by, now=now) for c in new_companies]
        TimelineEvent.objects.bulk_create(events)
        for event in events:
            bus.publish(
                bus.TimelineEventRecorded(event_id=event.pk, contact_id=None, type=event.type)
            )
        return created, updated


def _check_width(cells: list[str], width: int) -> None:
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        raise InvalidInput(f"the row has {len(cells)} values but the header has {width} columns")


# ---------------------------------------------------------------------------------------------
# Entry points


def _run(
    kind: str,
    *,
    source: BinaryIO,
    mapping: dict[str, str] | None,
    by: User | None,
    progress: Callable[[int], None] | None,
    total_bytes: int | None,
) -> ImportResult:
    if by is not None and not permissions.can_import(by):
        raise Forbidden("only admin and marketing users may import")
    limit = int(getattr(settings, "TANDEM_IMPORT_MAX_BYTES", 200 * 1024 * 1024))
    size = _source_size(source, total_bytes)
    if size is not None and size > limit:
        raise InvalidInput(
            f"the file is {size / 1e6:.1f} MB; imports are limited to {limit / 1e6:.0f} MB"
        )
    with _field_limit():
        try:
            seekable = source.seekable()
        except AttributeError:
            seekable = False
        if seekable:
            # A first pass checks encoding and CSV syntax, so a broken file imports nothing.
            start = source.tell()
            for _ in _CsvSource(source).rows():
                pass
            source.seek(start)
        reader = _CsvSource(source)
        rows = reader.rows()
        header = next((cells for _, cells in rows if any(c.strip() for c in cells)), None)
        if header is None:
            raise InvalidInput("the file is empty: the first line must be a header row")
        columns, used, ignored = _resolve_columns(header, mapping or {}, kind)
        importer: _ContactImporter | _CompanyImporter = (
            _ContactImporter(columns, len(header), by)
            if kind == "contacts"
            else _CompanyImporter(columns, len(header), by)
        )
        result = ImportResult(
            kind=kind, created=0, updated=0, rejected=[], mapping=used, ignored_columns=ignored
        )
        chunk: list[Any] = []
        data_rows = 0

        def flush() -> None:
            created, updated = importer.write(chunk)
            result.created += created
            result.updated += updated
            chunk.clear()
            if progress is not None:
                progress(reader.bytes_read)

        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            data_rows += 1
            try:
                chunk.append(importer.clean(line, cells))
            except InvalidInput as exc:
                result.rejected.append(RowError(line=line, reason=str(exc)))
            if len(chunk) >= CHUNK_ROWS:
                flush()
        if data_rows == 0:
            raise InvalidInput("the file has a header row but no data rows")
        if chunk:
            flush()
        if progress is not None:
            progress(reader.bytes_read)
    return result


def import_contacts(
    *,
    source: BinaryIO,
    mapping: dict[str, str] | None = None,
    by: User | None = None,
    progress: Callable[[int], None] | None = None,
    total_bytes: int | None = None,
) -> ImportResult:
    """Import contacts from a UTF-8 CSV: dedupe by email, link companies, reject bad rows by line."""
    return _run(
        "contacts",
        source=source,
        mapping=mapping,
        by=by,
        progress=progress,
        total_bytes=total_bytes,
    )


def import_companies(
    *,
    source: BinaryIO,
    mapping: dict[str, str] | None = None,
    by: User | None = None,
    progress: Callable[[int], None] | None = None,
    total_bytes: int | None = None,
) -> ImportResult:
    """Import companies from a UTF-8 CSV: dedupe by domain (else name), reject bad rows by line."""
    return _run(
        "companies",
        source=source,
        mapping=mapping,
        by=by,
        progress=progress,
        total_bytes=total_bytes,
    )
