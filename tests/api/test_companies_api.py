"""Companies, activities and the company timeline over the API."""

from __future__ import annotations

from tandem.crm.models import Activity, Company


def test_create_normalises_domain_and_defaults_owner_for_reps(world, api_as):
    """Given rep1 posts a website URL, then the company stores the bare domain and belongs to rep1."""
    response = api_as("rep1").post(
        "/companies", {"name": " Initech ", "domain": "https://www.Initech.COM/about"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["domain"], body["owner"]) == ("Initech", "initech.com", "rep1")
    assert Company.objects.get(pk=body["id"]).team == world.east


def test_duplicate_domain_is_409_with_existing_id(world, api_as):
    """Given Acme on acme.com, when a URL of the same host is posted, then 409 with Acme's id."""
    response = api_as("marketing").post(
        "/companies", {"name": "Acme again", "domain": "http://WWW.acme.com/x?y=1"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "a company with domain acme.com exists",
        "existing_id": world.acme.pk,
    }
    assert Company.objects.filter(domain="acme.com").count() == 1


def test_patch_domain_to_another_companys_is_409(world, api_as):
    """Then moving a company onto a domain already on file is a 409 naming the holder."""
    response = api_as("admin").patch(f"/companies/{world.acme.pk}", {"domain": "Globex.com"})
    assert response.status_code == 409
    assert response.json()["existing_id"] == world.globex.pk


def test_patch_company_fields(world, api_as):
    """When rep1 patches Acme, then the values are cleaned and stored."""
    response = api_as("rep1").patch(
        f"/companies/{world.acme.pk}",
        {
            "industry": " Retail ",
            "employees": 250,
            "country": "de",
            "annual_revenue": "1200000.5",
            "region": "emea",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["industry"], body["employees"], body["country"], body["region"]) == (
        "Retail",
        250,
        "DE",
        "emea",
    )
    assert body["annual_revenue"] in ("1200000.50", 1200000.5)


def test_patch_too_long_region_is_400(world, api_as):
    """Then a region past its 60 characters is refused with a message, not stored or a 500."""
    response = api_as("admin").patch(f"/companies/{world.acme.pk}", {"region": "r" * 61})
    assert response.status_code == 400
    assert response.json() == {"detail": "region is longer than 60 characters"}


def test_patch_company_owner_rules(world, api_as):
    """Given rep1's Acme, then rep1 may not hand it to rep3, but admin may (and the team follows)."""
    assert api_as("rep1").patch(f"/companies/{world.acme.pk}", {"owner": "rep3"}).status_code == 403
    assert (
        api_as("admin").patch(f"/companies/{world.acme.pk}", {"owner": "rep3"}).json()["owner"]
        == "rep3"
    )
    world.acme.refresh_from_db()
    assert world.acme.team == world.west


def test_company_search_and_country(world, api_as):
    """Then ?q= matches name or domain and ?country= filters, within visibility."""
    admin = api_as("admin")
    assert [c["name"] for c in admin.get("/companies", q="glob").json()["items"]] == ["Globex"]
    assert [c["name"] for c in admin.get("/companies", q="acme.c").json()["items"]] == ["Acme Corp"]
    assert [c["name"] for c in admin.get("/companies", country="us").json()["items"]] == [
        "Acme Corp",
        "Globex",
    ]
    assert api_as("rep1").get("/companies", q="glob").json()["items"] == []


def test_delete_company_keeps_its_contacts(world, api_as):
    """When Acme is deleted, then its contacts remain, without a company."""
    assert api_as("rep1").delete(f"/companies/{world.acme.pk}").status_code == 204
    world.rep1_contact.refresh_from_db()
    assert world.rep1_contact.company is None


def test_company_timeline_collects_its_contacts_events(world, api_as):
    """Given a new company and a note on one of its contacts, then the company timeline shows both."""
    api = api_as("admin")
    company = api.post("/companies", {"name": "Umbrella", "domain": "umbrella.example"}).json()
    contact = api.post(
        "/contacts", {"email": "u@umbrella.example", "company_id": company["id"]}
    ).json()
    api.post(f"/contacts/{contact['id']}/activities", {"kind": "note", "body": "met at a fair"})
    events = api.get(f"/companies/{company['id']}/timeline").json()["items"]
    assert [e["type"] for e in events] == ["activity_note", "contact_created", "company_created"]
    assert {e["company_id"] for e in events} == {company["id"]}


def test_log_call_and_task_then_complete(world, api_as):
    """Given rep1 logs a call and a task, then both are listed, and completing the task is idempotent."""
    api = api_as("rep1")
    path = f"/contacts/{world.rep1_contact.pk}/activities"
    call = api.post(
        path, {"kind": "call", "call_outcome": "Left voicemail", "duration_seconds": 95}
    )
    assert call.status_code == 201, call.content
    assert (call.json()["call_outcome"], call.json()["duration_seconds"], call.json()["owner"]) == (
        "left_voicemail",
        95,
        "rep1",
    )
    no_due = api.post(path, {"kind": "task", "subject": "send deck"})
    assert no_due.status_code == 400
    assert no_due.json() == {"detail": "a task needs a due date"}
    task = api.post(
        path, {"kind": "task", "subject": "send deck", "due_at": "2030-01-02T09:00:00Z"}
    ).json()
    assert [a["kind"] for a in api.get(path).json()["items"]] == ["task", "call"]
    first = api.post(f"/activities/{task['id']}/complete")
    second = api.post(f"/activities/{task['id']}/complete")
    assert first.status_code == second.status_code == 200
    assert first.json()["done_at"] is not None
    assert first.json()["done_at"] == second.json()["done_at"]
    types = [
        e["type"] for e in api.get(f"/contacts/{world.rep1_contact.pk}/timeline").json()["items"]
    ]
    assert types == ["task_completed", "activity_task", "activity_call"]


def test_completing_a_non_task_is_400(world, api_as):
    """Then only tasks can be completed."""
    api = api_as("rep1")
    note = api.post(
        f"/contacts/{world.rep1_contact.pk}/activities", {"kind": "note", "body": "x"}
    ).json()
    response = api.post(f"/activities/{note['id']}/complete")
    assert response.status_code == 400
    assert response.json() == {"detail": "only tasks can be completed"}
    assert Activity.objects.get(pk=note["id"]).done_at is None


def test_unknown_activity_kind_is_400(world, api_as):
    """Then an activity kind outside the list names the choices."""
    response = api_as("rep1").post(f"/contacts/{world.rep1_contact.pk}/activities", {"kind": "fax"})
    assert response.status_code == 400
    assert response.json()["detail"] == "kind 'fax' is not one of: note, call, meeting, task, email"
