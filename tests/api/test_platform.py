"""The API's schema and docs, and the health check."""

from __future__ import annotations

from django.test import Client


def test_openapi_lists_contact_and_company_paths(db):
    """When the schema is fetched without a key, then it lists every contact and company path."""
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Tandem API"
    paths = schema["paths"]
    expected = {
        "/api/v1/contacts": {"get", "post"},
        "/api/v1/contacts/{contact_id}": {"get", "patch", "delete"},
        "/api/v1/contacts/{contact_id}/timeline": {"get"},
        "/api/v1/contacts/{contact_id}/activities": {"get", "post"},
        "/api/v1/contacts/{contact_id}/merge": {"post"},
        "/api/v1/companies": {"get", "post"},
        "/api/v1/companies/{company_id}": {"get", "patch", "delete"},
        "/api/v1/companies/{company_id}/timeline": {"get"},
        "/api/v1/activities/{activity_id}/complete": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert any(
        "bearer" in str(scheme).lower()
        for scheme in schema["components"]["securitySchemes"].values()
    )


def test_docs_page_answers(db):
    """Then the interactive docs page is served."""
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_healthz_reports_database_and_queue(db):
    """Then /healthz is a 200 naming the database and queue, each ok."""
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "database", "queue"}
    assert body["status"] == "ok"
    assert body["database"].endswith(": ok")
    assert body["queue"].endswith(": ok")
