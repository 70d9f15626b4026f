"""/api/v1/analytics/attribution: credit per channel or campaign, and campaign economics.

Every role may read them (company-wide numbers both teams steer on). Unknown models, groups or
conversions are refused with a 400 naming the allowed values. POST /attribution/paths (external
journeys) lives in api/paths.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tandem.analytics.api.access import analytics_viewer
from tandem.analytics.queries import attribution as queries
from tandem.analytics.queries.window import window_from
from tandem.errors import InvalidInput

router = Router(tags=["analytics"])

MODELS_HELP = "one of " + ", ".join(queries.ATTRIBUTION_MODELS)
WINDOW_HELP = "a month (2026-11) or a quarter (2026-Q4); or give start and end"
LOOKBACK_HELP = "whole days (0 to 730): touches this long before a conversion count"
HALF_LIFE_HELP = "days (above 0, at most 365): time decay halves a touch's weight per half-life"


class WindowParams(Schema):
    period: str | None = Field(None, max_length=20, description=WINDOW_HELP)
    start: str | None = Field(None, max_length=20, description="first day, YYYY-MM-DD")
    end: str | None = Field(None, max_length=20, description="last day, YYYY-MM-DD (inclusive)")


class AttributionParams(WindowParams):
    model: str = Field("linear", max_length=40, description=MODELS_HELP)
    group_by: str = Field("channel", max_length=40, description="channel | campaign")
    conversion: str = Field(
        "won", max_length=40, description="won (revenue) | created (deals created: pipeline)"
    )
    lookback_days: str = Field("90", max_length=20, description=LOOKBACK_HELP)
    half_life_days: str = Field("7", max_length=20, description=HALF_LIFE_HELP)


class EconomicsParams(WindowParams):
    model: str = Field("linear", max_length=40, description=MODELS_HELP)
    group_by: str = Field("campaign", max_length=40, description="campaign | channel")
    lookback_days: str = Field("90", max_length=20, description=LOOKBACK_HELP)
    half_life_days: str = Field("7", max_length=20, description=HALF_LIFE_HELP)


class AttributionRowOut(Schema):
    key: str = Field(..., description="channel code, campaign id, or a label in parentheses")
    label: str
    conversions: float = Field(..., description="conversions credited")
    value: Decimal = Field(..., description="value credited (revenue or pipeline)")
    cost: Decimal | None = Field(..., description="cost in the window (reporting currency)")
    roi: float | None = Field(..., description="revenue ÷ cost (won conversions only)")


class AttributionOut(Schema):
    model: str
    group_by: str
    conversion: str
    start: date
    end: date
    lookback_days: int
    half_life_days: float
    rows: list[AttributionRowOut]
    total_conversions: int
    total_value: Decimal
    total_cost: Decimal
    unconverted_costs: dict[str, Decimal] = Field(
        ..., description="costs left out: currency → amount, for currencies without a rate"
    )


class EconomicsRowOut(Schema):
    campaign_id: int | None
    name: str
    channel: str
    cost: Decimal
    leads: int
    cost_per_lead: Decimal | None
    customers: float = Field(..., description="new-business wins credited under the model")
    cac: Decimal | None = Field(..., description="cost ÷ customers")
    pipeline: Decimal = Field(..., description="value of deals created, credited")
    revenue: Decimal = Field(..., description="value of deals won, credited")
    roi: float | None = Field(..., description="revenue ÷ cost")


class EconomicsOut(Schema):
    model: str
    group_by: str
    start: date
    end: date
    rows: list[EconomicsRowOut]


def _number(text: str, field: str, kind: type[int] | type[float]) -> float:
    """A query parameter as a number; bad text → 400 naming the parameter."""
    try:
        return kind(text.strip())
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise InvalidInput(f'{field} "{text[:20]}" is not {noun}', field=field) from None


@router.get(
    "/attribution",
    response=AttributionOut,
    summary="Credit per channel or campaign under one attribution model (deals won or created)",
)
def get_attribution(request: HttpRequest, params: Query[AttributionParams]) -> dict[str, object]:
    analytics_viewer(request)
    start, end = window_from(period=params.period, start=params.start, end=params.end)
    result = queries.attribution(
        model=params.model,
        group_by=params.group_by,
        conversion=params.conversion,
        start=start,
        end=end,
        lookback_days=int(_number(params.lookback_days, "lookback_days", int)),
        half_life_days=_number(params.half_life_days, "half_life_days", float),
    )
    return {
        "model": result.model,
        "group_by": result.group_by,
        "conversion": result.conversion,
        "start": result.start,
        "end": result.end,
        "lookback_days": result.lookback_days,
        "half_life_days": result.half_life_days,
        "rows": [r.__dict__ for r in result.rows],
        "total_conversions": result.total_conversions,
        "total_value": result.total_value,
        "total_cost": result.total_cost,
        "unconverted_costs": result.unconverted_costs,
    }


@router.get(
    "/attribution/campaigns",
    response=EconomicsOut,
    summary="Cost, leads, cost per lead, customers, CAC, pipeline, revenue and ROI per campaign",
)
def get_economics(request: HttpRequest, params: Query[EconomicsParams]) -> dict[str, object]:
    analytics_viewer(request)
    start, end = window_from(period=params.period, start=params.start, end=params.end)
    if params.group_by not in ("campaign", "channel"):
        raise InvalidInput(
            f'unknown group_by "{params.group_by[:40]}"; allowed: campaign, channel',
            field="group_by",
        )
    compute = (
        queries.campaign_economics if params.group_by == "campaign" else queries.channel_economics
    )
    rows = compute(
        start=start,
        end=end,
        model=params.model,
        lookback_days=int(_number(params.lookback_days, "lookback_days", int)),
        half_life_days=_number(params.half_life_days, "half_life_days", float),
    )
    return {
        "model": params.model,
        "group_by": params.group_by,
        "start": start,
        "end": end,
        "rows": [r.__dict__ for r in rows],
    }
