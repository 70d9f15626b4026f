"""Creating contacts and companies by hand, and deleting them, from the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.crm.models import Company, Contact

ROLES = ["admin", "marketing", "manager", "rep1", "rep2", "rep3"]
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def contact_data(**overrides: str) -> dict[str, str]:
    return {
        "email": "new.person@example.com",
        "first_name": "New",
        "last_name": "Person",
        "title": "",
        "phone": "",
        "company_domain": "",
        "lifecycle_stage": "lead",
        "lead_status": "",
        "owner": "",
        "original_source": "other",
    } | overrides


def company_data(**overrides: str) -> dict[str, str]:
    return {
        "name": "Initech",
        "domain": "initech.example",
        "industry": "Software",
        "employees": "1,200",
        "annual_revenue": "2500000",
        "currency": "EUR",
        "country": "de",
        "region": "Berlin",
        "owner": "",
    } | overrides


def owner_options(page) -> list[str]:
    return [value for value, _ in page.context["form"].fields["owner"].choices]


# ---------------------------------------------------------------- access and navigation


@pytest.mark.parametrize("url", ["/contacts/new/", "/companies/new/"])
def test_anonymous_users_are_sent_to_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_new_buttons_and_opens_the_forms(world, client_as, role):
    client = client_as(role)
    assert 'href="/contacts/new/"' in client.get("/contacts/").content.decode()
    assert 'href="/companies/new/"' in client.get("/companies/").content.decode()
    for url in ("/contacts/new/", "/companies/new/"):
        page = client.get(url)
        assert page.status_code == 200, url
        # The creator owns the new record unless they choose otherwise.
        assert page.context["form"]["owner"].value() == role


def test_no_buttons_and_403_for_a_user_who_may_not_create(world, client_as, monkeypatch):
    monkeypatch.setattr("tandem.accounts.permissions.can_create_records", lambda user: False)
    client = client_as("rep1")
    assert "/contacts/new/" not in client.get("/contacts/").content.decode()
    assert "/companies/new/" not in client.get("/companies/").content.decode()
    assert client.get("/contacts/new/").status_code == 403
    assert client.post("/contacts/new/", contact_data(owner="rep1")).status_code == 403
    assert client.post("/companies/new/", company_data(owner="rep1")).status_code == 403
    assert not Contact.objects.filter(email="new.person@example.com").exists()


def test_create_and_delete_need_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.rep1)
    assert client.post("/contacts/new/", contact_data(owner="rep1")).status_code == 403
    assert client.post("/companies/new/", company_data(owner="rep1")).status_code == 403
    assert client.post(f"/contacts/{world.rep1_contact.pk}/delete/").status_code == 403
    assert client.post(f"/companies/{world.acme.pk}/delete/").status_code == 403
    assert not Contact.objects.filter(email="new.person@example.com").exists()
    assert Contact.objects.filter(pk=world.rep1_contact.pk).exists()
    assert Company.objects.filter(pk=world.acme.pk).exists()


# ---------------------------------------------------------------- new contact


@pytest.mark.parametrize("role", ROLES)
def test_every_role_creates_a_contact_it_owns_and_lands_on_it(world, client_as, role):
    user = world.users()[role]
    client = client_as(role)
    response = client.post(
        "/contacts/new/",
        contact_data(email=" New.Person@Example.com ", owner=role, title="CTO", lead_status="new"),
    )
    assert response.status_code == 302
    contact = Contact.objects.get(email="new.person@example.com")
    assert response["Location"] == f"/contacts/{contact.pk}/"
    assert (contact.owner_id, contact.team_id) == (user.pk, user.team_id)
    assert (contact.lifecycle_stage, contact.lead_status, contact.original_source) == (
        "lead",
        "new",
        "other",
    )
    assert contact.lifecycle_changes.get().reason == "created"
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "Created contact New Person (new.person@example.com)." in body
    assert "Contact created" in body  # the timeline's first event


def test_a_rep_may_only_own_the_contacts_they_create(world, client_as):
    client = client_as("rep1")
    assert owner_options(client.get("/contacts/new/")) == ["rep1"]
    for owner in ("rep2", ""):
        refused = client.post("/contacts/new/", contact_data(owner=owner))
        assert refused.status_code == 422, owner
        assert refused.context["form"].errors["owner"], owner
    assert not Contact.objects.filter(email="new.person@example.com").exists()


def test_a_manager_assigns_a_rep_and_marketing_may_leave_it_unassigned(world, client_as):
    manager = client_as("manager")
    assert {"", "rep1", "rep2", "manager"} <= set(owner_options(manager.get("/contacts/new/")))
    assert manager.post("/contacts/new/", contact_data(owner="rep2")).status_code == 302
    contact = Contact.objects.get(email="new.person@example.com")
    assert (contact.owner_id, contact.team_id) == (world.rep2.pk, world.east.pk)
    # rep3 is in a team the manager does not manage.
    assert (
        manager.post(
            "/contacts/new/", contact_data(email="x@example.com", owner="rep3")
        ).status_code
        == 422
    )
    marketing = client_as("marketing")
    created = marketing.post("/contacts/new/", contact_data(email="y@example.com", owner=""))
    assert created.status_code == 302
    assert Contact.objects.get(email="y@example.com").owner_id is None


def test_company_is_chosen_by_a_visible_domain(world, client_as):
    client = client_as("rep1")
    form = client.get("/contacts/new/")
    assert form.context["company_domains"] == [("acme.com", "Acme Corp")]
    done = client.post("/contacts/new/", contact_data(owner="rep1", company_domain="WWW.Acme.com"))
    assert done.status_code == 302
    assert Contact.objects.get(email="new.person@example.com").company_id == world.acme.pk
    # globex belongs to another team: it is not found, and nothing is created.
    hidden = client.post(
        "/contacts/new/",
        contact_data(email="z@example.com", owner="rep1", company_domain="globex.com"),
    )
    assert hidden.status_code == 422
    assert hidden.context["form"].errors["company_domain"] == [
        "no company you can see has the domain globex.com"
    ]
    bad = client.post(
        "/contacts/new/",
        contact_data(email="z@example.com", owner="rep1", company_domain="not a domain"),
    )
    assert bad.status_code == 422
    assert "is not a valid domain name" in bad.context["form"].errors["company_domain"][0]
    assert not Contact.objects.filter(email="z@example.com").exists()


def test_service_errors_show_next_to_their_field(world, client_as):
    client = client_as("rep1")
    response = client.post("/contacts/new/", contact_data(owner="rep1", email="not-an-email"))
    assert response.status_code == 422
    assert response.context["form"].errors["email"] == [
        "email 'not-an-email' is not a valid address"
    ]
    body = response.content.decode()
    assert 'class="field invalid"' in body and "is not a valid address" in body
    missing = client.post("/contacts/new/", contact_data(owner="rep1", email=""))
    assert missing.status_code == 422 and missing.context["form"].errors["email"]


def test_a_duplicate_email_links_to_the_contact_only_when_the_user_may_see_it(world, client_as):
    client = client_as("rep1")
    visible = client.post("/contacts/new/", contact_data(owner="rep1", email="ANN@acme.com"))
    assert visible.status_code == 422
    assert visible.context["form"].errors["email"] == ["a contact with email ann@acme.com exists"]
    assert f'href="/contacts/{world.rep1_contact.pk}/"' in visible.content.decode()
    hidden = client.post("/contacts/new/", contact_data(owner="rep1", email="cy@globex.com"))
    assert hidden.status_code == 422
    assert hidden.context["form"].errors["email"] == ["a contact with this email already exists"]
    assert f"/contacts/{world.rep3_contact.pk}/" not in hidden.content.decode()
    assert Contact.objects.filter(email="cy@globex.com").get().owner_id == world.rep3.pk


def test_names_on_the_new_contact_render_escaped(world, client_as):
    client = client_as("rep1")
    response = client.post(
        "/contacts/new/",
        contact_data(owner="rep1", first_name=XSS, last_name=XSS, title=XSS, phone="+1 555"),
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert XSS not in body and ESCAPED in body
    # The flash message names the contact, escaped as well.
    assert f"Created contact {ESCAPED} {ESCAPED}" in body
    # A refused form echoes what was typed, escaped.
    refused = client.post("/contacts/new/", contact_data(owner="rep1", email=XSS, title=XSS))
    assert refused.status_code == 422
    assert XSS not in refused.content.decode()


# ---------------------------------------------------------------- new company


def test_a_rep_creates_a_company_they_own(world, client_as):
    client = client_as("rep1")
    page = client.get("/companies/new/")
    assert owner_options(page) == ["rep1"] and page.context["form"]["currency"].value() == "USD"
    assert client.post("/companies/new/", company_data(owner="rep2")).status_code == 422
    response = client.post("/companies/new/", company_data(owner="rep1"), follow=True)
    company = Company.objects.get(domain="initech.example")
    assert response.redirect_chain == [(f"/companies/{company.pk}/", 302)]
    assert (company.owner_id, company.team_id, company.employees, company.country) == (
        world.rep1.pk,
        world.east.pk,
        1200,
        "DE",
    )
    assert (str(company.annual_revenue), company.currency) == ("2500000.00", "EUR")
    assert "Created company Initech (initech.example)." in response.content.decode()


def test_company_errors_show_next_to_their_field(world, client_as):
    client = client_as("marketing")
    bad = client.post("/companies/new/", company_data(country="Germany"))
    assert bad.status_code == 422
    assert bad.context["form"].errors["country"] == [
        "country 'GERMANY' must be a two-letter ISO code"
    ]
    assert client.post("/companies/new/", company_data(name="  ")).status_code == 422
    assert not Company.objects.filter(domain="initech.example").exists()


def test_a_duplicate_domain_links_to_the_company_only_when_the_user_may_see_it(world, client_as):
    rep1 = client_as("rep1")
    visible = rep1.post(
        "/companies/new/", company_data(owner="rep1", domain="https://www.acme.com/")
    )
    assert visible.status_code == 422
    assert visible.context["form"].errors["domain"] == ["a company with domain acme.com exists"]
    assert f'href="/companies/{world.acme.pk}/"' in visible.content.decode()
    rep3 = client_as("rep3")
    hidden = rep3.post("/companies/new/", company_data(owner="rep3", domain="acme.com"))
    assert hidden.context["form"].errors["domain"] == ["a company with this domain already exists"]
    assert f"/companies/{world.acme.pk}/" not in hidden.content.decode()


def test_company_name_renders_escaped(world, client_as):
    response = client_as("rep1").post(
        "/companies/new/", company_data(owner="rep1", name=XSS, industry=XSS), follow=True
    )
    body = response.content.decode()
    assert XSS not in body and ESCAPED in body


# ---------------------------------------------------------------- delete


def test_a_rep_deletes_their_own_contact(world, client_as):
    client = client_as("rep1")
    pk = world.rep1_contact.pk
    assert "Delete this contact" in client.get(f"/contacts/{pk}/").content.decode()
    response = client.post(f"/contacts/{pk}/delete/", follow=True)
    assert response.redirect_chain == [("/contacts/", 302)]
    assert "Deleted contact Ann Archer (ann@acme.com)." in response.content.decode()
    assert not Contact.objects.filter(pk=pk).exists()
    assert client.get(f"/contacts/{pk}/").status_code == 404


def test_another_reps_contact_is_404_and_stays(world, client_as):
    pk = world.rep2_contact.pk
    assert client_as("rep1").post(f"/contacts/{pk}/delete/").status_code == 404
    assert client_as("rep3").post(f"/companies/{world.acme.pk}/delete/").status_code == 404
    assert (
        Contact.objects.filter(pk=pk).exists() and Company.objects.filter(pk=world.acme.pk).exists()
    )


@pytest.mark.parametrize("role", ["marketing", "admin", "manager"])
def test_marketing_admin_and_managers_delete_what_they_may_edit(world, client_as, role):
    client = client_as(role)
    assert client.post(f"/contacts/{world.rep1_contact.pk}/delete/").status_code == 302
    assert not Contact.objects.filter(pk=world.rep1_contact.pk).exists()


def test_delete_is_post_only(world, client_as):
    client = client_as("rep1")
    assert client.get(f"/contacts/{world.rep1_contact.pk}/delete/").status_code == 405
    assert client.get(f"/companies/{world.acme.pk}/delete/").status_code == 405
    assert Contact.objects.filter(pk=world.rep1_contact.pk).exists()


def test_view_only_users_get_no_delete_button_and_403(world, client_as, monkeypatch):
    monkeypatch.setattr("tandem.accounts.permissions.can_edit", lambda user, obj: False)
    client = client_as("rep1")
    pk = world.rep1_contact.pk
    assert "Delete this contact" not in client.get(f"/contacts/{pk}/").content.decode()
    assert "Delete this company" not in client.get(f"/companies/{world.acme.pk}/").content.decode()
    assert client.post(f"/contacts/{pk}/delete/").status_code == 403
    assert client.post(f"/companies/{world.acme.pk}/delete/").status_code == 403
    assert (
        Contact.objects.filter(pk=pk).exists() and Company.objects.filter(pk=world.acme.pk).exists()
    )


def test_deleting_a_company_keeps_its_contacts(world, client_as):
    client = client_as("rep1")
    assert "Delete this company" in client.get(f"/companies/{world.acme.pk}/").content.decode()
    response = client.post(f"/companies/{world.acme.pk}/delete/", follow=True)
    assert response.redirect_chain == [("/companies/", 302)]
    assert (
        "Deleted company Acme Corp (acme.com). Its contacts were kept." in response.content.decode()
    )
    assert not Company.objects.filter(pk=world.acme.pk).exists()
    world.rep1_contact.refresh_from_db()
    assert world.rep1_contact.company_id is None
