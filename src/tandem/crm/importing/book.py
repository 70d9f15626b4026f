"""Import company lookup: companies by normalised domain, else by exact name (case-insensitive)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models.functions import Lower

from tandem.accounts.models import User
from tandem.crm.importing.base import RULE
from tandem.crm.importing.sql import update_rows
from tandem.crm.models import Company, TimelineEvent


class CompanyBook:
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
        update_rows(Company, filled, {"domain", "updated_at"}, {})
        return created


def company_event(company: Company, *, by: User | None, now: datetime) -> TimelineEvent:
    """The unsaved timeline row that records a company created by an import."""
    return TimelineEvent(
        type="company_imported",
        occurred_at=now,
        actor=by,
        actor_label=RULE,
        company=company,
        properties={"name": company.name, "domain": company.domain or ""},
        idempotency_key=f"import:company:{company.pk}:created",
    )
