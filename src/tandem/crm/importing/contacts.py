"""Import of contacts: row cleaning and the chunk writer, deduplicated by normalised email."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from tandem import bus
from tandem.accounts.models import User
from tandem.crm.importing.base import RULE
from tandem.crm.importing.book import company_event
from tandem.crm.importing.cleaners import (
    LEAD_STATUS_ALIASES,
    SOURCE_ALIASES,
    SUBSCRIPTION_ALIASES,
    choice_cleaner,
    custom_value,
    memo,
    parse_when,
    text_cleaner,
)
from tandem.crm.importing.contact_rows import NEW_CONTACT_COLUMNS, ContactRow, NewContact, apply_row
from tandem.crm.importing.mapping import CUSTOM, Column, fold_key
from tandem.crm.importing.sql import insert_rows, update_rows
from tandem.crm.importing.writer import ChunkImporter
from tandem.crm.models import (
    Company,
    Contact,
    LeadStatus,
    LifecycleChange,
    Source,
    SubscriptionStatus,
    TimelineEvent,
)
from tandem.crm.normalise import normalise_domain, normalise_email, parse_stage
from tandem.crm.services import CONTACT_TEXT_FIELDS, refresh_stage_dates
from tandem.errors import InvalidInput

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


@dataclass
class _Plan:
    """What a chunk does: contacts to insert, known ones changed, and forward stage moves."""

    new: list[NewContact] = field(default_factory=list)
    dirty: dict[int, Contact] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)
    moves: list[tuple[Contact | NewContact, str, str]] = field(default_factory=list)
    updated: int = 0


class ContactImporter(ChunkImporter[ContactRow]):
    """Cleans contact rows and writes them a chunk at a time."""

    kind = "contacts"

    def __init__(self, columns: list[Column], width: int, by: User | None) -> None:
        super().__init__(columns, width, by)
        self.cleaners = {
            "email": normalise_email,
            **{name: text_cleaner(name, size) for name, size in CONTACT_TEXT_FIELDS.items()},
            "full_name": text_cleaner("name", 241),
            "company": memo(text_cleaner("company", 255)),
            "company_domain": memo(normalise_domain),
            "lifecycle_stage": memo(parse_stage),
            "lead_status": memo(
                choice_cleaner("lead_status", LeadStatus.values, LEAD_STATUS_ALIASES)
            ),
            "owner": memo(self.owners.find),
            "original_source": memo(text_cleaner("original_source", 255)),
            "original_source_detail": text_cleaner("original_source_detail", 255),
            "subscription_status": memo(
                choice_cleaner(
                    "subscription_status", SubscriptionStatus.values, SUBSCRIPTION_ALIASES
                )
            ),
            "created_at": lambda raw: parse_when(raw, field="created_at"),
            "last_activity_at": lambda raw: parse_when(raw, field="last_activity_at"),
        }

    def clean(self, line: int, cells: list[str]) -> ContactRow:
        """Validate one row into cleaned values (empty cells are left out, so they never overwrite)."""
        values: dict[str, Any] = {}
        custom: dict[str, str] = {}
        for col, raw in self.filled(cells):
            if col.target.startswith(CUSTOM):
                key = col.target[len(CUSTOM) :]
                if key not in custom:
                    custom[key] = custom_value(raw, col.header)
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
            known = SOURCE_ALIASES.get(fold_key(raw_source))
            values["original_source"] = known or Source.OTHER.value
            if not known:
                values.setdefault("original_source_detail", raw_source)
        return ContactRow(line, email, values, custom)

    def _company_for(self, row: ContactRow, now: datetime) -> Company | None:
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

    def _write(self, rows: list[ContactRow]) -> tuple[int, int]:
        now = timezone.now()
        plan = self._plan(rows, now)
        new_companies = self.companies.flush(now)
        times: dict[datetime, Any] = {}
        self._save(plan, now, times)
        self._record(plan, new_companies, now, times)
        return len(plan.new), plan.updated

    def _plan(self, rows: list[ContactRow], now: datetime) -> _Plan:
        """Match each row to a known contact, one met earlier in the chunk, or a new one."""
        existing = {c.email: c for c in Contact.objects.filter(email__in={r.email for r in rows})}
        self.companies.prefetch(
            {r.values["company_domain"] for r in rows if r.values.get("company_domain")},
            {
                r.values["company"].lower(): r.values["company"]
                for r in rows
                if r.values.get("company")
            },
        )
        plan = _Plan()
        records: dict[str, Contact | NewContact] = {}
        for row in rows:
            company = self._company_for(row, now)
            contact = records.get(row.email) or existing.get(row.email)
            if contact is None:
                contact = NewContact(row, company, now)
                plan.new.append(contact)
            else:
                changed, move = apply_row(contact, row, company, plan.fields, now)
                if move:
                    plan.moves.append((contact, *move))
                if changed and isinstance(contact, Contact):
                    plan.dirty[contact.pk] = contact
                plan.updated += 1
            records[row.email] = contact
        return plan

    def _save(self, plan: _Plan, now: datetime, times: dict[datetime, Any]) -> None:
        """Insert the new contacts (learning their ids) and update the changed ones."""
        new = plan.new
        insert_rows(Contact, NEW_CONTACT_COLUMNS, [c.as_row(now) for c in new], times)
        ids = dict(
            Contact.objects.filter(email__in=[c.email for c in new]).values_list("email", "pk")
        )
        for contact in new:
            contact.pk = ids[contact.email]
        for known in plan.dirty.values():
            known.updated_at = now
            # A company created in this chunk got its id after being linked: copy it over.
            if known.company_id is None and Contact.company.is_cached(known) and known.company:
                known.company_id = known.company.pk
        update_rows(Contact, list(plan.dirty.values()), plan.fields | {"updated_at"}, times)

    def _record(
        self, plan: _Plan, new_companies: list[Company], now: datetime, times: dict[datetime, Any]
    ) -> None:
        """Write the stage history and timeline rows of the chunk, then publish its events."""
        new, moves = plan.new, plan.moves
        by_id = self.by.pk if self.by is not None else None
        # Each new contact's first stage, as create_contact writes it.
        history = [(c.pk, "", c.first_stage, c.created_at, by_id, RULE, "created") for c in new]
        insert_rows(LifecycleChange, HISTORY_COLUMNS, history, times)
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
        refresh_stage_dates(contact_ids=[c.pk for c in new] + [c.pk for c, _, _ in moves])
        company_events = [company_event(c, by=self.by, now=now) for c in new_companies]
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
        insert_rows(TimelineEvent, EVENT_COLUMNS, imported, times)
        _publish(new, changes, company_events, imported)


def _publish(
    new: list[NewContact],
    changes: list[LifecycleChange],
    company_events: list[TimelineEvent],
    imported: list[tuple[Any, ...]],
) -> None:
    """One ContactsImported per chunk: a reaction per row would enqueue a job per row."""
    ids = {c.pk for c in new} | {ch.contact_id for ch in changes} | {e[5] for e in imported}
    ids.discard(None)
    if ids:
        bus.publish(bus.ContactsImported(contact_ids=tuple(sorted(ids))))
    for event in company_events:
        bus.publish(bus.TimelineEventRecorded(event_id=event.pk, contact_id=None, type=event.type))
