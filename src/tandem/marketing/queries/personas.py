"""Persona reads: the list with its counts, and the contacts a persona matches."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from tandem.accounts import permissions
from tandem.crm.models import Contact
from tandem.errors import InvalidInput
from tandem.marketing.models import Persona
from tandem.marketing.personas import persona_q

PERSONA_SORTS: dict[str, str] = {"name": "name", "updated_at": "updated_at", "id": "id"}


def contacts_matching(persona: Persona | list[dict[str, Any]]) -> QuerySet[Contact]:
    """Every contact who fits the persona's criteria (one filter, no Python loop)."""
    return Contact.objects.filter(persona_q(persona))


def personas_for(*, q: str = "") -> QuerySet[Persona]:
    """Personas (everyone signed in reads them), narrowed by a search on the name."""
    if "\x00" in q:
        raise InvalidInput("q contains a NUL character", field="q")
    qs = Persona.objects.all()
    if q.strip():
        qs = qs.filter(name__icontains=q.strip()[:100])
    return qs


def persona_counts(user: Any, personas: list[Persona]) -> dict[int, dict[str, int]]:
    """{persona id: {"matched": n, "assigned": n}} over the contacts the user may see.

    Two queries for the whole page whatever its length: one conditional count per persona in
    a single aggregate, and one grouped count of assigned ids.
    """
    if not personas:
        return {}
    contacts = permissions.visible(user, Contact.objects.all()).order_by()
    matched = contacts.aggregate(**{f"p{p.pk}": Count("pk", filter=persona_q(p)) for p in personas})
    assigned = dict(
        contacts.filter(persona_id__in=[p.pk for p in personas])
        .values("persona_id")
        .annotate(n=Count("pk"))
        .values_list("persona_id", "n")
    )
    return {
        p.pk: {"matched": matched.get(f"p{p.pk}") or 0, "assigned": assigned.get(p.pk, 0)}
        for p in personas
    }


def persona_sample(user: Any, persona: Persona, *, limit: int = 25) -> list[Contact]:
    """The first `limit` matching contacts the user may see, by name."""
    qs = permissions.visible(user, contacts_matching(persona))
    return list(qs.select_related("company", "owner").order_by("last_name", "id")[:limit])


def assigned_count(user: Any, persona: Persona) -> int:
    """Contacts the user may see whose assigned persona is this one."""
    return permissions.visible(user, Contact.objects.filter(persona_id=persona.pk)).count()


def matched_count(user: Any, persona: Persona | list[dict[str, Any]]) -> int:
    """Contacts the user may see who fit the criteria."""
    return permissions.visible(user, contacts_matching(persona)).count()


def names_by_id(ids: list[int]) -> dict[int, str]:
    """Persona names for a set of ids (a contact's persona_id has no foreign key to follow)."""
    return dict(Persona.objects.filter(pk__in=ids).values_list("pk", "name"))
