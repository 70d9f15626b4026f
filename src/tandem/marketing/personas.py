"""Persona fit criteria: the allow-list of fields and operators, validation, and the Q compiler.

A persona's criteria are a list of {field, op, value}; a contact fits when every one holds.
Only fields in CRITERIA_FIELDS reach the ORM, each with its own type and operators, so stored
criteria can never name an arbitrary column. `persona_q` is pure (no query runs) and compiles
to one filter on Contact, so counting, listing, assigning and (issue 4) scoring share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q

from tandem.crm.models import LifecycleStage, Source
from tandem.crm.normalise import (
    MAX_EMPLOYEES,
    check_characters,
    clean_choice,
    clean_country,
    clean_decimal,
    clean_int,
    parse_stage,
)
from tandem.errors import InvalidInput

# Operators and how a page says them.
OPERATORS: dict[str, str] = {
    "contains": "contains",
    "eq": "is",
    "in": "is one of",
    "gte": "is at least",
    "lte": "is at most",
}

MAX_CRITERIA = 20
MAX_VALUES = 100
MAX_TEXT = 160


@dataclass(frozen=True)
class CriterionField:
    """One field a criterion may test: its lookup from Contact, its value type and operators."""

    label: str
    lookup: str
    # text: free text compared case-insensitively; choice: one of `choices`;
    # country: ISO 3166-1 alpha-2 codes; int / decimal: numbers.
    kind: str
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()
    max_length: int = MAX_TEXT


CRITERIA_FIELDS: dict[str, CriterionField] = {
    "contact.title": CriterionField("Job title", "title", "text", ("contains", "eq")),
    "contact.lifecycle_stage": CriterionField(
        "Lifecycle stage", "lifecycle_stage", "choice", ("in",), tuple(LifecycleStage.values)
    ),
    "contact.original_source": CriterionField(
        "Original source", "original_source", "choice", ("in",), tuple(Source.values)
    ),
    "company.industry": CriterionField(
        "Company industry", "company__industry", "text", ("in", "eq"), max_length=120
    ),
    "company.employees": CriterionField(
        "Company employees", "company__employees", "int", ("gte", "lte")
    ),
    "company.annual_revenue": CriterionField(
        "Company annual revenue", "company__annual_revenue", "decimal", ("gte", "lte")
    ),
    "company.country": CriterionField("Company country", "company__country", "country", ("in",)),
    "company.region": CriterionField(
        "Company region", "company__region", "text", ("in",), max_length=60
    ),
}


def _fail(index: int, message: str) -> InvalidInput:
    return InvalidInput(f"criterion {index}: {message}", field="criteria")


def _shown(value: Any) -> str:
    """A bad value as an error message quotes it: repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _clean_text(index: int, name: str, spec: CriterionField, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(index, f"{name} needs text, not {_shown(value)}")
    text = " ".join(value.split())
    if not text:
        raise _fail(index, f"{name} needs a value")
    if len(text) > spec.max_length:
        raise _fail(index, f"{name} value is longer than {spec.max_length} characters")
    try:
        check_characters(text, field=name)
    except InvalidInput as error:
        raise _fail(index, str(error)) from None
    return text


def _clean_one(index: int, name: str, spec: CriterionField, value: Any) -> Any:
    """One scalar value of a criterion, in the field's type (stored that way in the JSON)."""
    if spec.kind == "text":
        return _clean_text(index, name, spec, value)
    if spec.kind in ("choice", "country"):
        text = _clean_text(index, name, spec, value)
        try:
            if spec.kind == "country":
                code = clean_country(text)
                if not code:
                    raise InvalidInput("empty")
                return code
            if name == "contact.lifecycle_stage":
                return parse_stage(text)
            return clean_choice(text, field=name, choices=list(spec.choices))
        except InvalidInput:
            allowed = (
                "two-letter ISO country codes"
                if spec.kind == "country"
                else ", ".join(spec.choices)
            )
            raise _fail(index, f"{name} value {_shown(value)} is not one of: {allowed}") from None
    # Numbers: an int, a decimal string or a float from JSON; never a boolean (bool is an int).
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _fail(index, f"{name} needs a number, not {_shown(value)}")
    number: int | str | None
    try:
        if spec.kind == "int":
            number = clean_int(value, field=name, maximum=MAX_EMPLOYEES)
        else:
            amount = clean_decimal(str(value), field=name)
            number = None if amount is None else str(amount)
    except InvalidInput:
        kind = "a whole number" if spec.kind == "int" else "a non-negative amount"
        raise _fail(index, f"{name} needs {kind}, not {_shown(value)}") from None
    if number is None:
        raise _fail(index, f"{name} needs a value")
    return number


def clean_criterion(index: int, raw: Any) -> dict[str, Any]:
    """Validate criterion number `index` (1-based) and return it normalised."""
    if not isinstance(raw, dict):
        raise _fail(index, "must be an object with field, op and value")
    extra = set(raw) - {"field", "op", "value"}
    if extra:
        raise _fail(index, f"unknown key(s) {', '.join(sorted(map(str, extra)))}")
    name, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if not isinstance(name, str) or not name:
        raise _fail(index, "choose a field")
    spec = CRITERIA_FIELDS.get(name)
    if spec is None:
        raise _fail(index, f"{name[:60]} is not a persona field")
    if op not in spec.ops:
        raise _fail(
            index,
            f"{name} does not allow the operator {_shown(op)} (allowed: {', '.join(spec.ops)})",
        )
    if op == "in":
        if not isinstance(value, list):
            raise _fail(index, f"{name} in needs a list of values, not {_shown(value)}")
        if not value:
            raise _fail(index, f"{name} in needs at least one value")
        if len(value) > MAX_VALUES:
            raise _fail(index, f"{name} in takes at most {MAX_VALUES} values")
        cleaned = [_clean_one(index, name, spec, item) for item in value]
        # One spelling per value (case-insensitively for text), in the order given.
        seen: dict[str, Any] = {}
        for item in cleaned:
            seen.setdefault(str(item).casefold(), item)
        return {"field": name, "op": op, "value": list(seen.values())}
    return {"field": name, "op": op, "value": _clean_one(index, name, spec, value)}


def validate_criteria(raw: Any) -> list[dict[str, Any]]:
    """Check criteria against the allow-list; the normalised list, or InvalidInput naming the fault."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("criteria must be a list of {field, op, value}", field="criteria")
    if len(raw) > MAX_CRITERIA:
        raise InvalidInput(f"a persona has at most {MAX_CRITERIA} criteria", field="criteria")
    return [clean_criterion(i, item) for i, item in enumerate(raw, start=1)]


def _criterion_q(criterion: dict[str, Any]) -> Q:
    spec = CRITERIA_FIELDS[criterion["field"]]
    op, value, lookup = criterion["op"], criterion["value"], spec.lookup
    if op == "contains":
        return Q(**{f"{lookup}__icontains": value})
    if op == "eq":
        return Q(**{f"{lookup}__iexact": value})
    if op in ("gte", "lte"):
        number = Decimal(value) if spec.kind == "decimal" else value
        return Q(**{f"{lookup}__{op}": number})
    if spec.kind == "text":
        # Free text is matched case-insensitively, like contains/eq.
        return reduce(or_, (Q(**{f"{lookup}__iexact": item}) for item in value))
    return Q(**{f"{lookup}__in": value})


def persona_q(persona_or_criteria: Any) -> Q:
    """The filter on Contact of those who fit a persona (or a criteria list): every criterion holds.

    Criteria are re-validated here, so a hand-edited row cannot reach the ORM. A persona
    without criteria describes nobody yet, so it matches no one (rather than everyone: an
    empty persona must not be assigned to the whole database or lift every score).
    """
    raw = getattr(persona_or_criteria, "criteria", persona_or_criteria)
    criteria = validate_criteria(raw)
    if not criteria:
        return Q(pk__in=[])
    return reduce(lambda acc, c: acc & _criterion_q(c), criteria, Q())


def describe(criterion: dict[str, Any]) -> str:
    """A criterion in words: "Company employees is at least 50"."""
    spec = CRITERIA_FIELDS.get(criterion.get("field", ""))
    label = spec.label if spec else str(criterion.get("field"))
    value = criterion.get("value")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"{label} {OPERATORS.get(criterion.get('op', ''), criterion.get('op'))} {shown}"


def summary(criteria: Any) -> str:
    """All of a persona's criteria in one line, for lists."""
    if not isinstance(criteria, list) or not criteria:
        return ""
    return "; ".join(describe(c) for c in criteria if isinstance(c, dict))
