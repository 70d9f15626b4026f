"""Import column mapping: the fields a file may fill, header recognition and `--map` overrides."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tandem.crm.services import COMPANY_EDITABLE
from tandem.errors import InvalidInput

IGNORE = "ignore"
CUSTOM = "custom:"

# The fields a column may feed, as named in `--map` and in a web mapping.
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
COMPANY_FIELDS = (*COMPANY_EDITABLE, "created_at")


def fold_key(text: str) -> str:
    """The text lower-cased with everything but letters and digits dropped, for comparing."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {fold_key(alias): fld for fld, names in table.items() for alias in (fld, *names)}


_CREATED = (
    "Create Date",
    "Created Date",
    "Created Time",
    "Created At",
    "Date Created",
    "Created On",
    "Creation Date",
)
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
        "created_at": (*_CREATED, "Date Added"),
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
        "created_at": _CREATED,
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
    key = fold_key(header)
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
class Column:
    """A column of the file that feeds a field."""

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


def resolve_columns(
    header: list[str], overrides: dict[str, str], kind: str
) -> tuple[list[Column], dict[str, str], list[str]]:
    """Decide what each column feeds: an override, a recognised header, a custom field, or nothing."""
    names = [h.strip() for h in header]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise InvalidInput(f"column {name[:80]!r} appears twice in the header row")
        seen.add(name)
    by_key = {fold_key(n): n for n in names if n}
    chosen: dict[str, str] = {}
    for wanted, target in overrides.items():
        found = wanted.strip() if wanted.strip() in seen else by_key.get(fold_key(wanted))
        if not found:
            raise InvalidInput(
                f"the mapping names column {wanted[:80]!r}, which is not in the header row"
            )
        chosen[found] = _check_target(target, found, kind)
    columns: list[Column] = []
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
        columns.append(Column(index, name, target))
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
