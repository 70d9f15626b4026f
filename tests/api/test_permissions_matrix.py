"""Every API route, every role and every kind of record, against the permission rules of issue 2.

Rules: a rep sees and edits what they own plus the unassigned records of their team; a manager
(world.manager manages Sales East: rep1, rep2) sees and edits the records of their teams;
marketing and admin see and edit every contact and company. A record the caller may not see is
a 404; a visible record the caller may not act on is a 403 (a rep merging).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tandem.accounts.models import Team, User
from tandem.crm import services
from tandem.crm.models import Activity, Company, Contact
from tests.crm.factories import CompanyFactory, ContactFactory

ROLES = ["admin", "marketing", "manager", "rep1", "rep2", "rep3"]
# Record kinds, named from the owner's point of view: rep1's own record, a second rep of the same
# team (Sales East), a rep of another team (Sales West), unassigned but in a team, and unassigned.
RECORDS = ["rep1", "rep2", "rep3", "east_unassigned", "west_unassigned", "unassigned"]

VISIBLE: dict[str, set[str]] = {
    "admin": set(RECORDS),
    "marketing": set(RECORDS),
    "manager": {"rep1", "rep2", "east_unassigned"},
    "rep1": {"rep1", "east_unassigned"},
    "rep2": {"rep2", "east_unassigned"},
    "rep3": {"rep3", "west_unassigned"},
}
# Whom each role may name as the owner of a new record (unassigned records need no owner).
ASSIGNABLE: dict[str, set[str]] = {
    "admin": {"rep1", "rep2", "rep3"},
    "marketing": {"rep1", "rep2", "rep3"},
    "manager": {"rep1", "rep2"},
    "rep1": {"rep1"},
    "rep2": {"rep2"},
    "rep3": {"rep3"},
}
MERGERS = {"admin", "marketing", "manager"}


@dataclass
class Record:
    """One record kind: its owner and team, a contact, a company, an open task and a merge duplicate."""

    owner: User | None
    team: Team | None
    contact: Contact
    company: Company
    task: Activity
    duplicate: Contact


@pytest.fixture
def records(world: Any) -> dict[str, Record]:
    """Given a contact, a company, a task and a duplicate contact for every record kind."""
    owners = {
        "rep1": (world.rep1, world.east),
        "rep2": (world.rep2, world.east),
        "rep3": (world.rep3, world.west),
        "east_unassigned": (None, world.east),
        "west_unassigned": (None, world.west),
        "unassigned": (None, None),
    }
    contacts = {
        "rep1": world.rep1_contact,
        "rep2": world.rep2_contact,
        "rep3": world.rep3_contact,
        "east_unassigned": world.east_unassigned,
        "west_unassigned": ContactFactory(email="wes@west.example", owner=None, team=world.west),
        "unassigned": world.nobody_contact,
    }
    companies = {"rep1": world.acme, "rep3": world.globex}
    due = timezone.now() + timedelta(days=2)
    out = {}
    for kind, (owner, team) in owners.items():
        company = companies.get(kind) or CompanyFactory(name=f"{kind} Inc", owner=owner, team=team)
        contact = contacts[kind]
        task = services.log_activity(
            kind="task", by=owner, contact=contact, subject="call back", due_at=due
        )
        duplicate = ContactFactory(email=f"dup-{kind}@example.com", owner=owner, team=team)
        out[kind] = Record(owner, team, contact, company, task, duplicate)
    return out


def _listed(api: Any, path: str, ids: dict[str, int]) -> dict[str, int]:
    """200 for each record the list shows, 404 for each it hides (after checking the list is a 200)."""
    response = api.get(path, limit=500)
    assert response.status_code == 200, response.content
    shown = {item["id"] for item in response.json()["items"]}
    return {kind: 200 if pk in shown else 404 for kind, pk in ids.items()}


def _each(records: dict[str, Record], call: Callable[[Record, str], Any]) -> dict[str, int]:
    return {kind: call(rec, kind).status_code for kind, rec in records.items()}


def _create_owned_by(
    api: Any, path: str, body: Callable[[str], dict[str, Any]]
) -> Callable[[Record, str], Any]:
    def call(rec: Record, kind: str) -> Any:
        payload = body(kind) | ({"owner": rec.owner.username} if rec.owner else {})
        return api.post(path, payload)

    return call


# route name → (how to call it for one record, expected status for (role, record kind))
ROUTES: dict[str, tuple[Callable[..., dict[str, int]], Callable[[str, str], int]]] = {
    "GET /contacts": (
        lambda api, recs: _listed(api, "/contacts", {k: r.contact.pk for k, r in recs.items()}),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "POST /contacts": (
        lambda api, recs: _each(
            recs, _create_owned_by(api, "/contacts", lambda k: {"email": f"new-{k}@x.org"})
        ),
        lambda role, kind: (
            201 if kind not in ("rep1", "rep2", "rep3") or kind in ASSIGNABLE[role] else 403
        ),
    ),
    "GET /contacts/{id}": (
        lambda api, recs: _each(recs, lambda r, k: api.get(f"/contacts/{r.contact.pk}")),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "PATCH /contacts/{id}": (
        lambda api, recs: _each(
            recs, lambda r, k: api.patch(f"/contacts/{r.contact.pk}", {"title": "CTO"})
        ),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "DELETE /contacts/{id}": (
        lambda api, recs: _each(recs, lambda r, k: api.delete(f"/contacts/{r.contact.pk}")),
        lambda role, kind: 204 if kind in VISIBLE[role] else 404,
    ),
    "GET /contacts/{id}/timeline": (
        lambda api, recs: _each(recs, lambda r, k: api.get(f"/contacts/{r.contact.pk}/timeline")),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "GET /contacts/{id}/activities": (
        lambda api, recs: _each(recs, lambda r, k: api.get(f"/contacts/{r.contact.pk}/activities")),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "POST /contacts/{id}/activities": (
        lambda api, recs: _each(
            recs,
            lambda r, k: api.post(
                f"/contacts/{r.contact.pk}/activities", {"kind": "note", "body": "hi"}
            ),
        ),
        lambda role, kind: 201 if kind in VISIBLE[role] else 404,
    ),
    "POST /contacts/{id}/merge": (
        lambda api, recs: _each(
            recs,
            lambda r, k: api.post(
                f"/contacts/{r.contact.pk}/merge", {"duplicate_id": r.duplicate.pk}
            ),
        ),
        lambda role, kind: (200 if role in MERGERS else 403) if kind in VISIBLE[role] else 404,
    ),
    "GET /companies": (
        lambda api, recs: _listed(api, "/companies", {k: r.company.pk for k, r in recs.items()}),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "POST /companies": (
        lambda api, recs: _each(
            recs, _create_owned_by(api, "/companies", lambda k: {"name": f"New {k}"})
        ),
        lambda role, kind: (
            201 if kind not in ("rep1", "rep2", "rep3") or kind in ASSIGNABLE[role] else 403
        ),
    ),
    "GET /companies/{id}": (
        lambda api, recs: _each(recs, lambda r, k: api.get(f"/companies/{r.company.pk}")),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "PATCH /companies/{id}": (
        lambda api, recs: _each(
            recs, lambda r, k: api.patch(f"/companies/{r.company.pk}", {"industry": "Retail"})
        ),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "DELETE /companies/{id}": (
        lambda api, recs: _each(recs, lambda r, k: api.delete(f"/companies/{r.company.pk}")),
        lambda role, kind: 204 if kind in VISIBLE[role] else 404,
    ),
    "GET /companies/{id}/timeline": (
        lambda api, recs: _each(recs, lambda r, k: api.get(f"/companies/{r.company.pk}/timeline")),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
    "POST /activities/{id}/complete": (
        lambda api, recs: _each(recs, lambda r, k: api.post(f"/activities/{r.task.pk}/complete")),
        lambda role, kind: 200 if kind in VISIBLE[role] else 404,
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", list(ROUTES))
def test_route_answers_each_role_as_the_rules_say(
    route: str, role: str, records: dict[str, Record], api_as: Any
):
    """Given every kind of record, when `role` calls `route` on each, then each status follows the rules."""
    call, expected_for = ROUTES[route]
    actual = call(api_as(role), records)
    assert actual == {kind: expected_for(role, kind) for kind in RECORDS}


@pytest.mark.parametrize("role", ROLES)
def test_invisible_records_are_untouched_by_refused_writes(
    role: str, records: dict[str, Record], api_as: Any
):
    """Given records the role may not see, when it patches and deletes them, then nothing changes."""
    api = api_as(role)
    hidden = [rec for kind, rec in records.items() if kind not in VISIBLE[role]]
    for rec in hidden:
        api.patch(f"/contacts/{rec.contact.pk}", {"title": "Hacked"})
        api.delete(f"/companies/{rec.company.pk}")
    for rec in hidden:
        rec.contact.refresh_from_db()
        assert rec.contact.title != "Hacked"
        assert Company.objects.filter(pk=rec.company.pk).exists()


@pytest.mark.parametrize("role", ["rep1", "rep2", "rep3"])
def test_rep_may_not_merge_even_own_contacts(role: str, records: dict[str, Record], api_as: Any):
    """Given a rep's own contact and its duplicate, when the rep merges them, then 403 and both remain."""
    rec = records[role]
    response = api_as(role).post(
        f"/contacts/{rec.contact.pk}/merge", {"duplicate_id": rec.duplicate.pk}
    )
    assert response.status_code == 403
    assert "merge" in response.json()["detail"]
    assert Contact.objects.filter(pk__in=[rec.contact.pk, rec.duplicate.pk]).count() == 2
