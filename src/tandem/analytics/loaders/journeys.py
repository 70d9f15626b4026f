"""Journeys from the database: deals' conversions, their contacts' touchpoints, and the rest.

A conversion is a deal created in the window ("created", value = its amount_base when it was
created) or won in it ("won", value = amount_base, by closed_at). Its journey is every
Touchpoint of the deal's contacts (sales.DealContact) with occurred_at in
[deal created - lookback, conversion time], in time order: the look-back counts back from the
opportunity's creation, as Salesforce's campaign influence does, so a long sales cycle does not
push the touches that opened the deal out of its window.

Journeys without a conversion (Markov needs them): for "created", each contact with touches in
the window who is in no deal created by the window's end, its touches in the look-back before
its last touch in the window; for "won", the journeys of deals lost in the window (from their
creation minus the look-back up to closed_at) plus those contacts.

Everything is read with a handful of bulk SQL statements and joined in Polars.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import connection

from tandem.crm.models import Contact
from tandem.marketing.models import Campaign, Channel, Touchpoint
from tandem.sales.models import Deal, DealContact, StageChange

CONVERSIONS = ("won", "created")
GROUPS = ("channel", "campaign")
NO_CAMPAIGN = "(no campaign)"
SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.f"
TIME = pl.Datetime("us")
# A skipped stage's entry time is that of the first later stage reached (docs/metrics.md).
LEAD_STAGES = ("lead", "mql", "sql", "opportunity", "customer", "evangelist")
JOURNEY_SCHEMA = pl.Schema(
    {
        "journey_id": pl.Int64(),
        "converted": pl.Boolean(),
        "ends_at": pl.Datetime("us"),
        "value": pl.Float64(),
        "lead_at": pl.Datetime("us"),
        "opportunity_at": pl.Datetime("us"),
        "new_business": pl.Boolean(),
    }
)
TOUCH_SCHEMA = pl.Schema(
    {
        "journey_id": pl.Int64(),
        "touch_id": pl.Int64(),
        "occurred_at": pl.Datetime("us"),
        "key": pl.Utf8(),
    }
)
RAW_TOUCH_SCHEMA = pl.Schema(
    {
        "touch_id": pl.Int64(),
        "contact_id": pl.Int64(),
        "occurred_at": pl.Datetime("us"),
        "channel": pl.Utf8(),
        "campaign": pl.Utf8(),
    }
)


@dataclass
class Journeys:
    """Both frames of compute.touches, the conversions' exact total and the keys' labels."""

    journeys: pl.DataFrame
    touches: pl.DataFrame
    conversions: int
    total_value: Decimal
    labels: dict[str, str]


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in UTC: the window's inclusive days."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def _ts(column: str) -> str:
    """A datetime column as stored text on SQLite, microseconds since 1970 on PostgreSQL.

    Either way Polars converts the whole column at once: the driver's per-value datetime
    parsing was most of a window's load time on PostgreSQL.
    """
    if connection.vendor == "sqlite":
        return f"CAST({column} AS TEXT)"
    # EXTRACT gives an exact numeric on PostgreSQL 14+, so the microseconds are exact.
    return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"


def _frame(sql: str, params: list[Any], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run one statement and build a frame; datetime columns come out naive UTC.

    SQLite keeps datetimes as UTC text ("2026-03-01 12:00:00[.ffffff]"), PostgreSQL gives
    microseconds since the epoch (see _ts): Polars converts either in one pass instead of a
    Python call per value.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    sqlite = connection.vendor == "sqlite"
    times = [name for name, dtype in schema.items() if isinstance(dtype, pl.Datetime)]
    stored: pl.DataType = pl.Utf8() if sqlite else pl.Int64()
    raw = {name: stored if name in times else dtype for name, dtype in schema.items()}
    frame = pl.DataFrame(rows, schema=raw, orient="row")
    if not times:
        return frame
    if sqlite:
        return frame.with_columns(pl.col(times).str.to_datetime(SQLITE_TIME, time_unit="us"))
    return frame.with_columns(pl.col(times).cast(TIME))


def labels_for(group_by: str) -> dict[str, str]:
    """Display names of the keys: channel labels, or campaign names by id."""
    if group_by == "channel":
        return {str(value): str(label) for value, label in Channel.choices}
    labels = {str(pk): name for pk, name in Campaign.objects.values_list("pk", "name")}
    labels[NO_CAMPAIGN] = NO_CAMPAIGN
    return labels


def _key_sql(group_by: str) -> str:
    """The SQL expression of a touch's key."""
    if group_by == "channel":
        return "t.channel"
    # Campaign ids as text; touches without one share a label.
    return f"COALESCE(CAST(t.campaign_id AS VARCHAR(20)), '{NO_CAMPAIGN}')"


