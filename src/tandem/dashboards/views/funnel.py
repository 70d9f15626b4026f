"""The funnel dashboard: stages by cohort or period with a breakdown, cohorts, weekly throughput."""

from __future__ import annotations

from datetime import date
from typing import Any

import plotly.graph_objects as go
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from tandem.analytics.queries.funnel import BREAKDOWNS, cohorts, funnel, throughput
from tandem.crm.views.common import AuthedRequest
from tandem.dashboards.charts import Chart, render_dashboard
from tandem.dashboards.views.shared import (
    ACTUAL_COLOR,
    FUNNEL_COLUMNS,
    TARGET_COLOR,
    chart_query,
    check_viewer,
    funnel_figure,
    funnel_table,
    page_period,
    period_switch,
    weeks_end,
)
from tandem.leads.models import Segment
from tandem.sales.periods import Period

MODES = {
    "cohort": "Cohort (contacts created in the period)",
    "period": "Period (entries in the period)",
}
BREAKDOWN_LABELS = {
    "channel": "Channel (original source)",
    "campaign": "Campaign (first touch)",
    "persona": "Persona",
    "segment": "Segment",
}
COHORT_MONTHS = 12
DEFAULT_SEGMENTS = 5
MAX_SEGMENTS = 10


def short_label(stage: str) -> str:
    """A stage's name short enough for an axis: MQL, SQL, Lead, …"""
    return stage.upper() if stage in ("mql", "sql") else stage.capitalize()


