"""Content asset writes, the upload rules they enforce, and the one safe way to serve a file.

An upload is trusted for nothing: its type comes from its first bytes (and, for Office files,
from the zip's own manifest), its extension must agree, it is stored under a random name, and
it is served with our type, `nosniff`, a sandboxing CSP and an attachment disposition.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone

from tandem.accounts.models import User
from tandem.crm.normalise import check_characters, clean_choice, clean_text
from tandem.errors import InvalidInput
from tandem.marketing.models import Audience, ContentAsset, ContentType, JourneyStage, Persona

MAX_ASSET_BYTES = 25 * 1024 * 1024
MAX_FILE_NAME = 150
MAX_URL = 2000
_MB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """An allowed kind of file: the type we serve it as, its name and the extensions it may carry."""

    mime: str
    label: str
    extensions: tuple[str, ...]
    inline: bool = False  # PDFs and images may open in the browser; everything else downloads


PDF = FileKind("application/pdf", "PDF document", (".pdf",), inline=True)
PNG = FileKind("image/png", "PNG image", (".png",), inline=True)
JPEG = FileKind("image/jpeg", "JPEG image", (".jpg", ".jpeg"), inline=True)
GIF = FileKind("image/gif", "GIF image", (".gif",), inline=True)
WEBP = FileKind("image/webp", "WebP image", (".webp",), inline=True)
MP4 = FileKind("video/mp4", "MP4 video", (".mp4", ".m4v"))
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word document",
    (".docx",),
)
PPTX = FileKind(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "PowerPoint presentation",
    (".pptx",),
)
XLSX = FileKind(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "Excel workbook",
    (".xlsx",),
)
FILE_KINDS: dict[str, FileKind] = {
    kind.mime: kind for kind in (PDF, PNG, JPEG, GIF, WEBP, MP4, DOCX, PPTX, XLSX)
}
ALLOWED_NAMES = "PDF, PNG, JPEG, GIF, WebP, MP4, DOCX, PPTX or XLSX"

# Office Open XML: the main part each kind must have, and the type its manifest gives it
# (a macro-enabled .docm/.pptm/.xlsm declares a different main type and is refused).
_OOXML_MAIN: dict[FileKind, tuple[str, str]] = {
    DOCX: (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    PPTX: (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
    XLSX: (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
}
# ISO base media "ftyp" brands that are MP4 video (QuickTime "qt  " and audio-only M4A are not).
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash",
    b"MSNV", b"mmp4",
}  # fmt: skip
_MANIFEST_MAX = 1024 * 1024


# ---------------------------------------------------------------- sniffing


def _magic(head: bytes) -> FileKind | None:
    """The kind the first bytes announce (zip archives are resolved separately)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return MP4
    return None


def _office_kind(upload: Any) -> FileKind | None:
    """Which Office Open XML document a zip is, from its manifest; None for any other zip."""
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return None
            with archive.open("[Content_Types].xml") as manifest:
                declared = manifest.read(_MANIFEST_MAX).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, OSError, EOFError, ValueError):  # fmt: skip
        return None
    finally:
        upload.seek(0)
    for kind, (part, main_type) in _OOXML_MAIN.items():
        if part in names and main_type in declared:
            return kind
    return None


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


