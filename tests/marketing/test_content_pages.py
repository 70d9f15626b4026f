"""Content library pages: filters, asset page engagement, new/edit/archive/delete, the file route."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tandem.crm.models import Contact
from tandem.crm.services import record_event
from tandem.marketing.models import ContentAsset
from tandem.marketing.services import content as services
from tests.conftest import World
from tests.marketing.factories import ContentAssetFactory, PersonaFactory

XSS = "<script>alert(1)</script>"
PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def titles(page: Any) -> list[str]:
    return [asset.title for asset in page.context["page_obj"]]


# ---------------------------------------------------------------- the library


def test_anonymous_users_are_sent_to_sign_in(db: Any) -> None:
    for url in ("/marketing/content/", "/marketing/content/1/", "/marketing/content/1/file/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_library_filters_and_sorts(world: World, client_as: Any) -> None:
    cfo = PersonaFactory(name="CFO")
    guide = ContentAssetFactory(title="Buyer guide", type="ebook", journey_stage="consideration")
    guide.personas.set([cfo])
    ContentAssetFactory(
        title="Pricing", type="pricing_sheet", journey_stage="decision", audience="enablement"
    )
    ContentAssetFactory(
        title="Launch post", type="blog_post", journey_stage="awareness", audience="both"
    )
    ContentAssetFactory(title="Old deck", type="one_pager", journey_stage="decision", archived=True)
    client = client_as("rep1")

    assert titles(client.get("/marketing/content/?sort=title")) == [
        "Buyer guide",
        "Launch post",
        "Pricing",
    ]
    assert titles(client.get("/marketing/content/?type=ebook")) == ["Buyer guide"]
    assert titles(client.get("/marketing/content/?stage=decision")) == ["Pricing"]
    assert titles(client.get(f"/marketing/content/?persona={cfo.pk}")) == ["Buyer guide"]
    # "Both" answers either audience.
    assert titles(client.get("/marketing/content/?audience=enablement&sort=title")) == [
        "Launch post",
        "Pricing",
    ]
    assert titles(client.get("/marketing/content/?q=GUIDE")) == ["Buyer guide"]
    assert titles(client.get("/marketing/content/?status=archived")) == ["Old deck"]
    assert len(titles(client.get("/marketing/content/?status=all"))) == 4
    # Bad values are dropped, never trusted: an unknown type filters nothing, a bad sort falls back.
    page = client.get("/marketing/content/?type=podcast&sort=public_token&persona=abc")
    assert page.status_code == 200
    assert page.context["sort"] == "-updated_at"
    assert len(titles(page)) == 3


def test_library_htmx_swap_returns_the_table_and_pushes_a_clean_url(
    world: World, client_as: Any
) -> None:
    ContentAssetFactory(title="Buyer guide", type="ebook")
    page = client_as("rep1").get(
        "/marketing/content/?type=ebook&q=&junk=1&sort=title", HTTP_HX_REQUEST="true"
    )
    assert page.status_code == 200
    assert page.content.decode().startswith('<div id="content-table"')
    assert page["HX-Push-Url"] == "/marketing/content/?type=ebook&sort=title"


def test_library_pages_are_numbered(world: World, client_as: Any) -> None:
    for i in range(55):
        ContentAssetFactory(title=f"Asset {i:02d}")
    client = client_as("rep1")
    first = client.get("/marketing/content/?sort=title")
    assert len(titles(first)) == 50
    second = client.get("/marketing/content/?sort=title&page=2")
    assert titles(second) == [f"Asset {i}" for i in range(50, 55)]
    assert 'href="?sort=title&amp;page=2"' in first.content.decode()


# ---------------------------------------------------------------- the asset page


def test_asset_page_counts_views_downloads_and_shows_visible_viewers(
    world: World, client_as: Any
) -> None:
    asset = ContentAssetFactory(title="Buyer guide")
    other = ContentAssetFactory(title="Other")
    now = timezone.now()

    def event(
        kind: str, contact: Contact | None, minutes: int, target: ContentAsset = asset
    ) -> None:
        record_event(
            type=kind,
            idempotency_key=f"test:{kind}:{target.pk}:{contact.pk if contact else 'anon'}:{minutes}",
            contact=contact,
            occurred_at=now - timedelta(minutes=minutes),
            properties={"asset_id": target.pk, "title": target.title},
        )

    event("content_view", world.rep1_contact, 50)
    event("content_view", world.rep1_contact, 40)
    event("content_view", world.rep3_contact, 30)
    event("content_view", None, 20)  # anonymous
    event("content_download", world.rep1_contact, 10)
    event("content_download", world.rep2_contact, 5)
    event("content_view", world.rep2_contact, 1, target=other)  # another asset

    page = client_as("rep1").get(f"/marketing/content/{asset.pk}/")
    assert page.status_code == 200
    assert page.context["engagement"] == {
        "views": 4,
        "downloads": 2,
        "viewers": 2,
        "downloaders": 2,
        "contacts": 3,
    }
    # rep1 sees only their own contact among the viewers.
    assert [row["contact"].email for row in page.context["viewers"]] == ["ann@acme.com"]
    marketing = client_as("marketing").get(f"/marketing/content/{asset.pk}/")
    assert [row["contact"].email for row in marketing.context["viewers"]] == [
        "bob@acme.com",
        "ann@acme.com",
        "cy@globex.com",
    ]
    body = page.content.decode()
    assert "bob@acme.com" not in body and "cy@globex.com" not in body
    assert f"/c/{asset.public_token}" in body


def test_asset_page_and_list_escape_the_title(world: World, client_as: Any) -> None:
    asset = ContentAssetFactory(title=XSS, description=XSS)
    client = client_as("rep1")
    for url in ("/marketing/content/", f"/marketing/content/{asset.pk}/"):
        body = client.get(url).content.decode()
        assert XSS not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    edit = client_as("marketing").get(f"/marketing/content/{asset.pk}/edit/").content.decode()
    assert XSS not in edit


def test_unknown_asset_is_a_404(world: World, client_as: Any) -> None:
    client = client_as("rep1")
    assert client.get("/marketing/content/999999/").status_code == 404
    assert client.get("/marketing/content/999999/file/").status_code == 404


# ---------------------------------------------------------------- changing content


def form_data(**values: Any) -> dict[str, Any]:
    return {
        "title": "Buyer guide",
        "type": "ebook",
        "journey_stage": "consideration",
        "audience": "market",
        "source": "url",
        "url": "https://example.com/guide",
        **values,
    }


@pytest.mark.parametrize("role", ["rep1", "manager"])
def test_sales_may_read_but_not_change_content(world: World, client_as: Any, role: str) -> None:
    asset = ContentAssetFactory(title="Buyer guide")
    client = client_as(role)
    assert client.get("/marketing/content/").status_code == 200
    assert client.get(f"/marketing/content/{asset.pk}/").status_code == 200
    assert client.get("/marketing/content/new/").status_code == 403
    assert client.post("/marketing/content/new/", form_data(title="Mine")).status_code == 403
    assert client.get(f"/marketing/content/{asset.pk}/edit/").status_code == 403
    assert (
        client.post(f"/marketing/content/{asset.pk}/edit/", form_data(title="Renamed")).status_code
        == 403
    )
    assert client.post(f"/marketing/content/{asset.pk}/archive/").status_code == 403
    assert client.post(f"/marketing/content/{asset.pk}/delete/").status_code == 403
    asset.refresh_from_db()
    assert (asset.title, asset.archived) == ("Buyer guide", False)
    assert ContentAsset.objects.count() == 1
    body = client.get(f"/marketing/content/{asset.pk}/").content.decode()
    assert "Edit asset" not in body and "Delete this asset" not in body


def test_marketing_creates_a_link_asset(world: World, client_as: Any) -> None:
    persona = PersonaFactory()
    client = client_as("marketing")
    assert client.get("/marketing/content/new/").status_code == 200
    response = client.post("/marketing/content/new/", form_data(personas=[str(persona.pk)]))
    asset = ContentAsset.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/marketing/content/{asset.pk}/"
    assert (asset.url, asset.created_by, list(asset.personas.all())) == (
        "https://example.com/guide",
        world.marketer,
        [persona],
    )


def test_marketing_uploads_a_file_and_opens_it(world: World, client_as: Any) -> None:
    client = client_as("marketing")
    response = client.post(
        "/marketing/content/new/",
        form_data(source="file", file=SimpleUploadedFile("Guide.pdf", PDF, "application/pdf")),
    )
    assert response.status_code == 302
    asset = ContentAsset.objects.get()
    assert (asset.url, asset.file_name, asset.mime_type) == ("", "Guide.pdf", "application/pdf")

    opened = client_as("rep1").get(f"/marketing/content/{asset.pk}/file/")
    assert opened.status_code == 200
    assert opened["Content-Type"] == "application/pdf"
    assert opened["Content-Disposition"] == 'inline; filename="Guide.pdf"'
    assert opened["X-Content-Type-Options"] == "nosniff"
    assert opened["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert b"".join(opened.streaming_content) == PDF
    downloaded = client_as("rep1").get(f"/marketing/content/{asset.pk}/file/?download=1")
    assert downloaded["Content-Disposition"] == 'attachment; filename="Guide.pdf"'
    assert b"".join(downloaded.streaming_content) == PDF  # the test client closes it once read


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {
                "source": "file",
                "file": SimpleUploadedFile("x.pdf", b"<html></html>", "application/pdf"),
            },
            "x.pdf is not an allowed file type",
        ),
        ({"source": "file"}, "choose a file to upload"),
        ({"url": "javascript:alert(1)"}, "url must be an http:// or https:// address"),
        ({"url": ""}, "give a URL or upload a file"),
    ],
)
def test_bad_input_re_renders_the_form_with_the_problem(
    world: World, client_as: Any, values: dict[str, Any], message: str
) -> None:
    response = client_as("marketing").post("/marketing/content/new/", form_data(**values))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert ContentAsset.objects.count() == 0


def test_a_link_asset_has_no_file_route(world: World, client_as: Any) -> None:
    asset = ContentAssetFactory()
    assert client_as("rep1").get(f"/marketing/content/{asset.pk}/file/").status_code == 404


def test_edit_archive_and_delete(world: World, client_as: Any, media: Path) -> None:
    client = client_as("marketing")
    asset = services.create_asset(
        title="Guide",
        type="ebook",
        journey_stage="awareness",
        upload=SimpleUploadedFile("g.pdf", PDF),
    )
    edit = client.get(f"/marketing/content/{asset.pk}/edit/")
    assert edit.context["form"].initial["source"] == "file"
    # Keeping the file: source "file" without a new upload changes only the fields.
    response = client.post(
        f"/marketing/content/{asset.pk}/edit/",
        form_data(title="Guide v2", source="file", url=""),
    )
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.title, asset.file_name) == ("Guide v2", "g.pdf")

    client.post(f"/marketing/content/{asset.pk}/archive/")
    asset.refresh_from_db()
    assert asset.archived is True
    assert titles(client.get("/marketing/content/")) == []
    client.post(f"/marketing/content/{asset.pk}/archive/", {"archived": "0"})
    asset.refresh_from_db()
    assert asset.archived is False

    response = client.post(f"/marketing/content/{asset.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/marketing/content/"
    assert ContentAsset.objects.count() == 0


# Measured (a manager's page, the worst scope) plus one: session, user, count, rows, their
# personas in one prefetch, the persona filter's choices.
LIST_CEILING = 7


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_library_query_count_does_not_grow(
    world: World, client_as: Any, django_assert_max_num_queries: Any, role: str
) -> None:
    personas = [PersonaFactory(), PersonaFactory()]
    client = client_as(role)
    counts = []
    for n in (5, 45):
        for _ in range(n - ContentAsset.objects.count()):
            ContentAssetFactory().personas.set(personas)
        with (
            django_assert_max_num_queries(LIST_CEILING),
            CaptureQueriesContext(connection) as ctx,
        ):
            assert client.get("/marketing/content/").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
