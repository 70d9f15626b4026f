"""Persona writes: create, update, delete, and assigning a persona to the contacts who fit it."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.accounts.models import User
from tandem.crm.models import Contact
from tandem.crm.normalise import clean_text
from tandem.errors import InvalidInput, refuse_taken
from tandem.marketing.models import Persona
from tandem.marketing.personas import persona_q, validate_criteria

TEXT_LIMITS = {"description": 5000, "pains": 5000, "goals": 5000, "objections": 5000}
PERSONA_EDITABLE = ("name", *TEXT_LIMITS, "criteria")


def _clean(field: str, value: Any) -> Any:
    if field == "name":
        return clean_text(value, field="name", max_length=120, required=True)
    if field == "criteria":
        return validate_criteria(value)
    return clean_text(value, field=field, max_length=TEXT_LIMITS[field])


def _refuse_taken_name(name: str, *, exclude_pk: int | None = None) -> None:
    """Names are unique; "ops lead" and "Ops Lead" would be the same persona to a reader."""
    # The message names the holder, so its name is loaded with the id (not deferred).
    refuse_taken(
        Persona.objects.filter(name__iexact=name).only("pk", "name"),
        message=lambda existing: f"a persona named {existing.name} exists",
        exclude_pk=exclude_pk,
    )


def _save(persona: Persona, **kwargs: Any) -> None:
    """Save in a savepoint; a concurrent create of the same name is a conflict, not a 500."""
    try:
        with transaction.atomic():
            persona.save(**kwargs)
    except IntegrityError:
        _refuse_taken_name(persona.name, exclude_pk=persona.pk)
        raise


@transaction.atomic
def create_persona(
    *,
    name: str,
    description: str = "",
    pains: str = "",
    goals: str = "",
    objections: str = "",
    criteria: Any = None,
    by: User | None = None,
) -> Persona:
    """Create a persona; criteria are checked against the allow-list."""
    values = {
        "name": name,
        "description": description,
        "pains": pains,
        "goals": goals,
        "objections": objections,
        "criteria": criteria or [],
    }
    persona = Persona(**{field: _clean(field, value) for field, value in values.items()})
    _refuse_taken_name(persona.name)
    _save(persona)
    return persona


@transaction.atomic
def update_persona(*, persona: Persona, changes: dict[str, Any], by: User | None = None) -> Persona:
    """Change a persona's fields (only those in PERSONA_EDITABLE); criteria are re-validated."""
    unknown = set(changes).difference(PERSONA_EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown persona field(s): {', '.join(sorted(unknown))}")
    cleaned = {field: _clean(field, value) for field, value in changes.items()}
    if "name" in cleaned:
        _refuse_taken_name(cleaned["name"], exclude_pk=persona.pk)
    for field, value in cleaned.items():
        setattr(persona, field, value)
    _save(persona, update_fields=[*cleaned, "updated_at"])
    return persona


@transaction.atomic
def delete_persona(*, persona: Persona, by: User | None = None) -> int:
    """Delete a persona; its contacts lose it (persona_id has no foreign key). Returns how many."""
    cleared = Contact.objects.filter(persona_id=persona.pk).update(
        persona_id=None, updated_at=timezone.now()
    )
    persona.delete()  # campaigns and assets keep existing; only their link to it goes
    return cleared


@transaction.atomic
def assign_persona(*, persona: Persona, overwrite: bool = False, by: User | None = None) -> int:
    """Set this persona on every contact who fits it, in one UPDATE; returns how many changed.

    Without `overwrite` only contacts with no persona get it; with it, contacts assigned another
    persona are moved too. Contacts who no longer fit keep what they have: assignment is a
    decision a person made, and re-running never takes it back.
    """
    if not persona.criteria:
        raise InvalidInput("give the persona criteria before assigning it", field="criteria")
    matching = Contact.objects.filter(persona_q(persona))
    if overwrite:
        # exclude() keeps the contacts with no persona (NULL) too.
        matching = matching.exclude(persona_id=persona.pk)
    else:
        matching = matching.filter(persona_id__isnull=True)
    return matching.update(persona_id=persona.pk, updated_at=timezone.now())
