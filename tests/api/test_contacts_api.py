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


# --- authentication and error format -------------------------------------------------------------


def test_other_auth_schemes_are_401(world):
    """Given a Basic header or a key-shaped but unknown bearer, then 401 with a JSON detail."""
    client = ApiClient(None).client
    assert (
        client.get("/api/v1/contacts", HTTP_AUTHORIZATION="Basic YWRtaW46cHc=").status_code == 401
    )
    response = ApiClient("tdm_" + "A" * 43).get("/contacts")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_errors_are_json_detail(world, api_as):
    """Then 404, 403, 400 and 422 all answer JSON with a "detail"."""
    rep = api_as("rep1")
    not_found = rep.get(f"/contacts/{world.rep3_contact.pk}")
    assert not_found.json() == {"detail": "not found"}
    forbidden = rep.patch(f"/contacts/{world.rep1_contact.pk}", {"owner": "rep3"})
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "you may not assign records to rep3"}
    invalid = rep.post("/contacts", {"email": "not-an-email"})
    assert invalid.status_code == 400
    assert invalid.json() == {"detail": "email 'not-an-email' is not a valid address"}
    unprocessable = rep.post("/contacts", {"first_name": "No email"})
    assert unprocessable.status_code == 422
    assert isinstance(unprocessable.json()["detail"], list)
    assert unprocessable.json()["detail"][0]["loc"][-1] == "email"


# --- create, read, update, delete -----------------------------------------------------------------


def test_contact_fields_follow_the_contract(world, api_as):
    """When a contact is read, then it carries the contract's fields with owner as a username."""
    body = api_as("admin").get(f"/contacts/{world.rep1_contact.pk}").json()
    assert {
        "id",
        "email",
        "first_name",
        "last_name",
        "company_id",
        "lifecycle_stage",
        "owner",
    } <= set(body)
    assert body["id"] == world.rep1_contact.pk
    assert body["email"] == "ann@acme.com"
    assert body["company_id"] == world.acme.pk
    assert body["owner"] == "rep1"
    assert api_as("admin").get(f"/contacts/{world.nobody_contact.pk}").json()["owner"] is None


