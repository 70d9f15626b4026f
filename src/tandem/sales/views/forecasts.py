"""Forecast pages: a period's forecast against quota, the manager's roll-up, the board's strip,
and the quota table (editable by admins and sales managers)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from tandem.accounts import permissions
from tandem.accounts.models import Team, User
from tandem.crm.views.common import AuthedRequest
from tandem.errors import DomainError, Forbidden
from tandem.sales.periods import Period, parse_period, period_containing
from tandem.sales.queries import forecasts as queries
from tandem.sales.services import quotas as services

CHART_CONFIG = {"displaylogo": False, "responsive": True}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def currency_sign() -> str:
    code = settings.REPORTING_CURRENCY
    return SYMBOLS.get(code, f"{code} ")


def snapshot_figure(
    points: list[queries.SnapshotPoint],
    *,
    closed_won_now: Decimal,
    today: date,
    quota: Decimal | None,
) -> go.Figure:
    """The weekly snapshots of commit, best case and expected, against closed won (and quota)."""
    x = [p.taken_on.isoformat() for p in points]
    figure = go.Figure()
    for name, values, dash in (
        ("Best case", [p.best_case for p in points], "dot"),
        ("Commit", [p.commit for p in points], "solid"),
        ("Expected (won + weighted)", [p.expected for p in points], "dash"),
    ):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[float(v) for v in values],
                mode="lines+markers",
                name=name,
                line={"dash": dash},
                hovertemplate="%{x}: %{y:,.0f}<extra>" + name + "</extra>",
            )
        )
    figure.add_trace(
        go.Bar(
            x=x,
            y=[float(p.closed_won) for p in points],
            name="Closed won at the time",
            marker={"color": "#8ce99a"},
            hovertemplate="%{x}: %{y:,.0f}<extra>closed won</extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[today.isoformat()],
            y=[float(closed_won_now)],
            mode="markers",
            name="Closed won now",
            marker={"size": 12, "symbol": "star", "color": "#2b8a3e"},
            hovertemplate="%{x}: %{y:,.0f}<extra>closed won now</extra>",
        )
    )
    if quota is not None:
        figure.add_hline(
            y=float(quota),
            line={"color": "#c92a2a", "dash": "dash"},
            annotation_text="Quota",
            annotation_position="top left",
        )
    figure.update_layout(
        xaxis={"title": "Snapshot taken on", "type": "date"},
        yaxis={"title": f"{settings.REPORTING_CURRENCY}", "rangemode": "tozero"},
        margin={"l": 70, "r": 20, "t": 20, "b": 50},
        legend={"orientation": "h", "y": -0.25},
        barmode="overlay",
        height=360,
    )
    return figure


def _chart(figure: go.Figure) -> str:
    # The figures hold numbers, dates and our own labels only: the markup plotly writes is safe.
    return mark_safe(figure.to_html(full_html=False, include_plotlyjs=False, config=CHART_CONFIG))


def _period_from(request: AuthedRequest) -> tuple[Period, str]:
    """The ?period= asked for (default: the current quarter) and an error text if it was bad."""
    raw = request.GET.get("period", "")
    if not raw:
        return queries.current_quarter(), ""
    try:
        return parse_period(raw), ""
    except DomainError as problem:
        return queries.current_quarter(), str(problem)


def _scope_params(request: AuthedRequest) -> tuple[User | None, Team | None]:
    """?user=<username> and ?team=<id>; an unknown one is a 404."""
    username = request.GET.get("user", "").strip()
    team_id = request.GET.get("team", "").strip()
    user = team = None
    if username:
        user = queries.user_named(username)
        if user is None:
            raise Http404("no such user")
    if team_id:
        if not team_id.isdigit() or len(team_id) > 18:
            raise Http404("no such team")
        team = Team.objects.filter(pk=int(team_id)).first()
        if team is None:
            raise Http404("no such team")
    return user, team


def period_switch(url_name: str, period: Period, extra: dict[str, str]) -> dict[str, str]:
    """Links to the previous, current and next period, and to the other kind (month/quarter)."""

    def link(p: Period) -> str:
        return reverse(f"web:{url_name}") + "?" + urlencode({"period": p.key, **extra})

    other_kind = "month" if period.kind == "quarter" else "quarter"
    today = timezone.localdate()
    anchor = today if period.contains(today) else period.start
    return {
        "prev": link(period.previous()),
        "next": link(period.next()),
        "current": link(period_containing(today, kind=period.kind)),
        "other": link(period_containing(anchor, kind=other_kind)),
        "other_label": "Months" if other_kind == "month" else "Quarters",
    }


@login_required
@require_GET
def forecast_page(request: AuthedRequest) -> HttpResponse:
    """A period's forecast for the viewer's scope (or a rep/team they oversee), with roll-up."""
    viewer = request.user
    period, period_error = _period_from(request)
    scope_user, scope_team = _scope_params(request)
    scope = queries.resolve_scope(user=viewer, scope_user=scope_user, scope_team=scope_team)
    rollup: list[queries.RollupRow] = []
    result: queries.Forecast | None = None
    if scope.kind != "user":
        rows = queries.rollup(manager_or_admin=viewer, period=period)
        shown = {t.pk for t in scope.teams}
        rollup = [r for r in rows if scope.kind == "company" or (r.team and r.team.pk in shown)]
        # The roll-up already holds the scope's own line (a team total or the company total).
        wanted = "company" if scope.kind == "company" else "team"
        lines = [r.forecast for r in rollup if r.kind == wanted]
        if len(lines) == 1:
            result = lines[0]
    if result is None:
        result = queries.forecast_for(scope=scope, period=period)
    points = queries.snapshot_points(scope=scope, periods=[period]).get(period.start, [])
    today = timezone.localdate()
    teams, reps = queries.scope_choices(viewer)
    extra = {"user": scope_user.username} if scope_user else {}
    if scope_team:
        extra = {"team": str(scope_team.pk)}
    context: dict[str, Any] = {
        "period": period,
        "period_error": period_error,
        "switch": period_switch("forecast", period, extra),
        "scope": scope,
        "f": result,
        "rollup": rollup,
        "points": points,
        "chart": _chart(
            snapshot_figure(
                points,
                closed_won_now=result.closed_won,
                today=min(max(today, period.start), period.end),
                quota=result.quota,
            )
        )
        if points
        else "",
        "accuracy": queries.past_accuracy(scope=scope, periods=queries.previous_periods(period)),
        "teams": teams,
        "reps": reps,
        "picked_user": scope_user.username if scope_user else "",
        "picked_team": scope_team.pk if scope_team else None,
        "cur": currency_sign(),
        "currency_code": settings.REPORTING_CURRENCY,
    }
    return render(request, "sales/forecast.html", context)


@login_required
@require_GET
def forecast_strip(request: AuthedRequest) -> HttpResponse:
    """The current quarter's numbers for the viewer's scope (embedded by the board and list)."""
    period = queries.current_quarter()
    scope = queries.default_scope(request.user)
    context = {"f": queries.forecast_for(scope=scope, period=period), "cur": currency_sign()}
    return render(request, "sales/forecast_strip.html", context)


def _target(raw: str) -> tuple[User | None, Team | None]:
    """A quota row's target, written "user:<id>" or "team:<id>" (anything else is a 404)."""
    kind, _, pk = raw.partition(":")
    if not pk.isdigit() or len(pk) > 18:
        raise Http404("no such quota target")
    if kind == "user":
        user = User.objects.filter(pk=int(pk)).first()
        if user is None:
            raise Http404("no such user")
        return user, None
    if kind == "team":
        team = Team.objects.filter(pk=int(pk)).first()
        if team is None:
            raise Http404("no such team")
        return None, team
    raise Http404("no such quota target")


