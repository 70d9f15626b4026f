"""The enablement API: search the library, use and rate assets, and the report for marketing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts.queries import current_user
from tandem.marketing.models import ContentAsset
from tandem.pagination import Page, RecordId, keyset_page
from tandem.sales.models import ContentRating, ContentUse
from tandem.sales.periods import parse_period
from tandem.sales.queries import enablement as queries
from tandem.sales.queries.deals import deal_for
from tandem.sales.queries.insights import period_bounds
from tandem.sales.services import enablement as services

enablement_router = Router(tags=["sales"])


class AssetOut(Schema):
    id: int
    title: str
    type: str
    journey_stage: str
    audience: str
    description: str
    url: str
    personas: list[str]
    avg_rating: Decimal | None = Field(..., description="mean of the reps' 1 to 5 ratings")
    rating_count: int
    use_count: int

    @staticmethod
    def resolve_personas(obj: ContentAsset) -> list[str]:
        return [p.name for p in obj.personas.all()]

    @staticmethod
    def resolve_url(obj: ContentAsset) -> str:
        return obj.url or (obj.file.url if obj.file else "")

    @staticmethod
    def resolve_avg_rating(obj: ContentAsset) -> Decimal | None:
        avg = getattr(obj, "avg_rating", None)
        return None if avg is None else Decimal(str(avg)).quantize(Decimal("0.01"))


class AssetPage(Schema):
    items: list[AssetOut]
    next_cursor: str | None


class AssetParams(Schema):
    q: str = Field("", max_length=200)
    stage: str = Field("", description="journey stage: awareness, consideration, decision")
    persona: RecordId | None = Field(None, description="a persona's id")
    type: str = Field("", description="content type, e.g. case_study")
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


class UseIn(Schema):
    kind: str = Field("attached", description="attached or sent")
    deal_id: RecordId | None = None
    contact_id: RecordId | None = None
    note: str = Field("", max_length=500)


class UseOut(Schema):
    id: int
    asset_id: int
    deal_id: int | None
    contact_id: int | None
    kind: str
    user: str | None
    note: str
    used_at: datetime

    @staticmethod
    def resolve_user(obj: ContentUse) -> str | None:
        return obj.user.username if obj.user else None


class RatingIn(Schema):
    rating: int = Field(..., description="1 to 5")
    comment: str = Field("", max_length=2000)


class RatingOut(Schema):
    asset_id: int
    user: str
    rating: int
    comment: str
    rated_at: datetime

    @staticmethod
    def resolve_user(obj: ContentRating) -> str:
        return obj.user.username


class ReportRowOut(Schema):
    asset_id: int
    title: str
    type: str
    journey_stage: str
    archived: bool
    uses: int
    deals: int = Field(..., description="distinct deals the asset was used on")
    avg_rating: Decimal | None
    rating_count: int
    won_with: int
    lost_with: int
    win_rate_with: Decimal | None = Field(
        ..., description="won / (won + lost) of closed deals that used the asset"
    )
    won_without: int
    lost_without: int
    win_rate_without: Decimal | None = Field(
        ..., description="won / (won + lost) of closed deals that did not"
    )


class ReportOut(Schema):
    period: str | None
    rows: list[ReportRowOut]


class ReportParams(Schema):
    period: str = Field("", description="2026-Q4 or 2026-11; empty for all time")


@enablement_router.get(
    "/assets",
    response=AssetPage,
    summary="Search the sales enablement library (audience enablement or both, not archived)",
)
def list_assets(request: HttpRequest, params: Query[AssetParams]) -> Page:
    current_user(request)
    filters = queries.clean_filters(params.dict())
    assets = queries.library(**filters)
    return keyset_page(assets, limit=params.limit, cursor=params.cursor)


@enablement_router.post(
    "/assets/{asset_id}/use",
    response={201: UseOut},
    summary="Attach or send an asset to a deal and/or contact (can edit the deal)",
)
def use_asset(request: HttpRequest, asset_id: RecordId, payload: UseIn) -> Status[ContentUse]:
    user = current_user(request)
    asset = queries.asset_for(asset_id)
    deal = deal_for(user, payload.deal_id) if payload.deal_id else None
    contact = queries.visible_contact(user, payload.contact_id) if payload.contact_id else None
    use = services.use_content(
        asset=asset, by=user, kind=payload.kind, deal=deal, contact=contact, note=payload.note
    )
    return Status(201, use)


@enablement_router.put(
    "/assets/{asset_id}/rating",
    response=RatingOut,
    summary="Rate an asset 1 to 5 with a comment (one rating per rep; again replaces it)",
)
def rate_asset(request: HttpRequest, asset_id: RecordId, payload: RatingIn) -> ContentRating:
    user = current_user(request)
    asset = queries.asset_for(asset_id)
    return services.rate_content(
        asset=asset, by=user, rating=payload.rating, comment=payload.comment
    )


@enablement_router.get(
    "/report",
    response=ReportOut,
    summary="Per asset: uses, rating, and the win rate of closed deals with against without it",
)
def report(request: HttpRequest, params: Query[ReportParams]) -> dict[str, object]:
    current_user(request)
    period = parse_period(params.period) if params.period else None
    start, end = period_bounds(period) if period else (None, None)
    return {
        "period": period.key if period else None,
        "rows": queries.report(start=start, end=end),
    }
