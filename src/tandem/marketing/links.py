"""Click tracking links: signed tokens naming a registered link, and checked destinations.

A token carries only ids (the link, and the contact when a message was sent to a known
person) signed with HMAC-SHA256 under the salt "tandem.click". The redirect endpoint reads the
destination from the TrackedLink row, never from the request, so a token cannot point anywhere
the system did not register; a changed id fails the signature.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest
from django.urls import reverse

from tandem.crm.normalise import check_characters
from tandem.errors import InvalidInput
from tandem.marketing import utm
from tandem.pagination import MAX_ID

SALT = "tandem.click"
# "." is outside url-safe base64 (the signature's alphabet) and safe in a path segment.
_SEP = "."
_ID_SEP = "-"
# Ours are under 80 characters; anything much longer is not a token we made.
MAX_TOKEN_LENGTH = 120
MAX_URL_LENGTH = 2000

_url_validator = URLValidator(schemes=["http", "https"])


def _signer() -> signing.Signer:
    # Made per call, so that the current SECRET_KEY and its fallbacks (key rotation) apply.
    return signing.Signer(salt=SALT, sep=_SEP, algorithm="sha256")


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def click_token(link_id: int, contact_id: int | None = None) -> str:
    """A compact, url-safe signed token for a click on this link (by this contact, if known)."""
    if not 1 <= link_id <= MAX_ID or (contact_id is not None and not 1 <= contact_id <= MAX_ID):
        raise ValueError("ids must be positive 64-bit integers")
    value = _b36(link_id) if contact_id is None else f"{_b36(link_id)}{_ID_SEP}{_b36(contact_id)}"
    return _signer().sign(value)


def _id(text: str) -> int | None:
    # int(x, 36) accepts signs, spaces and underscores: only plain base-36 digits are ours.
    if not text or not text.isascii() or not text.isalnum() or text != text.lower():
        return None
    number = int(text, 36)
    return number if 1 <= number <= MAX_ID else None


def parse_click_token(token: Any) -> tuple[int, int | None] | None:
    """(link id, contact id or None) from a token we made; None for anything else."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        return None
    try:
        value = _signer().unsign(token)
    except (signing.BadSignature, UnicodeError):
        return None
    link_text, sep, contact_text = value.partition(_ID_SEP)
    link_id = _id(link_text)
    if link_id is None:
        return None
    if not sep:
        return link_id, None
    contact_id = _id(contact_text)
    return None if contact_id is None else (link_id, contact_id)


def tracked_url(request: HttpRequest, link: Any, contact_id: int | None = None) -> str:
    """The absolute click-tracking address of a registered link (the `tracking:click` route)."""
    token = click_token(link.pk, contact_id)
    return request.build_absolute_uri(reverse("tracking:click", args=[token]))


def clean_destination(url: Any, *, field: str = "url") -> str:
    """An absolute http(s) URL with a host, at most 2,000 characters, or InvalidInput."""
    text = "" if url is None else str(url).strip()
    if not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > MAX_URL_LENGTH:
        raise InvalidInput(f"{field} is longer than {MAX_URL_LENGTH:,} characters", field=field)
    check_characters(text, field=field)
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise InvalidInput(f"{field} may not contain spaces or control characters", field=field)
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme not in ("http", "https"):
        raise InvalidInput(
            f"{field} must be an absolute http:// or https:// address, like https://example.com/page",
            field=field,
        )
    try:
        _url_validator(text)
    except ValidationError:
        raise InvalidInput(
            f"{field} {text[:80]!r} is not a valid web address with a host name", field=field
        ) from None
    return text


def campaign_url(campaign: Any, url: Any, *, content: Any = "", term: Any = "") -> str:
    """A landing page URL tagged with the campaign's UTM tags (and an optional content/term).

    utm_content and utm_term already in the URL are kept unless new ones are given; every other
    utm_* parameter is replaced by the campaign's.
    """
    destination = clean_destination(url)
    present = utm.utm_from_url(destination)
    tagged = utm.tag_url(
        destination,
        source=campaign.utm_source,
        medium=campaign.utm_medium,
        campaign=campaign.utm_campaign,
        term=utm.clean_tag(term, key="term") or present.get("term", ""),
        content=utm.clean_tag(content, key="content") or present.get("content", ""),
    )
    if len(tagged) > MAX_URL_LENGTH:
        raise InvalidInput(
            f"url with its UTM tags is longer than {MAX_URL_LENGTH:,} characters", field="url"
        )
    return tagged
