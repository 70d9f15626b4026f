"""Sales metrics from a frame of deals: win rate, deal size, cycle, pipeline created, velocity.

Pure Polars and numpy (no Django): the loader hands in one row per deal, these functions count
and sum per group and per time bucket, and `figures` turns the sums into the ratios. Every
formula of docs/metrics.md "Sales metrics" lives here and only here.

The deals frame: id, owner_id, team_id, pipeline_id (Int64, owner and team nullable), status
("open" | "won" | "lost"), the amount in the reporting currency as `amount_base` (Decimal,
float or numeric text) or as whole cents in `amount_cents` (Int64), created_at and closed_at
(Datetime, any unit and zone; closed_at null while open), lost_reason and source_channel (Utf8,
nullable). Money is summed as integer cents, so sums are exact; results are Decimal rounded
half-up to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import polars as pl

CENT = Decimal("0.01")
US_PER_DAY = 86_400_000_000
NO_KEY = "none"  # the group key of deals without an owner or a team
ALL_KEY = "all"
# The sums one group and bucket carries; `figures` derives every ratio from these.
SUM_COLUMNS = (
    "deals_created",
    "pipeline_cents",
    "won",
    "lost",
    "revenue_cents",
    "cycle_us",
    "open_deals",
    "open_cents",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = np.iinfo(np.int64).max  # "not closed": after every window end


@dataclass(frozen=True)
class SalesFigures:
    """One group's numbers for one window (see docs/metrics.md for each formula)."""

    deals_created: int
    pipeline_created: Decimal
    won: int
    lost: int
    win_rate: float | None
    revenue: Decimal
    average_deal_size: Decimal | None
    cycle_days: float | None
    open_deals: int
    open_amount: Decimal
    velocity_per_day: Decimal | None


