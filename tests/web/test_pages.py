"""Pages by role: status codes, what each role sees, htmx partials, escaping and sort safety."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.accounts.models import ApiKey
from tandem.accounts.services import create_api_key
from tandem.crm.models import Contact
from tests.crm.factories import ContactFactory
from tests.web.conftest import htmx

ROLES = ["admin", "marketing", "manager", "rep1", "rep2", "rep3"]
XSS = "<script>alert(1)</script>"


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    "url", ["/contacts/", "/companies/", "/import/", "/settings/api-keys/", "/contacts/1/"]
)
def test_anonymous_users_are_sent_to_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_opens_the_lists_and_its_keys(world, client_as, role):
    client = client_as(role)
    for url in ("/contacts/", "/companies/", "/settings/api-keys/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("role", "emails"),
    [
        (
            "admin",
            {"ann@acme.com", "bob@acme.com", "cy@globex.com", "dee@initech.com", "eve@hooli.com"},
        ),
        (
            "marketing",
            {"ann@acme.com", "bob@acme.com", "cy@globex.com", "dee@initech.com", "eve@hooli.com"},
        ),
        ("manager", {"ann@acme.com", "bob@acme.com", "dee@initech.com"}),
        ("rep1", {"ann@acme.com", "dee@initech.com"}),
        ("rep2", {"bob@acme.com", "dee@initech.com"}),
        ("rep3", {"cy@globex.com"}),
    ],
)
def test_contact_list_shows_only_what_the_role_may_see(world, client_as, role, emails):
    page = client_as(role).get("/contacts/")
    shown = {c.email for c in page.context["page_obj"]}
    assert shown == emails
    for contact in Contact.objects.exclude(email__in=emails):
        assert contact.email not in page.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("marketing", 200),
        ("manager", 200),
        ("rep1", 200),
        ("rep2", 404),
        ("rep3", 404),
    ],
)
def test_contact_page_is_404_for_roles_that_cannot_see_it(world, client_as, role, status):
    client = client_as(role)
    pk = world.rep1_contact.pk
    assert client.get(f"/contacts/{pk}/").status_code == status
    assert client.get(f"/contacts/{pk}/timeline/").status_code == status
    # Writes to an invisible contact are 404 too, before any permission to act is considered.
    if status == 404:
        for action in ("activities", "stage", "edit", "merge"):
            assert client.post(f"/contacts/{pk}/{action}/", {}).status_code == 404, action


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("marketing", 200),
        ("manager", 200),
        ("rep1", 200),
        ("rep2", 404),
        ("rep3", 404),
    ],
)
def test_company_page_is_404_for_roles_that_cannot_see_it(world, client_as, role, status):
    client = client_as(role)
    assert client.get(f"/companies/{world.acme.pk}/").status_code == status
    assert client.get(f"/companies/{world.acme.pk}/timeline/").status_code == status
    if status == 404:
        assert client.post(f"/companies/{world.acme.pk}/edit/", {"name": "X"}).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("marketing", 200),
        ("manager", 403),
        ("rep1", 403),
        ("rep2", 403),
        ("rep3", 403),
    ],
)
def test_import_is_for_admin_and_marketing_only(world, client_as, role, status):
    client = client_as(role)
    assert client.get("/import/").status_code == status
    assert client.post("/import/", {"kind": "contacts"}).status_code in (
        (422,) if status == 200 else (403,)
    )
    nav = [item["label"] for item in client.get("/contacts/").context["nav"]]
    assert ("Import" in nav) is (status == 200)


@pytest.mark.parametrize("role", ROLES)
def test_editors_see_the_forms_on_their_contacts(world, client_as, role):
    contact = world.rep3_contact if role == "rep3" else world.east_unassigned
    page = client_as(role).get(f"/contacts/{contact.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Log activity" in body and "Change stage" in body and "Edit details" in body
    assert ("Merge a duplicate" in body) is (role in ("admin", "marketing", "manager"))


def test_users_who_may_only_view_get_no_forms_and_403_on_post(world, client_as, monkeypatch):
    # No role is view-only on contacts today; the page must still honour can_edit when one is.
    monkeypatch.setattr("tandem.accounts.permissions.can_edit", lambda user, obj: False)
    client = client_as("rep1")
    pk = world.rep1_contact.pk
    body = client.get(f"/contacts/{pk}/").content.decode()
    assert "Log activity" not in body and "Change stage" not in body and "Edit details" not in body
    for action, data in [
        ("activities", {"kind": "note", "body": "hi"}),
        ("stage", {"to_stage": "customer"}),
        ("edit", {"email": "x@example.com"}),
        ("merge", {"email": "bob@acme.com"}),
    ]:
        assert client.post(f"/contacts/{pk}/{action}/", data).status_code == 403, action
    assert client.post(f"/companies/{world.acme.pk}/edit/", {"name": "X"}).status_code == 403
    assert Contact.objects.get(pk=pk).lifecycle_stage == "lead"


def test_merge_is_403_for_reps(world, client_as):
    response = client_as("rep1").post(
        f"/contacts/{world.rep1_contact.pk}/merge/", {"email": "dee@initech.com"}
    )
    assert response.status_code == 403
    assert Contact.objects.filter(email="dee@initech.com").exists()


def test_posts_need_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.rep1)
    response = client.post(
        f"/contacts/{world.rep1_contact.pk}/activities/", {"kind": "note", "body": "x"}
    )
    assert response.status_code == 403
    assert not world.rep1_contact.activities.exists()


# ---------------------------------------------------------------- lists


def test_htmx_request_gets_only_the_table(world, client_as):
    client = client_as("admin")
    lists = [
        ("/contacts/?q=ann", "contacts-table", "contact-filters"),
        ("/companies/?q=acme", "companies-table", "company-filters"),
    ]
    for url, table_id, form_id in lists:
        full = client.get(url).content.decode()
        partial = client.get(url, **htmx())
        body = partial.content.decode()
        assert partial.status_code == 200
        assert (
            "<html" in full and f'<form id="{form_id}"' in full and f'<div id="{table_id}"' in full
        )
        assert body.lstrip().startswith(f'<div id="{table_id}"')
        assert (
            "<html" not in body and '<nav aria-label="Main"' not in body and "<form id=" not in body
        )
        assert "HX-Request" in partial["Vary"]
        assert partial["HX-Push-Url"] == url  # the default sort stays out of the address
    # Empty and invalid fields never reach the address bar.
    pushed = client.get("/contacts/?q=&stage=bogus&owner=&company=&sort=-email&page=1", **htmx())[
        "HX-Push-Url"
    ]
    assert pushed == "/contacts/?sort=-email"
    # A history restore after a cache miss needs the whole page again.
    restore = client.get("/contacts/", **htmx(HTTP_HX_HISTORY_RESTORE_REQUEST="true"))
    assert "<html" in restore.content.decode()


def test_contact_search_filters_and_unassigned(world, client_as):
    client = client_as("admin")

    def emails(query: str) -> set[str]:
        return {c.email for c in client.get("/contacts/" + query).context["page_obj"]}

    assert emails("?q=ann") == {"ann@acme.com"}
    assert emails("?q=acme") == {"ann@acme.com", "bob@acme.com"}  # company name prefix
    assert emails("?owner=none") == {"dee@initech.com", "eve@hooli.com"}
    assert emails("?owner=rep3") == {"cy@globex.com"}
    assert emails(f"?company={world.globex.pk}") == {"cy@globex.com"}
    Contact.objects.filter(email="bob@acme.com").update(lifecycle_stage="customer")
    assert emails("?stage=customer") == {"bob@acme.com"}
    # Values outside the allow-lists are dropped, not trusted.
    assert len(emails("?stage=nonsense&company=abc")) == 5
    # A company id no record can have is dropped too, rather than overflowing the SQL integer.
    assert len(emails("?company=99999999999999999999")) == 5


def test_contact_sort_and_reverse(world, client_as):
    client = client_as("admin")
    asc = [c.email for c in client.get("/contacts/?sort=email").context["page_obj"]]
    desc = [c.email for c in client.get("/contacts/?sort=-email").context["page_obj"]]
    assert asc == sorted(asc) and desc == list(reversed(asc))
    page = client.get("/contacts/?sort=email")
    header = next(h for h in page.context["headers"] if h["label"] == "Email")
    assert header["state"] == "asc" and "sort=-email" in header["url"]


@pytest.mark.parametrize(
    "bad",
    [
        "password",
        "owner__password",
        "-owner__password",
        "email); DROP TABLE crm_contact;--",
        XSS,
        "-",
    ],
)
def test_a_bad_sort_falls_back_and_is_never_echoed(world, client_as, bad):
    client = client_as("admin")
    for url in ("/contacts/", "/companies/"):
        response = client.get(url, {"sort": bad})
        assert response.status_code == 200
        assert response.context["sort"] in ("last_name", "name", "-")
        body = response.content.decode()
        assert "DROP TABLE" not in body and "password" not in body
        assert XSS not in body
    assert Contact.objects.count() == 5


def test_pagination_fifty_a_page(world, client_as, rep1_contacts):
    rep1_contacts(60)
    client = client_as("rep1")
    first = client.get("/contacts/?sort=email")
    assert len(first.context["page_obj"]) == 50
    assert first.context["page_obj"].paginator.count == 62
    second = client.get("/contacts/?sort=email&page=2", **htmx())
    assert len(second.context["page_obj"]) == 12
    assert 'rel="prev"' in second.content.decode()
    assert client.get("/contacts/?page=999").context["page_obj"].number == 2
    assert client.get("/contacts/?page=abc").context["page_obj"].number == 1


def test_company_list_filters_and_sort(world, client_as):
    world.globex.country, world.globex.industry = "DE", "Manufacturing"
    world.globex.save()
    client = client_as("admin")
    names = lambda q: [c.name for c in client.get("/companies/" + q).context["page_obj"]]  # noqa: E731
    assert names("?country=de") == ["Globex"]
    assert names("?industry=Manufacturing") == ["Globex"]
    assert names("?q=acm") == ["Acme Corp"]
    assert names("?sort=-name") == ["Globex", "Acme Corp"]
    page = client.get("/companies/")
    assert page.context["countries"] == ["DE", "US"]
    assert client_as("rep3").get("/companies/").context["page_obj"].paginator.count == 1


def test_export_csv_respects_visibility_and_filters(world, client_as):
    response = client_as("rep1").get("/contacts/export.csv?q=ann")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="contacts.csv"' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    assert "ann@acme.com" in text and "dee@initech.com" not in text
    everything = b"".join(client_as("rep1").get("/contacts/export.csv").streaming_content).decode()
    assert "dee@initech.com" in everything and "bob@acme.com" not in everything


# ---------------------------------------------------------------- escaping


def test_user_typed_values_render_escaped_everywhere(world, client_as):
    evil = ContactFactory(
        email="evil@acme.com",
        first_name=XSS,
        last_name="",
        company=world.acme,
        owner=world.rep1,
        team=world.east,
        title=XSS,
    )
    client = client_as("rep1")
    log = client.post(
        f"/contacts/{evil.pk}/activities/", {"kind": "note", "subject": XSS, "body": XSS}, **htmx()
    )
    assert log.status_code == 200
    pages = [
        client.get("/contacts/"),
        client.get("/contacts/", {"q": XSS}),
        client.get(f"/contacts/{evil.pk}/"),
        client.get(f"/companies/{world.acme.pk}/"),
        log,
    ]
    for page in pages:
        body = page.content.decode()
        assert XSS not in body
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in pages[0].content.decode()
    assert escaped in pages[2].content.decode()
    assert escaped in pages[3].content.decode()


# ---------------------------------------------------------------- contact page actions


def test_log_a_call_returns_the_refreshed_panel(world, client_as):
    client = client_as("rep1")
    pk = world.rep1_contact.pk
    response = client.post(
        f"/contacts/{pk}/activities/",
        {
            "kind": "call",
            "subject": "Intro call",
            "call_outcome": "connected",
            "duration_minutes": "15",
            "due_date": "2030-01-01",
        },
        **htmx(),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="activity-panel"')
    assert "Intro call · Connected · 15 min" in body  # the timeline row
    activity = world.rep1_contact.activities.get()
    assert (activity.kind, activity.call_outcome, activity.duration_seconds, activity.due_at) == (
        "call",
        "connected",
        900,
        None,
    )


def test_log_activity_without_htmx_redirects_back(world, client_as):
    response = client_as("rep1").post(
        f"/contacts/{world.rep1_contact.pk}/activities/", {"kind": "note", "body": "x"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{world.rep1_contact.pk}/"


def test_a_task_without_a_due_date_shows_the_service_error(world, client_as):
    response = client_as("rep1").post(
        f"/contacts/{world.rep1_contact.pk}/activities/",
        {"kind": "task", "subject": "Follow up"},
        **htmx(),
    )
    assert response.status_code == 422
    # shown under the due-date input, not as a loose message
    assert (
        '<ul class="errorlist" id="log_due_date_error"><li>a task needs a due date</li>'
        in response.content.decode()
    )
    assert not world.rep1_contact.activities.exists()
    ok = client_as("rep1").post(
        f"/contacts/{world.rep1_contact.pk}/activities/",
        {"kind": "task", "subject": "Follow up", "due_date": "2030-05-03"},
        **htmx(),
    )
    assert ok.status_code == 200
    assert world.rep1_contact.activities.get().due_at.date().isoformat() == "2030-05-03"


def test_stage_change_forward_and_backward_needs_reason(world, client_as):
    client = client_as("rep1")
    pk = world.rep1_contact.pk
    assert client.post(f"/contacts/{pk}/stage/", {"to_stage": "sql"}).status_code == 302
    back = client.post(f"/contacts/{pk}/stage/", {"to_stage": "lead"})
    assert back.status_code == 422
    assert (
        '<ul class="errorlist" id="stage_reason_error"><li>moving from sql back to lead needs a reason</li>'
        in (back.content.decode())
    )
    assert Contact.objects.get(pk=pk).lifecycle_stage == "sql"
    assert (
        client.post(
            f"/contacts/{pk}/stage/", {"to_stage": "lead", "reason": "went quiet"}
        ).status_code
        == 302
    )
    page = client.get(f"/contacts/{pk}/")
    history = [(h.from_stage, h.to_stage, h.reason) for h in page.context["history"]]
    assert history[:2] == [("sql", "lead", "went quiet"), ("lead", "sql", "")]
    assert "went quiet" in page.content.decode()


def test_edit_contact_and_domain_errors_next_to_the_field(world, client_as):
    client = client_as("rep1")
    pk = world.rep1_contact.pk
    data = {
        "first_name": "Annie",
        "last_name": "Archer",
        "email": "ann@acme.com",
        "title": "CEO",
        "phone": "",
        "company_domain": "acme.com",
        "owner": "rep1",
        "lead_status": "",
    }
    assert client.post(f"/contacts/{pk}/edit/", data).status_code == 302
    contact = Contact.objects.get(pk=pk)
    assert (contact.first_name, contact.title) == ("Annie", "CEO")
    taken = client.post(f"/contacts/{pk}/edit/", data | {"email": "DEE@initech.com"})
    assert taken.status_code == 422
    assert "a contact with email dee@initech.com exists" in taken.content.decode()
    unknown = client.post(f"/contacts/{pk}/edit/", data | {"company_domain": "globex.com"})
    assert "no company you can see has the domain globex.com" in unknown.content.decode()
    # A rep may not hand a contact to someone else: the choice is not offered.
    assert client.post(f"/contacts/{pk}/edit/", data | {"owner": "rep2"}).status_code == 422
    assert Contact.objects.get(pk=pk).owner_id == world.rep1.pk


def test_manager_merges_a_duplicate_by_email(world, client_as):
    client = client_as("manager")
    pk = world.rep1_contact.pk
    missing = client.post(
        f"/contacts/{pk}/merge/", {"email": "eve@hooli.com"}
    )  # not in the manager's teams
    assert missing.status_code == 422
    assert "no contact you may change has the email eve@hooli.com" in missing.content.decode()
    response = client.post(f"/contacts/{pk}/merge/", {"email": " Dee@Initech.com "})
    assert response.status_code == 302
    assert not Contact.objects.filter(email="dee@initech.com").exists()
    assert "Duplicate merged in" in client.get(f"/contacts/{pk}/").content.decode()


def test_timeline_loads_more_fifty_at_a_time(world, client_as):
    from tandem.crm.services import record_event

    for i in range(60):
        record_event(
            type="page_viewed",
            idempotency_key=f"pv{i}",
            contact=world.rep1_contact,
            properties={"url": f"/p/{i}"},
        )
    client = client_as("rep1")
    page = client.get(f"/contacts/{world.rep1_contact.pk}/")
    assert len(page.context["timeline"]) == 50 and page.context["next_offset"] == 50
    more = client.get(f"/contacts/{world.rep1_contact.pk}/timeline/?offset=50", **htmx())
    assert len(more.context["timeline"]) == 10 and more.context["next_offset"] is None
    assert "Load more" not in more.content.decode()


def test_company_page_hides_events_of_contacts_the_user_cannot_see(world, client_as):
    from tandem.crm.services import log_activity

    log_activity(kind="note", by=world.rep2, contact=world.rep2_contact, subject="bob-secret")
    log_activity(kind="note", by=world.rep1, contact=world.rep1_contact, subject="ann-visible")
    rep1_page = client_as("rep1").get(f"/companies/{world.acme.pk}/").content.decode()
    assert (
        "ann-visible" in rep1_page
        and "bob-secret" not in rep1_page
        and "bob@acme.com" not in rep1_page
    )
    assert "bob-secret" in client_as("manager").get(f"/companies/{world.acme.pk}/").content.decode()


def test_contact_page_links_its_company_only_when_the_user_may_open_it(world, client_as):
    """Given rep1's contact works at rep3's company, then rep1 sees the company's name but no
    link to a page that would be a 404; the company's owner gets the link."""
    Contact.objects.filter(pk=world.rep1_contact.pk).update(company=world.globex)
    company_url = f'href="/companies/{world.globex.pk}/"'
    rep1_page = client_as("rep1").get(f"/contacts/{world.rep1_contact.pk}/").content.decode()
    assert "Globex" in rep1_page and company_url not in rep1_page
    admin_page = client_as("admin").get(f"/contacts/{world.rep1_contact.pk}/").content.decode()
    assert company_url in admin_page


