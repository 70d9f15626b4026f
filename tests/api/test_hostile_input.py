"""Hostile input and scoping holes found in review: each answers a clear 4xx, never a 500 or a leak."""

from __future__ import annotations

import base64
import json

from django.test import override_settings

from tandem.crm import services


def _cursor(body: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def test_company_timeline_hides_other_reps_contacts_events(world, api_as):
    """Given rep2 notes a call on their own Acme contact, when rep1 reads Acme's timeline, then
    rep1 sees Acme's events and their own contact's, never rep2's note."""
    services.log_activity(
        kind="note", by=world.rep2, contact=world.rep2_contact, subject="rep2's secret"
    )
    services.log_activity(kind="note", by=world.rep1, contact=world.rep1_contact, subject="mine")
    rep1 = api_as("rep1").get(f"/companies/{world.acme.pk}/timeline").json()["items"]
    assert {e["contact_id"] for e in rep1} == {world.rep1_contact.pk}
    assert [e["properties"]["subject"] for e in rep1] == ["mine"]
    manager = api_as("manager").get(f"/companies/{world.acme.pk}/timeline").json()["items"]
    assert {e["contact_id"] for e in manager} == {world.rep1_contact.pk, world.rep2_contact.pk}


def test_deeply_nested_cursor_is_400_not_500(world, api_as):
    """Given a cursor that decodes to 5,000 nested arrays, then the list answers 400."""
    cursor = base64.urlsafe_b64encode(b"[" * 5000).decode()
    response = api_as("rep1").get("/contacts", cursor=cursor)
    assert response.status_code == 400
    assert response.json() == {"detail": "cursor is not a cursor this API returned"}


def test_cursor_time_at_the_calendar_edge_is_400_not_500(world, api_as):
    """Given a timeline cursor whose time overflows when converted to UTC, then 400."""
    cursor = _cursor({"after": 1, "at": "9999-12-31T23:59:59.999999-23:59"})
    path = f"/contacts/{world.rep1_contact.pk}/timeline"
    assert api_as("rep1").get(path, cursor=cursor).status_code == 400


def test_lone_surrogates_are_refused_by_name(world, api_as):
    """Given JSON text holding an unpaired UTF-16 surrogate, then 400 names the field."""
    api = api_as("rep1")

    def post(path: str, raw: str):
        return api.client.post(
            "/api/v1" + path, raw, content_type="application/json", **api.headers
        )

    first = post("/contacts", '{"email": "s@example.com", "first_name": "\\ud800"}')
    assert (first.status_code, first.json()) == (
        400,
        {"detail": "first_name contains an invalid character"},
    )
    custom = post("/contacts", '{"email": "s@example.com", "custom_fields": {"k": "\\udfff"}}')
    assert (custom.status_code, custom.json()) == (
        400,
        {"detail": "custom_fields contains an invalid character"},
    )
    owner = post("/contacts", '{"email": "s@example.com", "owner": "\\ud800"}')
    assert owner.status_code == 400
    note = post(
        f"/contacts/{world.rep1_contact.pk}/activities", '{"kind": "note", "body": "\\ud83d"}'
    )
    assert note.status_code == 400


def test_activity_time_out_of_range_is_400_not_500(world, api_as):
    """Given an occurred_at that cannot be held in UTC, then 400 names the field."""
    path = f"/contacts/{world.rep1_contact.pk}/activities"
    response = api_as("rep1").post(
        path, {"kind": "note", "occurred_at": "9999-12-31T23:59:59-23:00"}
    )
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "occurred_at is out of range"},
    )
    task = api_as("rep1").post(path, {"kind": "task", "due_at": "0001-01-01T00:00:00+05:00"})
    assert (task.status_code, task.json()) == (400, {"detail": "due_at is out of range"})


def test_custom_fields_blob_is_refused(world, api_as):
    """Given 1 MB of custom_fields (under the upload limit), then 400 names the limit."""
    response = api_as("rep1").post(
        "/contacts", {"email": "blob@example.com", "custom_fields": {"notes": "x" * 1_000_000}}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "custom_fields is longer than 65,536 characters as JSON"}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_048_576)
def test_body_over_the_upload_limit_is_a_json_413(world, api_as):
    """Given a body over the upload limit, then the API answers 413 in its own error format."""
    response = api_as("rep1").post(
        "/contacts", {"email": "big@example.com", "custom_fields": {"a": "x" * 2_000_000}}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than 1 MB"}


def test_a_rep_cannot_tell_unknown_usernames_from_colleagues(world, api_as):
    """Given rep1 assigns to a colleague or to a made-up name, then both answer the same 403;
    an admin, who may assign anyone, is told the name is not a user."""
    path = f"/contacts/{world.rep1_contact.pk}"
    rep1 = api_as("rep1")
    colleague = rep1.patch(path, {"owner": "rep3"})
    made_up = rep1.patch(path, {"owner": "no-such-user"})
    assert (colleague.status_code, made_up.status_code) == (403, 403)
    assert made_up.json() == {"detail": "you may not assign records to no-such-user"}
    admin = api_as("admin").patch(path, {"owner": "no-such-user"})
    assert (admin.status_code, admin.json()) == (
        400,
        {"detail": "owner 'no-such-user' is not an active user"},
    )