def micros(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (exact, no float)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def to_money(cents: int) -> Decimal:
    """Whole cents as a Decimal amount with two places."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def figures(sums: dict[str, int]) -> SalesFigures:
    """The ratios from one row of sums (`SUM_COLUMNS`).

    win rate = won ÷ (won + lost); average deal size = revenue ÷ won; cycle = mean days from
    creation to close of the won deals; velocity = open deals x win rate x average deal size ÷
    cycle days, taken from the unrounded parts and rounded once, so it is exact to the cent:
    open x revenue x won ÷ ((won + lost) x cycle time of all won deals in days).
    """
    won, lost, open_deals = int(sums["won"]), int(sums["lost"]), int(sums["open_deals"])
    revenue_cents, cycle_us = int(sums["revenue_cents"]), int(sums["cycle_us"])
    closed = won + lost
    velocity = None
    if won and cycle_us:
        with localcontext() as ctx:
            ctx.prec = 60  # the product below can exceed the default 28 digits
            velocity = _round(
                Decimal(open_deals)
                * Decimal(revenue_cents)
                * won
                * US_PER_DAY
                / (Decimal(100) * closed * cycle_us)
            )
    return SalesFigures(
        deals_created=int(sums["deals_created"]),
        pipeline_created=to_money(sums["pipeline_cents"]),
        won=won,
        lost=lost,
        win_rate=won / closed if closed else None,
        revenue=to_money(revenue_cents),
        average_deal_size=_round(Decimal(revenue_cents) / 100 / won) if won else None,
        cycle_days=cycle_us / won / US_PER_DAY if won else None,
        open_deals=open_deals,
        open_amount=to_money(sums["open_cents"]),
        velocity_per_day=velocity,
    )


def _cents(deals: pl.DataFrame) -> pl.Expr:
    if "amount_cents" in deals.columns:
        return pl.col("amount_cents").cast(pl.Int64).fill_null(0)
    amount = pl.col("amount_base")
    if deals.schema["amount_base"].is_float():
        # Floats carry cents inexactly (0.29 * 100 = 28.999…): round to the nearest cent.
        return (amount * 100).round(0).cast(pl.Int64).fill_null(0)
    return (amount.cast(pl.Decimal(38, 2)) * 100).cast(pl.Int64).fill_null(0)


def _us(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Datetime("us", "UTC")).dt.epoch("us")


def _key(by: str | None) -> pl.Expr:
    if by is None:
        return pl.lit(ALL_KEY).alias("key")
    return pl.col(by).cast(pl.Utf8).fill_null(NO_KEY).alias("key")


def _bucket(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The bucket index of each time: i when edges[i] <= t < edges[i + 1], else -1."""
    index = np.searchsorted(edges, times, side="right") - 1
    index[(index < 0) | (index >= len(edges) - 1)] = -1
    return index


def sales_sums(
    deals: pl.DataFrame, *, edges: Sequence[datetime], by: str | None = None
) -> pl.DataFrame:
    """Per group (`by` = "owner_id" | "team_id" | None for one group) and time bucket, the sums.

    Intuition: buckets are the half-open ranges [edges[i], edges[i + 1]); a deal is *created*
    in the bucket holding created_at, *won* or *lost* in the bucket holding closed_at, and
    *open* at a bucket's end when it was created before that end and not closed before it.
    Open counts come from a running sum of +1 at creation and -1 at closing, so any number of
    buckets costs one pass. Columns: key (Utf8; "all", an id, or "none"), bucket (Int64), and
    `SUM_COLUMNS`. With `by`, groups with nothing in the window are left out; every bucket of
    a group is present.
    """
    edge_us = np.array([micros(e) for e in edges], dtype=np.int64)
    if len(edge_us) < 2 or np.any(np.diff(edge_us) <= 0):
        raise ValueError("edges must be at least two increasing datetimes")
    n = len(edge_us) - 1
    base = deals.select(
        _key(by),
        pl.col("status"),
        _cents(deals).alias("cents"),
        _us("created_at").alias("created"),
        _us("closed_at").alias("closed"),
    )
    created = base["created"].to_numpy()
    closed_raw = base["closed"].fill_null(_NEVER).to_numpy()
    is_closed = base["closed"].is_not_null().to_numpy()
    # A close recorded before the creation (bad imports) ends the deal at its creation.
    close_time = np.maximum(closed_raw, created)
    frame = base.with_columns(
        pl.Series("created_bucket", _bucket(created, edge_us)),
        pl.Series("closed_bucket", np.where(is_closed, _bucket(closed_raw, edge_us), -1)),
        # First bucket whose end lies after the event: the event counts from that bucket on.
        pl.Series("open_from", np.searchsorted(edge_us[1:], created, side="right")),
        pl.Series(
            "close_from",
            np.where(is_closed, np.searchsorted(edge_us[1:], close_time, side="right"), n),
        ),
        pl.Series("cycle", np.maximum(closed_raw - created, 0) * is_closed),
    )
    made = (
        frame.filter(pl.col("created_bucket") >= 0)
        .group_by("key", pl.col("created_bucket").alias("bucket"))
        .agg(pl.len().alias("deals_created"), pl.col("cents").sum().alias("pipeline_cents"))
    )
    won = pl.col("status") == "won"
    ended = (
        frame.filter(pl.col("closed_bucket") >= 0)
        .group_by("key", pl.col("closed_bucket").alias("bucket"))
        .agg(
            won.sum().alias("won"),
            (pl.col("status") == "lost").sum().alias("lost"),
            pl.col("cents").filter(won).sum().alias("revenue_cents"),
            pl.col("cycle").filter(won).sum().alias("cycle_us"),
        )
    )
    events = pl.concat(
        [
            frame.select("key", pl.col("open_from").alias("bucket"), pl.lit(1).alias("d"), "cents"),
            frame.filter(pl.col("close_from") < n).select(
                "key", pl.col("close_from").alias("bucket"), pl.lit(-1).alias("d"), -pl.col("cents")
            ),
        ]
    )
    moves = (
        events.filter(pl.col("bucket") < n)
        .group_by("key", "bucket")
        .agg(pl.col("d").sum().alias("open_deals"), pl.col("cents").sum().alias("open_cents"))
    )
    keys = pl.concat([made.select("key"), ended.select("key"), moves.select("key")])
    if by is None:
        keys = pl.DataFrame({"key": [ALL_KEY]})  # one group, present even with no deals
    keys = keys.unique()
    grid = keys.join(pl.DataFrame({"bucket": np.arange(n, dtype=np.int64)}), how="cross")
    out = (
        grid.join(made.cast({"bucket": pl.Int64}), on=["key", "bucket"], how="left")
        .join(ended.cast({"bucket": pl.Int64}), on=["key", "bucket"], how="left")
        .join(moves.cast({"bucket": pl.Int64}), on=["key", "bucket"], how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in SUM_COLUMNS)
        .sort("key", "bucket")
        .with_columns(pl.col("open_deals", "open_cents").cum_sum().over("key"))
    )
    if by is not None:
        activity = pl.sum_horizontal("deals_created", "won", "lost", "open_deals") > 0
        out = out.filter(activity.any().over("key"))
    return out.select("key", "bucket", *SUM_COLUMNS)


def closed_by(
    deals: pl.DataFrame, *, start: datetime, end: datetime, status: str, by: str
) -> pl.DataFrame:
    """Deals of one status closed in [start, end) counted and summed per value of `by`.

    Columns: label (Utf8, null when the deal has none), deals (Int64), cents (Int64); most
    deals first, then by label.
    """
    closed = _us("closed_at")
    return (
        deals.filter(
            (pl.col("status") == status) & (closed >= micros(start)) & (closed < micros(end))
        )
        .group_by(pl.col(by).alias("label"))
        .agg(pl.len().cast(pl.Int64).alias("deals"), _cents(deals).sum().alias("cents"))
        .sort(["deals", "label"], descending=[True, False], nulls_last=True)
    )
