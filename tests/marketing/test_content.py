"""Content assets: upload checks, stored names, safe serving headers, file names, edits and deletes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from tandem.errors import InvalidInput
from tandem.marketing.models import ContentAsset
from tandem.marketing.services import content as services
from tandem.marketing.services.content import (
    MAX_ASSET_BYTES,
    content_disposition,
    file_response,
    sanitise_filename,
)
from tests.marketing.factories import PersonaFactory

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def office(main_part: str, main_type: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Office Open XML package: the manifest and its main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types><Override PartName="/{main_part}" ContentType="{main_type}"/></Types>',
        )
        archive.writestr(main_part, "<document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a document")
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def make_file_asset(name: str, data: bytes, **extra: Any) -> ContentAsset:
    return services.create_asset(
        title=extra.pop("title", "Guide"),
        type="ebook",
        journey_stage="awareness",
        upload=upload(name, data),
        **extra,
    )


# ---------------------------------------------------------------- accepted uploads


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("report.pdf", PDF, "application/pdf"),
        ("Logo.PNG", PNG, "image/png"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("anim.gif", GIF, "image/gif"),
        ("pic.webp", WEBP, "image/webp"),
        ("demo.mp4", MP4, "video/mp4"),
        (
            "brief.docx",
            office("word/document.xml", DOCX_MAIN),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "deck.pptx",
            office("ppt/presentation.xml", PPTX_MAIN),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "model.xlsx",
            office(
                "xl/workbook.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            ),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_allowed_files_are_stored_under_a_random_name(
    db: Any, media: Path, name: str, data: bytes, mime: str
) -> None:
    asset = make_file_asset(name, data)
    asset.refresh_from_db()
    assert (asset.mime_type, asset.file_name, asset.size_bytes, asset.url) == (
        mime,
        name,
        len(data),
        "",
    )
    stored = Path(str(asset.file.name))
    assert stored.parts[0] == "content"
    assert name.rsplit(".", 1)[0] not in stored.name  # the uploader's name is not the stored one
    assert len(stored.stem) == 32 and stored.suffix == "." + name.rsplit(".", 1)[1].lower().replace(
        "jpeg", "jpg"
    )
    assert stored_files(media) == [media / stored]
    assert (media / stored).read_bytes() == data
    assert len(asset.public_token) >= 22  # 16 random bytes, url-safe


# ---------------------------------------------------------------- refused uploads


@pytest.mark.parametrize(
    ("name", "data", "content_type", "message"),
    [
        (
            "report.pdf",
            b"<!doctype html><html><script>alert(document.cookie)</script></html>",
            "application/pdf",
            "report.pdf is not an allowed file type; upload a PDF, PNG, JPEG, GIF, WebP, MP4, DOCX, PPTX or XLSX file",
        ),
        (
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64,
            "application/x-msdownload",
            "setup.exe is not an allowed file type; upload a PDF, PNG, JPEG, GIF, WebP, MP4, DOCX, PPTX or XLSX file",
        ),
        (
            "setup.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00",
            "application/pdf",
            "setup.pdf is not an allowed file type; upload a PDF, PNG, JPEG, GIF, WebP, MP4, DOCX, PPTX or XLSX file",
        ),
        (
            "brief.docx",
            plain_zip(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "brief.docx is a zip archive, not a Word, PowerPoint or Excel document; upload a PDF, PNG, JPEG, GIF, WebP, MP4, DOCX, PPTX or XLSX file",
        ),
        (
            "brief.docm",
            office("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
            "application/vnd.ms-word.document.macroEnabled.12",
            "brief.docm is a zip archive, not a Word, PowerPoint or Excel document; upload a PDF, PNG, JPEG, GIF, WebP, MP4, DOCX, PPTX or XLSX file",
        ),
        (
            "deck.pptx",
            office("word/document.xml", DOCX_MAIN),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "deck.pptx contains a Word document but named .pptx; rename it to .docx",
        ),
        (
            "image.pdf",
            PNG,
            "application/pdf",
            "image.pdf contains a PNG image but named .pdf; rename it to .png",
        ),
        (
            "report",
            PDF,
            "application/pdf",
            "report contains a PDF document but has no extension; rename it to .pdf",
        ),
        (
            "drawing.svg",
            b"<svg onload='alert(1)'/>",
            "image/svg+xml",
            "drawing.svg is not an allowed file type; upload a PDF, PNG, JPEG, GIF, WebP, MP4, DOCX, PPTX or XLSX file",
        ),
        ("empty.pdf", b"", "application/pdf", "empty.pdf is empty"),
    ],
)
def test_refused_uploads_name_the_problem_and_store_nothing(
    db: Any, media: Path, name: str, data: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.create_asset(
            title="Guide",
            type="ebook",
            journey_stage="awareness",
            upload=upload(name, data, content_type),
        )
    assert str(caught.value) == message
    assert caught.value.field == "file"
    assert ContentAsset.objects.count() == 0
    assert stored_files(media) == []


def test_a_file_over_the_limit_is_refused_naming_the_limit(db: Any, media: Path) -> None:
    big = PDF + b"\x00" * (MAX_ASSET_BYTES + 1 - len(PDF))
    with pytest.raises(InvalidInput) as caught:
        make_file_asset("big.pdf", big)
    assert str(caught.value) == "big.pdf is 25.0 MB; content files are limited to 25 MB"
    assert stored_files(media) == []
    # Exactly at the limit is fine.
    assert make_file_asset("max.pdf", big[:MAX_ASSET_BYTES]).size_bytes == MAX_ASSET_BYTES


def test_exactly_one_of_url_and_file(db: Any, media: Path) -> None:
    base = {"title": "Guide", "type": "ebook", "journey_stage": "awareness"}
    with pytest.raises(InvalidInput, match="give a URL or a file, not both"):
        services.create_asset(**base, url="https://example.com/g", upload=upload("g.pdf", PDF))
    with pytest.raises(InvalidInput, match="give a URL or upload a file"):
        services.create_asset(**base)
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "url must be an http:// or https:// address"),
        ("data:text/html,<script>alert(1)</script>", "url must be an http:// or https:// address"),
        ("ftp://files.example.com/a.pdf", "url must be an http:// or https:// address"),
        ("//evil.example.com/x", "url must be an http:// or https:// address"),
        ("https://exa mple.com/", "url 'https://exa mple.com/' is not a valid web address"),
        ("https://example.com/\nx", "url must be an http:// or https:// address"),
    ],
)
def test_only_http_urls_are_accepted(db: Any, url: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.create_asset(title="Guide", type="ebook", journey_stage="awareness", url=url)
    assert str(caught.value) == message


def test_create_validates_choices_and_personas(db: Any) -> None:
    persona = PersonaFactory()
    asset = services.create_asset(
        title=" Buyer guide ",
        type="Case study",
        journey_stage="decision",
        audience="enablement",
        url=" https://example.com/case ",
        personas=[persona.pk, persona.pk],
    )
    assert (asset.title, asset.type, asset.url, asset.audience) == (
        "Buyer guide",
        "case_study",
        "https://example.com/case",
        "enablement",
    )
    assert list(asset.personas.all()) == [persona]
    with pytest.raises(InvalidInput, match="type 'podcast' is not one of"):
        services.create_asset(
            title="x", type="podcast", journey_stage="decision", url="https://a.io"
        )
    with pytest.raises(InvalidInput, match="no persona with id 999999"):
        services.create_asset(
            title="x", type="faq", journey_stage="decision", url="https://a.io", personas=[999999]
        )


# ---------------------------------------------------------------- serving


def body(response: Any) -> bytes:
    """The streamed bytes; the file is closed directly, since response.close() would also end
    the "request" and close the test's database connection."""
    data = b"".join(response.streaming_content)
    response.file_to_stream.close()
    return data


