"""Personas: criteria validation, the compiled filter against a plain evaluation, assign and delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tandem.crm.models import Contact
from tandem.errors import Conflict, InvalidInput
from tandem.marketing.models import ContentAsset, Persona
from tandem.marketing.personas import persona_q, summary, validate_criteria
from tandem.marketing.queries.personas import contacts_matching
from tandem.marketing.services import personas as services
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.marketing.factories import ContentAssetFactory, PersonaFactory

# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (
            [
                {"field": "contact.title", "op": "contains", "value": "VP"},
                {"field": "company.size", "op": "gte", "value": 5},
            ],
            "criterion 2: company.size is not a persona field",
        ),
        (
            [{"field": "contact.email", "op": "eq", "value": "a@b.c"}],
            "criterion 1: contact.email is not a persona field",
        ),
        (
            [{"field": "contact.title", "op": "in", "value": ["VP"]}],
            "criterion 1: contact.title does not allow the operator 'in' (allowed: contains, eq)",
        ),
        (
            [{"field": "company.employees", "op": "contains", "value": "5"}],
            "criterion 1: company.employees does not allow the operator 'contains' (allowed: gte, lte)",
        ),
        (
            [{"field": "company.employees", "op": "gte", "value": "many"}],
            "criterion 1: company.employees needs a whole number, not 'many'",
        ),
        (
            [{"field": "company.employees", "op": "gte", "value": True}],
            "criterion 1: company.employees needs a number, not True",
        ),
        (
            [{"field": "company.employees", "op": "lte", "value": 2.5}],
            "criterion 1: company.employees needs a whole number, not 2.5",
        ),
        (
            [{"field": "company.annual_revenue", "op": "gte", "value": "-5"}],
            "criterion 1: company.annual_revenue needs a non-negative amount, not '-5'",
        ),
        (
            [{"field": "company.industry", "op": "in", "value": "Software"}],
            "criterion 1: company.industry in needs a list of values, not 'Software'",
        ),
        (
            [{"field": "company.industry", "op": "in", "value": []}],
            "criterion 1: company.industry in needs at least one value",
        ),
        (
            [{"field": "company.industry", "op": "in", "value": ["Software", 7]}],
            "criterion 1: company.industry needs text, not 7",
        ),
        (
            [{"field": "contact.lifecycle_stage", "op": "in", "value": ["lead", "whale"]}],
            "criterion 1: contact.lifecycle_stage value 'whale' is not one of: subscriber, lead, "
            "mql, sql, opportunity, customer, evangelist, disqualified",
        ),
        (
            [{"field": "company.country", "op": "in", "value": ["US", "USA"]}],
            "criterion 1: company.country value 'USA' is not one of: two-letter ISO country codes",
        ),
        (
            [{"field": "contact.title", "op": "eq", "value": "  "}],
            "criterion 1: contact.title needs a value",
        ),
        (
            [{"field": "contact.title", "op": "eq", "value": "CEO", "negate": True}],
            "criterion 1: unknown key(s) negate",
        ),
        (["contact.title"], "criterion 1: must be an object with field, op and value"),
        ([{"op": "eq", "value": "x"}], "criterion 1: choose a field"),
        ({"field": "contact.title"}, "criteria must be a list of {field, op, value}"),
        (
            [{"field": "contact.title", "op": "contains", "value": "x"}] * 21,
            "a persona has at most 20 criteria",
        ),
    ],
)
def test_bad_criteria_are_refused_naming_the_fault(criteria: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_criteria(criteria)
    assert str(caught.value) == message
    assert caught.value.field == "criteria"


def test_valid_criteria_are_normalised() -> None:
    cleaned = validate_criteria(
        [
            {"field": "contact.title", "op": "contains", "value": "  vice   president "},
            {"field": "contact.lifecycle_stage", "op": "in", "value": ["Lead", "MQL", "lead"]},
            {"field": "contact.original_source", "op": "in", "value": ["Paid search"]},
            {"field": "company.country", "op": "in", "value": ["us", " gb "]},
            {"field": "company.industry", "op": "in", "value": ["Software", "software", "SaaS"]},
            {"field": "company.employees", "op": "gte", "value": "1,000"},
            {"field": "company.annual_revenue", "op": "lte", "value": 2500000.5},
        ]
    )
    assert cleaned == [
        {"field": "contact.title", "op": "contains", "value": "vice president"},
        {"field": "contact.lifecycle_stage", "op": "in", "value": ["lead", "mql"]},
        {"field": "contact.original_source", "op": "in", "value": ["paid_search"]},
        {"field": "company.country", "op": "in", "value": ["US", "GB"]},
        {"field": "company.industry", "op": "in", "value": ["Software", "SaaS"]},
        {"field": "company.employees", "op": "gte", "value": 1000},
        {"field": "company.annual_revenue", "op": "lte", "value": "2500000.50"},
    ]
    assert summary(cleaned[:2]) == (
        "Job title contains vice president; Lifecycle stage is one of lead, mql"
    )


# ---------------------------------------------------------------- the compiled filter


def fits(contact: Contact, criteria: list[dict[str, Any]]) -> bool:
    """The plain Python reading of the criteria, to check the SQL against."""
    for c in criteria:
        owner, attr = c["field"].split(".")
        record = contact if owner == "contact" else contact.company
        if record is None:
            return False
        actual = getattr(record, attr)
        value = c["value"]
        if actual is None:
            return False
        if c["op"] == "contains":
            ok = value.lower() in actual.lower()
        elif c["op"] == "eq":
            ok = actual.lower() == value.lower()
        elif c["op"] == "in":
            ok = actual.lower() in {v.lower() for v in value}
        elif c["op"] == "gte":
            ok = actual >= Decimal(str(value))
        else:
            ok = actual <= Decimal(str(value))
        if not ok:
            return False
    return True


@pytest.fixture
def people(db: Any) -> dict[str, Contact]:
    software_us = CompanyFactory(
        industry="Software",
        employees=200,
        annual_revenue=Decimal("5000000"),
        country="US",
        region="us-east",
    )
    software_gb = CompanyFactory(
        industry="software",
        employees=50,
        annual_revenue=Decimal("1000000"),
        country="GB",
        region="EMEA",
    )
    bank_de = CompanyFactory(
        industry="Banking", employees=5000, annual_revenue=None, country="DE", region="emea"
    )
    unknown_size = CompanyFactory(industry="Software", employees=None, country="US", region="")
    return {
        "vp": ContactFactory(
            title="VP Marketing",
            lifecycle_stage="lead",
            original_source="paid_search",
            company=software_us,
        ),
        "manager": ContactFactory(
            title="Marketing Manager",
            lifecycle_stage="mql",
            original_source="organic_search",
            company=software_gb,
        ),
        "cfo": ContactFactory(
            title="CFO", lifecycle_stage="customer", original_source="referral", company=bank_de
        ),
        "no_company": ContactFactory(
            title="Head of Marketing",
            lifecycle_stage="lead",
            original_source="paid_search",
            company=None,
        ),
        "unknown_size": ContactFactory(
            title="marketing lead",
            lifecycle_stage="lead",
            original_source="events",
            company=unknown_size,
        ),
        "blank_title": ContactFactory(
            title="", lifecycle_stage="subscriber", original_source="other", company=software_us
        ),
    }


CASES = [
    (
        [{"field": "contact.title", "op": "contains", "value": "marketing"}],
        {"vp", "manager", "no_company", "unknown_size"},
    ),
    ([{"field": "contact.title", "op": "eq", "value": "cfo"}], {"cfo"}),
    (
        [{"field": "contact.lifecycle_stage", "op": "in", "value": ["lead", "mql"]}],
        {"vp", "manager", "no_company", "unknown_size"},
    ),
    (
        [{"field": "contact.original_source", "op": "in", "value": ["paid_search"]}],
        {"vp", "no_company"},
    ),
    (
        [{"field": "company.industry", "op": "in", "value": ["SOFTWARE"]}],
        {"vp", "manager", "unknown_size", "blank_title"},
    ),
    ([{"field": "company.industry", "op": "eq", "value": "banking"}], {"cfo"}),
    ([{"field": "company.employees", "op": "gte", "value": 200}], {"vp", "cfo", "blank_title"}),
    ([{"field": "company.employees", "op": "lte", "value": 200}], {"vp", "manager", "blank_title"}),
    (
        [{"field": "company.annual_revenue", "op": "gte", "value": "1000000"}],
        {"vp", "manager", "blank_title"},
    ),
    ([{"field": "company.annual_revenue", "op": "lte", "value": 999999.99}], set()),
    ([{"field": "company.country", "op": "in", "value": ["gb", "de"]}], {"manager", "cfo"}),
    ([{"field": "company.region", "op": "in", "value": ["EMEA"]}], {"manager", "cfo"}),
    (
        [
            {"field": "contact.title", "op": "contains", "value": "Marketing"},
            {"field": "company.industry", "op": "in", "value": ["Software"]},
            {"field": "company.employees", "op": "gte", "value": 10},
            {"field": "company.employees", "op": "lte", "value": 1000},
            {"field": "company.country", "op": "in", "value": ["US", "GB"]},
        ],
        {"vp", "manager"},
    ),
    ([], set()),  # a persona without criteria describes nobody yet
]


@pytest.mark.parametrize(("criteria", "expected"), CASES)
def test_persona_q_matches_a_plain_python_evaluation(
    people: dict[str, Contact], criteria: list[dict[str, Any]], expected: set[str]
) -> None:
    ids = {contact.pk: name for name, contact in people.items()}
    matched = {
        ids[pk] for pk in Contact.objects.filter(persona_q(criteria)).values_list("pk", flat=True)
    }
    cleaned = validate_criteria(criteria)
    evaluated = {name for name, c in people.items() if cleaned and fits(c, cleaned)}
    assert matched == evaluated == expected


def test_persona_q_is_one_filter_and_runs_no_query(
    people: dict[str, Contact], django_assert_num_queries: Any
) -> None:
    persona = PersonaFactory(criteria=CASES[-2][0])
    with django_assert_num_queries(0):
        q = persona_q(persona)
    with django_assert_num_queries(1):
        assert sorted(contacts_matching(persona).values_list("pk", flat=True)) == sorted(
            [people["vp"].pk, people["manager"].pk]
        )
    assert str(q).count("company__employees__gte") == 1


def test_a_hand_edited_criterion_never_reaches_the_orm(db: Any) -> None:
    persona = PersonaFactory(criteria=[{"field": "contact.email", "op": "eq", "value": "x"}])
    with pytest.raises(InvalidInput, match=r"contact\.email is not a persona field"):
        persona_q(persona)


# ---------------------------------------------------------------- services


def test_create_and_update_validate_criteria_and_names(db: Any) -> None:
    persona = services.create_persona(
        name="  Ops Olivia ",
        pains="Spreadsheets",
        criteria=[{"field": "company.country", "op": "in", "value": ["fr"]}],
    )
    assert persona.name == "Ops Olivia"
    assert persona.criteria == [{"field": "company.country", "op": "in", "value": ["FR"]}]
    with pytest.raises(Conflict, match="a persona named Ops Olivia exists"):
        services.create_persona(name="ops olivia")
    with pytest.raises(InvalidInput, match=r"criterion 1: company\.size is not a persona field"):
        services.update_persona(
            persona=persona,
            changes={"criteria": [{"field": "company.size", "op": "gte", "value": 1}]},
        )
    persona.refresh_from_db()
    assert persona.criteria == [{"field": "company.country", "op": "in", "value": ["FR"]}]
    with pytest.raises(InvalidInput, match="name is required"):
        services.update_persona(persona=persona, changes={"name": " "})
    with pytest.raises(InvalidInput, match="unknown persona field"):
        services.update_persona(persona=persona, changes={"id": 5})
    services.update_persona(persona=persona, changes={"goals": "Fewer tools", "criteria": []})
    persona.refresh_from_db()
    assert (persona.goals, persona.criteria) == ("Fewer tools", [])


def test_assign_persona_counts_and_respects_overwrite(people: dict[str, Contact]) -> None:
    marketers = services.create_persona(
        name="Marketers",
        criteria=[{"field": "contact.title", "op": "contains", "value": "marketing"}],
    )
    other = PersonaFactory()
    Contact.objects.filter(pk=people["vp"].pk).update(persona_id=other.pk)

    assert services.assign_persona(persona=marketers) == 3  # manager, no_company, unknown_size
    assert services.assign_persona(persona=marketers) == 0
    assert set(Contact.objects.filter(persona_id=marketers.pk).values_list("pk", flat=True)) == {
        people["manager"].pk,
        people["no_company"].pk,
        people["unknown_size"].pk,
    }
    assert Contact.objects.get(pk=people["vp"].pk).persona_id == other.pk

    assert services.assign_persona(persona=marketers, overwrite=True) == 1  # only vp changes
    assert Contact.objects.get(pk=people["vp"].pk).persona_id == marketers.pk
    # Contacts outside the criteria keep whatever they had.
    assert Contact.objects.get(pk=people["cfo"].pk).persona_id is None


def test_assigning_a_persona_without_criteria_is_refused(people: dict[str, Contact]) -> None:
    with pytest.raises(InvalidInput, match="give the persona criteria before assigning it"):
        services.assign_persona(persona=PersonaFactory(criteria=[]), overwrite=True)
    assert Contact.objects.exclude(persona_id=None).count() == 0


def test_delete_clears_persona_id_and_links(people: dict[str, Contact]) -> None:
    persona = PersonaFactory()
    keep = PersonaFactory()
    Contact.objects.filter(pk__in=[people["vp"].pk, people["cfo"].pk]).update(persona_id=persona.pk)
    Contact.objects.filter(pk=people["manager"].pk).update(persona_id=keep.pk)
    asset: ContentAsset = ContentAssetFactory()
    asset.personas.set([persona, keep])

    gone = persona.pk
    assert services.delete_persona(persona=persona) == 2

    assert not Persona.objects.filter(pk=gone).exists()
    assert Contact.objects.filter(persona_id=gone).count() == 0
    assert set(Contact.objects.filter(persona_id=None).values_list("pk", flat=True)) == {
        c.pk for name, c in people.items() if name != "manager"
    }
    assert Contact.objects.get(pk=people["manager"].pk).persona_id == keep.pk
    assert list(asset.personas.all()) == [keep]
