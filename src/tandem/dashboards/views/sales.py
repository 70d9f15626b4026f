"""The sales dashboard: pipeline by stage, forecast against quota, activities, win/loss, reps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from tandem.accounts import permissions
from tandem.analytics.queries.sales import ReasonCount, loss_reasons, sales_metrics, win_sources
from tandem.crm.views.common import AuthedRequest
from tandem.dashboards import queries
from tandem.dashboards.charts import Chart, render_dashboard
from tandem.dashboards.views.shared import (
    ACTUAL_COLOR,
    TARGET_COLOR,
    chart_query,
    check_viewer,
    page_period,
    period_switch,
    weeks_end,
)
from tandem.sales.models import Pipeline, StageOutcome
from tandem.sales.queries.board import board
from tandem.sales.queries.forecasts import attainment_rows

KIND_COLORS = {
    "call": "#3b5bdb",
    "meeting": "#2b8a3e",
    "email": "#f08c00",
    "task": "#ae3ec9",
    "note": "#868e96",
}


def _pipeline(request: AuthedRequest) -> Pipeline:
    """?pipeline=<id> among the active pipelines, else the default one."""
    pipelines = Pipeline.objects.filter(is_active=True).order_by("position", "id")
    raw = request.GET.get("pipeline", "").strip()
    if raw:
        chosen = pipelines.filter(pk=int(raw)).first() if raw.isdigit() else None
        if chosen is None:
            raise Http404("no such pipeline")
        return chosen
    found = pipelines.filter(is_default=True).first() or pipelines.first()
    if found is None:
        raise Http404("no pipeline")
    return found


def _money(value: Decimal | None) -> float:
    return float(value or 0)


def pipeline_chart(request: AuthedRequest, pipeline: Pipeline) -> Chart:
    """Open deals the viewer may see, per stage of the pipeline: count and amount."""
    columns = [
        c
        for c in board(user=request.user, pipeline=pipeline, per_stage=0)
        if c.stage.outcome == StageOutcome.OPEN
    ]
    rows = [[c.stage.name, c.count, c.total_base, c.weighted_base] for c in columns]
    figure = None
    if any(c.count for c in columns):
        figure = go.Figure(
            go.Bar(
                x=[c.stage.name for c in columns],
                y=[_money(c.total_base) for c in columns],
                text=[f"{c.count:,} deals" for c in columns],
                textposition="auto",
                marker={"color": ACTUAL_COLOR},
                hovertemplate="%{x}: %{y:,.0f} (%{text})<extra></extra>",
                name="Open amount",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=[c.stage.name for c in columns],
                y=[_money(c.weighted_base) for c in columns],
                mode="markers",
                marker={"symbol": "diamond", "size": 10, "color": "#f08c00"},
                name="Weighted",
                hovertemplate="%{x}: weighted %{y:,.0f}<extra></extra>",
            )
        )
        figure.update_layout(
            yaxis={"title": settings.REPORTING_CURRENCY}, legend={"orientation": "h", "y": -0.2}
        )
    return Chart(
        key="pipeline",
        title=f"Open pipeline by stage · {pipeline.name}",
        figure=figure,
        columns=("Stage", "Open deals", "Open amount", "Weighted amount"),
        rows=rows if any(c.count for c in columns) else [],
        note="Deals open now that you may see; weighted = amount x the stage's probability.",
    )


def forecast_chart(request: AuthedRequest, period: Any) -> Chart:
    """Each rep's and team's (or the viewer's own) forecast against quota for the period."""
    lines = attainment_rows(user=request.user, period=period)
    rows: list[list[Any]] = [
        [
            r.label if r.kind == "rep" else f"{r.label} total",
            r.forecast.quota,
            r.forecast.closed_won,
            r.forecast.commit,
            r.forecast.best_case,
            r.forecast.expected,
            r.forecast.attainment_percent,
        ]
        for r in lines
    ]
    labels = [row[0] for row in rows]
    figure = go.Figure()
    for name, index, color in (
        ("Closed won", 2, "#2b8a3e"),
        ("Commit", 3, ACTUAL_COLOR),
        ("Expected", 5, "#91a7ff"),
    ):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[_money(r[index]) for r in rows],
                name=name,
                marker={"color": color},
                hovertemplate="%{x}: %{y:,.0f}<extra>" + name + "</extra>",
            )
        )
    if any(r[1] is not None for r in rows):
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=[None if r[1] is None else float(r[1]) for r in rows],
                mode="markers",
                name="Quota",
                marker={
                    "symbol": "line-ew-open",
                    "size": 28,
                    "color": TARGET_COLOR,
                    "line": {"width": 3},
                },
                hovertemplate="%{x}: quota %{y:,.0f}<extra></extra>",
            )
        )
    figure.update_layout(
        barmode="group",
        yaxis={"title": settings.REPORTING_CURRENCY},
        legend={"orientation": "h", "y": -0.3},
    )
    return Chart(
        key="forecast",
        title=f"Forecast against quota · {period.label}",
        figure=figure if rows else None,
        columns=(
            "Rep or team",
            "Quota",
            "Closed won",
            "Commit",
            "Best case",
            "Expected",
            "Attainment (%)",
        ),
        rows=rows,
        note="As on the forecast page: won by close date, open deals by expected close date.",
    )


