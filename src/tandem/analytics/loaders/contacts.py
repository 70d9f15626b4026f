"""Contacts and their first stage entries as a Polars frame, fast enough for a million rows.

On PostgreSQL each column comes back as one binary array (`array_agg`) decoded with one numpy
view: every value is a non-null 8-byte integer or timestamp (nulls become sentinels), so every
element has the same width. Elsewhere (SQLite) a plain cursor fetch is enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
import psycopg
from django.db import connection
from psycopg.adapt import Loader
from psycopg.pq import Format

from tandem.analytics.compute.funnel import RAW_STAGES, became
from tandem.crm.models import Contact, Source
from tandem.errors import InvalidInput
from tandem.leads.models import Segment
from tandem.leads.queries.segments import segment_members
from tandem.marketing.models import Campaign, Persona, Touchpoint

GROUPS = ("channel", "campaign", "persona")  # per-contact keys; segments come from memberships
FILTERS = ("cohort", "period", "none")
NONE_KEY = "none"  # the group of contacts without a campaign or persona

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 (PostgreSQL's timestamp zero) in Unix µs
_NULL = np.iinfo(np.int64).min  # a null timestamp travels as -infinity, i.e. INT64_MIN
_CHANNELS: tuple[str, ...] = tuple(Source.values)
TIME_COLUMNS = ("created_at", *(became(s) for s in RAW_STAGES))
_CUSTOMER, _EVANGELIST = became("customer"), became("evangelist")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _group_sql(group: str | None) -> tuple[str, str]:
    """The SELECT expression (an integer code) and the JOIN a group key needs."""
    if group is None:
        return "", ""
    if group == "channel":
        # Ship the channel as its index in Source: integers keep every row the same width.
        whens = " ".join(f"WHEN '{value}' THEN {i}" for i, value in enumerate(_CHANNELS))
        return f", CAST(CASE c.{_q('original_source')} {whens} ELSE -1 END AS BIGINT)", ""
    if group == "persona":
        return f", COALESCE(c.{_q('persona_id')}, -1)", ""
    if group == "campaign":
        touches = _q(Touchpoint._meta.db_table)
        first = (
            # Identifiers only (quoted model names); values travel as parameters.
            f"SELECT {_q('contact_id')} AS cid, {_q('campaign_id')} AS camp, ROW_NUMBER() OVER "  # noqa: S608
            f"(PARTITION BY {_q('contact_id')} ORDER BY {_q('occurred_at')}, {_q('id')}) AS rn "
            f"FROM {touches} WHERE {_q('contact_id')} IS NOT NULL"
        )
        join = f" LEFT JOIN ({first}) ft ON ft.cid = c.{_q('id')} AND ft.rn = 1"
        return ", COALESCE(ft.camp, -1)", join
    raise InvalidInput(f'group must be one of {", ".join(GROUPS)}, not "{group}"', field="group")


def _where(filter_by: str, start: datetime, end: datetime) -> tuple[str, list[Any]]:
    """The window filter pushed into SQL (a superset of what the computation counts)."""
    if filter_by == "cohort":
        return f" WHERE c.{_q('created_at')} >= %s AND c.{_q('created_at')} < %s", [start, end]
    if filter_by == "period":
        # Funnel entry into a stage is the earliest entry into it or a later stage, so an entry
        # inside the window means some became_* column is inside it.
        parts = [f"(c.{_q(became(s))} >= %s AND c.{_q(became(s))} < %s)" for s in RAW_STAGES]
        return " WHERE " + " OR ".join(parts), [start, end] * len(RAW_STAGES)
    if filter_by == "none":
        return "", []
    raise InvalidInput(f'filter must be one of {", ".join(FILTERS)}, not "{filter_by}"')


def _select(columns: list[str], group: str | None, filter_by: str, start: Any, end: Any) -> Any:
    group_expr, join = _group_sql(group)
    where, params = _where(filter_by, start, end)
    sql = (
        f"SELECT {', '.join(columns)}{group_expr} FROM {_q(Contact._meta.db_table)} c{join}{where}"  # noqa: S608
    )
    return sql, params


class _RawArray(Loader):
    """Hand a binary array back as its bytes: numpy decodes it, not one Python object per value."""

    format = Format.BINARY

    def load(self, data: Any) -> bytes:
        return bytes(data)


def _array_values(data: bytes) -> np.ndarray:
    """The int64 values of a one-dimensional, null-free binary int8[] or timestamptz[]."""
    # Header: ndim, has-nulls flag, element type (int32 each), then per dimension its length
    # and lower bound; an empty array is only the first three words.
    if len(data) <= 12:
        return np.zeros(0, dtype=np.int64)
    # Every element is an int32 length (always 8: nulls were made sentinels) and 8 bytes.
    cells = np.frombuffer(data, dtype=[("len", ">i4"), ("value", ">i8")], offset=20)
    return cells["value"].astype(np.int64)


def _postgres_frame(
    group: str | None, filter_by: str, start: datetime, end: datetime, with_ids: bool
) -> pl.DataFrame:
    # One array per column in one row, not a million rows: the driver's per-row cost (about
    # 3 µs a row through COPY) was most of the load time, and an array is one message. Each
    # array costs the server a call per value, so only the columns the caller needs are sent.
    def timestamp(col: str) -> str:
        if col == _CUSTOMER:
            # Evangelists count as customers (the earliest of the two); one array fewer.
            both = f"LEAST(c.{_q(_CUSTOMER)}, c.{_q(_EVANGELIST)})"
            return f"COALESCE({both}, '-infinity'::timestamptz)"
        return f"COALESCE(c.{_q(col)}, '-infinity'::timestamptz)"

    sent = [col for col in TIME_COLUMNS if col != _EVANGELIST]
    columns = ([f"c.{_q('id')}"] if with_ids else []) + [timestamp(col) for col in sent]
    group_expr, join = _group_sql(group)
    if group_expr:
        columns.append(group_expr.lstrip(", "))
    where, params = _where(filter_by, start, end)
    aggregates = ", ".join(f"array_agg({column})" for column in columns)
    sql = f"SELECT {aggregates} FROM {_q(Contact._meta.db_table)} c{join}{where}"  # noqa: S608
    names = [*(["id"] if with_ids else []), *sent, *(["group"] if group else [])]
    with connection.cursor() as cursor:
        # Django's cursors bind on the client, which cannot ask for binary results.
        raw = psycopg.Cursor(cursor.connection)
        for name in ("int8", "timestamptz"):
            info = psycopg.postgres.types[name]
            raw.adapters.register_loader(info.array_oid, _RawArray)
        raw.execute(sql, params, binary=True)
        row = raw.fetchone()
        raw.close()
    arrays = {
        name: _array_values(data) if data else np.zeros(0, dtype=np.int64)
        for name, data in zip(names, row or [None] * len(names), strict=True)
    }
    frame: dict[str, Any] = {"id": arrays["id"]} if with_ids else {}
    for col in sent:
        values = arrays[col]
        missing = values == _NULL
        micros = np.where(missing, 0, values + _PG_EPOCH_US)
        frame[col] = (
            pl.Series(col, micros)
            .cast(pl.Datetime("us", "UTC"))
            .scatter(np.flatnonzero(missing), None)
        )
    size = len(arrays[sent[0]])
    frame[_EVANGELIST] = pl.repeat(None, size, dtype=pl.Datetime("us", "UTC"), eager=True)
    if group:
        frame["group"] = arrays["group"]
    return pl.DataFrame(frame)


def _generic_frame(
    group: str | None, filter_by: str, start: datetime, end: datetime, with_ids: bool
) -> pl.DataFrame:
    columns = [f"c.{_q('id')}"] + [f"c.{_q(col)}" for col in TIME_COLUMNS]
    sql, params = _select(columns, group, filter_by, start, end)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = ["id", *TIME_COLUMNS, *(["group"] if group else [])]
    frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    fixes = []
    for col in TIME_COLUMNS:
        dtype = frame.schema[col]
        if dtype == pl.String:  # a driver that leaves timestamps as text
            expr = pl.col(col).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
        else:
            expr = pl.col(col).cast(pl.Datetime("us", getattr(dtype, "time_zone", None)))
        # SQLite keeps naive UTC; aware values (other backends) are converted, not relabelled.
        dtype_tz = getattr(dtype, "time_zone", None)
        fixes.append(
            expr.dt.convert_time_zone("UTC") if dtype_tz else expr.dt.replace_time_zone("UTC")
        )
    frame = frame.with_columns(*fixes, pl.col("id").cast(pl.Int64))
    # Evangelists count as customers (the earliest of the two), as on PostgreSQL.
    frame = frame.with_columns(
        pl.min_horizontal(_CUSTOMER, _EVANGELIST).alias(_CUSTOMER),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias(_EVANGELIST),
    )
    if not with_ids:
        frame = frame.drop("id")
    if group:
        frame = frame.with_columns(pl.col("group").cast(pl.Int64))
    return frame


def load_contacts(
    *,
    start: datetime,
    end: datetime,
    filter_by: str = "cohort",
    group: str | None = None,
    with_ids: bool = True,
) -> pl.DataFrame:
    """Contacts in the window with `id`, `created_at`, `became_<stage>_at` (UTC) and `group`.

    `became_customer_at` already holds the earlier of customer and evangelist (the funnel's
    rule), and `became_evangelist_at` is empty. Without `with_ids` the `id` column is left out
    (a million-contact funnel does not need it, and every column costs a PostgreSQL read).

    filter_by: "cohort" = created in [start, end); "period" = some became_* in [start, end);
    "none" = every contact. `group` (channel, campaign, persona) adds a String `group` column:
    the channel value, or the campaign/persona id ("none" when the contact has none).
    """
    loader = _postgres_frame if connection.vendor == "postgresql" else _generic_frame
    frame = loader(group, filter_by, start, end, with_ids)
    if not group:
        return frame
    if group == "channel":
        # Codes back to values; a value outside Source (-1) is shown as "other".
        return frame.with_columns(
            pl.col("group").replace_strict(
                list(range(-1, len(_CHANNELS))),
                [Source.OTHER.value, *_CHANNELS],
                return_dtype=pl.String,
            )
        )
    return frame.with_columns(
        pl.when(pl.col("group") < 0)
        .then(pl.lit(NONE_KEY))
        .otherwise(pl.col("group").cast(pl.String))
        .alias("group")
    )


def with_segments(contacts: pl.DataFrame, *, segment_ids: Sequence[int]) -> pl.DataFrame:
    """The contacts frame with one row per (contact, requested segment it is a member of now).

    Membership is the segment's current members (leads.queries.segments.segment_members); the
    `group` column holds the segment id. Contacts in no requested segment are dropped.
    """
    parts = [
        pl.DataFrame(
            {"id": list(segment_members(segment).values_list("pk", flat=True))},
            schema={"id": pl.Int64},
        ).with_columns(pl.lit(str(segment.pk)).alias("group"))
        for segment in Segment.objects.filter(pk__in=list(segment_ids))
    ]
    if not parts:
        return contacts.with_columns(pl.lit(None, dtype=pl.String).alias("group")).clear()
    return contacts.join(pl.concat(parts), on="id", how="inner")


def group_labels(group: str, keys: Sequence[str]) -> dict[str, str]:
    """Human labels for group keys: channel names, campaign and persona names."""
    ids = [int(k) for k in keys if k.isdigit()]
    if group == "channel":
        names = dict(Source.choices)
        return {k: str(names.get(k, k)) for k in keys}
    if group == "campaign":
        found = dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name"))
        none = "No campaign"
    elif group == "persona":
        found = dict(Persona.objects.filter(pk__in=ids).values_list("pk", "name"))
        none = "No persona"
    else:
        raise InvalidInput(f'unknown group "{group}"', field="breakdown")
    return {k: (none if k == NONE_KEY else str(found.get(int(k), f"#{k}"))) for k in keys}
