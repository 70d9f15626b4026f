"""Attribution over timed journeys: touches frame in, credits frame out (pure Polars).

Two frames describe the journeys (the loader builds them from the database, tests by hand):

- ``journeys``: one row per journey. ``journey_id`` (Int64), ``converted`` (Boolean),
  ``ends_at`` (Datetime: the conversion time, or the last touch of a journey without one),
  ``value`` (Float64: the conversion's value, 0 without), ``lead_at`` and ``opportunity_at``
  (Datetime, nullable: the W-shaped milestones), ``new_business`` (Boolean, optional).
- ``touches``: one row per touch. ``journey_id``, ``touch_id`` (Int64, breaks time ties),
  ``occurred_at`` (Datetime), ``key`` (Utf8: the channel or campaign that gets the credit).

Time-based models (W-shaped's milestones, time decay) need the timestamps, so they run here;
Markov and Shapley run on the journeys aggregated into paths (H1's ``compute.paths``).
Converting journeys without any touch get their whole credit under ``NO_TOUCH`` in every model,
so every model's credits add up to all conversions and their whole value.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from tandem.analytics.compute.paths import attribute_paths

TOUCH_MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "position_based",
    "w_shaped",
    "time_decay",
)
PATH_MODELS = ("markov", "shapley")
MODELS = TOUCH_MODELS + PATH_MODELS
NO_TOUCH = "(no touchpoint)"
W_MILESTONE = 0.3  # first touch, lead creation, opportunity creation
W_OTHERS = 0.1  # shared by the touches that are no milestone
SECONDS_PER_DAY = 86_400.0
CREDIT_SCHEMA = pl.Schema(
    {"key": pl.Utf8, "model": pl.Utf8, "conversions": pl.Float64, "value": pl.Float64}
)
_SEP = "\x1f"  # joins a path's keys for grouping; never part of a channel or campaign key


def ordered_touches(journeys: pl.DataFrame, touches: pl.DataFrame) -> pl.DataFrame:
    """Touches joined to their journey, in time order, with 0-based ``pos`` and journey length ``n``."""
    cols = ["journey_id", "converted", "ends_at", "value", "lead_at", "opportunity_at"]
    return (
        touches.join(journeys.select(cols), on="journey_id", how="inner")
        .sort("journey_id", "occurred_at", "touch_id")
        .with_columns(
            pos=pl.int_range(pl.len()).over("journey_id"),
            n=pl.len().over("journey_id"),
        )
    )


def _weight(model: str, half_life_days: float) -> pl.Expr:
    """Each touch's share of its conversion under a timed model (shares sum to 1 per journey)."""
    pos, n = pl.col("pos"), pl.col("n")
    if model == "first_touch":
        return (pos == 0).cast(pl.Float64)
    if model == "last_touch":
        return (pos == n - 1).cast(pl.Float64)
    if model == "linear":
        return 1.0 / n.cast(pl.Float64)
    if model == "position_based":
        middle = 0.2 / (n - 2).clip(lower_bound=1).cast(pl.Float64)
        return (
            pl.when(n == 1)
            .then(1.0)
            .when(n == 2)
            .then(0.5)
            .when((pos == 0) | (pos == n - 1))
            .then(0.4)
            .otherwise(middle)
        )
    if model == "time_decay":
        days = (pl.col("ends_at") - pl.col("occurred_at")).dt.total_microseconds() / (
            SECONDS_PER_DAY * 1e6
        )
        raw = pl.lit(2.0).pow(-days / half_life_days)
        return raw / raw.sum().over("journey_id")
    if model == "w_shaped":
        return _w_shaped()
    raise ValueError(f"unknown timed model {model!r}; allowed: {', '.join(TOUCH_MODELS)}")


def _w_shaped() -> pl.Expr:
    """30 % each to the first, lead-creation and opportunity-creation touches, 10 % to the rest.

    Intuition: the three moments that moved the buyer a stage get most of the credit. A
    milestone is the last touch at or before its time; coinciding milestones add up (one touch
    that is first and lead touch gets 60 %). A missing milestone (no touch before it) or a
    journey without other touches leaves weight unassigned: the shares are normalised to sum
    to 1, which hands it out in proportion to what each touch already has.
    """
    pos = pl.col("pos")
    lead_pos = (
        pl.when(pl.col("occurred_at") <= pl.col("lead_at")).then(pos).max().over("journey_id")
    )
    opp_pos = (
        pl.when(pl.col("occurred_at") <= pl.col("opportunity_at"))
        .then(pos)
        .max()
        .over("journey_id")
    )
    milestone = (
        W_MILESTONE * (pos == 0).cast(pl.Float64)
        + W_MILESTONE * (pos == lead_pos).fill_null(False).cast(pl.Float64)
        + W_MILESTONE * (pos == opp_pos).fill_null(False).cast(pl.Float64)
    )
    other = milestone == 0
    others = other.cast(pl.Int64).sum().over("journey_id")
    raw = milestone + pl.when(other).then(W_OTHERS / others.cast(pl.Float64)).otherwise(0.0)
    return raw / raw.sum().over("journey_id")


