"""Keyset pagination shared by every list endpoint: `?limit=` (max 500) and an opaque `?cursor=`."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from django.db.models import Q, QuerySet
from pydantic import Field

from tandem.errors import InvalidInput

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
# The largest id a 64-bit primary key holds: bigger numbers are refused before they reach SQL.
MAX_ID = 2**63 - 1
MAX_CURSOR_LENGTH = 200
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: int, at: datetime | None = None) -> str:
    """An opaque cursor for "after this row" (its id, and its time for time-ordered lists)."""
    body: dict[str, Any] = {"after": last_id}
    if at is not None:
        body["at"] = at.isoformat()
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, timed: bool = False) -> tuple[int, datetime | None]:
    """The (id, time) a cursor points after; a malformed cursor is a 400."""
    try:
        # Ours are under 100 characters; a long one could only be a deeply nested JSON bomb.
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value = body["after"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise ValueError
        at = datetime.fromisoformat(body["at"]) if timed else None
        if at is not None:
            if at.tzinfo is None:
                raise ValueError
            # In UTC here, so that a time at the edge of the calendar fails now, not in SQL.
            at = at.astimezone(UTC)
        return value, at
    except (
        ValueError,
        KeyError,
        TypeError,
        binascii.Error,
        UnicodeError,
        OverflowError,
        RecursionError,
    ):
        raise InvalidInput("cursor is not a cursor this API returned", field="cursor") from None


def keyset_page(
    queryset: QuerySet,
    *,
    limit: int | None,
    cursor: str | None,
    descending: bool = False,
    time_field: str | None = None,
) -> Page:
    """One page in id order (or `time_field` then id), plus the cursor of the next page."""
    size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    sign = "-" if descending else ""
    order = [f"{sign}{time_field}", f"{sign}id"] if time_field else [f"{sign}id"]
    qs = queryset.order_by(*order)
    if cursor:
        after, at = decode_cursor(cursor, timed=time_field is not None)
        op = "lt" if descending else "gt"
        if time_field:
            qs = qs.filter(
                Q(**{f"{time_field}__{op}": at}) | Q(**{time_field: at, f"id__{op}": after})
            )
        else:
            qs = qs.filter(**{f"id__{op}": after})
    # A deferred join: find the page's ids first, then fetch those rows. When a filter gathers
    # many candidates (an OR over prefix indexes), the database sorts ids, not whole joined rows.
    page_ids = qs.values("id")[: size + 1]
    rows = list(queryset.filter(id__in=page_ids).order_by(*order))
    more = len(rows) > size
    rows = rows[:size]
    if not (more and rows):
        return Page(items=rows, next_cursor=None)
    last = rows[-1]
    return Page(
        items=rows,
        next_cursor=encode_cursor(last.id, getattr(last, time_field) if time_field else None),
    )
