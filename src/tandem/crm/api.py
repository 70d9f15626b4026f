"""REST routes for contacts, companies, timelines and activities (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.accounts.queries import current_user
from tandem.crm import queries, services
from tandem.crm.models import Activity, Company, Contact, LifecycleStage
from tandem.crm.normalise import check_characters
from tandem.errors import Forbidden, InvalidInput
from tandem.pagination import Page, RecordId, keyset_page

contacts_router = Router(tags=["contacts"])
companies_router = Router(tags=["companies"])
activities_router = Router(tags=["activities"])


class ContactOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    title: str
    phone: str
    company_id: int | None
    lifecycle_stage: str
    lead_status: str
    owner: str | None
    original_source: str
    subscription_status: str
    score: int = Field(description="lead score: fit + engagement (read-only)")
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None

    @staticmethod
    def resolve_owner(obj: Contact) -> str | None:
        return obj.owner.username if obj.owner else None


class ContactIn(Schema):
    email: str
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    phone: str = ""
    company_id: RecordId | None = None
    lifecycle_stage: str = LifecycleStage.SUBSCRIBER
    lead_status: str = ""
    owner: str | None = Field(None, description="username; defaults to the caller for sales reps")
    original_source: str = "other"
    subscription_status: str = "not_subscribed"
    custom_fields: dict[str, Any] = {}


class ContactPatch(Schema):
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    phone: str | None = None
    company_id: RecordId | None = None
    lifecycle_stage: str | None = None
    reason: str = Field("", description="why; required for a backward lifecycle move")
    lead_status: str | None = None
    owner: str | None = None
    subscription_status: str | None = None
    custom_fields: dict[str, Any] | None = None


class CompanyOut(Schema):
    id: int
    name: str
    domain: str | None
    industry: str
    employees: int | None
    annual_revenue: Decimal | None
    currency: str
    country: str
    region: str
    owner: str | None
    created_at: datetime

    @staticmethod
    def resolve_owner(obj: Company) -> str | None:
        return obj.owner.username if obj.owner else None


class CompanyIn(Schema):
    name: str
    domain: str | None = None
    industry: str = ""
    employees: int | None = None
    annual_revenue: Decimal | None = None
    currency: str = "USD"
    country: str = ""
    region: str = ""
    owner: str | None = None


class CompanyPatch(Schema):
    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: Decimal | None = None
    currency: str | None = None
    country: str | None = None
    region: str | None = None
    owner: str | None = None


class TimelineOut(Schema):
    id: int
    type: str
    occurred_at: datetime
    actor: str | None
    actor_label: str
    contact_id: int | None
    company_id: int | None
    campaign_id: int | None
    properties: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return obj.actor.username if obj.actor else None


class ActivityIn(Schema):
    kind: str = Field(..., description="note, call, meeting, task or email")
    subject: str = ""
    body: str = ""
    occurred_at: datetime | None = None
    call_outcome: str = ""
    duration_seconds: int | None = None
    due_at: datetime | None = None


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    contact_id: int | None
    company_id: int | None
    owner: str | None
    occurred_at: datetime
    call_outcome: str
    duration_seconds: int | None
    due_at: datetime | None
    done_at: datetime | None

    @staticmethod
    def resolve_owner(obj: Activity) -> str | None:
        return obj.owner.username if obj.owner else None


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


class TimelinePage(Schema):
    items: list[TimelineOut]
    next_cursor: str | None


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


class ContactFilterParams(PageParams):
    email: str = ""
    lifecycle_stage: str = ""
    owner: str = Field("", description="a username, or 'none' for unassigned")
    q: str = Field("", description="prefix search over names, email and company")
    company_id: RecordId | None = None


class CompanyFilterParams(PageParams):
    q: str = ""
    country: str = ""
    industry: str = ""


class MergeIn(Schema):
    duplicate_id: RecordId


def _by_id(queryset: QuerySet, params: PageParams) -> Page:
    """One keyset page of a record list, in id order."""
    return keyset_page(queryset, limit=params.limit, cursor=params.cursor)


def _newest_first(queryset: QuerySet, params: PageParams) -> Page:
    """One keyset page of timeline rows or activities, newest first by occurred_at."""
    return keyset_page(
        queryset,
        limit=params.limit,
        cursor=params.cursor,
        descending=True,
        time_field="occurred_at",
    )


def assignable_owner(request: HttpRequest, username: str | None) -> User | None:
    """Resolve an owner username the caller may assign, or refuse."""
    if username is None or username == "":
        return None
    check_characters(username, field="owner")
    user = permissions.assignable_owners(request.user).filter(username=username).first()
    if user is not None:
        return user
    # Only a caller who may assign anyone learns that the name is not an account: for a rep,
    # "no such user" against "not yours to assign" would enumerate the company's usernames.
    if permissions.can_assign_anyone(request.user):
        raise InvalidInput(f"owner {username[:60]!r} is not an active user", field="owner")
    raise Forbidden(f"you may not assign records to {username[:60]}")


def visible_company(request: HttpRequest, company_id: RecordId | None) -> Company | None:
    """The company the caller names, when they may see it; else a 400 naming the id."""
    if company_id is None:
        return None
    company = permissions.visible(request.user, Company.objects.all()).filter(pk=company_id).first()
    if company is None:
        raise InvalidInput(f"company {company_id} does not exist", field="company_id")
    return company


def _visible_contact(request: HttpRequest, contact_id: RecordId) -> Contact:
    return get_object_or_404(
        permissions.visible(request.user, Contact.objects.select_related("owner")), pk=contact_id
    )


def _editable_contact(request: HttpRequest, contact_id: RecordId) -> Contact:
    contact = _visible_contact(request, contact_id)
    if not permissions.can_edit(request.user, contact):
        raise Forbidden("you may not change this contact")
    return contact


@contacts_router.get("", response=ContactPage, summary="List contacts")
def list_contacts(request: HttpRequest, params: Query[ContactFilterParams]) -> Page:
    if params.lifecycle_stage and params.lifecycle_stage not in LifecycleStage.values:
        raise InvalidInput(f"lifecycle_stage must be one of {', '.join(LifecycleStage.values)}")
    flt = queries.ContactFilter(
        q=params.q,
        email=params.email,
        lifecycle_stage=params.lifecycle_stage,
        owner=params.owner,
        company_id=params.company_id,
    )
    return _by_id(queries.contacts_for(request.user, flt).select_related("owner"), params)


@contacts_router.post(
    "", response={201: ContactOut}, summary="Create a contact (409 if the email exists)"
)
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    user = current_user(request)
    owner = assignable_owner(request, payload.owner) if payload.owner else None
    if owner is None and getattr(user, "role", "") in ("sales_rep",):
        owner = user  # a rep's new contact is theirs, or they could not see it
    data = payload.dict(exclude={"owner", "company_id"})
    contact = services.create_contact(
        **data,
        company=visible_company(request, payload.company_id),
        owner=owner,
        team=getattr(user, "team", None),
        by=user,
    )
    return Status(201, Contact.objects.select_related("owner").get(pk=contact.pk))


@contacts_router.get("/{contact_id}", response=ContactOut, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: RecordId) -> Contact:
    return _visible_contact(request, contact_id)


@contacts_router.patch("/{contact_id}", response=ContactOut, summary="Update a contact")
def patch_contact(request: HttpRequest, contact_id: RecordId, payload: ContactPatch) -> Contact:
    contact = _editable_contact(request, contact_id)
    changes = payload.dict(exclude_unset=True)
    reason = changes.pop("reason", "")
    if "owner" in changes:
        changes["owner"] = assignable_owner(request, changes["owner"])
    if "company_id" in changes:
        changes["company"] = visible_company(request, changes.pop("company_id"))
    for key in [k for k, v in changes.items() if v is None and k not in ("owner", "company")]:
        raise InvalidInput(f"{key} may not be null", field=key)
    services.update_contact(
        contact=contact, changes=changes, by=current_user(request), reason=reason
    )
    return Contact.objects.select_related("owner").get(pk=contact.pk)


@contacts_router.delete(
    "/{contact_id}", response={204: None}, summary="Delete a contact and its timeline"
)
def delete_contact(request: HttpRequest, contact_id: RecordId) -> Status[None]:
    services.delete_contact(
        contact=_editable_contact(request, contact_id), by=current_user(request)
    )
    return Status(204, None)


@contacts_router.get(
    "/{contact_id}/timeline", response=TimelinePage, summary="A contact's timeline, newest first"
)
def contact_timeline(request: HttpRequest, contact_id: RecordId, params: Query[PageParams]) -> Page:
    contact = _visible_contact(request, contact_id)
    return _newest_first(queries.timeline_of(contact), params)


@contacts_router.get(
    "/{contact_id}/activities", response=ActivityPage, summary="A contact's activities"
)
def contact_activities(
    request: HttpRequest, contact_id: RecordId, params: Query[PageParams]
) -> Page:
    contact = _visible_contact(request, contact_id)
    return _newest_first(queries.activities_of(contact), params)


@contacts_router.post(
    "/{contact_id}/activities", response={201: ActivityOut}, summary="Log an activity"
)
def log_contact_activity(
    request: HttpRequest, contact_id: RecordId, payload: ActivityIn
) -> Status[Activity]:
    contact = _editable_contact(request, contact_id)
    activity = services.log_activity(**payload.dict(), contact=contact, by=current_user(request))
    return Status(201, activity)


@contacts_router.post(
    "/{contact_id}/merge", response=ContactOut, summary="Merge another contact into this one"
)
def merge_contact(request: HttpRequest, contact_id: RecordId, payload: MergeIn) -> Contact:
    primary = _editable_contact(request, contact_id)
    duplicate = _editable_contact(request, payload.duplicate_id)
    if not permissions.can_merge(request.user):
        raise Forbidden("only admins, marketing and managers may merge contacts")
    merged = services.merge_contacts(primary=primary, duplicate=duplicate, by=current_user(request))
    return Contact.objects.select_related("owner").get(pk=merged.pk)


def _visible_company(request: HttpRequest, company_id: RecordId) -> Company:
    return get_object_or_404(
        permissions.visible(request.user, Company.objects.select_related("owner")), pk=company_id
    )


def _editable_company(request: HttpRequest, company_id: RecordId) -> Company:
    company = _visible_company(request, company_id)
    if not permissions.can_edit(request.user, company):
        raise Forbidden("you may not change this company")
    return company


@companies_router.get("", response=CompanyPage, summary="List companies")
def list_companies(request: HttpRequest, params: Query[CompanyFilterParams]) -> Page:
    qs = queries.companies_for(
        request.user, q=params.q, country=params.country, industry=params.industry
    )
    return _by_id(qs.select_related("owner"), params)


@companies_router.post(
    "", response={201: CompanyOut}, summary="Create a company (409 if the domain exists)"
)
def create_company(request: HttpRequest, payload: CompanyIn) -> Status[Company]:
    user = current_user(request)
    owner = assignable_owner(request, payload.owner) if payload.owner else None
    if owner is None and getattr(user, "role", "") == "sales_rep":
        owner = user
    company = services.create_company(
        **payload.dict(exclude={"owner"}), owner=owner, team=getattr(user, "team", None), by=user
    )
    return Status(201, Company.objects.select_related("owner").get(pk=company.pk))


@companies_router.get("/{company_id}", response=CompanyOut, summary="Get a company")
def get_company(request: HttpRequest, company_id: RecordId) -> Company:
    return _visible_company(request, company_id)


@companies_router.patch("/{company_id}", response=CompanyOut, summary="Update a company")
def patch_company(request: HttpRequest, company_id: RecordId, payload: CompanyPatch) -> Company:
    company = _editable_company(request, company_id)
    changes = payload.dict(exclude_unset=True)
    if "owner" in changes:
        changes["owner"] = assignable_owner(request, changes["owner"])
    services.update_company(company=company, changes=changes, by=current_user(request))
    return Company.objects.select_related("owner").get(pk=company.pk)


@companies_router.delete("/{company_id}", response={204: None}, summary="Delete a company")
def delete_company(request: HttpRequest, company_id: RecordId) -> Status[None]:
    services.delete_company(
        company=_editable_company(request, company_id), by=current_user(request)
    )
    return Status(204, None)


@companies_router.get(
    "/{company_id}/timeline", response=TimelinePage, summary="A company's timeline, newest first"
)
def company_timeline(request: HttpRequest, company_id: RecordId, params: Query[PageParams]) -> Page:
    company = _visible_company(request, company_id)
    return _newest_first(queries.company_timeline_of(company, user=request.user), params)


@activities_router.post("/{activity_id}/complete", response=ActivityOut, summary="Mark a task done")
def complete_activity(request: HttpRequest, activity_id: RecordId) -> Activity:
    activity = get_object_or_404(
        permissions.visible(request.user, Activity.objects.all()), pk=activity_id
    )
    if not permissions.can_edit(request.user, activity):
        raise Forbidden("you may not change this task")
    return services.complete_task(activity=activity, by=current_user(request))
