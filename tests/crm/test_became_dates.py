"""The "became a … date" columns (became_<stage>_at): first entry into each forward stage.

Kept by create_contact, change_lifecycle_stage and merge_contacts; refresh_stage_dates
recomputes them from the stage history after bulk writes (the CSV import uses it).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from tandem.crm.imports import import_contacts
from tandem.crm.models import STAGE_ORDER, Contact, LifecycleChange, became_field
from tandem.crm.services import (
    change_lifecycle_stage,
    create_contact,
    merge_contacts,
    refresh_stage_dates,
)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def dates(contact: Contact) -> dict[str, datetime | None]:
    contact.refresh_from_db()
    return {s: getattr(contact, became_field(s)) for s in STAGE_ORDER}


def only(**set_: datetime) -> dict[str, datetime | None]:
    return {s: set_.get(s) for s in STAGE_ORDER}


def test_create_contact_sets_the_first_stage_date(db):
    contact = create_contact(email="a@example.com", lifecycle_stage="mql", created_at=at(2, 9))
    assert dates(contact) == only(mql=at(2, 9))
    disqualified = create_contact(
        email="b@example.com", lifecycle_stage="disqualified", created_at=at(2)
    )
    assert dates(disqualified) == only()


def test_stage_changes_set_first_entries_and_keep_the_earliest(db):
    contact = create_contact(email="a@example.com", lifecycle_stage="lead", created_at=at(1))
    change_lifecycle_stage(contact=contact, to_stage="mql", at=at(3))
    change_lifecycle_stage(contact=contact, to_stage="sql", at=at(5))
    # Back to MQL and forward again: the first entries stay.
    change_lifecycle_stage(contact=contact, to_stage="mql", reason="not ready", at=at(7))
    change_lifecycle_stage(contact=contact, to_stage="sql", at=at(9))
    assert dates(contact) == only(lead=at(1), mql=at(3), sql=at(5))
    # A backdated entry (recorded later, happened earlier) moves the date back.
    change_lifecycle_stage(contact=contact, to_stage="mql", reason="backfill", at=at(2))
    assert dates(contact)["mql"] == at(2)
    # Disqualified has no column; a skipped stage stays empty.
    change_lifecycle_stage(contact=contact, to_stage="disqualified", reason="gone", at=at(10))
    change_lifecycle_stage(contact=contact, to_stage="customer", reason="back", at=at(12))
    assert dates(contact) == only(lead=at(1), mql=at(2), sql=at(5), customer=at(12))


def test_merge_keeps_the_earliest_entry_of_both(db):
    primary = create_contact(email="p@example.com", lifecycle_stage="lead", created_at=at(5))
    change_lifecycle_stage(contact=primary, to_stage="mql", at=at(8))
    duplicate = create_contact(email="d@example.com", lifecycle_stage="lead", created_at=at(2))
    change_lifecycle_stage(contact=duplicate, to_stage="mql", at=at(10))
    change_lifecycle_stage(contact=duplicate, to_stage="sql", at=at(11))
    merged = merge_contacts(primary=primary, duplicate=duplicate)
    got = dates(merged)
    # lead: the duplicate's (Mar 2); MQL: the primary's (Mar 8); SQL: only the duplicate had it.
    assert (got["lead"], got["mql"], got["sql"]) == (at(2), at(8), at(11))
    assert got["subscriber"] is None and got["customer"] is None


def test_refresh_stage_dates_matches_the_history(db):
    a = create_contact(email="a@example.com", lifecycle_stage="subscriber", created_at=at(1))
    change_lifecycle_stage(contact=a, to_stage="lead", at=at(2))
    change_lifecycle_stage(contact=a, to_stage="opportunity", at=at(4))
    b = create_contact(email="b@example.com", lifecycle_stage="lead", created_at=at(3))
    # A bulk writer adds history behind the services' back, and a column gets out of date.
    LifecycleChange.objects.create(
        contact=b, from_stage="lead", to_stage="customer", changed_at=at(6)
    )
    Contact.objects.filter(pk=a.pk).update(became_lead_at=None, became_sql_at=at(20))
    assert refresh_stage_dates(contact_ids=[a.pk]) == 1
    assert dates(a) == only(subscriber=at(1), lead=at(2), opportunity=at(4))
    assert dates(b)["customer"] is None  # not refreshed yet
    assert refresh_stage_dates() == 2
    assert dates(b) == only(lead=at(3), customer=at(6))
    # Every contact's columns equal the earliest history row per stage.
    for contact in (a, b):
        for stage in STAGE_ORDER:
            rows = LifecycleChange.objects.filter(contact=contact, to_stage=stage)
            first = min((r.changed_at for r in rows), default=None)
            assert getattr(contact, became_field(stage)) == first


def test_import_sets_the_dates(db):
    csv = (
        "email,lifecycle_stage,created_at\n"
        "new@example.com,mql,2026-03-04T10:00:00Z\n"
        "known@example.com,sql,2026-03-05T10:00:00Z\n"
    )
    known = create_contact(email="known@example.com", lifecycle_stage="lead", created_at=at(1))
    result = import_contacts(source=io.BytesIO(csv.encode()))
    assert (result.created, result.updated, result.rejected) == (1, 1, [])
    new = Contact.objects.get(email="new@example.com")
    assert dates(new) == only(mql=at(4, 10))
    # The known contact moved forward at import time (the history row's time).
    moved = LifecycleChange.objects.get(contact=known, to_stage="sql")
    assert dates(known) == only(lead=at(1), sql=moved.changed_at)