def sniff_upload(upload: Any, *, name: str) -> FileKind:
    """The allowed kind an upload really is, refusing unknown content or a disagreeing extension."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = _magic(head)
    if kind is None and head.startswith(b"PK\x03\x04"):
        kind = _office_kind(upload)
        if kind is None:
            raise InvalidInput(
                f"{name} is a zip archive, not a Word, PowerPoint or Excel document; "
                f"upload a {ALLOWED_NAMES} file",
                field="file",
            )
    if kind is None:
        raise InvalidInput(
            f"{name} is not an allowed file type; upload a {ALLOWED_NAMES} file", field="file"
        )
    ext = _extension(name)
    if ext not in kind.extensions:
        named = f"named {ext}" if ext else "has no extension"
        raise InvalidInput(
            f"{name} contains a {kind.label} but {named}; rename it to {kind.extensions[0]}",
            field="file",
        )
    return kind


def check_upload(upload: Any) -> tuple[FileKind, str]:
    """Size and content checks of an uploaded file; its kind and its sanitised name."""
    name = sanitise_filename(getattr(upload, "name", "") or "")
    size = upload.size or 0
    if size > MAX_ASSET_BYTES:
        raise InvalidInput(
            f"{name} is {size / _MB:.1f} MB; content files are limited to {MAX_ASSET_BYTES // _MB} MB",
            field="file",
        )
    if size == 0:
        raise InvalidInput(f"{name} is empty", field="file")
    return sniff_upload(upload, name=name), name


# ---------------------------------------------------------------- file names


_RESERVED = re.compile(r'["*:<>?|]')


def sanitise_filename(raw: str, *, default: str = "download") -> str:
    """A download name safe on every OS and in a header: no path, control or quote characters."""
    name = unicodedata.normalize("NFC", str(raw))
    name = re.split(r"[/\\]", name)[-1]  # the uploader's folders are not ours
    # Control, format (e.g. right-to-left override, which disguises "gpj.exe"), surrogate and
    # unassigned characters go; so do the characters Windows refuses in names.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _RESERVED.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_FILE_NAME:
        ext = _extension(name)
        ext = ext if len(ext) <= 10 else ""
        name = name[: MAX_FILE_NAME - len(ext)].rstrip(" .") + ext
    return name or default


def _ascii(text: str) -> str:
    """Text reduced to printable ASCII that needs no escaping in a quoted header value."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r'[^\x20-\x7e]|["\\%]', "_", text)


def content_disposition(filename: str, *, inline: bool) -> str:
    """An RFC 6266 Content-Disposition: an ASCII filename, plus filename* when it is not ASCII."""
    name = sanitise_filename(filename)
    ext = _extension(name)
    stem = name[: len(name) - len(ext)]
    ascii_ext = ext if _ascii(ext) == ext else ""
    ascii_name = (_ascii(stem).strip(" .") or "download") + ascii_ext
    header = f'{"inline" if inline else "attachment"}; filename="{ascii_name}"'
    if ascii_name != name:
        # RFC 8187 encoding of the real name; browsers prefer it to the ASCII fallback.
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


# ---------------------------------------------------------------- serving


