"""Attribution over the database's journeys, and campaign and channel economics.

Conversions, journeys and non-converting journeys: analytics.loaders.journeys. Models:
analytics.compute.touches (timed models) and compute.paths (Markov, Shapley over the journeys
aggregated into paths). Definitions and formulas: docs/metrics.md, "Attribution".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from tandem.analytics.compute import touches as compute
from tandem.analytics.loaders.costs import Costs, load_costs
from tandem.analytics.loaders.journeys import (
    CONVERSIONS,
    GROUPS,
    NO_CAMPAIGN,
    Journeys,
    Loaded,
    journeys_of,
    labels_for,
    load_leads,
    load_window,
)
from tandem.errors import InvalidInput
from tandem.marketing.models import Campaign

ATTRIBUTION_MODELS = compute.MODELS
NO_TOUCH = compute.NO_TOUCH
MAX_LOOKBACK_DAYS = 730
MAX_HALF_LIFE_DAYS = 365.0
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
OUTCOME_LABELS = {"won": "Won", "created": "Deal created"}
OTHER_OUTCOME = "Lost/none"


@dataclass
class AttributionRow:
    """One channel or campaign's credit under a model, with its cost and ROI."""

    key: str
    label: str
    conversions: float
    value: Decimal
    cost: Decimal | None
    roi: float | None


@dataclass
class AttributionResult:
    """A model's credits per channel or campaign for one kind of conversion in a window."""

    model: str
    group_by: str
    conversion: str
    start: date
    end: date
    lookback_days: int
    half_life_days: float
    rows: list[AttributionRow]
    total_conversions: int
    total_value: Decimal
    total_cost: Decimal = Decimal(0)
    unconverted_costs: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class CampaignEconomics:
    """Cost, leads, customers, pipeline and revenue of a campaign (or a channel) in a window."""

    campaign_id: int | None
    name: str
    channel: str
    cost: Decimal
    leads: int
    cost_per_lead: Decimal | None
    customers: float
    cac: Decimal | None
    pipeline: Decimal
    revenue: Decimal
    roi: float | None


@dataclass
class SankeyLink:
    """Journeys flowing from one step's channel to the next step's (or to the outcome)."""

    source: str
    target: str
    journeys: int


def check_model(model: str) -> str:
    """The model name, or InvalidInput naming the allowed ones."""
    if model not in ATTRIBUTION_MODELS:
        raise InvalidInput(
            f'unknown model "{model[:40]}"; allowed: {", ".join(ATTRIBUTION_MODELS)}', field="model"
        )
    return model


def _check(*, group_by: str, conversion: str, lookback_days: int, half_life_days: float) -> None:
    if group_by not in GROUPS:
        raise InvalidInput(
            f'unknown group_by "{group_by[:40]}"; allowed: {", ".join(GROUPS)}', field="group_by"
        )
    if conversion not in CONVERSIONS:
        raise InvalidInput(
            f'unknown conversion "{conversion[:40]}"; allowed: {", ".join(CONVERSIONS)}',
            field="conversion",
        )
    if not 0 <= lookback_days <= MAX_LOOKBACK_DAYS:
        raise InvalidInput(
            f"lookback_days must be between 0 and {MAX_LOOKBACK_DAYS}", field="lookback_days"
        )
    if not 0 < half_life_days <= MAX_HALF_LIFE_DAYS:
        raise InvalidInput(
            f"half_life_days must be above 0 and at most {MAX_HALF_LIFE_DAYS:g}",
            field="half_life_days",
        )


def window(*, start: date, end: date, lookback_days: int = 90) -> Loaded:
    """One read of a window's journeys for a page's several computations (their `loaded=`)."""
    if not 0 <= lookback_days <= MAX_LOOKBACK_DAYS:
        raise InvalidInput(
            f"lookback_days must be between 0 and {MAX_LOOKBACK_DAYS}", field="lookback_days"
        )
    return load_window(start=start, end=end, lookback_days=lookback_days, group_by="channel")


def _window(
    loaded: Loaded | None, *, start: date, end: date, lookback_days: int, group_by: str
) -> Loaded:
    """The given load keyed by group_by, or a fresh one; a load of another window is refused."""
    if loaded is None:
        return load_window(start=start, end=end, lookback_days=lookback_days, group_by=group_by)
    if not loaded.matches(start=start, end=end, lookback_days=lookback_days):
        raise ValueError("loaded is of another window or look-back")
    return loaded.grouped(group_by)