def activities_chart(request: AuthedRequest, period: Any) -> Chart:
    """Calls, meetings, emails, tasks and notes logged per week of the period."""
    weeks = queries.activity_weeks(
        start=period.start,
        end=weeks_end(period),
        user_ids=permissions.metric_user_ids(request.user),
    )
    labels = queries.kind_labels()
    kinds = list(labels)
    figure = go.Figure()
    for kind in kinds:
        figure.add_trace(
            go.Bar(
                x=[w.week.isoformat() for w in weeks],
                y=[w.counts[kind] for w in weeks],
                name=labels[kind],
                marker={"color": KIND_COLORS.get(kind, "#adb5bd")},
                hovertemplate="week of %{x}: %{y}<extra>" + labels[kind] + "</extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        xaxis={"title": "Week starting", "type": "date"},
        yaxis={"title": "Activities"},
        legend={"orientation": "h", "y": -0.3},
    )
    has_any = any(w.total for w in weeks)
    return Chart(
        key="activities",
        title="Activities per week",
        figure=figure if has_any else None,
        columns=("Week starting", *[labels[k] for k in kinds], "Total"),
        rows=[[w.week, *[w.counts[k] for k in kinds], w.total] for w in weeks] if has_any else [],
        note="Your own activities." if request.user.role == "sales_rep" else "",
    )


def reasons_chart(
    *, key: str, title: str, found: list[ReasonCount], first: str, color: str
) -> Chart:
    figure = None
    if found:
        figure = go.Figure(
            go.Bar(
                y=[r.reason for r in found],
                x=[r.deals for r in found],
                orientation="h",
                marker={"color": color},
                customdata=[float(r.amount) for r in found],
                hovertemplate="%{y}: %{x} deals, %{customdata:,.0f}<extra></extra>",
            )
        )
        figure.update_layout(
            yaxis={"autorange": "reversed"},
            # Whole deals on the axis (a handful of deals would otherwise tick at 0.2).
            xaxis={"title": "Deals", "dtick": 1 if max(r.deals for r in found) <= 10 else None},
            margin={"l": 160, "r": 20, "t": 10, "b": 50},
        )
    return Chart(
        key=key,
        title=title,
        figure=figure,
        columns=(first, "Deals", f"Amount ({settings.REPORTING_CURRENCY})"),
        rows=[[r.reason, r.deals, r.amount] for r in found],
    )


REP_COLUMNS = (
    "Rep",
    "Deals created",
    "Pipeline created",
    "Won",
    "Lost",
    "Win rate (%)",
    "Revenue",
    "Average deal size",
    "Cycle (days)",
    "Open deals",
    "Open amount",
    "Velocity per day",
)


def reps_chart(request: AuthedRequest, period: Any) -> Chart:
    """Per-rep sales metrics of the period, for the reps whose numbers the viewer may read."""
    result = sales_metrics(
        start=period.start,
        end=period.end,
        group_by="rep",
        user_ids=permissions.metric_user_ids(request.user),
    )
    rows = [
        [
            m.label,
            m.deals_created,
            m.pipeline_created,
            m.won,
            m.lost,
            None if m.win_rate is None else round(m.win_rate * 100, 1),
            m.revenue,
            m.average_deal_size,
            None if m.cycle_days is None else round(m.cycle_days, 1),
            m.open_deals,
            m.open_amount,
            m.velocity_per_day,
        ]
        for m in result.rows
    ]
    figure = None
    if rows:
        figure = go.Figure()
        figure.add_trace(
            go.Bar(
                x=[m.label for m in result.rows],
                y=[_money(m.revenue) for m in result.rows],
                name="Revenue",
                marker={"color": "#2b8a3e"},
                hovertemplate="%{x}: %{y:,.0f}<extra>revenue</extra>",
            )
        )
        figure.add_trace(
            go.Bar(
                x=[m.label for m in result.rows],
                y=[_money(m.pipeline_created) for m in result.rows],
                name="Pipeline created",
                marker={"color": ACTUAL_COLOR},
                hovertemplate="%{x}: %{y:,.0f}<extra>pipeline created</extra>",
            )
        )
        figure.update_layout(
            barmode="group",
            yaxis={"title": settings.REPORTING_CURRENCY},
            legend={"orientation": "h", "y": -0.3},
        )
    return Chart(
        key="reps",
        title=f"Reps · {period.label}",
        figure=figure,
        columns=REP_COLUMNS,
        rows=rows,
    )


@login_required
@require_GET
def sales_page(request: AuthedRequest) -> HttpResponse:
    """The sales team's numbers for a period (default: the current quarter)."""
    check_viewer(request)
    period, period_error = page_period(request)
    pipeline = _pipeline(request)
    user_ids = permissions.metric_user_ids(request.user)
    builders = {
        "pipeline": lambda: pipeline_chart(request, pipeline),
        "forecast": lambda: forecast_chart(request, period),
        "activities": lambda: activities_chart(request, period),
        "losses": lambda: reasons_chart(
            key="losses",
            title=f"Why deals were lost · {period.label}",
            found=loss_reasons(start=period.start, end=period.end, user_ids=user_ids),
            first="Lost reason",
            color=TARGET_COLOR,
        ),
        "wins": lambda: reasons_chart(
            key="wins",
            title=f"Where won deals came from · {period.label}",
            found=win_sources(start=period.start, end=period.end, user_ids=user_ids),
            first="Source",
            color="#2b8a3e",
        ),
        "reps": lambda: reps_chart(request, period),
    }
    context: dict[str, Any] = {"period": period, "period_error": period_error}
    if "csv" not in request.GET:
        extra = {"pipeline": str(pipeline.pk)} if "pipeline" in request.GET else {}
        context |= {
            "switch": period_switch("dash_sales", period, extra),
            "query": chart_query(request),
            "keep": list(extra.items()),
            "pipeline": pipeline,
            "currency_code": settings.REPORTING_CURRENCY,
            "pipelines": list(Pipeline.objects.filter(is_active=True).order_by("position", "id")),
            "scope": "your own deals"
            if user_ids is not None and len(user_ids) == 1
            else ("your teams' deals" if user_ids is not None else "everyone's deals"),
        }
    return render_dashboard(
        request, template="dashboards/sales.html", page="sales", builders=builders, context=context
    )


urlpatterns: list[URLPattern] = [
    path("sales/", sales_page, name="dash_sales"),
]
