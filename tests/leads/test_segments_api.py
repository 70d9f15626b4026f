"""The segments API: shapes, permissions, member paging, static lists and injection attempts."""

from __future__ import annotations

from typing import Any

import pytest

from tandem.crm.models import Contact
from tandem.leads.models import Segment
from tests.conftest import World
from tests.leads.factories import SegmentFactory

EVERYONE = {"field": "email", "op": "contains", "value": "@"}


@pytest.fixture
def everyone(world: World) -> Segment:
    from tandem.leads.services.segments import create_segment

    return create_segment(name="Everyone", kind="dynamic", definition=EVERYONE, by=world.admin)


def test_marketing_creates_and_reads_a_segment(api_as: Any, world: World) -> None:
    api = api_as("marketing")
    body = {
        "name": "Acme people",
        "definition": {"field": "company.domain", "op": "eq", "value": "acme.com"},
    }
    created = api.post("/segments", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert {k: data[k] for k in ("name", "kind", "member_count", "summary")} == {
        "name": "Acme people",
        "kind": "dynamic",
        "member_count": 2,
        "summary": "Company domain is “acme.com”",
    }
    got = api_as("rep3").get(f"/segments/{data['id']}")
    assert got.status_code == 200
    assert got.json()["definition"] == body["definition"]
    listed = api_as("rep1").get("/segments")
    assert [s["name"] for s in listed.json()["items"]] == ["Acme people"]
    assert listed.json()["next_cursor"] is None


def test_only_admin_and_marketing_write(api_as: Any, everyone: Segment) -> None:
    for name in ("rep1", "manager"):
        api = api_as(name)
        assert api.post("/segments", {"name": "X", "definition": EVERYONE}).status_code == 403
        assert api.patch(f"/segments/{everyone.pk}", {"name": "Y"}).status_code == 403
        assert api.delete(f"/segments/{everyone.pk}").status_code == 403
        assert api.post(f"/segments/{everyone.pk}/refresh").status_code == 403
    admin = api_as("admin")
    patched = admin.patch(
        f"/segments/{everyone.pk}",
        {"name": "Anns", "definition": {"field": "first_name", "op": "eq", "value": "ann"}},
    )
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["member_count"]) == ("Anns", 1)
    assert admin.delete(f"/segments/{everyone.pk}").status_code == 204
    assert admin.get(f"/segments/{everyone.pk}").status_code == 404


def test_members_page_with_keyset_cursor_and_permissions(
    api_as: Any, world: World, everyone: Segment
) -> None:
    api = api_as("marketing")
    first = api.get(f"/segments/{everyone.pk}/members", limit=3)
    assert first.status_code == 200
    page = first.json()
    ids = sorted(Contact.objects.values_list("pk", flat=True))
    assert [c["id"] for c in page["items"]] == ids[:3]
    assert set(page["items"][0]) >= {"id", "email", "owner", "score", "lifecycle_stage"}
    second = api.get(f"/segments/{everyone.pk}/members", limit=3, cursor=page["next_cursor"])
    assert [c["id"] for c in second.json()["items"]] == ids[3:]
    assert second.json()["next_cursor"] is None
    rep = api_as("rep1").get(f"/segments/{everyone.pk}/members")
    assert {c["email"] for c in rep.json()["items"]} == {"ann@acme.com", "dee@initech.com"}
    assert api.get(f"/segments/{everyone.pk}/members", cursor="junk").status_code == 400
    assert api.get("/segments/999999/members").status_code == 404


def test_static_list_member_edits(api_as: Any, world: World) -> None:
    api = api_as("marketing")
    created = api.post("/segments", {"name": "VIP", "kind": "static"}).json()
    url = f"/segments/{created['id']}/members"
    added = api.post(url, {"contact_ids": [world.rep1_contact.pk, world.rep3_contact.pk]})
    assert added.json() == {"changed": 2, "member_count": 2}
    removed = api.post(url + "/remove", {"contact_ids": [world.rep3_contact.pk]})
    assert removed.json() == {"changed": 1, "member_count": 1}
    assert [c["id"] for c in api.get(url).json()["items"]] == [world.rep1_contact.pk]
    missing = api.post(url, {"contact_ids": [987654]})
    assert missing.status_code == 400
    assert "no contact with id 987654" in missing.json()["detail"]
    assert api_as("rep1").post(url, {"contact_ids": [world.rep1_contact.pk]}).status_code == 403
    dynamic = SegmentFactory()
    edit = api.post(f"/segments/{dynamic.pk}/members", {"contact_ids": [world.rep1_contact.pk]})
    assert edit.status_code == 400