def cohort_start(period: Period) -> date:
    """The first day of the month COHORT_MONTHS - 1 months before the period's last month."""
    year, month = period.end.year, period.end.month - (COHORT_MONTHS - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def _choices(request: AuthedRequest) -> tuple[str, str | None, list[int], list[str]]:
    """Mode, breakdown and segment ids from the querystring, each from its allow-list."""
    errors = []
    mode = request.GET.get("mode", "cohort").strip() or "cohort"
    if mode not in MODES:
        errors.append(f'mode "{mode[:20]}" is unknown; use cohort or period')
        mode = "cohort"
    breakdown: str | None = request.GET.get("breakdown", "").strip() or None
    if breakdown is not None and breakdown not in BREAKDOWNS:
        errors.append(
            f'breakdown "{breakdown[:20]}" is unknown; use one of {", ".join(BREAKDOWNS)}'
        )
        breakdown = None
    segment_ids: list[int] = []
    if breakdown == "segment":
        raw = [s for s in request.GET.getlist("segment") if s.strip()]
        if any(not s.strip().isdigit() for s in raw):
            errors.append("segment must be a segment id")
        wanted = [int(s) for s in raw if s.strip().isdigit()][:MAX_SEGMENTS]
        found = (
            Segment.objects.filter(pk__in=wanted)
            if wanted
            else Segment.objects.order_by("-member_count", "name")[:DEFAULT_SEGMENTS]
        )
        segment_ids = [s.pk for s in found]
        if not segment_ids:
            errors.append("there is no such segment to break the funnel down by")
            breakdown = None
    return mode, breakdown, segment_ids, errors


def breakdown_chart(result: Any) -> Chart:
    """Entries per stage for each group of the breakdown, as grouped bars."""
    groups = result.groups
    figure = None
    if groups:
        figure = go.Figure()
        for group in groups:
            figure.add_trace(
                go.Bar(
                    x=[short_label(s.stage) for s in group.stages],
                    y=[s.entered for s in group.stages],
                    name=group.label,
                    hovertemplate="%{x}: %{y:,}<extra>%{fullData.name}</extra>",
                )
            )
        figure.update_layout(
            barmode="group", yaxis={"title": "Contacts"}, legend={"orientation": "h", "y": -0.15}
        )
    rows = [
        [
            group.label,
            s.label,
            s.entered,
            None if s.conversion_to_next is None else round(s.conversion_to_next * 100, 1),
            s.median_days_to_next,
            s.p75_days_to_next,
        ]
        for group in groups
        for s in group.stages
    ]
    label = BREAKDOWN_LABELS.get(result.breakdown or "", "Group")
    return Chart(
        key="breakdown",
        title=f"Funnel by {label.split(' (')[0].lower()}",
        figure=figure,
        columns=(label.split(" (")[0], *FUNNEL_COLUMNS),
        rows=rows,
    )


def cohort_chart(period: Period) -> Chart:
    """How each month's new contacts went on to convert: share that reached each stage."""
    start = cohort_start(period)
    result = cohorts(start=start, end=period.end)
    stages = result.stages
    rows = [
        [row.month, row.size, *[round(row.rates.get(s, 0.0) * 100, 1) for s in stages]]
        for row in result.rows
    ]
    figure = None
    if any(row.size for row in result.rows):
        figure = go.Figure(
            go.Heatmap(
                z=[[r.rates.get(s, 0.0) * 100 for s in stages] for r in result.rows],
                x=[short_label(s) for s in stages],
                y=[r.month for r in result.rows],
                colorscale="Blues",
                zmin=0,
                zmax=100,
                colorbar={"title": "%"},
                hovertemplate="%{y} → %{x}: %{z:.1f} %<extra></extra>",
            )
        )
        figure.update_layout(yaxis={"autorange": "reversed", "type": "category"})
    return Chart(
        key="cohorts",
        title=f"Cohorts by month of creation · {start:%b %Y} to {period.end:%b %Y}",
        figure=figure,
        columns=("Month created", "Contacts", *[f"Reached {s} (%)" for s in stages]),
        rows=rows if figure is not None else [],
        note="Each row: the contacts created that month, and the share of them that has "
        "reached each stage by now (older cohorts have had longer to mature).",
    )


def throughput_chart(period: Period) -> Chart:
    """MQLs and SQLs per week of the period."""
    weeks = throughput(start=period.start, end=weeks_end(period))
    x = [w.week.isoformat() for w in weeks]
    figure = None
    if any(w.mqls or w.sqls for w in weeks):
        figure = go.Figure()
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[w.mqls for w in weeks],
                mode="lines+markers",
                name="MQLs",
                line={"color": ACTUAL_COLOR},
            )
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[w.sqls for w in weeks],
                mode="lines+markers",
                name="SQLs",
                line={"color": TARGET_COLOR},
            )
        )
        figure.update_layout(
            xaxis={"title": "Week starting", "type": "date"},
            yaxis={"title": "Contacts", "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.25},
        )
    return Chart(
        key="throughput",
        title="MQLs and SQLs per week",
        figure=figure,
        columns=("Week starting", "MQLs", "SQLs"),
        rows=[[w.week, w.mqls, w.sqls] for w in weeks] if figure is not None else [],
    )


@login_required
@require_GET
def funnel_page(request: AuthedRequest) -> HttpResponse:
    """The lifecycle funnel of a period, broken down on request, with cohorts and throughput."""
    check_viewer(request)
    period, period_error = page_period(request)
    mode, breakdown, segment_ids, errors = _choices(request)
    computed: dict[str, Any] = {}

    def result() -> Any:
        # The overall funnel and the breakdown's groups come from one call.
        if "funnel" not in computed:
            computed["funnel"] = funnel(
                start=period.start,
                end=period.end,
                mode=mode,
                breakdown=breakdown,
                segment_ids=segment_ids,
            )
        return computed["funnel"]

    def funnel_chart() -> Chart:
        stages = result().stages
        has_any = any(s.entered for s in stages)
        return Chart(
            key="funnel",
            title=f"Stage by stage · {period.label}",
            figure=funnel_figure(stages) if has_any else None,
            columns=FUNNEL_COLUMNS,
            rows=funnel_table(stages) if has_any else [],
            note=MODES[mode] + ".",
        )

    builders = {"funnel": funnel_chart}
    if breakdown is not None:
        builders["breakdown"] = lambda: breakdown_chart(result())
    builders["cohorts"] = lambda: cohort_chart(period)
    builders["throughput"] = lambda: throughput_chart(period)
    context: dict[str, Any] = {
        "period": period,
        "period_error": "; ".join([period_error, *errors]).strip("; "),
    }
    if "csv" not in request.GET:
        extra = {"mode": mode, **({"breakdown": breakdown} if breakdown else {})}
        keep = list(extra.items()) + [("segment", str(s)) for s in segment_ids]
        context |= {
            "switch": period_switch("dash_funnel", period, extra),
            "query": chart_query(request),
            "keep": keep,
            "mode": mode,
            "modes": MODES,
            "breakdown": breakdown or "",
            "breakdowns": [(b, BREAKDOWN_LABELS.get(b, b)) for b in BREAKDOWNS],
            "segments": list(Segment.objects.order_by("name").values_list("pk", "name")[:200])
            if breakdown == "segment"
            else [],
            "segment_ids": segment_ids,
        }
    return render_dashboard(
        request,
        template="dashboards/funnel.html",
        page="funnel",
        builders=builders,
        context=context,
    )


urlpatterns: list[URLPattern] = [
    path("funnel/", funnel_page, name="dash_funnel"),
]