@login_required
@require_http_methods(["GET", "POST"])
def quotas_page(request: AuthedRequest) -> HttpResponse:
    """Quotas of reps and teams against what they won in the period; managers edit them."""
    viewer = request.user
    can_edit = permissions.can_manage_sales(viewer)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("only admins and sales managers may set quotas")
        raw_period = request.POST.get("period", "")
        try:
            period = parse_period(raw_period)
        except DomainError as problem:
            messages.error(request, str(problem))
            return redirect("web:quotas")
        target = request.POST.get("target", "")
        user, team = _target(target)
        amount = request.POST.get("amount", "").strip()
        try:
            if amount:
                services.set_quota(user=user, team=team, period=period, amount=amount, by=viewer)
            else:
                services.clear_quota(user=user, team=team, period=period, by=viewer)
        except Forbidden as problem:
            raise PermissionDenied(str(problem)) from None
        except DomainError as problem:
            errors[target] = str(problem)
        else:
            name = user.username if user else (team.name if team else "")
            messages.success(request, f"Saved the {period.label} quota of {name}.")
            return redirect(reverse("web:quotas") + "?" + urlencode({"period": period.key}))
        period_error = ""
    else:
        period, period_error = _period_from(request)
    own = queries.own_quotas(period)
    lines = []
    for row in queries.attainment_rows(user=viewer, period=period):
        key: tuple[str, int] | None = None
        if row.kind == "rep" and row.user:
            key = ("user", row.user.pk)
        elif row.kind == "team" and row.team:
            key = ("team", row.team.pk)
        target = f"{key[0]}:{key[1]}" if key else ""
        lines.append(
            {
                "row": row,
                "target": target,
                "own": own.get(key) if key else None,
                "editable": can_edit and key is not None,
                "error": errors.get(target, ""),
            }
        )
    context = {
        "period": period,
        "period_error": period_error,
        "switch": period_switch("quotas", period, {}),
        "lines": lines,
        "can_edit": can_edit,
        "cur": currency_sign(),
    }
    return render(request, "sales/quotas.html", context, status=422 if errors else 200)


urlpatterns: list[URLPattern] = [
    path("forecast/", forecast_page, name="forecast"),
    path("forecast/strip/", forecast_strip, name="forecast_strip"),
    path("quotas/", quotas_page, name="quotas"),
]
