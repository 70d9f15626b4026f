"""Deals into a Polars frame for the sales metrics: only those a window can count, in one query.

A deal matters to a window [start, end) when it was created in it, closed in it, or open at its
end (created before the end and not closed before it). On PostgreSQL each column arrives as
one binary array (`array_send(array_agg(…))`) of 8-byte integers (money as whole cents, times
as PostgreSQL's microseconds, the status and source channel as small codes, nulls as
sentinels) and is decoded with one numpy view: no Python object per value and no per-row
round trip (a binary COPY was 2.5 times slower: the driver reads COPY data a row at a time,
and plain rows cost a Python object per value). Elsewhere
(SQLite) a plain cursor fetch is enough. The grouping and the formulas stay in
`tandem.analytics.compute.sales`, so there is one copy of them; aggregating in SQL was not
needed (the load is a single scan of the deals table).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from django.db import connection

from tandem.marketing.models import Channel
from tandem.sales.models import DealStatus, LostReason

STATUSES: tuple[str, ...] = tuple(DealStatus.values)  # coded 0, 1, 2 on the wire
CHANNELS: tuple[str, ...] = ("", *Channel.values)  # coded by position; 0 = blank or unknown
_ARRAY_HEADER = 20  # a one-dimensional binary array: 3 int32 fields, then its length and bound
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 (PostgreSQL's timestamp zero) in Unix µs
_INFINITY = np.iinfo(np.int64).max  # PostgreSQL's 'infinity' timestamp: "not closed"
# What the metrics read; the details serve loss reasons and win sources.
METRIC_COLUMNS = ("owner_id", "team_id", "status", "amount_cents", "created_at", "closed_at")
DETAIL_COLUMNS = ("id", "pipeline_id", "lost_reason_id", "source_channel")
_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)
_CHANNEL_LIST = ", ".join(f"'{c}'" for c in CHANNELS[1:])
# PostgreSQL: every column an 8-byte integer or timestamp, nulls as sentinels; the codes come
# from the models' choices (fixed text, no user input).
_PG = {
    "id": "d.id::bigint",
    "owner_id": "COALESCE(d.owner_id, -1)::bigint",
    "team_id": "COALESCE(d.team_id, -1)::bigint",
    "pipeline_id": "d.pipeline_id::bigint",
    "status": f"(array_position(ARRAY[{_STATUS_LIST}]::text[], d.status::text) - 1)::bigint",
    "amount_cents": "(d.amount_base * 100)::bigint",
    "created_at": "d.created_at",
    "closed_at": "COALESCE(d.closed_at, 'infinity'::timestamptz)",
    "lost_reason_id": "COALESCE(d.lost_reason_id, -1)::bigint",
    "source_channel": (
        f"COALESCE(array_position(ARRAY[{_CHANNEL_LIST}]::text[], d.source_channel::text), 0)::bigint"
    ),
}
_GENERIC = {
    **{name: f"d.{name}" for name in _PG},
    "amount_cents": "CAST(ROUND(d.amount_base * 100) AS INTEGER)",
}


def _where(
    start: datetime, end: datetime, user_ids: Sequence[int] | None, pipeline_id: int | None
) -> tuple[str, list[Any]]:
    where = [
        "((d.created_at >= %s AND d.created_at < %s)"
        " OR (d.closed_at >= %s AND d.closed_at < %s)"
        " OR (d.created_at < %s AND (d.closed_at IS NULL OR d.closed_at >= %s)))"
    ]
    # Adapted as Django stores them (SQLite compares text: naive UTC, no offset).
    s, e = (connection.ops.adapt_datetimefield_value(t) for t in (start, end))
    params: list[Any] = [s, e, s, e, e, e]
    if user_ids is not None:
        if not user_ids:
            where.append("1 = 0")
        else:
            where.append(f"d.owner_id IN ({', '.join('%s' for _ in user_ids)})")
            params.extend(int(u) for u in user_ids)
    if pipeline_id is not None:
        where.append("d.pipeline_id = %s")
        params.append(int(pipeline_id))
    return " AND ".join(where), params


def load_deals(
    *,
    start: datetime,
    end: datetime,
    user_ids: Sequence[int] | None = None,
    pipeline_id: int | None = None,
    details: bool = False,
) -> pl.DataFrame:
    """The deals that count for [start, end): created or closed in it, or open at its end.

    `user_ids` (None = everyone) keeps the deals those users own; `pipeline_id` one pipeline.
    Columns: owner_id, team_id, status, amount_cents, created_at, closed_at (UTC), as
    `tandem.analytics.compute.sales` reads them; with `details` also id, pipeline_id,
    lost_reason_id, lost_reason (its name) and source_channel (each column costs time).
    """
    where, params = _where(start, end, user_ids, pipeline_id)
    names = METRIC_COLUMNS + (DETAIL_COLUMNS if details else ())
    if connection.vendor == "postgresql":
        frame = _postgres_frame(names, where, params)
    else:
        frame = _generic_frame(names, where, params)
    if not details:
        return frame
    reasons = dict(LostReason.objects.values_list("pk", "name"))
    return frame.with_columns(
        pl.col("lost_reason_id")
        .replace_strict(reasons, default=None, return_dtype=pl.Utf8)
        .alias("lost_reason")
    )


def _postgres_frame(names: Sequence[str], where: str, params: list[Any]) -> pl.DataFrame:
    # One binary array per column (array_send of array_agg): a handful of values cross the
    # wire instead of a row each, and numpy reads them in place.
    arrays = ", ".join(f"array_send(array_agg({_PG[n]}))" for n in names)
    # Only fixed fragments and placeholders.
    sql = f"SELECT {arrays} FROM sales_deal d WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        blobs = cursor.fetchone()
    cols = {name: _int8_array(blob) for name, blob in zip(names, blobs, strict=True)}
    closed = cols["closed_at"]
    open_rows = closed == _INFINITY
    nullable = [c for c in ("owner_id", "team_id", "lost_reason_id") if c in cols]
    codes = [
        pl.col(c).replace_strict(dict(enumerate(choices)), return_dtype=pl.Utf8)
        for c, choices in (("status", STATUSES), ("source_channel", CHANNELS))
        if c in cols
    ]
    return pl.DataFrame(cols).with_columns(
        *(pl.when(pl.col(c) >= 0).then(pl.col(c)).alias(c) for c in nullable),
        *codes,
        (pl.col("created_at") + _PG_EPOCH_US).cast(pl.Datetime("us", "UTC")),
        pl.Series("closed_at", np.where(open_rows, 0, closed + _PG_EPOCH_US))
        .cast(pl.Datetime("us", "UTC"))
        .scatter(np.flatnonzero(open_rows), None),
    )


def _int8_array(blob: bytes | memoryview | None) -> np.ndarray:
    """A one-dimensional, null-free int8 or timestamp array in PostgreSQL's binary format."""
    if blob is None:  # array_agg of no rows
        return np.zeros(0, dtype=np.int64)
    # Header: ndim, has-nulls flag, element type, then (length, lower bound) of the dimension;
    # each element is its int32 byte length (8) and the big-endian int64.
    element = np.dtype([("len", ">i4"), ("value", ">i8")])
    return np.frombuffer(bytes(blob), dtype=element, offset=_ARRAY_HEADER)["value"].astype(np.int64)


def _generic_frame(names: Sequence[str], where: str, params: list[Any]) -> pl.DataFrame:
    columns = ", ".join(_GENERIC[n] for n in names)
    sql = f"SELECT {columns} FROM sales_deal d WHERE {where}"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    types: dict[str, Any] = {
        "status": pl.Utf8,
        "source_channel": pl.Utf8,
        # SQLite's driver hands back naive UTC datetimes (Django stores them so).
        "created_at": pl.Datetime("us"),
        "closed_at": pl.Datetime("us"),
    }
    schema = {n: types.get(n, pl.Int64) for n in names}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(pl.col("created_at", "closed_at").dt.replace_time_zone("UTC"))
