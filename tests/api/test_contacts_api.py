"""Contacts API: CRUD, filters, keyset pagination, 401/403/404/409."""

from __future__ import annotations

from tests.conftest import ApiClient


def test_no_or_bad_key_is_401(world):
    assert ApiClient(None).get("/contacts").status_code == 401
    response = ApiClient("tdm_not-a-real-key").get("/contacts")
    assert response.status_code == 401
    assert response.json() == {"detail": "missing or invalid API key"}


def test_rep_lists_own_and_team_unassigned(world, api_as):
    response = api_as("rep1").get("/contacts")
    assert response.status_code == 200
    emails = {c["email"] for c in response.json()["items"]}
    assert emails == {"ann@acme.com", "dee@initech.com"}


def test_create_conflict_returns_existing_id(world, api_as):
    api = api_as("marketing")
    response = api.post("/contacts", {"email": "  ANN@Acme.com "})
    assert response.status_code == 409
    assert response.json()["existing_id"] == world.rep1_contact.pk


def test_create_and_patch_stage_backward_needs_reason(world, api_as):
    api = api_as("rep1")
    created = api.post("/contacts", {"email": "New.Person@Example.org", "lifecycle_stage": "MQL"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["email"] == "new.person@example.org"
    assert body["owner"] == "rep1"
    back = api.patch(f"/contacts/{body['id']}", {"lifecycle_stage": "lead"})
    assert back.status_code == 400
    assert "reason" in back.json()["detail"]
    ok = api.patch(f"/contacts/{body['id']}", {"lifecycle_stage": "lead", "reason": "not ready"})
    assert ok.status_code == 200
    assert ok.json()["lifecycle_stage"] == "lead"


def test_other_reps_contact_is_404(world, api_as):
    api = api_as("rep1")
    assert api.get(f"/contacts/{world.rep3_contact.pk}").status_code == 404
    assert api.patch(f"/contacts/{world.rep3_contact.pk}", {"title": "x"}).status_code == 404


def test_keyset_pagination_walks_everything_once(world, api_as):
    api = api_as("admin")
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/contacts", **params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and seen == sorted(seen)


def test_bad_cursor_and_limit_are_clear_errors(world, api_as):
    api = api_as("admin")
    assert api.get("/contacts", cursor="garbage!").status_code == 400
    assert api.get("/contacts", limit=501).status_code == 422
