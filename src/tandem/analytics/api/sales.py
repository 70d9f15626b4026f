"""/api/v1/analytics/sales: win rate, deal size, cycle, pipeline created and velocity; loss reasons.

Every role may read them (`can_view_analytics`), each over the deals whose numbers they may see
(`metric_user_ids`): admins and marketing every deal, a manager their members' and their own,
a rep their own. So a rep's `group_by=rep` is their own row and their total is their own deals.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.analytics.api.access import analytics_viewer
from tandem.analytics.queries import sales as queries
from tandem.analytics.queries.window import window_from
from tandem.pagination import RecordId

router = Router(tags=["analytics"])

WINDOW_HELP = "a month (2026-11) or a quarter (2026-Q4); or give start/end; default: this quarter"


class WindowParams(Schema):
    period: str | None = Field(None, description=WINDOW_HELP)
    start: str | None = Field(None, description="first day, YYYY-MM-DD (inclusive)")
    end: str | None = Field(None, description="last day, YYYY-MM-DD (inclusive); default today")


class SalesParams(WindowParams):
    group_by: str = Field("all", description="all | rep | team | month | week")
    pipeline: RecordId | None = Field(None, description="one pipeline's id; default every pipeline")


class SalesMetricsOut(Schema):
    key: str = Field(
        ..., description='user id, team id, "2026-11", a week\'s Monday, "all", "total" or "none"'
    )
    label: str
    deals_created: int = Field(..., description="deals created in the window")
    pipeline_created: Decimal = Field(..., description="amount of the deals created in the window")
    won: int = Field(..., description="deals won in the window")
    lost: int = Field(..., description="deals lost in the window")
    win_rate: float | None = Field(..., description="won / (won + lost); null with none closed")
    revenue: Decimal = Field(..., description="amount of the deals won in the window")
    average_deal_size: Decimal | None = Field(..., description="revenue / won")
    cycle_days: float | None = Field(..., description="mean days from creation to win")
    open_deals: int = Field(..., description="deals open at the end of the window")
    open_amount: Decimal
    velocity_per_day: Decimal | None = Field(
        ..., description="open deals x win rate x average deal size / cycle days"
    )


class SalesOut(Schema):
    start: date
    end: date
    group_by: str
    rows: list[SalesMetricsOut]
    total: SalesMetricsOut


class ReasonOut(Schema):
    reason: str
    deals: int
    amount: Decimal


class ReasonsOut(Schema):
    start: date
    end: date
    rows: list[ReasonOut]


def _reader(request: HttpRequest) -> tuple[User, list[int] | None]:
    user = analytics_viewer(request)
    return user, permissions.metric_user_ids(user)


@router.get("/sales", response=SalesOut, summary="Sales metrics per rep, team, month or week")
def sales(request: HttpRequest, params: Query[SalesParams]) -> queries.SalesResult:
    _, user_ids = _reader(request)
    group_by = queries.clean_group(params.group_by.strip())
    start, end = window_from(period=params.period, start=params.start, end=params.end)
    return queries.sales_metrics(
        start=start, end=end, group_by=group_by, user_ids=user_ids, pipeline_id=params.pipeline
    )


@router.get("/sales/loss-reasons", response=ReasonsOut, summary="Lost deals per reason")
def loss_reasons(request: HttpRequest, params: Query[WindowParams]) -> dict[str, object]:
    _, user_ids = _reader(request)
    start, end = window_from(period=params.period, start=params.start, end=params.end)
    rows = queries.loss_reasons(start=start, end=end, user_ids=user_ids)
    return {"start": start, "end": end, "rows": rows}


@router.get("/sales/win-sources", response=ReasonsOut, summary="Won deals per source channel")
def win_sources(request: HttpRequest, params: Query[WindowParams]) -> dict[str, object]:
    _, user_ids = _reader(request)
    start, end = window_from(period=params.period, start=params.start, end=params.end)
    rows = queries.win_sources(start=start, end=end, user_ids=user_ids)
    return {"start": start, "end": end, "rows": rows}