def money(value: float | Decimal) -> Decimal:
    """A credited amount as money: rounded half up to cents."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(numerator: Decimal, divisor: Decimal | float | int) -> Decimal | None:
    return money(numerator / Decimal(str(divisor))) if divisor else None


def _credits(
    journeys: Journeys, *, models: Sequence[str], half_life_days: float, new_business: bool = False
) -> pl.DataFrame:
    frame = journeys.journeys
    if new_business:
        # Customers: only new-business wins acquire one; renewals and upsells keep one.
        frame = frame.filter(~pl.col("converted") | pl.col("new_business"))
    return compute.attribute_journeys(
        frame, journeys.touches, models=models, half_life_days=half_life_days
    )


def _result(
    *,
    model: str,
    credits: pl.DataFrame,
    journeys: Journeys,
    costs: Costs,
    group_by: str,
    conversion: str,
    start: date,
    end: date,
    lookback_days: int,
    half_life_days: float,
) -> AttributionResult:
    by_key = {
        r["key"]: (r["conversions"], r["value"])
        for r in credits.filter(pl.col("model") == model).iter_rows(named=True)
    }
    rows = []
    for key in sorted(set(by_key) | set(costs.by_key)):
        conversions, value = by_key.get(key, (0.0, 0.0))
        priced = key not in (NO_TOUCH, NO_CAMPAIGN)
        cost = costs.by_key.get(key, ZERO) if priced else None
        amount = money(value)
        roi = float(amount / cost) if conversion == "won" and cost else None
        rows.append(
            AttributionRow(
                key=key,
                label=journeys.labels.get(key, key),
                conversions=round(conversions, 9),
                value=amount,
                cost=cost,
                roi=roi,
            )
        )
    rows.sort(key=lambda r: (-r.conversions, -r.value, r.label))
    return AttributionResult(
        model=model,
        group_by=group_by,
        conversion=conversion,
        start=start,
        end=end,
        lookback_days=lookback_days,
        half_life_days=half_life_days,
        rows=rows,
        total_conversions=journeys.conversions,
        total_value=money(journeys.total_value),
        total_cost=costs.total,
        unconverted_costs=costs.unconverted,
    )


def _compare(
    *,
    models: Sequence[str],
    group_by: str,
    conversion: str,
    start: date,
    end: date,
    lookback_days: int,
    half_life_days: float,
    loaded: Loaded | None = None,
) -> dict[str, AttributionResult]:
    for m in models:
        check_model(m)
    _check(
        group_by=group_by,
        conversion=conversion,
        lookback_days=lookback_days,
        half_life_days=half_life_days,
    )
    span = _window(loaded, start=start, end=end, lookback_days=lookback_days, group_by=group_by)
    journeys = journeys_of(span, conversion=conversion)
    costs = load_costs(start=start, end=end, group_by=group_by)
    credits = _credits(journeys, models=models, half_life_days=half_life_days)
    return {
        m: _result(
            model=m,
            credits=credits,
            journeys=journeys,
            costs=costs,
            group_by=group_by,
            conversion=conversion,
            start=start,
            end=end,
            lookback_days=lookback_days,
            half_life_days=half_life_days,
        )
        for m in models
    }


def attribution(
    *,
    model: str,
    group_by: str = "channel",
    conversion: str = "won",
    start: date,
    end: date,
    lookback_days: int = 90,
    half_life_days: float = 7.0,
) -> AttributionResult:
    """One model's credits per channel or campaign for deals created or won in [start, end]."""
    return _compare(
        models=(check_model(model),),
        group_by=group_by,
        conversion=conversion,
        start=start,
        end=end,
        lookback_days=lookback_days,
        half_life_days=half_life_days,
    )[model]


def compare_models(
    *,
    group_by: str,
    conversion: str,
    start: date,
    end: date,
    lookback_days: int = 90,
    half_life_days: float = 7.0,
    loaded: Loaded | None = None,
) -> dict[str, AttributionResult]:
    """All eight models over one load of the journeys (`loaded`, see window), by model name."""
    return _compare(
        models=ATTRIBUTION_MODELS,
        group_by=group_by,
        conversion=conversion,
        start=start,
        end=end,
        lookback_days=lookback_days,
        half_life_days=half_life_days,
        loaded=loaded,
    )


