"""The import page: upload limits and checks, and the result report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tandem.crm.models import Company, Contact

CSV = (
    "Email,First Name,Company Domain Name,Shoe Size\n"
    "new.person@example.org,Nia,acme.com,42\n"
    "ann@acme.com,Ann,,\n"
    "not-an-email,Bad,,\n"
)


def upload(name: str, data: bytes, content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_marketing_imports_contacts_and_sees_the_report(world, client_as):
    response = client_as("marketing").post(
        "/import/", {"kind": "contacts", "file": upload("c.csv", CSV.encode())}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.kind, result.created, result.updated) == ("contacts", 1, 1)
    assert [(r.line, "email" in r.reason) for r in result.rejected] == [(4, True)]
    body = response.content.decode()
    assert "Column mapping used" in body and "Company Domain Name" in body
    assert '<td class="num">4</td>' in body
    assert Contact.objects.get(email="new.person@example.org").company_id == world.acme.pk


def test_admin_imports_companies(world, client_as):
    data = b"Name,Domain,Country\nInitrode,initrode.com,DE\n"
    response = client_as("admin").post(
        "/import/", {"kind": "companies", "file": upload("co.csv", data)}
    )
    assert response.status_code == 200
    assert response.context["result"].created == 1
    assert Company.objects.get(domain="initrode.com").country == "DE"


def test_a_file_over_the_limit_is_refused_with_the_limit_named(world, client_as, settings):
    settings.TANDEM_IMPORT_MAX_BYTES = 20
    response = client_as("marketing").post(
        "/import/", {"kind": "contacts", "file": upload("c.csv", CSV.encode())}
    )
    assert response.status_code == 422
    assert "imports are limited to" in response.content.decode()
    assert not Contact.objects.filter(email="new.person@example.org").exists()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        (
            "book.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
            "application/vnd.openxmlformats",
        ),
        ("sneaky.csv", b"email\x00\x00\x00binary", "text/csv"),
        ("picture.png", b"\x89PNG\r\n\x1a\n", "image/png"),
    ],
)
def test_a_file_that_is_not_csv_is_refused(world, client_as, name, data, content_type):
    response = client_as("marketing").post(
        "/import/", {"kind": "contacts", "file": upload(name, data, content_type)}
    )
    assert response.status_code == 422
    assert "does not look like a CSV file" in response.content.decode()


def test_a_csv_without_an_email_column_shows_the_importers_reason(world, client_as):
    response = client_as("marketing").post(
        "/import/", {"kind": "contacts", "file": upload("c.csv", b"Name\nBob\n")}
    )
    assert response.status_code == 422
    assert "no column holds the email address" in response.content.decode()
