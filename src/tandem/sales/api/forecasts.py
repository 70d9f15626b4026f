"""/api/v1/forecasts and /api/v1/quotas: a period's forecast, the manager's roll-up, quotas.

A rep reads their own forecast (another user's → 404), a manager their teams' and reps',
admins and marketing everyone's. Setting quotas needs an admin or a sales manager (403).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from tandem.accounts import permissions
from tandem.accounts.models import Team
from tandem.accounts.queries import current_user
from tandem.errors import Forbidden, InvalidInput
from tandem.pagination import RecordId
from tandem.sales.periods import Period, parse_period
from tandem.sales.queries import forecasts as queries
from tandem.sales.services import quotas as services

forecasts_router = Router(tags=["sales"])
quotas_router = Router(tags=["sales"])

PERIOD_HELP = "a month (2026-11) or a quarter (2026-Q4); default: the current quarter"


class Numbers(Schema):
    closed_won: Decimal = Field(..., description="won deals closed in the period")
    commit: Decimal = Field(..., description="closed won + open deals in commit stages")
    best_case: Decimal = Field(..., description="commit + open deals in best-case stages")
    pipeline: Decimal = Field(..., description="open deals in pipeline stages")
    weighted: Decimal = Field(..., description="open deals x stage probability (not omitted)")
    expected: Decimal = Field(..., description="closed won + weighted")
    quota: Decimal | None
    quota_source: str = Field(
        ..., description="own | months (sum of a quarter's months) | members | teams | empty"
    )
    attainment: Decimal | None = Field(..., description="closed won / quota, a fraction")
    gap: Decimal | None = Field(..., description="quota - closed won")


class ForecastOut(Numbers):
    period: str
    period_label: str
    period_start: date
    period_end: date
    scope: str = Field(..., description="user | team | teams | company")
    label: str
    user: str | None = Field(..., description="the rep's username for a user scope")
    team_id: int | None


class RollupRowOut(Numbers):
    kind: str = Field(..., description="rep | team | company")
    label: str
    user: str | None
    team_id: int | None
    team: str | None


class RollupOut(Schema):
    period: str
    period_label: str
    rows: list[RollupRowOut]


class QuotaRowOut(Schema):
    kind: str = Field(..., description="rep | team | company")
    label: str
    user: str | None
    team_id: int | None
    team: str | None
    quota: Decimal | None = Field(..., description="the quota in force, with its fallbacks")
    quota_source: str
    own_quota: Decimal | None = Field(..., description="the quota row set for exactly this period")
    closed_won: Decimal
    attainment: Decimal | None


class QuotaList(Schema):
    period: str
    period_label: str
    items: list[QuotaRowOut]


class QuotaIn(Schema):
    user: str | None = Field(None, description="a rep's username (or give team_id)")
    team_id: RecordId | None = Field(None, description="a sales team's id (or give user)")
    amount: Decimal | None = Field(
        ..., description="≥ 0 in the reporting currency; null removes it"
    )


class QuotaOut(Schema):
    period: str
    period_kind: str
    period_start: date
    period_end: date
    user: str | None
    team_id: int | None
    amount: Decimal | None


def _period(text: str | None) -> Period:
    return parse_period(text) if text else queries.current_quarter()


def _numbers(f: queries.Forecast) -> dict[str, object]:
    return {
        "closed_won": f.closed_won,
        "commit": f.commit,
        "best_case": f.best_case,
        "pipeline": f.pipeline,
        "weighted": f.weighted,
        "expected": f.expected,
        "quota": f.quota,
        "quota_source": f.quota_source,
        "attainment": f.attainment,
        "gap": f.gap,
    }


def _row(row: queries.RollupRow) -> dict[str, object]:
    return {
        "kind": row.kind,
        "label": row.label,
        "user": row.user.username if row.user else None,
        "team_id": row.team.pk if row.team else None,
        "team": row.team.name if row.team else None,
    }


class ForecastParams(Schema):
    period: str | None = Field(None, description=PERIOD_HELP)
    user: str | None = Field(None, max_length=150, description="a rep's username")
    team: RecordId | None = Field(None, description="a sales team's id")


class PeriodParams(Schema):
    period: str | None = Field(None, description=PERIOD_HELP)


@forecasts_router.get(
    "",
    response=ForecastOut,
    summary="A period's forecast for you, or for a rep (?user=) or team (?team=) you oversee",
)
def get_forecast(request: HttpRequest, params: Query[ForecastParams]) -> dict[str, object]:
    viewer = current_user(request)
    period = _period(params.period)
    scope_user = scope_team = None
    if params.user:
        scope_user = queries.user_named(params.user)
        if scope_user is None:
            raise Http404("no such user")
    if params.team:
        scope_team = Team.objects.filter(pk=params.team).first()
        if scope_team is None:
            raise Http404("no such team")
    f = queries.forecast(user=viewer, period=period, scope_user=scope_user, scope_team=scope_team)
    return {
        **_numbers(f),
        "period": period.key,
        "period_label": period.label,
        "period_start": period.start,
        "period_end": period.end,
        "scope": f.scope.kind,
        "label": f.scope.label,
        "user": f.scope.user.username if f.scope.user else None,
        "team_id": f.scope.team.pk if f.scope.team else None,
    }


@forecasts_router.get(
    "/rollup",
    response=RollupOut,
    summary="Managers: each rep of your teams and the team totals; admins/marketing: every team",
)
def get_rollup(request: HttpRequest, params: Query[PeriodParams]) -> dict[str, object]:
    viewer = current_user(request)
    period = _period(params.period)
    rows = queries.rollup(manager_or_admin=viewer, period=period)
    return {
        "period": period.key,
        "period_label": period.label,
        "rows": [{**_row(r), **_numbers(r.forecast)} for r in rows],
    }


@quotas_router.get(
    "",
    response=QuotaList,
    summary="Quotas against won in the period, live (a rep: their own; a manager: their teams)",
)
def list_quotas(request: HttpRequest, params: Query[PeriodParams]) -> dict[str, object]:
    viewer = current_user(request)
    period = _period(params.period)
    own = queries.own_quotas(period)
    items = []
    for r in queries.attainment_rows(user=viewer, period=period):
        key = (
            ("user", r.user.pk)
            if r.kind == "rep" and r.user
            else ("team", r.team.pk if r.team else 0)
        )
        items.append(
            {
                **_row(r),
                "quota": r.forecast.quota,
                "quota_source": r.forecast.quota_source,
                "own_quota": own.get(key) if r.kind != "company" else None,
                "closed_won": r.forecast.closed_won,
                "attainment": r.forecast.attainment,
            }
        )
    return {"period": period.key, "period_label": period.label, "items": items}


@quotas_router.put(
    "",
    response=QuotaOut,
    summary="Set (or with amount null remove) a rep's or a team's quota for the period",
)
def put_quota(
    request: HttpRequest, params: Query[PeriodParams], payload: QuotaIn
) -> dict[str, object]:
    viewer = current_user(request)
    if not permissions.can_manage_sales(viewer):
        raise Forbidden("only admins and sales managers may set quotas")
    period = _period(params.period)
    user = team = None
    if payload.user:
        user = queries.user_named(payload.user, active_only=True)
        if user is None:
            shown = payload.user[:60].replace("\x00", "")
            raise InvalidInput(f"user {shown!r} is not an active user", field="user")
    if payload.team_id:
        team = Team.objects.filter(pk=payload.team_id).first()
        if team is None:
            raise InvalidInput(f"team {payload.team_id} does not exist", field="team_id")
    amount: Decimal | None = None
    if payload.amount is None:
        services.clear_quota(user=user, team=team, period=period, by=viewer)
    else:
        amount = services.set_quota(
            user=user, team=team, period=period, amount=payload.amount, by=viewer
        ).amount
    return {
        "period": period.key,
        "period_kind": period.kind,
        "period_start": period.start,
        "period_end": period.end,
        "user": user.username if user else None,
        "team_id": team.pk if team else None,
        "amount": amount,
    }