def _economics(
    *,
    start: date,
    end: date,
    model: str,
    group_by: str,
    lookback_days: int,
    half_life_days: float,
    loaded: Loaded | None,
) -> dict[str, dict[str, object]]:
    """Per key: cost, leads, customers, pipeline and revenue (the shared part of both tables)."""
    check_model(model)
    _check(
        group_by=group_by,
        conversion="won",
        lookback_days=lookback_days,
        half_life_days=half_life_days,
    )
    models = (model,)
    span = _window(loaded, start=start, end=end, lookback_days=lookback_days, group_by=group_by)
    created = journeys_of(span, conversion="created")
    won = journeys_of(span, conversion="won")
    pipeline = _credits(created, models=models, half_life_days=half_life_days)
    revenue = _credits(won, models=models, half_life_days=half_life_days)
    customers = _credits(won, models=models, half_life_days=half_life_days, new_business=True)
    costs = load_costs(start=start, end=end, group_by=group_by)
    leads = load_leads(start=start, end=end, group_by=group_by).group_by("key").len()
    lead_counts = dict(zip(leads["key"].to_list(), leads["len"].to_list(), strict=True))

    def by_key(frame: pl.DataFrame, column: str) -> dict[str, float]:
        return dict(zip(frame["key"].to_list(), frame[column].to_list(), strict=True))

    pipe, rev, cust = (
        by_key(pipeline, "value"),
        by_key(revenue, "value"),
        by_key(customers, "conversions"),
    )
    keys = (set(pipe) | set(rev) | set(cust) | set(costs.by_key) | set(lead_counts)) - {NO_TOUCH}
    out: dict[str, dict[str, object]] = {}
    for key in keys:
        cost = costs.by_key.get(key, ZERO)
        lead_count = int(lead_counts.get(key, 0))
        acquired = round(cust.get(key, 0.0), 9)
        earned = money(rev.get(key, 0.0))
        out[key] = {
            "cost": cost,
            "leads": lead_count,
            "cost_per_lead": _ratio(cost, lead_count),
            "customers": acquired,
            "cac": _ratio(cost, acquired),
            "pipeline": money(pipe.get(key, 0.0)),
            "revenue": earned,
            "roi": float(earned / cost) if cost else None,
        }
    return out


def _ordered(rows: list[CampaignEconomics]) -> list[CampaignEconomics]:
    return sorted(rows, key=lambda r: (-r.revenue, -r.cost, r.name))


def campaign_economics(
    *,
    start: date,
    end: date,
    model: str = "linear",
    lookback_days: int = 90,
    half_life_days: float = 7.0,
    loaded: Loaded | None = None,
) -> list[CampaignEconomics]:
    """Per campaign: cost, leads and cost per lead, customers and CAC, pipeline, revenue and ROI."""
    numbers = _economics(
        start=start,
        end=end,
        model=model,
        group_by="campaign",
        lookback_days=lookback_days,
        half_life_days=half_life_days,
        loaded=loaded,
    )
    ids = [int(k) for k in numbers if k != NO_CAMPAIGN]
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in=ids).only("name", "channel")}
    rows = []
    for key, n in numbers.items():
        campaign = campaigns.get(int(key)) if key != NO_CAMPAIGN else None
        rows.append(
            CampaignEconomics(
                campaign_id=campaign.pk if campaign else None,
                name=campaign.name if campaign else NO_CAMPAIGN,
                channel=campaign.channel if campaign else "",
                **n,  # type: ignore[arg-type]
            )
        )
    return _ordered(rows)


def channel_economics(
    *,
    start: date,
    end: date,
    model: str = "linear",
    lookback_days: int = 90,
    half_life_days: float = 7.0,
    loaded: Loaded | None = None,
) -> list[CampaignEconomics]:
    """The same per channel: campaign_id None, name = the channel's label, channel = its code."""
    numbers = _economics(
        start=start,
        end=end,
        model=model,
        group_by="channel",
        lookback_days=lookback_days,
        half_life_days=half_life_days,
        loaded=loaded,
    )
    labels = labels_for("channel")
    rows = [
        CampaignEconomics(campaign_id=None, name=labels.get(key, key), channel=key, **n)  # type: ignore[arg-type]
        for key, n in numbers.items()
    ]
    return _ordered(rows)


def journey_links(
    *,
    start: date,
    end: date,
    conversion: str = "won",
    lookback_days: int = 90,
    max_steps: int = 4,
    loaded: Loaded | None = None,
) -> list[SankeyLink]:
    """Sankey links of the journeys' first channels: "1. Email" → "2. Events" → … → outcome."""
    _check(group_by="channel", conversion=conversion, lookback_days=lookback_days, half_life_days=1)
    if not 1 <= max_steps <= 10:
        raise InvalidInput("max_steps must be between 1 and 10", field="max_steps")
    span = _window(loaded, start=start, end=end, lookback_days=lookback_days, group_by="channel")
    journeys = journeys_of(span, conversion=conversion)
    labelled = journeys.touches.with_columns(
        pl.col("key").replace_strict(journeys.labels, default=pl.col("key"))
    )
    links = compute.journey_links(
        journeys.journeys,
        labelled,
        max_steps=max_steps,
        converted_label=OUTCOME_LABELS[conversion],
        other_label=OTHER_OUTCOME,
    )
    return [SankeyLink(**r) for r in links.iter_rows(named=True)]