def touch_credits(
    ordered: pl.DataFrame, *, models: Sequence[str], half_life_days: float = 7.0
) -> pl.DataFrame:
    """Credits per key and timed model from ``ordered_touches`` (converting journeys only count)."""
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    converting = ordered.filter(pl.col("converted"))
    frames = [
        converting.select(
            "key",
            pl.lit(model).alias("model"),
            _weight(model, half_life_days).alias("w"),
            "value",
        )
        .group_by("key", "model")
        .agg(
            conversions=pl.col("w").sum(),
            value=(pl.col("w") * pl.col("value")).sum(),
        )
        for model in models
    ]
    if not frames:
        return pl.DataFrame(schema=CREDIT_SCHEMA)
    return pl.concat(frames).select(list(CREDIT_SCHEMA)).cast(CREDIT_SCHEMA)


def journey_paths(ordered: pl.DataFrame) -> pl.DataFrame:
    """Journeys aggregated into H1's path layout: channels, conversions, value, nulls."""
    per_journey = ordered.group_by("journey_id", maintain_order=True).agg(
        path=pl.col("key").str.join(_SEP),
        converted=pl.col("converted").first(),
        value=pl.col("value").first(),
    )
    return (
        per_journey.group_by("path")
        .agg(
            conversions=pl.col("converted").cast(pl.Float64).sum(),
            value=pl.when(pl.col("converted")).then(pl.col("value")).otherwise(0.0).sum(),
            nulls=(~pl.col("converted")).cast(pl.Float64).sum(),
        )
        .sort("path")
        .select(
            pl.col("path").str.split(_SEP).alias("channels"),
            pl.col("conversions").cast(pl.Float64),
            pl.col("value").cast(pl.Float64),
            pl.col("nulls").cast(pl.Float64),
        )
    )


def path_credits(ordered: pl.DataFrame, *, models: Sequence[str]) -> pl.DataFrame:
    """Markov and Shapley credits per key over the aggregated journeys (converting or not)."""
    paths = journey_paths(ordered)
    if not models or paths.filter(pl.col("conversions") > 0).is_empty():
        return pl.DataFrame(schema=CREDIT_SCHEMA)
    credits = attribute_paths(paths, models=list(models))
    return credits.rename({"channel": "key"}).select(list(CREDIT_SCHEMA)).cast(CREDIT_SCHEMA)


def attribute_journeys(
    journeys: pl.DataFrame,
    touches: pl.DataFrame,
    *,
    models: Sequence[str] = MODELS,
    half_life_days: float = 7.0,
) -> pl.DataFrame:
    """Credits (key, model, conversions, value) of each model, rows in model order then key.

    Every model's conversions add up to the converting journeys and its values to their value;
    converting journeys without a touch are credited to ``NO_TOUCH``.
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown model {unknown[0]!r}; allowed: {', '.join(MODELS)}")
    ordered = ordered_touches(journeys, touches)
    timed = [m for m in models if m in TOUCH_MODELS]
    chained = [m for m in models if m in PATH_MODELS]
    frames = [
        touch_credits(ordered, models=timed, half_life_days=half_life_days),
        path_credits(ordered, models=chained),
    ]
    touched = ordered.select(pl.col("journey_id").unique())
    untouched = journeys.filter(pl.col("converted")).join(touched, on="journey_id", how="anti")
    if not untouched.is_empty():
        count, value = float(untouched.height), float(untouched["value"].sum())
        frames.append(
            pl.DataFrame(
                {
                    "key": [NO_TOUCH] * len(models),
                    "model": list(models),
                    "conversions": [count] * len(models),
                    "value": [value] * len(models),
                },
                schema=CREDIT_SCHEMA,
            )
        )
    order = {m: i for i, m in enumerate(MODELS)}
    return (
        pl.concat(frames)
        .group_by("key", "model")
        .agg(pl.col("conversions").sum(), pl.col("value").sum())
        .sort(pl.col("model").replace_strict(order, return_dtype=pl.Int64), "key")
    )


def journey_links(
    journeys: pl.DataFrame,
    touches: pl.DataFrame,
    *,
    max_steps: int = 4,
    converted_label: str = "Won",
    other_label: str = "Lost/none",
) -> pl.DataFrame:
    """Sankey links (source, target, journeys): step k's key to step k+1's, the last to the outcome.

    Nodes are "1. email", "2. events", … for the first ``max_steps`` touches of each journey;
    longer journeys are cut after ``max_steps`` and flow from their last shown step to the outcome.
    """
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    ordered = ordered_touches(journeys, touches).filter(pl.col("pos") < max_steps)
    nodes = ordered.select(
        "journey_id",
        "pos",
        "converted",
        node=(pl.col("pos") + 1).cast(pl.Utf8) + pl.lit(". ") + pl.col("key"),
    )
    outcome = (
        pl.when(pl.col("converted")).then(pl.lit(converted_label)).otherwise(pl.lit(other_label))
    )
    steps = nodes.with_columns(
        target=pl.col("node").shift(-1).over("journey_id", order_by="pos").fill_null(outcome)
    )
    return (
        steps.group_by(pl.col("node").alias("source"), "target")
        .agg(journeys=pl.len().cast(pl.Int64))
        .sort("source", "target")
    )
