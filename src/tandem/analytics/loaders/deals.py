"""Deals into a Polars frame for the sales metrics: only those a window can count, in one query.

A deal matters to a window [start, end) when it was created in it, closed in it, or open at its
end (created before the end and not closed before it). The query returns plain integers where
it can (money as whole cents, times as microseconds since the epoch on PostgreSQL), because
the driver turns integers into Python objects far faster than Decimals and datetimes; the
grouping and the formulas stay in `tandem.analytics.compute.sales`, so there is one copy of
them (SQL aggregation was not needed: 200,000 deals load in well under the budget).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
from django.db import connection

from tandem.sales.models import LostReason

SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.Int64,
    "owner_id": pl.Int64,
    "team_id": pl.Int64,
    "pipeline_id": pl.Int64,
    "status": pl.Utf8,
    "amount_cents": pl.Int64,
    "created_at": pl.Int64,
    "closed_at": pl.Int64,
    "lost_reason_id": pl.Int64,
    "source_channel": pl.Utf8,
}


def _columns() -> str:
    if connection.vendor == "postgresql":
        us = "(EXTRACT(EPOCH FROM d.{0}) * 1000000)::bigint"
        cents = "(d.amount_base * 100)::bigint"
    else:
        # SQLite's driver hands back naive UTC datetimes (Django stores them so).
        us = "d.{0}"
        cents = "CAST(ROUND(d.amount_base * 100) AS INTEGER)"
    return (
        "d.id, d.owner_id, d.team_id, d.pipeline_id, d.status, "
        f"{cents}, {us.format('created_at')}, {us.format('closed_at')}, "
        "d.lost_reason_id, d.source_channel"
    )


def load_deals(
    *,
    start: datetime,
    end: datetime,
    user_ids: Sequence[int] | None = None,
    pipeline_id: int | None = None,
) -> pl.DataFrame:
    """The deals that count for [start, end): created or closed in it, or open at its end.

    `user_ids` (None = everyone) keeps the deals those users own; `pipeline_id` one pipeline.
    Columns as `tandem.analytics.compute.sales` reads them, with `amount_cents` and a
    `lost_reason` label.
    """
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
            # Ids are ints (checked here), so the list is safe to inline; one parameter each.
            where.append(f"d.owner_id IN ({', '.join('%s' for _ in user_ids)})")
            params.extend(int(u) for u in user_ids)
    if pipeline_id is not None:
        where.append("d.pipeline_id = %s")
        params.append(int(pipeline_id))
    # Only fixed fragments and placeholders are joined; every value travels as a parameter.
    sql = f"SELECT {_columns()} FROM sales_deal d WHERE {' AND '.join(where)}"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    schema = dict(SCHEMA)
    if connection.vendor != "postgresql":
        schema.update(created_at=pl.Datetime("us"), closed_at=pl.Datetime("us"))
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    frame = frame.with_columns(_moment("created_at"), _moment("closed_at"))
    reasons = dict(LostReason.objects.values_list("pk", "name"))
    return frame.with_columns(
        pl.col("lost_reason_id")
        .replace_strict(reasons, default=None, return_dtype=pl.Utf8)
        .alias("lost_reason")
    )


def _moment(column: str) -> pl.Expr:
    if connection.vendor == "postgresql":
        return pl.col(column).cast(pl.Datetime("us", "UTC"))
    return pl.col(column).dt.replace_time_zone("UTC")
