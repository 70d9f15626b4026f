"""The customer insights API: record what the market says, read the feed and its summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts.queries import current_user
from tandem.errors import InvalidInput
from tandem.pagination import Page, RecordId, keyset_page
from tandem.sales.models import Insight
from tandem.sales.queries import insights as queries
from tandem.sales.queries.deals import deal_for
from tandem.sales.queries.enablement import visible_contact
from tandem.sales.services import insights as services

insights_router = Router(tags=["sales"])


class InsightOut(Schema):
    id: int
    kind: str
    text: str
    competitor: str
    tags: list[str]
    deal_id: int | None
    contact_id: int | None
    author: str | None
    created_at: datetime

    @staticmethod
    def resolve_tags(obj: Insight) -> list[str]:
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_author(obj: Insight) -> str | None:
        return obj.author.username if obj.author else None


class InsightPage(Schema):
    items: list[InsightOut]
    next_cursor: str | None


class InsightIn(Schema):
    kind: str = Field(
        ..., description="objection, pain_point, competitor, feature_request or praise"
    )
    text: str = Field(..., max_length=5000)
    deal_id: RecordId | None = None
    contact_id: RecordId | None = None
    competitor: str = Field("", max_length=120)
    tags: list[str] = Field(default_factory=list, description="at most 10; stored lower-case")


class FeedParams(Schema):
    kind: str = ""
    tag: str = Field("", max_length=60)
    competitor: str = Field("", max_length=120)
    period: str = Field("", description="2026-Q4 or 2026-11")
    from_: datetime | None = Field(None, alias="from", description="created at or after")
    to: datetime | None = Field(None, description="created before")
    deal_id: RecordId | None = None
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


class Count(Schema):
    count: int


class TagCount(Count):
    tag: str


class KindCount(Count):
    kind: str
    label: str


class CompetitorCount(Count):
    competitor: str


class SummaryOut(Schema):
    by_tag: list[TagCount]
    by_kind: list[KindCount]
    competitors: list[CompetitorCount]


def _filters(request: HttpRequest, params: FeedParams) -> dict[str, Any]:
    user = current_user(request)
    filters = queries.clean_filters(
        {
            "kind": params.kind,
            "tag": params.tag,
            "competitor": params.competitor,
            "period": params.period,
        }
    )
    if params.from_ is not None or params.to is not None:
        if params.period:
            raise InvalidInput("give a period or from/to, not both", field="period")
        filters["start"], filters["end"] = params.from_, params.to
    filters["deal"] = deal_for(user, params.deal_id) if params.deal_id else None
    filters["user"] = user
    return filters


@insights_router.get(
    "", response=InsightPage, summary="The insights feed, newest first, with filters"
)
def feed(request: HttpRequest, params: Query[FeedParams]) -> Page:
    insights = queries.filtered(**_filters(request, params)).prefetch_related("tags")
    return keyset_page(
        insights.select_related("author"),
        limit=params.limit,
        cursor=params.cursor,
        descending=True,
        time_field="created_at",
    )


@insights_router.get(
    "/summary",
    response=SummaryOut,
    summary="Counts of the filtered insights by tag and kind, and the top competitors",
)
def summary(request: HttpRequest, params: Query[FeedParams]) -> dict[str, Any]:
    return queries.summary(**_filters(request, params))


@insights_router.post(
    "",
    response={201: InsightOut},
    summary="Record an insight (on a deal you can edit; sales users only)",
)
def record(request: HttpRequest, payload: InsightIn) -> Status[Insight]:
    user = current_user(request)
    deal = deal_for(user, payload.deal_id) if payload.deal_id else None
    contact = visible_contact(user, payload.contact_id) if payload.contact_id else None
    insight = services.record_insight(
        by=user,
        kind=payload.kind,
        text=payload.text,
        deal=deal,
        contact=contact,
        competitor=payload.competitor,
        tags=payload.tags,
    )
    return Status(201, insight)
