"""/api/v1/scoring: rules, scoring settings and a contact's score explained.

Everyone signed in reads; admins and marketing change rules and settings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from tandem.accounts import permissions
from tandem.crm.models import Contact
from tandem.errors import Forbidden, InvalidInput
from tandem.leads.models import LeadSettings, ScoreAxis, ScoreRule
from tandem.leads.queries import scoring as queries
from tandem.leads.services import scoring as services
from tandem.leads.services.settings import lead_settings
from tandem.pagination import Page, RecordId, keyset_page

scoring_router = Router(tags=["scoring"])

AXES = ", ".join(ScoreAxis.values)


class RuleOut(Schema):
    id: int
    axis: str = Field(..., description=AXES)
    name: str
    position: int
    is_active: bool
    points: int
    condition: dict[str, Any] = Field(..., description="fit rules: a segment condition tree")
    event_type: str = Field(..., description="engagement rules: the timeline event type")
    event_filters: list[dict[str, Any]] = Field(
        ..., description='engagement rules: [{"property", "op", "value"}], all must hold'
    )
    cap: int | None = Field(..., description="engagement rules: most points the rule gives")
    description: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_description(obj: ScoreRule) -> str:
        return queries.describe_rule(obj)


class RuleIn(Schema):
    axis: str = Field(..., description=AXES)
    name: str
    points: int = Field(..., description="-1000 to 1000, not 0; per event for engagement rules")
    condition: dict[str, Any] | None = Field(None, description="fit rules only")
    event_type: str = Field("", description="engagement rules only")
    event_filters: list[Any] | None = Field(None, description="engagement rules only")
    cap: int | None = Field(None, description="engagement rules only; 1 to 1,000,000")
    is_active: bool = True
    position: int | None = Field(None, description="order within the axis; default: last")


class RulePatch(Schema):
    axis: str | None = None
    name: str | None = None
    points: int | None = None
    condition: dict[str, Any] | None = None
    event_type: str | None = None
    event_filters: list[Any] | None = None
    cap: int | None = None
    is_active: bool | None = None
    position: int | None = None


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None


class RuleParams(Schema):
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None
    axis: str = Field("", description=AXES)


class SettingsOut(Schema):
    half_life_days: int
    engagement_window_days: int
    mql_fit_min: int
    mql_engagement_min: int
    mql_probability_min: Decimal | None
    mql_on_hand_raise: bool


class SettingsPatch(Schema):
    half_life_days: int | None = Field(None, description="1 to 3650")
    engagement_window_days: int | None = Field(None, description="1 to 3650")
    mql_fit_min: int | None = None
    mql_engagement_min: int | None = None
    mql_probability_min: Decimal | None = Field(None, description="(0, 1]; null switches it off")
    mql_on_hand_raise: bool | None = None


class EventOut(Schema):
    id: int
    type: str
    occurred_at: datetime
    points: float = Field(..., description="decayed points of this event at as_of")


class FitLineOut(Schema):
    rule_id: int
    name: str
    points: int


class EngagementLineOut(Schema):
    rule_id: int
    name: str
    points: int = Field(..., description="whole points after the cap and rounding")
    decayed: float = Field(..., description="decayed sum before the cap")
    capped: bool
    cap: int | None
    event_count: int
    events: list[EventOut] = Field(..., description="the latest counted events")


class ExplanationOut(Schema):
    contact_id: int
    as_of: datetime
    half_life_days: int
    engagement_window_days: int
    fit: int
    engagement: int
    total: int
    probability: float | None
    matches_stored: bool = Field(..., description="false while a recompute is pending")
    fit_rules: list[FitLineOut]
    engagement_rules: list[EngagementLineOut]


# Nullable in the record: a PATCH may set these to null.
NULLABLE_RULE = {"condition", "cap", "position", "event_filters"}


def _require_manage(request: HttpRequest) -> None:
    if not permissions.can_manage_marketing(request.user):
        raise Forbidden("only admins and marketing may change scoring")


@scoring_router.get("/rules", response=RulePage, summary="List scoring rules (oldest first)")
def list_rules(request: HttpRequest, params: Query[RuleParams]) -> Page:
    qs = ScoreRule.objects.all()
    if params.axis:
        if params.axis not in ScoreAxis.values:
            raise InvalidInput(f"axis must be one of {AXES}", field="axis")
        qs = qs.filter(axis=params.axis)
    return keyset_page(qs, limit=params.limit, cursor=params.cursor)


@scoring_router.post(
    "/rules", response={201: RuleOut}, summary="Create a rule (409 if the axis has the name)"
)
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[ScoreRule]:
    _require_manage(request)
    return Status(201, services.create_rule(**payload.dict()))


@scoring_router.get("/rules/{rule_id}", response=RuleOut, summary="Get a scoring rule")
def get_rule(request: HttpRequest, rule_id: RecordId) -> ScoreRule:
    return get_object_or_404(ScoreRule, pk=rule_id)


@scoring_router.patch("/rules/{rule_id}", response=RuleOut, summary="Change a scoring rule")
def patch_rule(request: HttpRequest, rule_id: RecordId, payload: RulePatch) -> ScoreRule:
    rule = get_object_or_404(ScoreRule, pk=rule_id)
    _require_manage(request)
    changes: dict[str, Any] = payload.dict(exclude_unset=True)
    for key in [k for k, v in changes.items() if v is None and k not in NULLABLE_RULE]:
        raise InvalidInput(f"{key} may not be null", field=key)
    return services.update_rule(rule=rule, changes=changes)


@scoring_router.delete(
    "/rules/{rule_id}", response={204: None}, summary="Delete a rule (scores follow)"
)
def delete_rule(request: HttpRequest, rule_id: RecordId) -> Status[None]:
    rule = get_object_or_404(ScoreRule, pk=rule_id)
    _require_manage(request)
    services.delete_rule(rule=rule)
    return Status(204, None)


@scoring_router.get("/settings", response=SettingsOut, summary="Decay and MQL settings")
def get_settings(request: HttpRequest) -> LeadSettings:
    return lead_settings()


@scoring_router.patch("/settings", response=SettingsOut, summary="Change decay and MQL settings")
def patch_settings(request: HttpRequest, payload: SettingsPatch) -> LeadSettings:
    _require_manage(request)
    changes: dict[str, Any] = payload.dict(exclude_unset=True)
    for key in [k for k, v in changes.items() if v is None and k != "mql_probability_min"]:
        raise InvalidInput(f"{key} may not be null", field=key)
    return services.update_scoring_settings(changes=changes)


@scoring_router.get(
    "/contacts/{contact_id}",
    response=ExplanationOut,
    summary="A contact's score explained: the rules and events that gave its points",
)
def contact_score(request: HttpRequest, contact_id: RecordId) -> dict[str, Any]:
    contact = get_object_or_404(
        permissions.visible(request.user, Contact.objects.all()), pk=contact_id
    )
    return queries.explanation_data(queries.explain_score(contact=contact))
