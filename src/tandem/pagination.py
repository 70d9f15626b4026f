"""Keyset pagination shared by every list endpoint: `?limit=` (max 500) and an opaque `?cursor=`."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from tandem.errors import InvalidInput

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for "after this id"."""
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor points after; a malformed cursor is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        if not isinstance(value, int) or value < 0:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeError):
        raise InvalidInput("cursor is not a cursor this API returned", field="cursor") from None


def keyset_page(
    queryset: QuerySet, *, limit: int | None, cursor: str | None, descending: bool = False
) -> Page:
    """One page of a queryset in id order, plus the cursor of the next page."""
    size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    order = "-id" if descending else "id"
    qs = queryset.order_by(order)
    if cursor:
        after = decode_cursor(cursor)
        qs = qs.filter(id__lt=after) if descending else qs.filter(id__gt=after)
    # A deferred join: find the page's ids first, then fetch those rows. When a filter gathers
    # many candidates (an OR over prefix indexes), the database sorts ids, not whole joined rows.
    page_ids = qs.values("id")[: size + 1]
    rows = list(queryset.filter(id__in=page_ids).order_by(order))
    more = len(rows) > size
    rows = rows[:size]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if more and rows else None)