def test_company_edit(world, client_as):
    client = client_as("rep1")
    data = {
        "name": "Acme Corporation",
        "domain": "acme.com",
        "industry": "Software",
        "employees": "1,200",
        "annual_revenue": "",
        "currency": "USD",
        "country": "US",
        "region": "",
        "owner": "rep1",
    }
    assert client.post(f"/companies/{world.acme.pk}/edit/", data).status_code == 302
    world.acme.refresh_from_db()
    assert (world.acme.name, world.acme.employees) == ("Acme Corporation", 1200)
    bad = client.post(f"/companies/{world.acme.pk}/edit/", data | {"country": "Germany"})
    assert bad.status_code == 422
    assert "must be a two-letter ISO code" in bad.content.decode()


# ---------------------------------------------------------------- API keys


def test_api_key_is_shown_once_then_only_its_prefix(world, client_as):
    client = client_as("rep1")
    created = client.post("/settings/api-keys/", {"name": "zapier"})
    assert created.status_code == 200
    raw = created.context["raw_key"]
    assert raw.startswith("tdm_") and raw in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    again = client.get("/settings/api-keys/").content.decode()
    assert raw not in again and raw[:12] in again and "zapier" in again


def test_revoke_own_key_only(world, client_as):
    mine, _ = create_api_key(user=world.rep1, name="mine")
    theirs, _ = create_api_key(user=world.rep2, name="theirs")
    client = client_as("rep1")
    assert "theirs" not in client.get("/settings/api-keys/").content.decode()
    assert client.post(f"/settings/api-keys/{theirs.pk}/revoke/").status_code == 404
    assert client.get(f"/settings/api-keys/{mine.pk}/revoke/").status_code == 405
    assert client.post(f"/settings/api-keys/{mine.pk}/revoke/").status_code == 302
    assert ApiKey.objects.get(pk=mine.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None


# ---------------------------------------------------------------- tasks


def test_an_open_task_is_marked_done_from_the_contact_page(world, client_as):
    from datetime import timedelta

    from django.utils import timezone

    from tandem.crm import services

    task = services.log_activity(
        kind="task",
        by=world.rep1,
        contact=world.rep1_contact,
        subject="Send pricing",
        due_at=timezone.now() + timedelta(days=2),
    )
    url = f"/contacts/{world.rep1_contact.pk}/tasks/{task.pk}/done/"
    page = client_as("rep1").get(f"/contacts/{world.rep1_contact.pk}/")
    assert url in page.content.decode()
    # Another team's rep cannot see the contact at all.
    assert client_as("rep3").post(url).status_code == 404
    assert client_as("marketing").post(url, **htmx()).status_code == 200
    task.refresh_from_db()
    assert task.done_at is not None
    body = client_as("rep1").post(url, **htmx()).content.decode()  # done twice: still done once
    assert "Task done." in body and url not in body
    assert world.rep1_contact.events.filter(type="task_completed").count() == 1


def test_a_note_cannot_be_completed_as_a_task(world, client_as):
    from tandem.crm import services

    note = services.log_activity(
        kind="note", by=world.rep1, contact=world.rep1_contact, subject="Hi"
    )
    url = f"/contacts/{world.rep1_contact.pk}/tasks/{note.pk}/done/"
    assert client_as("rep1").post(url).status_code == 404