@pytest.mark.parametrize(
    ("name", "data", "download", "disposition"),
    [
        ("report.pdf", PDF, False, 'inline; filename="report.pdf"'),
        ("report.pdf", PDF, True, 'attachment; filename="report.pdf"'),
        ("logo.png", PNG, False, 'inline; filename="logo.png"'),
        ("demo.mp4", MP4, False, 'attachment; filename="demo.mp4"'),
        (
            "brief.docx",
            office("word/document.xml", DOCX_MAIN),
            False,
            'attachment; filename="brief.docx"',
        ),
    ],
)
def test_file_response_headers_are_exact(
    db: Any, name: str, data: bytes, download: bool, disposition: str
) -> None:
    asset = make_file_asset(name, data)
    response = file_response(asset, download=download)
    assert response["Content-Type"] == asset.mime_type
    assert response["Content-Disposition"] == disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Content-Length"] == str(len(data))
    assert body(response) == data


def test_a_tampered_mime_type_is_served_as_opaque_bytes(db: Any) -> None:
    asset = make_file_asset("report.pdf", PDF)
    ContentAsset.objects.filter(pk=asset.pk).update(mime_type="text/html")
    asset.refresh_from_db()
    response = file_response(asset, download=False)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    response.file_to_stream.close()


def test_a_link_asset_or_a_missing_file_is_a_404(db: Any, media: Path) -> None:
    from django.http import Http404

    link = services.create_asset(
        title="Link", type="blog_post", journey_stage="awareness", url="https://example.com/post"
    )
    with pytest.raises(Http404):
        file_response(link, download=True)
    asset = make_file_asset("report.pdf", PDF)
    default_storage.delete(str(asset.file.name))
    with pytest.raises(Http404):
        file_response(asset, download=True)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('my "best" deck.pdf', "my _best_ deck.pdf"),
        ("line\nbreak\r\n.pdf", "linebreak.pdf"),
        ("Content-Type: text/html\r\n\r\n<b>.pdf", "html_b_.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\ann\\report.pdf", "report.pdf"),
        ("evil\u202egpj.pdf", "evilgpj.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("  spaced   out .pdf ", "spaced out .pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("", "download"),
        ("../", "download"),
        ("a" * 200 + ".pdf", "a" * 146 + ".pdf"),
    ],
)
def test_file_names_are_sanitised(raw: str, clean: str) -> None:
    assert sanitise_filename(raw) == clean