def test_create_writes_history_and_timeline(world, api_as):
    """Given marketing creates a contact at Acme, then it has a creation event on its timeline."""
    api = api_as("marketing")
    created = api.post(
        "/contacts",
        {
            "email": "Zed@Acme.com",
            "first_name": " Zed ",
            "company_id": world.acme.pk,
            "lifecycle_stage": "lead",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["email"], body["first_name"], body["owner"], body["company_id"]) == (
        "zed@acme.com",
        "Zed",
        None,
        world.acme.pk,
    )
    timeline = api.get(f"/contacts/{body['id']}/timeline").json()
    assert [e["type"] for e in timeline["items"]] == ["contact_created"]
    assert timeline["items"][0]["actor"] == "marketing"
    assert timeline["items"][0]["company_id"] == world.acme.pk


def test_create_with_invisible_company_is_refused_without_leaking_it(world, api_as):
    """Given rep1 cannot see Globex, then naming it is a 400 that reads like a missing company."""
    response = api_as("rep1").post("/contacts", {"email": "x@y.org", "company_id": world.globex.pk})
    assert response.status_code == 400
    assert response.json() == {"detail": f"company {world.globex.pk} does not exist"}


def test_create_with_bad_stage_is_400(world, api_as):
    """Then an unknown lifecycle stage on create names the field and the choices."""
    response = api_as("admin").post("/contacts", {"email": "a@b.org", "lifecycle_stage": "hot"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        "lifecycle_stage 'hot' is not one of: subscriber, lead"
    )


def test_patch_owner_to_other_team_rep_is_403_and_changes_nothing(world, api_as):
    """Given rep1 tries to hand its contact to rep3 (West), then 403 and the owner stays rep1."""
    response = api_as("rep1").patch(
        f"/contacts/{world.rep1_contact.pk}", {"owner": "rep3", "title": "VP"}
    )
    assert response.status_code == 403
    world.rep1_contact.refresh_from_db()
    assert (world.rep1_contact.owner, world.rep1_contact.title) == (world.rep1, "")


def test_patch_owner_moves_team_with_it(world, api_as):
    """Given admin gives rep1's contact to rep3, then the contact joins Sales West and rep1 loses it."""
    response = api_as("admin").patch(f"/contacts/{world.rep1_contact.pk}", {"owner": "rep3"})
    assert response.status_code == 200
    assert response.json()["owner"] == "rep3"
    world.rep1_contact.refresh_from_db()
    assert world.rep1_contact.team == world.west
    assert api_as("rep1").get(f"/contacts/{world.rep1_contact.pk}").status_code == 404


def test_manager_may_reassign_within_team_and_unassign(world, api_as):
    """Given the manager, then they may give rep1's contact to rep2, and then unassign it."""
    api = api_as("manager")
    assert (
        api.patch(f"/contacts/{world.rep1_contact.pk}", {"owner": "rep2"}).json()["owner"] == "rep2"
    )
    assert api.patch(f"/contacts/{world.rep1_contact.pk}", {"owner": None}).json()["owner"] is None
    world.rep1_contact.refresh_from_db()
    assert world.rep1_contact.team == world.east


def test_patch_unknown_owner_is_400(world, api_as):
    """Then an owner that is no active user is a 400 naming it."""
    response = api_as("admin").patch(f"/contacts/{world.rep1_contact.pk}", {"owner": "ghost"})
    assert response.status_code == 400
    assert response.json() == {"detail": "owner 'ghost' is not an active user"}


def test_patch_ignores_unknown_fields(world, api_as):
    """Given a body with a field the API does not know, then it is ignored and the rest applies."""
    response = api_as("rep1").patch(
        f"/contacts/{world.rep1_contact.pk}",
        {"title": "CTO", "is_superuser": True, "team_id": world.west.pk},
    )
    assert response.status_code == 200
    world.rep1_contact.refresh_from_db()
    assert (world.rep1_contact.title, world.rep1_contact.team) == ("CTO", world.east)


def test_patch_null_email_and_duplicate_email(world, api_as):
    """Then a null email is a 400, and another contact's email (any case) a 409 with its id."""
    api = api_as("admin")
    assert api.patch(f"/contacts/{world.rep1_contact.pk}", {"email": None}).json() == {
        "detail": "email may not be null"
    }
    clash = api.patch(f"/contacts/{world.rep1_contact.pk}", {"email": " BOB@acme.com"})
    assert clash.status_code == 409
    assert clash.json()["existing_id"] == world.rep2_contact.pk


def test_delete_removes_contact(world, api_as):
    """When rep1 deletes its contact, then 204 and a later read is 404."""
    api = api_as("rep1")
    assert api.delete(f"/contacts/{world.rep1_contact.pk}").status_code == 204
    assert api.get(f"/contacts/{world.rep1_contact.pk}").status_code == 404


# --- filters ---------------------------------------------------------------------------------------


def _emails(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["email"] for c in response.json()["items"]]


def test_filter_by_email_is_normalised(world, api_as):
    """Given ?email= in another case with spaces, then the one contact with that email is found."""
    assert _emails(api_as("admin").get("/contacts", email="  ANN@Acme.COM ")) == ["ann@acme.com"]
    assert _emails(api_as("rep3").get("/contacts", email="ann@acme.com")) == []


def test_filter_by_lifecycle_stage(world, api_as):
    """Given two MQLs, then ?lifecycle_stage=mql lists exactly those, and a bad stage is a 400."""
    from tandem.crm.models import Contact

    Contact.objects.filter(pk__in=[world.rep2_contact.pk, world.rep3_contact.pk]).update(
        lifecycle_stage="mql"
    )
    api = api_as("admin")
    assert _emails(api.get("/contacts", lifecycle_stage="mql")) == ["bob@acme.com", "cy@globex.com"]
    bad = api.get("/contacts", lifecycle_stage="hot")
    assert bad.status_code == 400
    assert "lifecycle_stage" in bad.json()["detail"]


def test_filter_by_owner(world, api_as):
    """Then ?owner=rep1 lists rep1's contacts and ?owner=none the unassigned ones, within visibility."""
    admin = api_as("admin")
    assert _emails(admin.get("/contacts", owner="rep1")) == ["ann@acme.com"]
    assert _emails(admin.get("/contacts", owner="none")) == ["dee@initech.com", "eve@hooli.com"]
    assert _emails(api_as("rep1").get("/contacts", owner="none")) == ["dee@initech.com"]
    assert _emails(api_as("rep1").get("/contacts", owner="rep3")) == []


def test_search_by_name_email_and_company(world, api_as):
    """Then ?q= matches name, email and company prefixes, every word narrowing the result."""
    admin = api_as("admin")
    assert _emails(admin.get("/contacts", q="ann")) == ["ann@acme.com"]
    assert _emails(admin.get("/contacts", q="BAK")) == ["bob@acme.com"]
    assert _emails(admin.get("/contacts", q="acme")) == ["ann@acme.com", "bob@acme.com"]
    assert _emails(admin.get("/contacts", q="acme bob")) == ["bob@acme.com"]
    assert _emails(admin.get("/contacts", q="cy@glo")) == ["cy@globex.com"]
    assert _emails(admin.get("/contacts", q="zzz")) == []
    assert _emails(api_as("rep3").get("/contacts", q="acme")) == []


def test_company_prefix_search_is_the_same_inline_or_as_subquery(world, api_as, monkeypatch):
    """Given a word matching more companies than are inlined, then the search finds the same."""
    from tandem.crm import queries

    admin = api_as("admin")
    inline = _emails(admin.get("/contacts", q="glob"))
    monkeypatch.setattr(queries, "COMPANY_IDS_INLINE", 0)
    assert _emails(admin.get("/contacts", q="glob")) == inline == ["cy@globex.com"]
    assert _emails(admin.get("/contacts", q="nothing")) == []


def test_search_indexes_exist(db):
    """Then the vendor-specific prefix indexes behind ?q= were created by the migration."""
    from django.db import connection

    with connection.cursor() as cursor:
        contact = connection.introspection.get_constraints(cursor, "crm_contact")
        company = connection.introspection.get_constraints(cursor, "crm_company")
    assert {"contact_first_name_ci", "contact_last_name_ci", "contact_team_unassigned_id"} <= set(
        contact
    )
    assert "company_name_ci" in company


# --- keyset pagination -----------------------------------------------------------------------------


def test_rep_walks_every_visible_contact_exactly_once(world, api_as):
    """Given 20 more contacts spread over owners, when rep1 walks pages of 3, then it sees its share once."""
    from tandem.crm.models import Contact
    from tests.crm.factories import ContactFactory

    owners = [
        (world.rep1, world.east),
        (world.rep2, world.east),
        (None, world.east),
        (world.rep3, world.west),
    ]
    for i in range(20):
        owner, team = owners[i % 4]
        ContactFactory(owner=owner, team=team)
    expected = list(
        Contact.objects.filter(owner=world.rep1)
        .union(Contact.objects.filter(owner=None, team=world.east))
        .order_by("id")
        .values_list("id", flat=True)
    )
    api, seen, cursor, pages = api_as("rep1"), [], None, 0
    while True:
        page = api.get("/contacts", limit=3, **({"cursor": cursor} if cursor else {})).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(expected) == 12
    assert seen == expected
    assert pages == 4


def test_limit_bounds(world, api_as):
    """Then limit must be 1..500: 0 and 501 are 422, 500 is fine, the default page is 50."""
    api = api_as("admin")
    assert api.get("/contacts", limit=0).status_code == 422
    assert api.get("/contacts", limit=501).status_code == 422
    assert api.get("/contacts", limit="many").status_code == 422
    assert api.get("/contacts", limit=500).status_code == 200
    body = api.get("/contacts", limit=5).json()
    assert len(body["items"]) == 5 and body["next_cursor"] is None


def test_every_malformed_cursor_is_400(world, api_as):
    """Then cursors this API never returned are a 400 naming the cursor, never a 500."""
    import base64
    import json

    def forge(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    api = api_as("admin")
    for cursor in [
        "garbage!",
        "%%%",
        forge([1]),
        forge({"after": -1}),
        forge({"after": "3"}),
        forge(7),
        forge({"after": 10**30}),  # past any 64-bit key: never returned by this API
    ]:
        response = api.get("/contacts", cursor=cursor)
        assert response.status_code == 400, cursor
        assert response.json() == {"detail": "cursor is not a cursor this API returned"}


def test_nul_characters_are_400_not_500(world, api_as):
    """Given NUL bytes (which PostgreSQL text cannot hold) in filters or fields, then 400 naming them."""
    api = api_as("admin")
    for params, field in [
        ({"q": "a\x00"}, "q"),
        ({"email": "\x00"}, "email"),
        ({"owner": "r\x00"}, "owner"),
    ]:
        response = api.get("/contacts", **params)
        assert response.status_code == 400, params
        assert response.json() == {"detail": f"{field} contains a NUL character"}
    assert api.get("/companies", industry="\x00").json() == {
        "detail": "industry contains a NUL character"
    }
    owner = api.patch(f"/contacts/{world.rep1_contact.pk}", {"owner": "rep1\x00"})
    assert owner.json() == {"detail": "owner contains a NUL character"}
    custom = api.post("/contacts", {"email": "n@ul.org", "custom_fields": {"k": ["a\x00"]}})
    assert custom.status_code == 400
    assert custom.json() == {"detail": "custom_fields contains a NUL character"}


def test_timeline_pages_follow_occurred_at_even_when_backdated(world, api_as):
    from datetime import timedelta

    from django.utils import timezone

    from tandem.crm.services import record_event

    contact = world.rep1_contact
    now = timezone.now()
    # Recorded later but happened earlier: an imported call from last year.
    for i, days_ago in enumerate([1, 400, 3, 200, 2]):
        record_event(
            type="note",
            idempotency_key=f"t{i}",
            contact=contact,
            occurred_at=now - timedelta(days=days_ago),
        )
    api = api_as("rep1")
    seen, cursor = [], None
    while True:
        page = api.get(
            f"/contacts/{contact.pk}/timeline", limit=2, **({"cursor": cursor} if cursor else {})
        ).json()
        seen += [(e["occurred_at"], e["id"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len({s[1] for s in seen}) == contact.events.count()


def test_huge_ids_are_422_not_500(world, api_as):
    api = api_as("admin")
    assert api.get(f"/contacts/{2**70}").status_code == 422
    assert api.get("/contacts", company_id=2**70).status_code == 422