def file_response(asset: ContentAsset, *, download: bool) -> FileResponse:
    """Stream an asset's file with our sniffed type and headers that stop it running as a page.

    Inline only for PDFs and images when `download` is False; everything else is an
    attachment. A link asset, or a file gone from storage, is a 404.
    """
    if not asset.file:
        raise Http404("this asset is a link, not a file")
    try:
        handle = default_storage.open(str(asset.file.name), "rb")
    except OSError:  # FileNotFoundError included
        raise Http404("this asset's file is missing from storage") from None
    # The stored type came from sniffing; anything else in the row is served as opaque bytes.
    kind = FILE_KINDS.get(asset.mime_type)
    response = FileResponse(handle, content_type=kind.mime if kind else "application/octet-stream")
    inline = bool(kind and kind.inline and not download)
    response["Content-Disposition"] = content_disposition(
        asset.file_name or "download", inline=inline
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# ---------------------------------------------------------------- values


def clean_url(raw: Any) -> str:
    """An http(s) URL, or "" for none; any other scheme (javascript:, data:, file:) is refused."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return ""
    if len(text) > MAX_URL:
        raise InvalidInput(f"url is longer than {MAX_URL} characters", field="url")
    check_characters(text, field="url")
    if urlsplit(text).scheme.lower() not in ("http", "https") or not text.isprintable():
        raise InvalidInput("url must be an http:// or https:// address", field="url")
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        raise InvalidInput(f"url {text[:80]!r} is not a valid web address", field="url") from None
    return text


def _persona_ids(raw: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for item in raw:
        pk = item.pk if isinstance(item, Persona) else item
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise InvalidInput(f"persona {str(pk)[:40]!r} is not a persona id", field="personas")
        if pk not in ids:
            ids.append(pk)
    found = set(Persona.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise InvalidInput(f"no persona with id {', '.join(map(str, missing))}", field="personas")
    return ids


def _clean_value(field: str, value: Any) -> Any:
    if field == "title":
        return clean_text(value, field="title", max_length=200, required=True)
    if field == "description":
        return clean_text(value, field="description", max_length=10000)
    if field == "url":
        return clean_url(value)
    choices = {"type": ContentType, "journey_stage": JourneyStage, "audience": Audience}[field]
    text = "" if value is None else str(value)
    if not text.strip():
        raise InvalidInput(f"{field.replace('_', ' ')} is required", field=field)
    return clean_choice(text, field=field, choices=list(choices.values))


ASSET_EDITABLE = ("title", "type", "journey_stage", "audience", "description", "url", "personas")


# ---------------------------------------------------------------- storage


def _store(upload: Any, kind: FileKind) -> str:
    """Save an upload under a random name (the uploader's name is kept only for downloads)."""
    upload.seek(0)
    name = f"content/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{kind.extensions[0]}"
    return default_storage.save(name, upload)


def _delete_stored(name: str) -> None:
    if name:
        default_storage.delete(name)


@contextmanager
def _discard_on_failure(stored: str) -> Iterator[None]:
    """Runs the write; a failure removes the file just stored, so nothing is left half-written."""
    try:
        yield
    except BaseException:
        _delete_stored(stored)
        raise


# ---------------------------------------------------------------- writes


def create_asset(
    *,
    title: str,
    type: str,
    journey_stage: str,
    audience: str = Audience.MARKET,
    description: str = "",
    url: str = "",
    upload: Any = None,
    personas: Iterable[Any] = (),
    by: User | None = None,
) -> ContentAsset:
    """Create a content asset from a URL or an uploaded file (exactly one of the two)."""
    values = {
        field: _clean_value(field, value)
        for field, value in {
            "title": title,
            "type": type,
            "journey_stage": journey_stage,
            "audience": audience,
            "description": description,
            "url": url,
        }.items()
    }
    if values["url"] and upload is not None:
        raise InvalidInput("give a URL or a file, not both", field="url")
    if not values["url"] and upload is None:
        raise InvalidInput("give a URL or upload a file", field="url")
    persona_ids = _persona_ids(personas)
    asset = ContentAsset(
        **values,
        public_token=secrets.token_urlsafe(16),
        created_by=by,
        created_at=timezone.now(),
    )
    stored = ""
    if upload is not None:
        kind, asset.file_name = check_upload(upload)
        asset.mime_type, asset.size_bytes = kind.mime, upload.size
        stored = _store(upload, kind)
        asset.file.name = stored
    with _discard_on_failure(stored), transaction.atomic():
        asset.save()
        asset.personas.set(persona_ids)
    return asset


def update_asset(
    *,
    asset: ContentAsset,
    changes: dict[str, Any],
    upload: Any = None,
    by: User | None = None,
) -> ContentAsset:
    """Change an asset's fields; a new URL or file replaces the other, the old file goes after commit."""
    unknown = set(changes).difference(ASSET_EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown asset field(s): {', '.join(sorted(unknown))}")
    values = {f: _clean_value(f, v) for f, v in changes.items() if f != "personas"}
    persona_ids = _persona_ids(changes["personas"]) if "personas" in changes else None
    new_url = values.get("url", "")
    if new_url and upload is not None:
        raise InvalidInput("give a URL or a file, not both", field="url")
    if "url" in values and not new_url and upload is None and not asset.file:
        raise InvalidInput("give a URL or upload a file", field="url")
    old_file = asset.file.name or ""
    kind = check_upload(upload) if upload is not None else None
    for field, value in values.items():
        setattr(asset, field, value)
    stored = ""
    if kind is not None:
        asset.file_name = kind[1]
        asset.mime_type, asset.size_bytes = kind[0].mime, upload.size
        stored = _store(upload, kind[0])
        asset.file.name, asset.url = stored, ""
    elif new_url and old_file:
        asset.file.name, asset.file_name, asset.mime_type, asset.size_bytes = "", "", "", None
    with _discard_on_failure(stored), transaction.atomic():
        asset.save()
        if persona_ids is not None:
            asset.personas.set(persona_ids)
        if old_file and old_file != (asset.file.name or ""):
            # Only once the row no longer points at it: a rolled-back edit keeps its file.
            transaction.on_commit(partial(_delete_stored, old_file), robust=True)
    return asset


@transaction.atomic
def set_archived(*, asset: ContentAsset, archived: bool, by: User | None = None) -> ContentAsset:
    """Archive (hide from the library and stop public serving) or restore an asset."""
    asset.archived = archived
    asset.save(update_fields=["archived", "updated_at"])
    return asset


@transaction.atomic
def delete_asset(*, asset: ContentAsset, by: User | None = None) -> None:
    """Delete an asset; its stored file is removed once the delete has committed."""
    stored = asset.file.name or ""
    asset.delete()
    if stored:
        transaction.on_commit(partial(_delete_stored, stored), robust=True)
