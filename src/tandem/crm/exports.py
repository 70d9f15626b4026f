"""CSV export of contacts: streamed, permission-scoped and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from django.db.models import QuerySet

from tandem.accounts.models import User
from tandem.crm.importing.mapping import CONTACT_FIELDS
from tandem.crm.models import Contact
from tandem.crm.queries import ContactFilter, contacts_for

EXPORT_CHUNK = 2000
# The importer's field names, so an exported file's header is recognised on import; the
# importer's alternative inputs (a full name, a source detail) are not exported.
CONTACT_COLUMNS = (
    "id",
    *(f for f in CONTACT_FIELDS if f not in {"full_name", "original_source_detail"}),
)
# Excel, LibreOffice and Google Sheets run a cell starting with these as a formula (OWASP CSV
# injection); tab and CR are included because some of them strip those first.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EVERYTHING = ContactFilter()


def safe_cell(value: object) -> str:
    """Text for one CSV cell that a spreadsheet will never evaluate as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # Spreadsheets skip leading spaces before deciding a cell is a formula, so we do too.
    if text.startswith(_FORMULA_START) or text.lstrip(" ").startswith(_FORMULA_START):
        return "'" + text
    return text


def export_contacts(*, user: User, out: TextIO, flt: ContactFilter = _EVERYTHING) -> int:
    """Write the contacts the user may see as CSV with a header row; returns the rows written."""
    return write_contacts(contacts_for(user, flt), out)


def write_contacts(contacts: QuerySet[Contact], out: TextIO) -> int:
    """Stream contacts as CSV in the export's columns (formula-safe); returns the rows written."""
    rows = (
        contacts.select_related("company", "owner").order_by("id").iterator(chunk_size=EXPORT_CHUNK)
    )
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CONTACT_COLUMNS)
    count = 0
    for c in rows:
        company, owner = c.company, c.owner
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    c.pk,
                    c.email,
                    c.first_name,
                    c.last_name,
                    c.title,
                    c.phone,
                    company.name if company else "",
                    (company.domain or "") if company else "",
                    c.lifecycle_stage,
                    c.lead_status,
                    owner.username if owner else "",
                    c.original_source,
                    c.subscription_status,
                    c.created_at,
                    c.last_activity_at,
                )
            ]
        )
        count += 1
    return count
