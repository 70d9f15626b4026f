"""Tracking sources: public write keys (ingest only) and the browser origins they accept."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from tandem.accounts.models import User
from tandem.crm.normalise import clean_text
from tandem.errors import InvalidInput
from tandem.marketing.models import Source

WRITE_KEY_PREFIX = "tdmw_"
MAX_ORIGINS = 50


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case, or None when the value is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def clean_origins(values: Iterable[str]) -> list[str]:
    """Distinct normalised origins; a value that is not an origin is an error naming it."""
    cleaned: list[str] = []
    for raw in values:
        if not str(raw).strip():
            continue
        origin = normalise_origin(str(raw))
        if origin is None:
            raise InvalidInput(
                f"{str(raw)[:100]!r} is not an origin (scheme://host[:port], no path)",
                field="origins",
            )
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > MAX_ORIGINS:
        raise InvalidInput(f"at most {MAX_ORIGINS} origins per source", field="origins")
    return cleaned


@transaction.atomic
def create_source(
    *, name: str, origins: Iterable[str] = (), by: User | None = None
) -> tuple[Source, str]:
    """Create a source; its raw write key is returned once and only its digest is stored."""
    name = clean_text(name, field="name", max_length=120, required=True)
    if Source.objects.filter(name=name).exists():
        raise InvalidInput(f"a source called {name!r} already exists", field="name")
    raw = WRITE_KEY_PREFIX + secrets.token_urlsafe(24)
    source = Source.objects.create(
        name=name,
        origins=clean_origins(origins),
        key_prefix=raw[:12],
        key_digest=_digest(raw),
        created_by=by,
    )
    return source, raw


@transaction.atomic
def update_source(*, source: Source, name: str, origins: Iterable[str]) -> Source:
    """Rename a source or change the origins it accepts."""
    name = clean_text(name, field="name", max_length=120, required=True)
    if Source.objects.filter(name=name).exclude(pk=source.pk).exists():
        raise InvalidInput(f"a source called {name!r} already exists", field="name")
    source.name, source.origins = name, clean_origins(origins)
    source.save(update_fields=["name", "origins"])
    return source


@transaction.atomic
def rotate_write_key(*, source: Source) -> tuple[Source, str]:
    """Give a source a new write key; the old one stops working at once."""
    raw = WRITE_KEY_PREFIX + secrets.token_urlsafe(24)
    source.key_prefix, source.key_digest, source.revoked_at = raw[:12], _digest(raw), None
    source.save(update_fields=["key_prefix", "key_digest", "revoked_at"])
    return source, raw


@transaction.atomic
def revoke_source(*, source: Source) -> Source:
    """Stop accepting events from a source."""
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at"])
    return source


def source_for_key(*, raw: str) -> Source | None:
    """The active source behind a raw write key, or None."""
    if not raw or not raw.startswith(WRITE_KEY_PREFIX) or len(raw) > 100:
        return None
    return Source.objects.filter(key_digest=_digest(raw), revoked_at__isnull=True).first()
