"""Validate and store a batch of tracking events: the hot path of ingestion.

Intuition: the API only checks and appends; processing (visitors, contacts, timeline,
touchpoints) runs later in a job. So this module works on the parsed JSON directly: plain
functions turn each item into a row tuple or an error message (no model instances, no query per
event), and each chunk of rows is written by one multi-row `INSERT ... ON CONFLICT DO NOTHING
RETURNING id`. The unique (source, event_id) constraint decides duplicates, so two identical
batches sent at once are counted right: the second one's rows conflict and return nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from pydantic_core import from_json, to_json

from tandem.crm.normalise import check_characters, normalise_email
from tandem.errors import InvalidInput
from tandem.tracking import tasks
from tandem.tracking.http import valid_anonymous_id
from tandem.tracking.models import Event

MAX_EVENTS = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_EVENT_ID = 128
MAX_PROPERTIES_BYTES = 16 * 1024
MAX_URL = 2048
MAX_UTM_BYTES = 2048
MAX_USER_AGENT = 512
MAX_CUSTOM_NAME = 64
INSERT_CHUNK = 1000
STANDARD_TYPES = frozenset({"page_view", "identify", "form_submit", "content_view"})
TYPES_TEXT = "page_view, identify, form_submit, content_view or custom:<name>"
CUSTOM_NAME = re.compile(r"[A-Za-z0-9_\-.: ]+")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
_NUL_ESCAPE = b"\\u0000"


class BatchError(Exception):
    """The request as a whole is refused (not one item): its HTTP status and message."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    """What one batch did: counts for the reply, and the new rows' ids for processing."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    inserted_ids: list[int] = field(default_factory=list)

    def reply(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


# A row as inserted: (event_id, type, occurred_at, anonymous_id, email, properties, context),
# the last two already serialised as JSON text.
Row = tuple[str, str, datetime, str, str, str, str]


def refuse_oversize(length: int) -> None:
    """A BatchError (413) for a body longer than the limit."""
    if length > MAX_BODY_BYTES:
        raise BatchError(
            f"the request body is larger than {MAX_BODY_BYTES // 1_048_576} MB", status=413
        )


def parse_batch(body: bytes) -> list[Any]:
    """The `events` list of a request body; a BatchError (400/413) for a body that is not one."""
    refuse_oversize(len(body))
    try:
        # NaN/Infinity are not JSON; a number too large for a float becomes null when stored.
        data = from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise BatchError(f"the body is not valid JSON: {exc}", status=400) from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BatchError('the body must be a JSON object with an "events" list', status=400)
    events: list[Any] = data["events"]
    if len(events) > MAX_EVENTS:
        raise BatchError(
            f"a batch holds at most {MAX_EVENTS:,} events, this one has {len(events):,}",
            status=413,
        )
    return events


def may_hold_nul(body: bytes) -> bool:
    """Whether a JSON body could carry a NUL: only as a \\u0000 escape (the parser refuses raw
    control characters and lone surrogates), so most bodies skip the per-string checks."""
    return _NUL_ESCAPE in body


def _bad_text(text: str, *, field: str) -> str | None:
    """Why no database can hold this text (crm.normalise's NUL/surrogate check), or None."""
    try:
        check_characters(text, field=field)
    except InvalidInput as exc:
        return str(exc)
    return None


def _holds_nul(value: Any) -> bool:
    """Whether a NUL hides in any string (key or value) of a JSON value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


@lru_cache(maxsize=4096)
def _email(raw: str) -> str:
    return normalise_email(raw)


def _occurred_at(value: Any, now: datetime) -> datetime | str:
    """The time in UTC, or the error naming what is wrong with it."""
    if type(value) is not str or not value:
        return "occurred_at is required (an ISO-8601 time)"
    try:
        when = datetime.fromisoformat(value)
        # Naive means UTC, as everywhere in Tandem.
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):
        return f"occurred_at {value[:40]!r} is not an ISO-8601 time"
    if when < EARLIEST:
        return f"occurred_at {value[:40]!r} is before 2000"
    if when > now + FUTURE_SLACK:
        return f"occurred_at {value[:40]!r} is more than a day in the future"
    return when


def _check_type(value: Any) -> str | None:
    if type(value) is not str or not value:
        return f"type is required: {TYPES_TEXT}"
    if value.startswith("custom:"):
        name = value[7:]
        if not name or len(name) > MAX_CUSTOM_NAME or not CUSTOM_NAME.fullmatch(name):
            return (
                f"custom event name {name[:80]!r} must be 1 to {MAX_CUSTOM_NAME} letters, "
                "digits, spaces or _ - . :"
            )
        return None
    return f"type {value[:80]!r} is not one of {TYPES_TEXT}"


def _context(value: Any, seen: dict[str, str], text_checks: bool) -> tuple[str | None, str]:
    """(the stored context as JSON, "") or (None, the error): url, referrer, utm as sent, plus
    what the server saw (ip, user agent)."""
    if value is None:
        value = {}
    elif type(value) is not dict:
        return None, "context must be an object"
    context: dict[str, Any] = {}
    for key in ("url", "referrer"):
        text = value.get(key)
        if text is None or text == "":
            continue
        if type(text) is not str:
            return None, f"context.{key} must be a string"
        if len(text) > MAX_URL:
            return None, f"context.{key} is longer than {MAX_URL:,} characters"
        if text_checks and (problem := _bad_text(text, field=f"context.{key}")):
            return None, problem
        context[key] = text
    utm = value.get("utm")
    if utm:
        if type(utm) is not dict:
            return None, "context.utm must be an object"
        context["utm"] = utm
    elif utm is not None and type(utm) is not dict:
        return None, "context.utm must be an object"
    context.update(seen)
    # One serialisation for the whole context; utm is measured alone only when it might be big.
    text = to_json(context, inf_nan_mode="null")
    if utm:
        if len(text) > MAX_UTM_BYTES and len(to_json(utm, inf_nan_mode="null")) > MAX_UTM_BYTES:
            return None, f"context.utm is larger than {MAX_UTM_BYTES:,} bytes once serialised"
        if text_checks and _NUL_ESCAPE in text and _holds_nul(utm):
            return None, "context.utm contains a NUL character"
    return text.decode(), ""


def validate_event(
    item: Any, *, now: datetime, seen: dict[str, str], text_checks: bool = True
) -> Row | str:
    """One event as a row ready to insert, or the message naming its first problem.

    `seen` is what the server witnessed ({"ip", "user_agent"}), stored in the context.
    `text_checks=False` skips the NUL/surrogate checks, for a JSON body already known to hold
    neither (the parser refuses lone surrogates, and it had no \\u0000 escape).
    """
    if type(item) is not dict:
        return "an event must be an object"
    get = item.get
    event_id = get("event_id")
    if type(event_id) is not str or not event_id or event_id.isspace():
        return "event_id is required (a string)"
    if len(event_id) > MAX_EVENT_ID:
        return f"event_id is longer than {MAX_EVENT_ID} characters"
    if text_checks and (problem := _bad_text(event_id, field="event_id")):
        return problem
    type_ = get("type")
    if type_ not in STANDARD_TYPES and (problem := _check_type(type_)):
        return problem
    occurred_at = _occurred_at(get("occurred_at"), now)
    if type(occurred_at) is str:
        return occurred_at
    anonymous_id = get("anonymous_id") or ""
    if anonymous_id and not valid_anonymous_id(anonymous_id):
        return "anonymous_id must be 16 to 64 letters, digits, - or _"
    email = get("email") or ""
    if email:
        if type(email) is not str:
            return "email must be a string"
        if text_checks and (problem := _bad_text(email, field="email")):
            return problem
        try:
            email = _email(email)
        except InvalidInput as exc:
            return str(exc)
    if type_ == "identify" and not (email and anonymous_id):
        return "identify needs both an email and an anonymous_id"
    properties = get("properties")
    if not properties:
        if properties is not None and type(properties) is not dict:
            return "properties must be an object"
        properties_json = "{}"
    elif type(properties) is not dict:
        return "properties must be an object"
    else:
        text = to_json(properties, inf_nan_mode="null")
        if len(text) > MAX_PROPERTIES_BYTES:
            return (
                f"properties are larger than {MAX_PROPERTIES_BYTES:,} bytes once serialised "
                f"({len(text):,})"
            )
        # The escape also appears for a literal backslash-u0000 text, so confirm before refusing.
        if text_checks and _NUL_ESCAPE in text and _holds_nul(properties):
            return "properties contain a NUL character"
        properties_json = text.decode()
    context_json, problem = _context(get("context"), seen, text_checks)
    if context_json is None:
        return problem
    return (event_id, type_, occurred_at, anonymous_id, email, properties_json, context_json)  # type: ignore[return-value]


def ingest(
    *,
    source_id: int,
    items: Sequence[Any],
    ip: str | None = None,
    user_agent: str = "",
    now: datetime | None = None,
    text_checks: bool = True,
) -> Outcome:
    """Validate a batch and append the new events in one transaction; enqueue their processing.

    `text_checks=False` when the items come from a JSON body without a \\u0000 escape
    (see `may_hold_nul`): no string in it can hold a NUL or a lone surrogate.
    """
    now = now or datetime.now(UTC)
    seen = {"ip": ip} if ip else {}
    if user_agent and not _bad_text(user_agent, field="user_agent"):
        seen["user_agent"] = user_agent[:MAX_USER_AGENT]
    outcome = Outcome()
    rows: dict[str, Row] = {}
    for index, item in enumerate(items):
        row = validate_event(item, now=now, seen=seen, text_checks=text_checks)
        if isinstance(row, str):
            outcome.rejected.append({"index": index, "error": row})
        elif row[0] in rows:
            # The same event_id twice in one batch: the first one counts, the rest are duplicates.
            outcome.duplicates += 1
        else:
            rows[row[0]] = row
    if rows:
        with transaction.atomic():
            fresh = list(rows.values())
            for start in range(0, len(fresh), INSERT_CHUNK):
                chunk = fresh[start : start + INSERT_CHUNK]
                outcome.inserted_ids += insert_rows(
                    source_id=source_id, rows=chunk, received_at=now
                )
            if outcome.inserted_ids:
                ids = list(outcome.inserted_ids)
                transaction.on_commit(lambda: _enqueue(ids), robust=True)
    outcome.accepted = len(outcome.inserted_ids)
    outcome.duplicates += len(rows) - outcome.accepted
    return outcome


def _enqueue(ids: list[int]) -> None:
    """Hand the new rows to the processing job (a lost message is picked up by the sweeper)."""
    tasks.process_batch(ids)


def insert_rows(*, source_id: int | None, rows: Sequence[Row], received_at: datetime) -> list[int]:
    """Insert rows, skipping (source, event_id) pairs already stored; the new rows' ids."""
    if connection.vendor == "postgresql":
        return _insert_postgresql(source_id, rows, received_at)
    return _insert_values(source_id, rows, received_at)


_TABLE = Event._meta.db_table
_COLUMNS = (
    "source_id, event_id, type, occurred_at, received_at, anonymous_id, email, properties, context"
)


def _insert_postgresql(
    source_id: int | None, rows: Sequence[Row], received_at: datetime
) -> list[int]:
    """One statement with one array per column, sent in binary: nine parameters for any batch.

    Binary arrays spare the server parsing (and us quoting) thousands of text literals, which
    more than doubles the insert rate; the cursor is psycopg's own, inside Django's transaction.
    """
    import psycopg

    columns = [list(c) for c in zip(*rows, strict=True)]
    # Table and column names are constants of this module, never input.
    sql = (
        f"INSERT INTO {_TABLE} ({_COLUMNS}) "  # noqa: S608
        "SELECT %s, e, t, o, %s, a, m, p::jsonb, c::jsonb "
        "FROM unnest(%b::text[], %b::text[], %b::timestamptz[], %b::text[], %b::text[], "
        "%b::text[], %b::text[]) AS u(e, t, o, a, m, p, c) "
        "ON CONFLICT (source_id, event_id) DO NOTHING RETURNING id"
    )
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [source_id, received_at, *columns])
        return [r[0] for r in cursor.fetchall()]


def _sqlite_time(value: datetime) -> str:
    """A UTC time as Django stores it in SQLite."""
    return value.replace(tzinfo=None).isoformat(" ")


def _insert_values(source_id: int | None, rows: Sequence[Row], received_at: datetime) -> list[int]:
    """One multi-row VALUES statement (SQLite allows 32,766 parameters; a chunk uses 9,000)."""
    received = _sqlite_time(received_at)
    params: list[Any] = []
    for event_id, type_, occurred_at, anonymous_id, email, props, context in rows:
        params += (
            source_id,
            event_id,
            type_,
            _sqlite_time(occurred_at),
            received,
            anonymous_id,
            email,
            props,
            context,
        )
    values = ",".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES {values} "  # noqa: S608
        "ON CONFLICT (source_id, event_id) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [r[0] for r in cursor.fetchall()]
