"""Persona pages: what each role sees and may do, the criteria editor, escaping, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tandem.crm.models import Contact
from tandem.marketing.models import Persona
from tests.conftest import World
from tests.marketing.factories import PersonaFactory

XSS = "<script>alert(1)</script>"
SOFTWARE = [{"field": "company.industry", "op": "in", "value": ["Software"]}]


@pytest.fixture
def software(world: World) -> Persona:
    """Fits ann and bob (Acme) and cy (Globex): both companies are in Software."""
    return PersonaFactory(name="Software buyer", criteria=SOFTWARE, pains="Too many tools")


def test_anonymous_users_are_sent_to_sign_in(db: Any) -> None:
    for url in ("/marketing/personas/", "/marketing/personas/1/", "/marketing/personas/new/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize(("role", "matched"), [("marketing", 3), ("rep1", 1), ("rep3", 1)])
def test_list_counts_only_contacts_the_user_may_see(
    world: World, client_as: Any, software: Persona, role: str, matched: int
) -> None:
    Contact.objects.filter(pk=world.rep1_contact.pk).update(persona_id=software.pk)
    page = client_as(role).get("/marketing/personas/")
    assert page.status_code == 200
    [row] = page.context["rows"]
    assert (row["matched"], row["assigned"]) == (matched, 1 if role != "rep3" else 0)
    assert row["summary"] == "Company industry is one of Software"
    assert (b"New persona" in page.content) is (role == "marketing")


def test_list_search_and_htmx_partial(world: World, client_as: Any, software: Persona) -> None:
    PersonaFactory(name="CFO")
    client = client_as("rep1")
    page = client.get("/marketing/personas/?q=soft", HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert [r["persona"].name for r in page.context["rows"]] == ["Software buyer"]
    assert page.content.decode().startswith('<div id="personas-table"')
    assert page["HX-Push-Url"] == "/marketing/personas/?q=soft"
    # A sort outside the allow-list falls back to the default.
    page = client.get("/marketing/personas/?sort=pains")
    assert page.context["sort"] == "name"
    assert [r["persona"].name for r in page.context["rows"]] == ["CFO", "Software buyer"]


@pytest.mark.parametrize(
    ("role", "emails"),
    [
        ("marketing", ["ann@acme.com", "bob@acme.com", "cy@globex.com"]),
        ("rep1", ["ann@acme.com"]),
        ("manager", ["ann@acme.com", "bob@acme.com"]),
        ("rep3", ["cy@globex.com"]),
    ],
)
def test_persona_page_samples_only_visible_contacts(
    world: World, client_as: Any, software: Persona, role: str, emails: list[str]
) -> None:
    page = client_as(role).get(f"/marketing/personas/{software.pk}/")
    assert page.status_code == 200
    assert sorted(c.email for c in page.context["sample"]) == emails
    assert page.context["matched"] == len(emails)
    body = page.content.decode()
    assert "Too many tools" in body
    for email in {"ann@acme.com", "bob@acme.com", "cy@globex.com"} - set(emails):
        assert email not in body
    assert ("Assign to matching contacts" in body) is (role == "marketing")


def test_unknown_persona_is_a_404(world: World, client_as: Any) -> None:
    assert client_as("rep1").get("/marketing/personas/999999/").status_code == 404


@pytest.mark.parametrize("role", ["rep1", "manager"])
def test_sales_may_not_change_personas(
    world: World, client_as: Any, software: Persona, role: str
) -> None:
    client = client_as(role)
    pk = software.pk
    assert client.get("/marketing/personas/new/").status_code == 403
    assert client.post("/marketing/personas/new/", {"name": "Mine"}).status_code == 403
    assert client.get(f"/marketing/personas/{pk}/edit/").status_code == 403
    assert client.post(f"/marketing/personas/{pk}/edit/", {"name": "Renamed"}).status_code == 403
    assert client.post(f"/marketing/personas/{pk}/assign/").status_code == 403
    assert client.post(f"/marketing/personas/{pk}/delete/").status_code == 403
    assert client.post("/marketing/personas/preview/").status_code == 403
    software.refresh_from_db()
    assert software.name == "Software buyer"
    assert not Persona.objects.filter(name="Mine").exists()
    assert Contact.objects.exclude(persona_id=None).count() == 0


def criteria_post(rows: list[tuple[str, str, str]], **fields: str) -> dict[str, Any]:
    return {
        "criterion_field": [r[0] for r in rows],
        "criterion_op": [r[1] for r in rows],
        "criterion_value": [r[2] for r in rows],
        **fields,
    }


def test_marketing_creates_a_persona_with_criteria_rows(world: World, client_as: Any) -> None:
    client = client_as("marketing")
    assert client.get("/marketing/personas/new/").status_code == 200
    response = client.post(
        "/marketing/personas/new/",
        criteria_post(
            [
                ("company.industry", "in", "Software, SaaS"),
                ("", "", ""),  # a blank row is ignored
                ("company.employees", "gte", "10"),
            ],
            name="Ops lead",
            goals="Fewer tools",
            action="save",
        ),
    )
    persona = Persona.objects.get(name="Ops lead")
    assert response.status_code == 302
    assert response["Location"] == f"/marketing/personas/{persona.pk}/"
    assert persona.criteria == [
        {"field": "company.industry", "op": "in", "value": ["Software", "SaaS"]},
        {"field": "company.employees", "op": "gte", "value": 10},
    ]
    assert persona.goals == "Fewer tools"


def test_bad_criteria_re_render_the_editor_with_the_message(world: World, client_as: Any) -> None:
    response = client_as("marketing").post(
        "/marketing/personas/new/",
        criteria_post(
            [("contact.title", "contains", "VP"), ("company.employees", "gte", "lots")],
            name="Broken",
        ),
    )
    assert response.status_code == 422
    assert response.context["criteria_error"] == (
        "criterion 2: company.employees needs a whole number, not 'lots'"
    )
    assert "criterion 2: company.employees needs a whole number, not &#x27;lots&#x27;" in (
        response.content.decode()
    )
    assert [r["value"] for r in response.context["rows"]] == ["VP", "lots"]
    assert not Persona.objects.filter(name="Broken").exists()


def test_rows_are_added_and_removed_without_saving(world: World, client_as: Any) -> None:
    client = client_as("marketing")
    rows = [("contact.title", "contains", "VP"), ("company.country", "in", "US")]
    added = client.post("/marketing/personas/new/", criteria_post(rows, name="X", action="add_row"))
    assert added.status_code == 200
    assert [r["field"] for r in added.context["rows"]] == ["contact.title", "company.country", ""]
    removed = client.post(
        "/marketing/personas/new/", criteria_post(rows, name="X", action="remove_row:1")
    )
    assert [r["field"] for r in removed.context["rows"]] == ["company.country"]
    # The operator select offers only what the row's field allows.
    assert removed.context["rows"][0]["ops"] == [("in", "is one of")]
    assert not Persona.objects.exists()


def test_edit_keeps_criteria_and_rejects_a_duplicate_name(
    world: World, client_as: Any, software: Persona
) -> None:
    PersonaFactory(name="Finance")
    client = client_as("marketing")
    page = client.get(f"/marketing/personas/{software.pk}/edit/")
    assert page.context["rows"][0]["value"] == "Software"
    response = client.post(
        f"/marketing/personas/{software.pk}/edit/",
        criteria_post([("company.industry", "in", "Software")], name="finance"),
    )
    assert response.status_code == 422
    assert "a persona named Finance exists" in response.content.decode()
    response = client.post(
        f"/marketing/personas/{software.pk}/edit/",
        criteria_post([("company.country", "in", "gb")], name="Software buyer"),
    )
    assert response.status_code == 302
    software.refresh_from_db()
    assert software.criteria == [{"field": "company.country", "op": "in", "value": ["GB"]}]


def test_live_match_count(world: World, client_as: Any) -> None:
    client = client_as("marketing")
    ok = client.post(
        "/marketing/personas/preview/", criteria_post([("company.industry", "eq", "software")])
    )
    assert ok.content.decode().strip() == "3 contacts you can see fit these criteria."
    bad = client.post("/marketing/personas/preview/", criteria_post([("company.size", "gte", "5")]))
    assert "criterion 1: company.size is not a persona field" in bad.content.decode()


def test_assign_and_delete_from_the_page(world: World, client_as: Any, software: Persona) -> None:
    client = client_as("marketing")
    Contact.objects.filter(pk=world.rep3_contact.pk).update(persona_id=PersonaFactory().pk)
    response = client.post(f"/marketing/personas/{software.pk}/assign/", follow=True)
    assert "Assigned Software buyer to 2 contacts." in response.content.decode()
    response = client.post(
        f"/marketing/personas/{software.pk}/assign/", {"overwrite": "on"}, follow=True
    )
    assert "Assigned Software buyer to 1 contact." in response.content.decode()
    assert set(Contact.objects.filter(persona_id=software.pk).values_list("email", flat=True)) == {
        "ann@acme.com",
        "bob@acme.com",
        "cy@globex.com",
    }
    response = client.post(f"/marketing/personas/{software.pk}/delete/", follow=True)
    assert "Deleted persona Software buyer; 3 contacts no longer have it." in (
        response.content.decode()
    )
    assert Contact.objects.filter(persona_id=software.pk).count() == 0


def test_persona_text_is_escaped(world: World, client_as: Any) -> None:
    persona = PersonaFactory(name=XSS, pains=XSS, criteria=SOFTWARE)
    client = client_as("rep1")
    for url in ("/marketing/personas/", f"/marketing/personas/{persona.pk}/"):
        body = client.get(url).content.decode()
        assert XSS not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    edit = client_as("marketing").get(f"/marketing/personas/{persona.pk}/edit/").content.decode()
    assert XSS not in edit


# Measured for a manager (whose scope needs their teams) plus one: session, user, teams,
# count, page, the per-persona counts in one aggregate, the assigned counts.
LIST_CEILING = 8


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_persona_list_query_count_does_not_grow(
    world: World, client_as: Any, django_assert_max_num_queries: Any, role: str
) -> None:
    client = client_as(role)
    counts = []
    for n in (5, 40):
        for _ in range(n - Persona.objects.count()):
            PersonaFactory(criteria=SOFTWARE)
        with (
            django_assert_max_num_queries(LIST_CEILING),
            CaptureQueriesContext(connection) as ctx,
        ):
            assert client.get("/marketing/personas/").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
