"""The import page: upload limits and checks, the background job and its report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tandem.crm import services
from tandem.crm.models import Company, Contact, ImportJob
from tandem.crm.tasks import run_import

CSV = (
    "Email,First Name,Company Domain Name,Shoe Size\n"
    "new.person@example.org,Nia,acme.com,42\n"
    "ann@acme.com,Ann,,\n"
    "not-an-email,Bad,,\n"
)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(name: str, data: bytes, content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def post_and_run(client, captured, **data):
    """Upload, let the queued job run (as the consumer would after commit), open the report."""
    with captured(execute=True):
        response = client.post("/import/", data)
    assert response.status_code == 302, response.content
    return client.get(response["Location"])


def test_marketing_imports_contacts_and_sees_the_report(
    world, client_as, django_capture_on_commit_callbacks, tmp_path
):
    response = post_and_run(
        client_as("marketing"),
        django_capture_on_commit_callbacks,
        kind="contacts",
        file=upload("c.csv", CSV.encode()),
    )
    assert response.status_code == 200
    job = response.context["job"]
    assert (job.kind, job.status, job.created, job.updated, job.rejected_count) == (
        "contacts",
        "done",
        1,
        1,
        1,
    )
    assert [(line, "email" in reason) for line, reason in job.rejected] == [(4, True)]
    body = response.content.decode()
    assert "Column mapping used" in body and "Company Domain Name" in body
    assert '<td class="num">4</td>' in body
    assert "hx-trigger" not in body  # a finished report stops polling
    assert Contact.objects.get(email="new.person@example.org").company_id == world.acme.pk
    assert not any((tmp_path / "imports").iterdir())  # the upload is not kept


def test_admin_imports_companies(world, client_as, django_capture_on_commit_callbacks):
    data = b"Name,Domain,Country\nInitrode,initrode.com,DE\n"
    response = post_and_run(
        client_as("admin"),
        django_capture_on_commit_callbacks,
        kind="companies",
        file=upload("co.csv", data),
    )
    assert response.context["job"].created == 1
    assert Company.objects.get(domain="initrode.com").country == "DE"


def test_a_queued_job_polls_and_only_its_owner_or_an_admin_sees_it(world, client_as):
    marketer = client_as("marketing")
    response = marketer.post(
        "/import/", {"kind": "contacts", "file": upload("c.csv", CSV.encode())}
    )
    job = ImportJob.objects.get()
    # No commit happened in this test transaction, so the job still waits for its worker.
    page = marketer.get(f"/import/{job.pk}/", HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert "Waiting for a worker" in page.content.decode()
    assert client_as("admin").get(response["Location"]).status_code == 200
    assert client_as("rep1").get(response["Location"]).status_code == 403


def test_a_redelivered_job_runs_once(world, client_as):
    client_as("marketing").post(
        "/import/", {"kind": "contacts", "file": upload("c.csv", CSV.encode())}
    )
    job = ImportJob.objects.get()
    run_import.call_local(job.pk)
    run_import.call_local(job.pk)  # the queue delivered it twice
    job.refresh_from_db()
    assert (job.status, job.created, job.updated) == ("done", 1, 1)
    assert services.run_import_job(job_id=job.pk) is None


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


def test_a_csv_without_an_email_column_fails_the_job_with_the_importers_reason(
    world, client_as, django_capture_on_commit_callbacks
):
    response = post_and_run(
        client_as("marketing"),
        django_capture_on_commit_callbacks,
        kind="contacts",
        file=upload("c.csv", b"Name\nBob\n"),
    )
    assert response.context["job"].status == "failed"
    body = response.content.decode()
    assert "no column holds the email address" in body
    assert "never duplicated" in body
    assert Contact.objects.count() == 5  # the world's contacts only