@pytest.mark.parametrize(
    ("name", "inline", "header"),
    [
        ("report.pdf", False, 'attachment; filename="report.pdf"'),
        ('a"b\nc.pdf', True, 'inline; filename="a_bc.pdf"'),
        (
            "50% off.pdf",
            False,
            "attachment; filename=\"50_ off.pdf\"; filename*=UTF-8''50%25%20off.pdf",
        ),
        (
            "Café ünd.pdf",
            False,
            "attachment; filename=\"Cafe und.pdf\"; filename*=UTF-8''Caf%C3%A9%20%C3%BCnd.pdf",
        ),
        (
            "отчёт.pdf",
            False,
            "attachment; filename=\"download.pdf\"; filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf",
        ),
    ],
)
def test_content_disposition_is_rfc_6266_safe(name: str, inline: bool, header: str) -> None:
    assert content_disposition(name, inline=inline) == header


def test_the_served_name_is_the_sanitised_upload_name(db: Any) -> None:
    asset = make_file_asset('Q3 "plan"\r\n.pdf', PDF)
    assert asset.file_name == "Q3 _plan_.pdf"
    response = file_response(asset, download=True)
    assert response["Content-Disposition"] == 'attachment; filename="Q3 _plan_.pdf"'
    response.file_to_stream.close()


# ---------------------------------------------------------------- edits and deletes


def test_replacing_the_file_deletes_the_old_one_after_commit(
    db: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    asset = make_file_asset("v1.pdf", PDF)
    old = media / str(asset.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_asset(
            asset=asset, changes={"title": "Guide v2"}, upload=upload("v2.png", PNG)
        )
    asset.refresh_from_db()
    assert (asset.title, asset.file_name, asset.mime_type) == ("Guide v2", "v2.png", "image/png")
    assert not old.exists()
    assert stored_files(media) == [media / str(asset.file.name)]


def test_the_old_file_stays_until_the_edit_commits(
    db: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    asset = make_file_asset("v1.pdf", PDF)
    old = media / str(asset.file.name)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.update_asset(asset=asset, changes={}, upload=upload("v2.pdf", PDF))
    assert old.exists()
    assert len(callbacks) == 1


def test_switching_to_a_link_drops_the_file(
    db: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    asset = make_file_asset("v1.pdf", PDF)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_asset(asset=asset, changes={"url": "https://example.com/v2"})
    asset.refresh_from_db()
    assert (asset.url, asset.file.name, asset.file_name, asset.mime_type, asset.size_bytes) == (
        "https://example.com/v2",
        "",
        "",
        "",
        None,
    )
    assert stored_files(media) == []


def test_a_refused_replacement_keeps_the_asset_as_it_was(db: Any, media: Path) -> None:
    asset = make_file_asset("v1.pdf", PDF)
    with pytest.raises(InvalidInput, match="is not an allowed file type"):
        services.update_asset(
            asset=asset, changes={"title": "New"}, upload=upload("v2.pdf", b"<html>")
        )
    asset = ContentAsset.objects.get(pk=asset.pk)
    assert (asset.title, asset.file_name) == ("Guide", "v1.pdf")
    assert stored_files(media) == [media / str(asset.file.name)]
    with pytest.raises(InvalidInput, match="give a URL or a file, not both"):
        services.update_asset(
            asset=asset, changes={"url": "https://example.com"}, upload=upload("v2.pdf", PDF)
        )
    assert len(stored_files(media)) == 1


def test_a_link_asset_cannot_lose_its_only_source(db: Any) -> None:
    asset = services.create_asset(
        title="Link", type="faq", journey_stage="awareness", url="https://example.com/faq"
    )
    with pytest.raises(InvalidInput, match="give a URL or upload a file"):
        services.update_asset(asset=asset, changes={"url": ""})


def test_archive_and_delete(db: Any, media: Path, django_capture_on_commit_callbacks: Any) -> None:
    asset = make_file_asset("v1.pdf", PDF)
    services.set_archived(asset=asset, archived=True)
    assert ContentAsset.objects.get(pk=asset.pk).archived is True
    services.set_archived(asset=asset, archived=False)
    assert ContentAsset.objects.get(pk=asset.pk).archived is False
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_asset(asset=asset)
    assert ContentAsset.objects.count() == 0
    assert stored_files(media) == []
