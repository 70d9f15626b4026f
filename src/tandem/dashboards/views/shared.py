"""The shared page both teams own: joint goals per period against actuals, and the goals form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from tandem.accounts import permissions
from tandem.analytics.queries.funnel import FunnelStage
from tandem.crm.views.common import AuthedRequest
from tandem.dashboards import queries, services
from tandem.dashboards.charts import Builder, Chart, render_dashboard
from tandem.dashboards.forms import GoalsForm
from tandem.dashboards.models import GoalMetric
from tandem.errors import DomainError, Forbidden, InvalidInput
from tandem.sales.periods import Period, parse_period, period_containing
from tandem.sales.views.forecasts import period_switch

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
TREND_PERIODS = 6
ACTUAL_COLOR = "#3b5bdb"
TARGET_COLOR = "#c92a2a"


# ---------------------------------------------------------------- helpers the pages share


def currency_sign() -> str:
    code = settings.REPORTING_CURRENCY
    return SYMBOLS.get(code, f"{code} ")


def check_viewer(request: HttpRequest) -> None:
    """Every signed-in role reads the dashboards; anyone else is refused."""
    if not permissions.can_view_analytics(request.user):
        raise PermissionDenied("you may not read the analytics")


def page_period(request: HttpRequest) -> tuple[Period, str]:
    """?period= (a month 2026-11 or a quarter 2026-Q4; default the current quarter) and the
    error text of a bad one (the page then shows the current quarter)."""
    today = timezone.localdate()
    raw = request.GET.get("period", "").strip()
    if not raw:
        return period_containing(today, kind="quarter"), ""
    try:
        return parse_period(raw), ""
    except DomainError as problem:
        return period_containing(today, kind="quarter"), str(problem)


def weeks_end(period: Period) -> date:
    """The last day a weekly series of the period runs to: its end, or today while under way."""
    return min(period.end, max(timezone.localdate(), period.start))


def chart_query(request: HttpRequest) -> str:
    """The page's querystring without `csv` (the chart cards append their own)."""
    params = request.GET.copy()
    params.pop("csv", None)
    return params.urlencode()


def funnel_table(stages: list[FunnelStage]) -> list[list[Any]]:
    """A funnel's stages as table rows (conversion in percent)."""
    return [
        [
            s.label,
            s.entered,
            None if s.conversion_to_next is None else round(s.conversion_to_next * 100, 1),
            s.median_days_to_next,
            s.p75_days_to_next,
        ]
        for s in stages
    ]


FUNNEL_COLUMNS = (
    "Stage",
    "Entered",
    "Conversion to next (%)",
    "Median days to next",
    "p75 days to next",
)


