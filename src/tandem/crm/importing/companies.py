"""Import of companies: row cleaning and the chunk writer, deduplicated by domain, else name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tandem import bus
from tandem.accounts.models import User
from tandem.crm.importing.book import company_event
from tandem.crm.importing.cleaners import memo, parse_country, parse_when, text_cleaner
from tandem.crm.importing.mapping import Column
from tandem.crm.importing.sql import update_rows
from tandem.crm.importing.writer import ChunkImporter
from tandem.crm.models import Company, TimelineEvent
from tandem.crm.normalise import (
    MAX_EMPLOYEES,
    clean_currency,
    clean_decimal,
    clean_int,
    normalise_domain,
)
from tandem.errors import InvalidInput


@dataclass
class CompanyRow:
    """A cleaned company row: its line, name and domain, and the other filled cells."""

    line: int
    name: str
    domain: str | None
    values: dict[str, Any]


class CompanyImporter(ChunkImporter[CompanyRow]):
    """Cleans company rows and writes them a chunk at a time."""

    kind = "companies"

    def __init__(self, columns: list[Column], width: int, by: User | None) -> None:
        super().__init__(columns, width, by)
        self.cleaners = {
            "name": text_cleaner("name", 255),
            "domain": memo(normalise_domain),
            "industry": memo(text_cleaner("industry", 120)),
            "employees": lambda raw: clean_int(raw, field="employees", maximum=MAX_EMPLOYEES),
            "annual_revenue": lambda raw: clean_decimal(raw, field="annual_revenue"),
            "currency": clean_currency,
            "country": memo(parse_country),
            "region": memo(text_cleaner("region", 60)),
            "owner": memo(self.owners.find),
            "created_at": lambda raw: parse_when(raw, field="created_at"),
        }

    def clean(self, line: int, cells: list[str]) -> CompanyRow:
        """Validate one row (a company needs a name or a domain)."""
        values: dict[str, Any] = {}
        for col, raw in self.filled(cells):
            if col.target not in values:
                values[col.target] = self.cleaners[col.target](raw)
        name = values.pop("name", "")
        domain = values.pop("domain", None)
        if not name and not domain:
            raise InvalidInput("name is required (or a domain)", field="name")
        return CompanyRow(line, name, domain, values)

    def _write(self, rows: list[CompanyRow]) -> tuple[int, int]:
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
        update_rows(Company, list(dirty.values()), fields | {"updated_at", "domain"}, {})
        events = [company_event(c, by=self.by, now=now) for c in new_companies]
        TimelineEvent.objects.bulk_create(events)
        for event in events:
            bus.publish(
                bus.TimelineEventRecorded(event_id=event.pk, contact_id=None, type=event.type)
            )
        return created, updated