def _deals(start_at: datetime, end_at: datetime) -> pl.DataFrame:
    """Deals created, or closed won/lost, in the window, one row per deal contact (or none)."""
    deal, dc, contact, change = (
        Deal._meta.db_table,
        DealContact._meta.db_table,
        Contact._meta.db_table,
        StageChange._meta.db_table,
    )
    stage_names = [f"became_{s}_at" for s in LEAD_STAGES]
    stages = ", ".join(_ts(f"c.{name}") for name in stage_names)
    sql = f"""
        SELECT d.id, {_ts("d.created_at")}, {_ts("d.closed_at")}, d.status, d.kind,
               CAST(d.amount_base AS TEXT),
               CAST(COALESCE((SELECT sc.amount_base FROM {change} sc
                              WHERE sc.deal_id = d.id AND sc.kind = 'created'
                              ORDER BY sc.changed_at, sc.id LIMIT 1), d.amount_base) AS TEXT),
               dc.contact_id, {stages}
        FROM {deal} d
        LEFT JOIN {dc} dc ON dc.deal_id = d.id
        LEFT JOIN {contact} c ON c.id = dc.contact_id
        WHERE (d.created_at >= %s AND d.created_at < %s)
           OR (d.status IN ('won', 'lost') AND d.closed_at >= %s AND d.closed_at < %s)
    """  # noqa: S608 - table names from the models, values as parameters
    schema: dict[str, pl.DataType] = {
        "deal_id": pl.Int64(),
        "created_at": TIME,
        "closed_at": TIME,
        "status": pl.Utf8(),
        "kind": pl.Utf8(),
        "amount": pl.Utf8(),
        "created_amount": pl.Utf8(),
        "contact_id": pl.Int64(),
        **dict.fromkeys(stage_names, TIME),
    }
    frame = _frame(sql, [start_at, end_at, start_at, end_at], schema)
    later = pl.min_horizontal(*stage_names[1:])
    return frame.with_columns(lead_entry=pl.coalesce(pl.col(stage_names[0]), later)).drop(
        stage_names
    )


def _touches(
    span_start: datetime, quiet_start: datetime, start_at: datetime, end_at: datetime
) -> pl.DataFrame:
    """The contacts' touches in [span_start, end_at) with both keys (channel and campaign).

    Before quiet_start (the window's start minus the look-back) only those of the contacts of
    the window's deals: a contact without a deal looks back from its last touch in the window,
    never further (see journeys_of).
    """
    table = Touchpoint._meta.db_table
    deal, dc = Deal._meta.db_table, DealContact._meta.db_table
    sql = f"""
        SELECT t.id, t.contact_id, {_ts("t.occurred_at")}, {_key_sql("channel")},
               {_key_sql("campaign")}
        FROM {table} t
        WHERE t.contact_id IS NOT NULL AND t.occurred_at >= %s AND t.occurred_at < %s
          AND (t.occurred_at >= %s OR t.contact_id IN (
                SELECT dc.contact_id FROM {dc} dc JOIN {deal} d ON d.id = dc.deal_id
                WHERE (d.created_at >= %s AND d.created_at < %s)
                   OR (d.status IN ('won', 'lost') AND d.closed_at >= %s AND d.closed_at < %s)))
    """  # noqa: S608 - table names from the models, values as parameters
    window = [start_at, end_at, start_at, end_at]
    return _frame(sql, [span_start, end_at, quiet_start, *window], dict(RAW_TOUCH_SCHEMA))


def _contacts_in_deals_by(end_at: datetime) -> pl.DataFrame:
    """Contacts in some deal created before end_at."""
    deal, dc = Deal._meta.db_table, DealContact._meta.db_table
    sql = f"""
        SELECT DISTINCT dc.contact_id FROM {dc} dc
        JOIN {deal} d ON d.id = dc.deal_id
        WHERE d.created_at < %s
    """  # noqa: S608 - table names from the models, values as parameters
    return _frame(sql, [end_at], {"contact_id": pl.Int64()})