def funnel_figure(stages: list[FunnelStage]) -> go.Figure:
    figure = go.Figure(
        go.Funnel(
            y=[s.label for s in stages],
            x=[s.entered for s in stages],
            textinfo="value+percent previous",
            marker={"color": ACTUAL_COLOR},
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(margin={"l": 110, "r": 20, "t": 10, "b": 30})
    return figure


# ---------------------------------------------------------------- goal values


def value_text(metric: str, value: Decimal | None) -> str:
    """A goal value as the page shows it: money, a count, a rate or money per day."""
    if value is None:
        return "—"
    if metric in queries.RATES:
        return f"{value * 100:.1f} %"
    if metric == GoalMetric.VELOCITY.value:
        return f"{currency_sign()}{value:,.0f} / day"
    if metric in queries.MONEY:
        return f"{currency_sign()}{value:,.0f}"
    return f"{value:,.0f}"


def shown(metric: str, value: Decimal | None) -> float | int | Decimal | None:
    """A value in the unit of the charts and tables: rates in percent, counts whole, money."""
    if value is None:
        return None
    if metric in queries.RATES:
        return round(float(value) * 100, 1)
    if metric in queries.MONEY:
        return value.quantize(Decimal("0.01"))
    return int(value)


def pct(progress: Decimal | None) -> float | None:
    return None if progress is None else float(progress)


def unit(metric: str) -> str:
    if metric in queries.RATES:
        return "%"
    if metric == GoalMetric.VELOCITY.value:
        return f"{settings.REPORTING_CURRENCY} per day"
    if metric in queries.MONEY:
        return settings.REPORTING_CURRENCY
    return "contacts"


class Goals:
    """The page's goal numbers, each period's actuals computed once and on demand."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.periods = queries.trailing_periods(period, TREND_PERIODS)
        self._targets: dict[tuple[str, str], Decimal] | None = None
        self._actuals: dict[str, queries.PeriodActuals] | None = None

    def actuals(self, period: Period) -> queries.PeriodActuals:
        """A trailing period's actuals (all of them computed together on first use)."""
        if self._actuals is None:
            self._actuals = queries.actuals_over(periods=self.periods)
        return self._actuals[period.key]

    @property
    def targets(self) -> dict[tuple[str, str], Decimal]:
        if self._targets is None:
            self._targets = queries.targets(periods=self.periods)
        return self._targets

    def lines(self, period: Period | None = None) -> list[queries.GoalLine]:
        p = period or self.period
        return queries.goal_lines(period=p, values=self.actuals(p), goals=self.targets)

    def progress_chart(self) -> Chart:
        lines = self.lines()
        rows = [
            [
                line.label,
                unit(line.metric),
                shown(line.metric, line.actual),
                shown(line.metric, line.target),
                pct(line.progress),
            ]
            for line in lines
        ]
        with_goal = [line for line in lines if line.progress is not None]
        figure = None
        if with_goal:
            figure = go.Figure(
                go.Bar(
                    y=[line.label for line in with_goal],
                    x=[float(line.progress or 0) for line in with_goal],
                    orientation="h",
                    marker={
                        "color": ["#2b8a3e" if line.met else ACTUAL_COLOR for line in with_goal]
                    },
                    text=[f"{line.progress} %" for line in with_goal],
                    textposition="auto",
                    hovertemplate="%{y}: %{x:.1f} % of goal<extra></extra>",
                )
            )
            figure.add_vline(x=100, line={"color": TARGET_COLOR, "dash": "dash"})
            figure.update_layout(
                xaxis={"title": "% of goal", "rangemode": "tozero"},
                yaxis={"autorange": "reversed"},
                margin={"l": 170, "r": 20, "t": 10, "b": 50},
            )
        return Chart(
            key="progress",
            title=f"Progress against goal · {self.period.label}",
            figure=figure,
            columns=("Metric", "Unit", "Actual", "Target", "Progress (%)"),
            rows=rows,
            note="" if with_goal else "No goal is set for this period yet.",
        )

    def trend_chart(self, metric: GoalMetric) -> Chart:
        lines = [
            (p, next(line for line in self.lines(p) if line.metric == metric.value))
            for p in self.periods
        ]
        rows = [
            [
                p.label,
                shown(metric.value, line.actual),
                shown(metric.value, line.target),
                pct(line.progress),
            ]
            for p, line in lines
        ]
        x = [p.label for p, _ in lines]
        figure = go.Figure()
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[None if r[1] is None else float(r[1]) for r in rows],
                mode="lines+markers",
                name="Actual",
                line={"color": ACTUAL_COLOR},
            )
        )
        if any(r[2] is not None for r in rows):
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=[None if r[2] is None else float(r[2]) for r in rows],
                    mode="lines+markers",
                    name="Target",
                    line={"color": TARGET_COLOR, "dash": "dash"},
                )
            )
        figure.update_layout(
            yaxis={"title": unit(metric.value), "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.2},
        )
        return Chart(
            key=f"trend-{metric.value}",
            title=f"{metric.label}: the last {TREND_PERIODS} {self.period.kind}s",
            figure=figure,
            columns=("Period", f"Actual ({unit(metric.value)})", "Target", "Progress (%)"),
            rows=rows,
        )


# ---------------------------------------------------------------- pages


@login_required
@require_GET
def shared_page(request: AuthedRequest) -> HttpResponse:
    """The joint goals of a period: actual, target and progress, their trend, and the funnel."""
    check_viewer(request)
    period, period_error = page_period(request)
    goals = Goals(period)

    def funnel_chart() -> Chart:
        # The period-mode funnel the MQL figures came from.
        stages = goals.actuals(period).stages
        has_any = any(s.entered for s in stages)
        return Chart(
            key="funnel",
            title=f"Funnel · {period.label}",
            figure=funnel_figure(stages) if has_any else None,
            columns=FUNNEL_COLUMNS,
            rows=funnel_table(stages) if has_any else [],
            note="Contacts entering each stage in the period; conversion is the share of them "
            "that has reached the next stage since.",
        )

    builders: dict[str, Builder] = {"progress": goals.progress_chart}
    for metric in GoalMetric:
        builders[f"trend-{metric.value}"] = partial(goals.trend_chart, metric)
    builders["funnel"] = funnel_chart
    context: dict[str, Any] = {"period": period, "period_error": period_error}
    if "csv" not in request.GET:
        context |= {
            "lines": [
                {
                    "line": line,
                    "actual_text": value_text(line.metric, line.actual),
                    "target_text": value_text(line.metric, line.target),
                }
                for line in goals.lines()
            ],
            "switch": period_switch("dash_shared", period, {}),
            "query": chart_query(request),
            "can_set_goals": permissions.can_set_goals(request.user),
        }
    return render_dashboard(
        request,
        template="dashboards/shared.html",
        page="shared",
        builders=builders,
        context=context,
    )


@login_required
@require_http_methods(["GET", "POST"])
def goals_page(request: AuthedRequest) -> HttpResponse:
    """Set the six joint goals of a period (admins, marketing and sales managers)."""
    if not permissions.can_set_goals(request.user):
        raise PermissionDenied("only admins, marketing and sales managers set the joint goals")
    status = 200
    if request.method == "POST":
        form = GoalsForm(request.POST)
        period_text = request.POST.get("period", "")
        if form.is_valid():
            try:
                services.set_goals(period=period_text, targets=form.targets(), by=request.user)
            except Forbidden as problem:
                raise PermissionDenied(str(problem)) from None
            except InvalidInput as problem:
                field = problem.field if problem.field in form.fields else None
                form.add_error(field, str(problem))
            else:
                period = parse_period(period_text)
                messages.success(request, f"Saved the joint goals of {period.label}.")
                return redirect(
                    reverse("web:dash_shared") + "?" + urlencode({"period": period.key})
                )
        status = 422
        try:
            period = parse_period(period_text)
        except DomainError:
            period = period_containing(timezone.localdate(), kind="quarter")
        period_error = ""
    else:
        period, period_error = page_period(request)
        stored = {
            metric: target
            for (key, metric), target in queries.targets(periods=[period]).items()
            if key == period.key
        }
        form = GoalsForm(initial=GoalsForm.initial_from(period.key, stored))
    context = {
        "form": form,
        "period": period,
        "period_error": period_error,
        "switch": period_switch("dash_goals", period, {}),
        "metric_fields": [form[m.value] for m in GoalMetric],
    }
    return render(request, "dashboards/goals_form.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("", shared_page, name="dash_shared"),
    path("goals/", goals_page, name="dash_goals"),
]
