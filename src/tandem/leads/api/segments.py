"""REST routes for segments: everyone signed in reads, admins and marketing write.

Members are a contact list in the standard page shape, narrowed to the contacts the caller may
see; static lists take member edits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts import permissions
from tandem.accounts.queries import current_user
from tandem.crm.api import ContactOut
from tandem.errors import Forbidden
from tandem.leads.models import Segment, SegmentKind
from tandem.leads.queries import segments as queries
from tandem.leads.segments import describe, names_for
from tandem.leads.services import segments as services
from tandem.pagination import Page, RecordId, keyset_page

segments_router = Router(tags=["segments"])

GRAMMAR = "a JSON condition tree; see docs/leads.md, Segments (all/any/not, field, event, …)"


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: str = Field(..., description="dynamic or static")
    definition: dict[str, Any] = Field(..., description=GRAMMAR)
    summary: str = Field(..., description="the definition in words")
    member_count: int
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_summary(obj: Segment) -> str:
        if obj.kind != SegmentKind.DYNAMIC:
            return "Static list"
        # A list page sets the names of every segment's records at once (see list_segments).
        return describe(obj.definition, names=getattr(obj, "_names", None))


class SegmentIn(Schema):
    name: str
    kind: str = Field(SegmentKind.DYNAMIC, description="dynamic or static")
    definition: dict[str, Any] | None = Field(None, description=GRAMMAR)
    description: str = ""


class SegmentPatch(Schema):
    name: str | None = None
    description: str | None = None
    definition: dict[str, Any] | None = Field(None, description=GRAMMAR)


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class MembersIn(Schema):
    contact_ids: list[RecordId] = Field(..., max_length=1000)


class MembersChanged(Schema):
    changed: int
    member_count: int


class CountIn(Schema):
    definition: dict[str, Any] = Field(..., description=GRAMMAR)


class CountOut(Schema):
    count: int = Field(..., description="contacts the caller may see that the definition selects")


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


def _require_manage(request: HttpRequest) -> None:
    if not permissions.can_manage_marketing(request.user):
        raise Forbidden("only admins and marketing may change segments")


def _segment(segment_id: int) -> Segment:
    return get_object_or_404(Segment, pk=segment_id)


@segments_router.get("", response=SegmentPage, summary="List segments (oldest first)")
def list_segments(request: HttpRequest, params: Query[PageParams]) -> Page:
    page = keyset_page(queries.segments_for(), limit=params.limit, cursor=params.cursor)
    names = names_for(s.definition for s in page.items if s.kind == SegmentKind.DYNAMIC)
    for segment in page.items:
        segment._names = names
    return page


@segments_router.post(
    "", response={201: SegmentOut}, summary="Create a segment (409 if the name is taken)"
)
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status[Segment]:
    _require_manage(request)
    segment = services.create_segment(**payload.dict(), by=current_user(request))
    return Status(201, segment)


@segments_router.post("/count", response=CountOut, summary="Count a definition's contacts now")
def count_segment(request: HttpRequest, payload: CountIn) -> dict[str, int]:
    return {"count": queries.count_definition(payload.definition, user=request.user)}


@segments_router.get("/{segment_id}", response=SegmentOut, summary="Get a segment")
def get_segment(request: HttpRequest, segment_id: RecordId) -> Segment:
    return _segment(segment_id)


@segments_router.patch("/{segment_id}", response=SegmentOut, summary="Update a segment")
def patch_segment(request: HttpRequest, segment_id: RecordId, payload: SegmentPatch) -> Segment:
    segment = _segment(segment_id)
    _require_manage(request)
    changes = payload.dict(exclude_unset=True)
    services.update_segment(segment=segment, changes=changes, by=current_user(request))
    return _segment(segment.pk)


@segments_router.delete(
    "/{segment_id}", response={204: None}, summary="Delete a segment (409 if routing uses it)"
)
def delete_segment(request: HttpRequest, segment_id: RecordId) -> Status[None]:
    segment = _segment(segment_id)
    _require_manage(request)
    services.delete_segment(segment=segment)
    return Status(204, None)


@segments_router.get(
    "/{segment_id}/members",
    response=ContactPage,
    summary="Current members you may see (a contact list, id order)",
)
def list_members(request: HttpRequest, segment_id: RecordId, params: Query[PageParams]) -> Page:
    segment = _segment(segment_id)
    qs = queries.members_for(request.user, segment).select_related("owner")
    return keyset_page(qs, limit=params.limit, cursor=params.cursor)


@segments_router.post(
    "/{segment_id}/members", response=MembersChanged, summary="Add contacts to a static list"
)
def add_members(request: HttpRequest, segment_id: RecordId, payload: MembersIn) -> dict[str, int]:
    segment = _segment(segment_id)
    _require_manage(request)
    changed = services.add_members(
        segment=segment, contact_ids=payload.contact_ids, by=current_user(request)
    )
    return {"changed": changed, "member_count": segment.member_count}


@segments_router.post(
    "/{segment_id}/members/remove",
    response=MembersChanged,
    summary="Remove contacts from a static list",
)
def remove_members(
    request: HttpRequest, segment_id: RecordId, payload: MembersIn
) -> dict[str, int]:
    segment = _segment(segment_id)
    _require_manage(request)
    changed = services.remove_members(
        segment=segment, contact_ids=payload.contact_ids, by=current_user(request)
    )
    return {"changed": changed, "member_count": segment.member_count}


@segments_router.post(
    "/{segment_id}/refresh", response=SegmentOut, summary="Re-evaluate a dynamic segment now"
)
def refresh_segment(request: HttpRequest, segment_id: RecordId) -> Segment:
    segment = _segment(segment_id)
    _require_manage(request)
    services.refresh_segment(segment=segment)
    return _segment(segment.pk)
