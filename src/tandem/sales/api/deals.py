"""REST routes for deals and pipelines (CONTRACT.md: GET|POST /deals, GET|PATCH /deals/{id})."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts import permissions
from tandem.accounts.queries import current_user
from tandem.crm.api import assignable_owner, visible_company
from tandem.crm.models import Contact
from tandem.crm.normalise import check_characters
from tandem.errors import Forbidden, InvalidInput
from tandem.pagination import Page, RecordId, keyset_page
from tandem.sales.models import (
    Deal,
    DealContact,
    DealStatus,
    LineItem,
    LostReason,
    Pipeline,
    Stage,
)
from tandem.sales.queries import deals as queries
from tandem.sales.services import deals as services

deals_router = Router(tags=["sales"])
pipelines_router = Router(tags=["sales"])


# ---------------------------------------------------------------- schemas


class DealContactOut(Schema):
    contact_id: int
    role: str
    is_primary: bool


class DealOut(Schema):
    id: int
    name: str
    amount: Decimal = Field(..., description="in `currency`")
    currency: str
    pipeline: str
    pipeline_id: int
    stage: str
    stage_id: int
    status: str = Field(..., description="open, won or lost")
    owner: str | None = Field(..., description="the owner's username")
    company_id: int | None
    expected_close_date: date | None
    closed_at: datetime | None
    created_at: datetime
    kind: str
    amount_base: Decimal = Field(..., description="the amount in the reporting currency")
    source_campaign_id: int | None
    source_channel: str
    parent_id: int | None = Field(..., description="the won deal a renewal or upsell continues")
    referred_by_id: int | None = Field(..., description="the contact credited with the referral")
    lost_reason: str | None
    competitor: str
    next_step: str
    contacts: list[DealContactOut]

    @staticmethod
    def resolve_pipeline(obj: Deal) -> str:
        return obj.pipeline.name

    @staticmethod
    def resolve_stage(obj: Deal) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_owner(obj: Deal) -> str | None:
        return obj.owner.username if obj.owner else None

    @staticmethod
    def resolve_lost_reason(obj: Deal) -> str | None:
        return obj.lost_reason.name if obj.lost_reason else None

    @staticmethod
    def resolve_contacts(obj: Deal) -> list[DealContact]:
        return list(obj.deal_contacts.all())


class LineItemOut(Schema):
    id: int
    product_id: int | None
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    total: Decimal

    @staticmethod
    def resolve_total(obj: LineItem) -> Decimal:
        return services.items_total([obj])


class DealDetailOut(DealOut):
    line_items: list[LineItemOut]

    @staticmethod
    def resolve_line_items(obj: Deal) -> list[LineItem]:
        return list(obj.line_items.all())


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class DealFilterParams(Schema):
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None
    status: str = Field("", description="open, won or lost")
    pipeline: str = Field("", description="a pipeline's id or name")
    stage: str = Field("", description="a stage's id or name")
    owner: str = Field("", description="a username, or 'none' for unassigned")
    company_id: RecordId | None = None


class DealContactIn(Schema):
    contact_id: RecordId
    role: str = "other"
    is_primary: bool = False


class LineItemIn(Schema):
    product_id: RecordId | None = None
    name: str = ""
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    discount_percent: Decimal = Decimal(0)


class LineItemsIn(Schema):
    items: list[LineItemIn]


class DealIn(Schema):
    name: str
    amount: Decimal = Decimal(0)
    currency: str = "USD"
    pipeline: str | None = Field(None, description="a pipeline's name (default: the default one)")
    pipeline_id: RecordId | None = None
    stage: str | None = Field(None, description="a stage name of the pipeline (default: the first)")
    stage_id: RecordId | None = None
    owner: str | None = Field(None, description="a username (default: you)")
    company_id: RecordId | None = None
    expected_close_date: date | None = None
    kind: str = "new_business"
    next_step: str = ""
    contacts: list[DealContactIn] = []
    line_items: list[LineItemIn] | None = None
    referred_by_id: RecordId | None = Field(
        None, description="a contact you can see, credited with the referral when the deal is won"
    )


class DealPatch(Schema):
    name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    owner: str | None = None
    company_id: RecordId | None = None
    expected_close_date: date | None = None
    next_step: str | None = None
    next_step_due: date | None = None
    competitor: str | None = None
    stage: str | None = Field(None, description="move to this stage of the deal's pipeline")
    stage_id: RecordId | None = None
    status: str | None = Field(None, description="won, lost (with lost_reason) or open (reopen)")
    lost_reason: str | None = Field(None, description="a lost reason's name or id")
    lost_note: str = ""


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    forecast_category: str
    outcome: str


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    is_active: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Stage]:
        return list(obj.stages.all())


class LostReasonOut(Schema):
    id: int
    name: str


# ---------------------------------------------------------------- helpers


def _deals(user: Any) -> QuerySet[Deal]:
    return queries.deals_for(user).prefetch_related(
        Prefetch("deal_contacts", queryset=DealContact.objects.order_by("-is_primary", "id"))
    )


def _detail(user: Any, deal_id: int) -> Deal:
    """The deal as the API shows it, with contacts and line items."""
    deal = _deals(user).prefetch_related("line_items").filter(pk=deal_id).first()
    if deal is None:
        raise Http404("no such deal")
    return deal


def _editable(request: HttpRequest, deal_id: int) -> Deal:
    """A deal the caller may see (else 404) and change (else 403)."""
    deal = queries.deal_for(request.user, deal_id)
    if not permissions.can_edit(request.user, deal):
        raise Forbidden("you may not change this deal")
    return deal


def _contact(request: HttpRequest, contact_id: int, *, field: str = "contact_id") -> Contact:
    contact = permissions.visible(request.user, Contact.objects.all()).filter(pk=contact_id).first()
    if contact is None:
        raise InvalidInput(f"contact {contact_id} does not exist", field=field)
    return contact


def _pipeline(name_or_id: str | None, pipeline_id: int | None) -> Pipeline | None:
    if pipeline_id is not None:
        found = Pipeline.objects.filter(pk=pipeline_id).first()
        if found is None:
            raise InvalidInput(f"pipeline {pipeline_id} does not exist", field="pipeline_id")
        return found
    if not name_or_id:
        return None
    check_characters(name_or_id, field="pipeline")
    found = Pipeline.objects.filter(name__iexact=name_or_id.strip()).first()
    if found is None:
        raise InvalidInput(f"pipeline {name_or_id[:60]!r} does not exist", field="pipeline")
    return found


def _stage(pipeline: Pipeline, name: str | None, stage_id: int | None) -> Stage | None:
    if stage_id is not None:
        found = Stage.objects.filter(pk=stage_id).first()
        if found is None or found.pipeline_id != pipeline.pk:
            raise InvalidInput(
                f"stage {stage_id} is not a stage of pipeline {pipeline.name}", field="stage_id"
            )
        return found
    if not name:
        return None
    check_characters(name, field="stage")
    found = pipeline.stages.filter(name__iexact=name.strip()).first()
    if found is None:
        names = ", ".join(pipeline.stages.order_by("position").values_list("name", flat=True))
        raise InvalidInput(
            f"stage {name[:60]!r} is not a stage of pipeline {pipeline.name} ({names})",
            field="stage",
        )
    return found


def _lost_reason(value: str | None) -> LostReason | None:
    if not value:
        return None
    check_characters(value, field="lost_reason")
    text = value.strip()
    found = (
        LostReason.objects.filter(pk=int(text)).first()
        if text.isdigit() and len(text) < 12
        else LostReason.objects.filter(name__iexact=text).first()
    )
    if found is None or not found.is_active:
        names = ", ".join(LostReason.objects.filter(is_active=True).values_list("name", flat=True))
        raise InvalidInput(f"lost_reason {text[:60]!r} is not one of: {names}", field="lost_reason")
    return found


def _filtered(user: Any, params: DealFilterParams) -> QuerySet[Deal]:
    qs = _deals(user)
    if params.status:
        if params.status not in DealStatus.values:
            raise InvalidInput(
                f"status must be one of {', '.join(DealStatus.values)}", field="status"
            )
        qs = qs.filter(status=params.status)
    for key in ("pipeline", "stage", "owner"):
        check_characters(getattr(params, key), field=key)
    if params.pipeline:
        text = params.pipeline.strip()
        qs = (
            qs.filter(pipeline_id=int(text))
            if text.isdigit() and len(text) < 12
            else qs.filter(pipeline__name__iexact=text)
        )
    if params.stage:
        text = params.stage.strip()
        qs = (
            qs.filter(stage_id=int(text))
            if text.isdigit() and len(text) < 12
            else qs.filter(stage__name__iexact=text)
        )
    if params.owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif params.owner:
        qs = qs.filter(owner__username=params.owner)
    if params.company_id is not None:
        qs = qs.filter(company_id=params.company_id)
    return qs


# ---------------------------------------------------------------- deals


@deals_router.get("", response=DealPage, summary="List the deals you may see, in id order")
def list_deals(request: HttpRequest, params: Query[DealFilterParams]) -> Page:
    return keyset_page(_filtered(request.user, params), limit=params.limit, cursor=params.cursor)


@deals_router.post("", response={201: DealDetailOut}, summary="Create a deal")
def create_deal(request: HttpRequest, payload: DealIn) -> Status[Deal]:
    user = current_user(request)
    if not permissions.can_sell(user):
        raise Forbidden("only sales users create deals")
    pipeline = _pipeline(payload.pipeline, payload.pipeline_id)
    stage = _stage(pipeline, payload.stage, payload.stage_id) if pipeline else None
    if pipeline is None and (payload.stage or payload.stage_id):
        from tandem.sales.services.pipelines import default_pipeline

        pipeline = default_pipeline()
        stage = _stage(pipeline, payload.stage, payload.stage_id)
    ids = [c.contact_id for c in payload.contacts]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a contact is listed twice", field="contacts")
    # The primary contact goes first: the service makes the first one primary.
    ordered = sorted(payload.contacts, key=lambda c: not c.is_primary)
    contacts = [(_contact(request, c.contact_id), c.role) for c in ordered]
    deal = services.create_deal(
        by=user,
        name=payload.name,
        amount=payload.amount,
        currency=payload.currency,
        pipeline=pipeline,
        stage=stage,
        company=visible_company(request, payload.company_id),
        owner=assignable_owner(request, payload.owner) if payload.owner else None,
        expected_close_date=payload.expected_close_date,
        contacts=contacts,
        kind=payload.kind,
        next_step=payload.next_step,
        line_items=[i.dict() for i in payload.line_items] if payload.line_items else None,
        referred_by=(
            _contact(request, payload.referred_by_id, field="referred_by_id")
            if payload.referred_by_id is not None
            else None
        ),
    )
    return Status(201, _detail(user, deal.pk))


@deals_router.get("/{deal_id}", response=DealDetailOut, summary="Get a deal")
def get_deal(request: HttpRequest, deal_id: RecordId) -> Deal:
    queries.deal_for(request.user, deal_id)
    return _detail(request.user, deal_id)


@deals_router.patch(
    "/{deal_id}",
    response=DealDetailOut,
    summary="Update a deal; `stage`/`stage_id` moves it, `status` wins, loses or reopens it",
)
def patch_deal(request: HttpRequest, deal_id: RecordId, payload: DealPatch) -> Deal:
    deal = _editable(request, deal_id)
    user = current_user(request)
    changes = payload.dict(exclude_unset=True)
    stage_name = changes.pop("stage", None)
    stage_id = changes.pop("stage_id", None)
    status = changes.pop("status", None)
    reason = _lost_reason(changes.pop("lost_reason", None))
    note = changes.pop("lost_note", "")
    if "owner" in changes:
        changes["owner"] = assignable_owner(request, changes["owner"])
    if "company_id" in changes:
        changes["company"] = visible_company(request, changes.pop("company_id"))
    for key in [k for k, v in changes.items() if v is None and k not in ("owner", "company")]:
        if key not in ("expected_close_date", "next_step_due"):
            raise InvalidInput(f"{key} may not be null", field=key)
    if status is not None and status not in DealStatus.values:
        raise InvalidInput(f"status must be one of {', '.join(DealStatus.values)}", field="status")
    with transaction.atomic():
        if changes:
            services.update_deal(deal=deal, changes=changes, by=user)
        stage = _stage(deal.pipeline, stage_name, stage_id)
        if status is not None and status != deal.status:
            if status == DealStatus.WON:
                services.mark_won(deal=deal, by=user)
            elif status == DealStatus.LOST:
                if reason is None:
                    raise InvalidInput(
                        "lost_reason is required to lose a deal", field="lost_reason"
                    )
                services.mark_lost(
                    deal=deal, by=user, reason=reason, note=note, competitor=deal.competitor
                )
            else:
                services.reopen_deal(deal=deal, by=user, stage=stage)
        elif stage is not None:
            services.move_deal(deal=deal, stage=stage, by=user, lost_reason=reason, lost_note=note)
    return _detail(user, deal.pk)


@deals_router.post(
    "/{deal_id}/contacts",
    response={201: DealDetailOut},
    summary="Add a contact to a deal with a role (or change their role)",
)
def add_deal_contact(
    request: HttpRequest, deal_id: RecordId, payload: DealContactIn
) -> Status[Deal]:
    deal = _editable(request, deal_id)
    services.set_deal_contact(
        deal=deal,
        contact=_contact(request, payload.contact_id),
        role=payload.role,
        is_primary=payload.is_primary,
        by=current_user(request),
    )
    return Status(201, _detail(request.user, deal.pk))


@deals_router.delete(
    "/{deal_id}/contacts/{contact_id}",
    response={204: None},
    summary="Take a contact off a deal",
)
def remove_deal_contact(
    request: HttpRequest, deal_id: RecordId, contact_id: RecordId
) -> Status[None]:
    deal = _editable(request, deal_id)
    link = DealContact.objects.filter(deal=deal, contact_id=contact_id).select_related("contact")
    found = link.first()
    if found is None:
        raise InvalidInput(f"contact {contact_id} is not on this deal", field="contact_id")
    services.remove_deal_contact(deal=deal, contact=found.contact, by=current_user(request))
    return Status(204, None)


@deals_router.put(
    "/{deal_id}/line-items",
    response=DealDetailOut,
    summary="Replace a deal's line items; the amount becomes their total",
)
def put_line_items(request: HttpRequest, deal_id: RecordId, payload: LineItemsIn) -> Deal:
    deal = _editable(request, deal_id)
    services.set_line_items(
        deal=deal,
        items=[item.dict(exclude_none=True) for item in payload.items],
        by=current_user(request),
    )
    return _detail(request.user, deal.pk)


# ---------------------------------------------------------------- pipelines


@pipelines_router.get("", response=list[PipelineOut], summary="Pipelines with their stages")
def list_pipelines(request: HttpRequest) -> list[Pipeline]:
    current_user(request)
    return list(Pipeline.objects.prefetch_related("stages").order_by("position", "id"))


@pipelines_router.get(
    "/lost-reasons", response=list[LostReasonOut], summary="The reasons a deal can be lost"
)
def list_lost_reasons(request: HttpRequest) -> list[LostReason]:
    current_user(request)
    return list(LostReason.objects.filter(is_active=True))
