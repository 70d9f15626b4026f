"""Who may call POST /api/v1/events (write keys only) and from which browser origins (CORS)."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.accounts.services import create_api_key
from tandem.marketing.services.sources import create_source, revoke_source, rotate_write_key
from tandem.tracking.models import Event
from tests.tracking.conftest import ORIGIN, event

WRITE_KEY_401 = {"detail": "missing or invalid source write key (Authorization: Bearer tdmw_...)"}


@pytest.mark.django_db
def test_no_key_is_a_401(site, post_events):
    response = post_events(None, [event()])

    assert response.status_code == 401
    assert response.json() == WRITE_KEY_401
    assert Event.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer tdmw_nope", "tdmw_x"])
def test_a_malformed_or_unknown_key_is_a_401(site, header):
    response = Client().post(
        "/api/v1/events",
        '{"events": []}',
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
    )

    assert response.status_code == 401
    assert response.json() == WRITE_KEY_401


def test_an_api_key_cannot_ingest(world, site, post_events):
    _, api_key = create_api_key(user=world.admin, name="ops")

    response = post_events(api_key, [event()])

    assert response.status_code == 401
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_a_revoked_source_key_is_a_401(site, post_events):
    revoke_source(source=site.source)

    response = post_events(site.key, [event()])

    assert response.status_code == 401
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_a_rotated_key_stops_the_old_one(site, post_events):
    _, new_key = rotate_write_key(source=site.source)

    assert post_events(site.key, [event("old")]).status_code == 401
    assert post_events(new_key, [event("new")]).status_code == 202
    assert list(Event.objects.values_list("event_id", flat=True)) == ["new"]


@pytest.mark.parametrize(
    "path", ["/api/v1/contacts", "/api/v1/companies", "/api/v1/contacts/1/timeline"]
)
def test_a_write_key_is_refused_by_every_other_api_route(world, site, path):
    client = Client()

    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {site.key}")

    assert response.status_code == 401


def test_no_other_api_operation_accepts_write_keys():
    """Every operation but ingestion authenticates with API keys or the session only."""
    from tandem.api.api import api
    from tandem.tracking.auth import WriteKeyAuth

    for prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                uses_write_key = any(isinstance(a, WriteKeyAuth) for a in operation.auth_callbacks)
                is_ingest = operation.view_func.__name__ == "ingest_events"
                assert uses_write_key == is_ingest, f"{prefix} {operation.view_func.__name__}"


# --------------------------------------------------------------------------- CORS


def _preflight(origin: str | None) -> object:
    headers = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}
    if origin:
        headers["HTTP_ORIGIN"] = origin
    return Client().options("/api/v1/events", **headers)


@pytest.mark.django_db
def test_preflight_from_an_active_sources_origin_is_allowed(site):
    response = _preflight("https://WWW.example.com")

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert "Origin" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://www.example.com", "https://www.example.com.evil.io"]
)
def test_preflight_from_an_unknown_origin_is_refused(site, origin):
    response = _preflight(origin)

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_preflight_ignores_revoked_sources(site):
    revoked, _ = create_source(name="Old site", origins=["https://old.example"])
    revoke_source(source=revoked)

    assert _preflight("https://old.example").status_code == 403


@pytest.mark.django_db
def test_post_from_an_allowed_origin_is_readable_by_that_origin(site, post_events):
    response = post_events(site.key, [event()], origin=ORIGIN)

    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.django_db
def test_post_without_origin_is_server_to_server(site, post_events):
    response = post_events(site.key, [event()])

    assert response.status_code == 202
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_post_from_another_sources_origin_is_refused(site, post_events):
    # The preflight admits any active source's origin; the POST holds the key and checks its own.
    create_source(name="Blog", origins=["https://blog.example"])
    assert _preflight("https://blog.example").status_code == 204

    response = post_events(site.key, [event()], origin="https://blog.example")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "origin https://blog.example is not allowed for this source"
    }
    assert "Access-Control-Allow-Origin" not in response
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_post_with_a_garbage_origin_is_refused(site, post_events):
    response = post_events(site.key, [event()], origin="javascript:alert(1)")

    assert response.status_code == 403
    assert Event.objects.count() == 0