def test_validation_errors_are_400s_naming_the_path(api_as: Any, world: World) -> None:
    api = api_as("marketing")
    bad = api.post(
        "/segments",
        {"name": "Bad", "definition": {"any": [{"field": "company.size", "op": "eq", "value": 1}]}},
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith(
        'any[0].field: "company.size" is not a segment field; choose one of email'
    )
    assert not Segment.objects.exists()
    dup = api.post("/segments", {"name": "A", "definition": EVERYONE})
    assert dup.status_code == 201
    assert api.post("/segments", {"name": "a", "definition": EVERYONE}).status_code == 409
    assert api.post("/segments", {"name": "K", "kind": "smart"}).status_code == 400


INJECTIONS = [
    "email; DROP TABLE crm_contact; --",
    "email' OR '1'='1",
    'email") OR 1=1 --',
    "crm_contact.id",
    "id",
    "company__name",
    "owner__password",
]


@pytest.mark.parametrize("name", INJECTIONS)
def test_sql_in_field_names_is_refused(api_as: Any, world: World, name: str) -> None:
    response = api_as("marketing").post(
        "/segments/count", {"definition": {"field": name, "op": "eq", "value": "x"}}
    )
    assert response.status_code == 400
    assert "is not a segment field" in response.json()["detail"]


@pytest.mark.parametrize(
    "key",
    ["a'); DROP TABLE x; --", "$.a", 'a"b', "a b", "a\\b", "a[0]", "properties__x", "x" * 65],
)
def test_sql_or_json_paths_in_property_keys_are_refused(
    api_as: Any, world: World, key: str
) -> None:
    definition = {"event": "page_view", "where": [{"property": key, "op": "eq", "value": 1}]}
    response = api_as("marketing").post("/segments/count", {"definition": definition})
    if key == "properties__x":
        # Safe characters: it is a plain key, matched as data (and nothing has it).
        assert response.status_code == 200
        assert response.json() == {"count": 0}
    else:
        assert response.status_code == 400
        assert "is not a property key" in response.json()["detail"]


@pytest.mark.parametrize(
    "value",
    ["' OR 1=1 --", "%", "_", "x'; DELETE FROM crm_contact; --", "\\", "%' OR '%'='"],
)
def test_sql_in_values_is_plain_data(api_as: Any, world: World, value: str) -> None:
    api = api_as("marketing")
    for op in ("eq", "contains", "starts_with"):
        definition = {"field": "first_name", "op": op, "value": value}
        response = api.post("/segments/count", {"definition": definition})
        assert response.status_code == 200
        assert response.json() == {"count": 0}, (op, value)
    prop = {"event": "page_view", "where": [{"property": "u", "op": "contains", "value": value}]}
    assert api.post("/segments/count", {"definition": prop}).json() == {"count": 0}
    assert Contact.objects.count() == 5


def test_sort_and_paging_params_are_allow_listed(
    client_as: Any, api_as: Any, everyone: Segment
) -> None:
    client = client_as("marketing")
    for sort in ("name; DROP TABLE leads_segment", "-password", "created_by__password", "'"):
        assert client.get("/leads/segments/", {"sort": sort}).status_code == 200
        page = client.get(f"/leads/segments/{everyone.pk}/", {"sort": sort})
        assert page.status_code == 200
    assert Segment.objects.count() == 1
    api = api_as("marketing")
    assert api.get("/segments", limit="1; DROP").status_code in (400, 422)
    assert api.get("/segments", limit=501).status_code in (400, 422)


def test_count_endpoint_narrows_to_visible(api_as: Any, world: World) -> None:
    response = api_as("rep1").post("/segments/count", {"definition": EVERYONE})
    assert response.json() == {"count": 2}
    assert api_as("admin").post("/segments/count", {"definition": EVERYONE}).json() == {"count": 5}
