"""REST routes for campaigns and their cost entries; everyone signed in reads, marketing writes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts import permissions
from tandem.accounts.queries import current_user
from tandem.errors import Forbidden, InvalidInput
from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignStatus,
    Channel,
    JourneyStage,
)
from tandem.marketing.queries import campaigns as queries
from tandem.marketing.services import campaigns as services
from tandem.pagination import Page, RecordId, keyset_page

campaigns_router = Router(tags=["campaigns"])

CHANNELS = ", ".join(Channel.values)
STATUSES = ", ".join(CampaignStatus.values)
STAGES = ", ".join(JourneyStage.values)


class CampaignOut(Schema):
    id: int
    name: str
    channel: str = Field(..., description=CHANNELS)
    objective: str
    personas: list[int] = Field(..., description="persona ids")
    journey_stage: str = Field(..., description=STAGES)
    starts_on: date | None
    ends_on: date | None
    status: str = Field(..., description=STATUSES)
    budget: Decimal | None
    currency: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    owner: str | None = Field(..., description="username")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_personas(obj: Campaign) -> list[int]:
        return sorted(p.pk for p in obj.personas.all())

    @staticmethod
    def resolve_owner(obj: Campaign) -> str | None:
        return obj.owner.username if obj.owner else None


class CampaignIn(Schema):
    name: str
    channel: str = Field(..., description=CHANNELS)
    objective: str = ""
    personas: list[RecordId] = Field([], description="persona ids")
    journey_stage: str = Field(JourneyStage.AWARENESS, description=STAGES)
    starts_on: date | None = None
    ends_on: date | None = Field(None, description="on or after starts_on")
    status: str = Field(CampaignStatus.PLANNED, description=STATUSES)
    budget: Decimal | None = Field(None, description="≥ 0, in `currency`")
    currency: str = Field("USD", description="ISO 4217 code")
    utm_source: str = Field("", description="blank: the channel's default")
    utm_medium: str = Field("", description="blank: the channel's default")
    utm_campaign: str = Field(
        "", description="blank: made from the name; a tag another campaign uses is a 409"
    )


class CampaignPatch(Schema):
    name: str | None = None
    channel: str | None = None
    objective: str | None = None
    personas: list[RecordId] | None = None
    journey_stage: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    status: str | None = None
    budget: Decimal | None = None
    currency: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None


class CostOut(Schema):
    id: int
    campaign_id: int
    incurred_on: date
    amount: Decimal
    currency: str
    description: str
    origin: str = Field(..., description="manual or import")
    import_key: str | None = Field(..., description="the platform of an imported entry")
    created_at: datetime


class CostIn(Schema):
    incurred_on: date
    amount: Decimal = Field(..., description="> 0")
    currency: str | None = Field(None, description="ISO 4217; default: the campaign's")
    description: str = ""


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None


class CostPage(Schema):
    items: list[CostOut]
    next_cursor: str | None


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


class CampaignFilterParams(PageParams):
    channel: str = Field("", description=CHANNELS)
    status: str = Field("", description=STATUSES)


# Nullable in the record: a PATCH may set these to null.
NULLABLE = {"starts_on", "ends_on", "budget"}


def _require_manage(request: HttpRequest) -> None:
    if not permissions.can_manage_marketing(request.user):
        raise Forbidden("only admins and marketing may change campaigns")


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("owner").prefetch_related("personas"), pk=campaign_id
    )


def _choice(value: str, *, field: str, choices: list[str]) -> str:
    if value and value not in choices:
        raise InvalidInput(f"{field} must be one of {', '.join(choices)}", field=field)
    return value


@campaigns_router.get("", response=CampaignPage, summary="List campaigns (oldest first)")
def list_campaigns(request: HttpRequest, params: Query[CampaignFilterParams]) -> Page:
    flt = queries.CampaignFilter(
        channel=_choice(params.channel, field="channel", choices=list(Channel.values)),
        status=_choice(params.status, field="status", choices=list(CampaignStatus.values)),
    )
    qs = queries.campaigns_for(flt).prefetch_related("personas")
    return keyset_page(qs, limit=params.limit, cursor=params.cursor)


@campaigns_router.post(
    "", response={201: CampaignOut}, summary="Create a campaign (409 if utm_campaign is taken)"
)
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[Campaign]:
    _require_manage(request)
    campaign = services.create_campaign(**payload.dict(), by=current_user(request))
    return Status(201, _campaign(campaign.pk))


@campaigns_router.get("/{campaign_id}", response=CampaignOut, summary="Get a campaign")
def get_campaign(request: HttpRequest, campaign_id: RecordId) -> Campaign:
    return _campaign(campaign_id)


@campaigns_router.patch("/{campaign_id}", response=CampaignOut, summary="Update a campaign")
def patch_campaign(request: HttpRequest, campaign_id: RecordId, payload: CampaignPatch) -> Campaign:
    campaign = _campaign(campaign_id)
    _require_manage(request)
    changes: dict[str, Any] = payload.dict(exclude_unset=True)
    for key in [k for k, v in changes.items() if v is None and k not in NULLABLE]:
        raise InvalidInput(f"{key} may not be null", field=key)
    services.update_campaign(campaign=campaign, changes=changes, by=current_user(request))
    return _campaign(campaign.pk)


@campaigns_router.get(
    "/{campaign_id}/costs", response=CostPage, summary="A campaign's cost entries (oldest first)"
)
def list_costs(request: HttpRequest, campaign_id: RecordId, params: Query[PageParams]) -> Page:
    campaign = _campaign(campaign_id)
    qs = CampaignCost.objects.filter(campaign=campaign)
    return keyset_page(qs, limit=params.limit, cursor=params.cursor)


@campaigns_router.post(
    "/{campaign_id}/costs", response={201: CostOut}, summary="Record a cost entry"
)
def add_cost(request: HttpRequest, campaign_id: RecordId, payload: CostIn) -> Status[CampaignCost]:
    campaign = _campaign(campaign_id)
    _require_manage(request)
    cost = services.add_cost(campaign=campaign, **payload.dict(), by=current_user(request))
    return Status(201, cost)