@dataclass
class Loaded:
    """What both kinds of conversion are built from: one read of the database per window."""

    start: date
    end: date
    lookback_days: int
    group_by: str
    deals: pl.DataFrame
    touches: pl.DataFrame  # RAW_TOUCH_SCHEMA plus "key", the group_by column's copy
    dealt: pl.DataFrame  # contacts in some deal created before the window's end
    labels: dict[str, str]
    # journeys_of per kind of conversion: the page's charts ask for the same ones.
    built: dict[str, Journeys] = field(default_factory=dict, init=False, repr=False)

    def grouped(self, group_by: str) -> Loaded:
        """The same window keyed by the other grouping, without reading the database again."""
        if group_by not in GROUPS:
            raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
        if group_by == self.group_by:
            return self
        return replace(
            self,
            group_by=group_by,
            touches=self.touches.with_columns(key=pl.col(group_by)),
            labels=labels_for(group_by),
        )

    def matches(self, *, start: date, end: date, lookback_days: int) -> bool:
        """Whether this load is of that window and look-back."""
        return (self.start, self.end, self.lookback_days) == (start, end, lookback_days)


def load_window(*, start: date, end: date, lookback_days: int, group_by: str) -> Loaded:
    """Read the window's deals, the contacts' touches from the look-back on, and the labels."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    start_at, end_at = day_bounds(start, end)
    deals = _deals(start_at, end_at)
    # A deal closed in the window looks back from its creation, which may precede the window.
    first = deals["created_at"].min() if deals.height else None
    since = min(start_at, first.replace(tzinfo=UTC)) if isinstance(first, datetime) else start_at
    return Loaded(
        start=start,
        end=end,
        lookback_days=lookback_days,
        group_by=group_by,
        deals=deals,
        touches=_touches(
            since - timedelta(days=lookback_days),
            start_at - timedelta(days=lookback_days),
            start_at,
            end_at,
        ).with_columns(key=pl.col(group_by)),
        dealt=_contacts_in_deals_by(end_at),
        labels=labels_for(group_by),
    )


def load_journeys(
    *, start: date, end: date, conversion: str, lookback_days: int, group_by: str
) -> Journeys:
    """The journeys of one kind of conversion in [start, end] (inclusive days), keyed by group_by."""
    loaded = load_window(start=start, end=end, lookback_days=lookback_days, group_by=group_by)
    return journeys_of(loaded, conversion=conversion)


def journeys_of(loaded: Loaded, *, conversion: str) -> Journeys:
    """The journeys of one kind of conversion from a loaded window."""
    if conversion not in CONVERSIONS:
        raise ValueError(f"conversion must be one of {', '.join(CONVERSIONS)}")
    if conversion not in loaded.built:
        loaded.built[conversion] = _build(loaded, conversion=conversion)
    return loaded.built[conversion]


def _build(loaded: Loaded, *, conversion: str) -> Journeys:
    start_at, end_at = day_bounds(loaded.start, loaded.end)
    lookback = timedelta(days=loaded.lookback_days)
    deals, raw = loaded.deals, loaded.touches
    naive_start, naive_end = (v.replace(tzinfo=None) for v in (start_at, end_at))
    in_window = (pl.col("ends_at") >= naive_start) & (pl.col("ends_at") < naive_end)

    if conversion == "created":
        picked = deals.with_columns(
            ends_at=pl.col("created_at"),
            converted=pl.lit(True),
            value_text=pl.col("created_amount"),
        ).filter(in_window)
    else:
        picked = deals.filter(pl.col("status").is_in(["won", "lost"])).with_columns(
            ends_at=pl.col("closed_at"),
            converted=pl.col("status") == "won",
            value_text=pl.when(pl.col("status") == "won")
            .then(pl.col("amount"))
            .otherwise(pl.lit("0")),
        )
        picked = picked.filter(in_window)

    deal_journeys = picked.group_by("deal_id").agg(
        pl.col("converted").first(),
        pl.col("ends_at").first(),
        pl.col("value_text").first(),
        pl.col("lead_entry").min().alias("lead_at"),
        pl.col("created_at").first().alias("opportunity_at"),
        (pl.col("kind").first() == "new_business").alias("new_business"),
    )
    converting = deal_journeys.filter(pl.col("converted"))
    total_value = sum((Decimal(v) for v in converting["value_text"].to_list()), Decimal(0))
    deal_touches = (
        picked.select("deal_id", "contact_id", "ends_at", "created_at")
        .drop_nulls("contact_id")
        .join(raw, on="contact_id", how="inner")
        .filter(
            (pl.col("occurred_at") <= pl.col("ends_at"))
            & (pl.col("occurred_at") >= pl.col("created_at") - lookback)
        )
        .select(pl.col("deal_id").alias("journey_id"), "touch_id", "occurred_at", "key")
    )

    # Contacts touched in the window who are in no deal created by its end: no conversion.
    quiet = raw.join(loaded.dealt, on="contact_id", how="anti")
    last = (
        quiet.filter((pl.col("occurred_at") >= naive_start) & (pl.col("occurred_at") < naive_end))
        .group_by("contact_id")
        .agg(pl.col("occurred_at").max().alias("ends_at"))
    )
    quiet_touches = (
        quiet.join(last, on="contact_id", how="inner")
        .filter(
            (pl.col("occurred_at") <= pl.col("ends_at"))
            & (pl.col("occurred_at") >= pl.col("ends_at") - lookback)
        )
        .select((-pl.col("contact_id")).alias("journey_id"), "touch_id", "occurred_at", "key")
    )
    # Journey ids: a deal's id, or minus the contact's id for a contact without a deal.
    journeys = pl.concat(
        [
            deal_journeys.select(
                pl.col("deal_id").alias("journey_id"),
                "converted",
                "ends_at",
                pl.col("value_text").cast(pl.Float64).alias("value"),
                "lead_at",
                "opportunity_at",
                "new_business",
            ),
            last.select(
                (-pl.col("contact_id")).alias("journey_id"),
                pl.lit(False).alias("converted"),
                "ends_at",
                pl.lit(0.0).alias("value"),
                pl.lit(None, dtype=pl.Datetime("us")).alias("lead_at"),
                pl.lit(None, dtype=pl.Datetime("us")).alias("opportunity_at"),
                pl.lit(False).alias("new_business"),
            ),
        ]
    ).cast(JOURNEY_SCHEMA)
    touches = pl.concat([deal_touches, quiet_touches]).cast(TOUCH_SCHEMA)
    return Journeys(
        journeys=journeys.sort("journey_id"),
        touches=touches,
        conversions=converting.height,
        total_value=total_value,
        labels=loaded.labels,
    )


def load_leads(*, start: date, end: date, group_by: str) -> pl.DataFrame:
    """Contacts that became leads in the window, keyed by their first touch ever (contact_id, key).

    Entry into the lead stage is became_lead_at, or for a contact that skipped it the first
    later stage it reached; contacts without any touch have no key and are left out.
    """
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    start_at, end_at = day_bounds(start, end)
    contact, table = Contact._meta.db_table, Touchpoint._meta.db_table
    later = " OR ".join(
        f"(c.became_{s}_at >= %s AND c.became_{s}_at < %s)" for s in LEAD_STAGES[1:]
    )
    names = [f"became_{s}_at" for s in LEAD_STAGES]
    stages = ", ".join(_ts(f"c.{name}") for name in names)
    # The first touch through the (contact, occurred_at) index, one lookup per lead.
    sql = f"""
        SELECT c.id, {stages},
               (SELECT {_key_sql(group_by)} FROM {table} t WHERE t.contact_id = c.id
                ORDER BY t.occurred_at, t.id LIMIT 1)
        FROM {contact} c
        WHERE (c.became_lead_at >= %s AND c.became_lead_at < %s)
           OR (c.became_lead_at IS NULL AND ({later}))
    """  # noqa: S608 - table names from the models, values as parameters
    params: list[Any] = [start_at, end_at] * len(LEAD_STAGES)
    schema: dict[str, pl.DataType] = {
        "contact_id": pl.Int64(),
        **dict.fromkeys(names, TIME),
        "key": pl.Utf8(),
    }
    frame = _frame(sql, params, schema)
    entry = pl.coalesce(pl.col(names[0]), pl.min_horizontal(*names[1:]))
    naive_start, naive_end = (v.replace(tzinfo=None) for v in (start_at, end_at))
    return (
        frame.filter((entry >= naive_start) & (entry < naive_end))
        .drop_nulls("key")
        .select("contact_id", "key")
    )
