"""The marketing page: traffic, reach, engagement, leads by source, cost per lead and ROI."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

import plotly.graph_objects as go
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET

from tandem.analytics.queries import attribution as attribution_queries
from tandem.analytics.queries import marketing as queries
from tandem.analytics.queries.attribution import CampaignEconomics
from tandem.crm.views.common import AuthedRequest
from tandem.dashboards.charts import Chart, render_dashboard
from tandem.dashboards.views.shared import chart_query, check_viewer, page_period, period_switch
from tandem.marketing.models import Channel

TOP_CAMPAIGNS = 15
BAR_LABEL_CHARS = 34  # a bar's label on the axis; the hover shows it whole
NAME_CHARS = 32  # a campaign name in the economics figure is cut to one line (the table keeps it)
ECONOMICS_MODEL = "linear"
# One colour per engagement kind and per line, so a kind keeps its colour across charts.
PALETTE = (
    "#3b5bdb",
    "#e8590c",
    "#2b8a3e",
    "#ae3ec9",
    "#1098ad",
    "#f08c00",
    "#c2255c",
    "#5c940d",
    "#845ef7",
    "#495057",
    "#0b7285",
    "#d6336c",
)
CHANNEL_LABELS = {str(k): str(v) for k, v in Channel.choices}
KIND_COLORS = dict(zip(queries.ENGAGEMENT_KINDS, PALETTE, strict=False))
T = TypeVar("T")


def plot_text(label: str) -> str:
    """A user-typed label as Plotly shows it literally (Plotly reads tags in text as markup)."""
    return html.escape(str(label), quote=False)


def clip(label: str, limit: int = NAME_CHARS) -> str:
    """A long name cut to `limit` characters with an ellipsis (tables and CSVs keep it whole)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def once(fn: Callable[[], T]) -> Callable[[], T]:
    """The query a page's cards share runs once per request, and only when a card needs it."""
    return cache(fn)


def weeks_until_today(start: date, end: date) -> date:
    """The last day the weekly charts show: the window's end, or today when the window runs on
    (future weeks would draw as a fall to zero)."""
    today = timezone.localdate()
    return min(end, today) if start <= today else end


def week_axis(figure: go.Figure, weeks: Sequence[date]) -> go.Figure:
    """Ticks on the weeks' Mondays (Plotly's own weekly ticks fall on Sundays)."""
    if weeks:
        step = max(1, len(weeks) // 14)  # at most about 14 labels
        figure.update_xaxes(
            tickmode="array",
            tickvals=list(weeks[::step]),
            ticktext=[f"{w:%b} {w.day}" for w in weeks[::step]],
        )
    return figure


def bar_height(rows: int) -> int:
    """A horizontal bar chart tall enough for every label."""
    return max(320, 60 + 26 * rows)


def count_axis(values: Sequence[int]) -> dict[str, Any]:
    """An axis of whole counts: no 0.2 ticks when the counts are small."""
    axis: dict[str, Any] = {"tickformat": ",d", "rangemode": "tozero"}
    if max(values, default=0) <= 8:
        axis["dtick"] = 1
    return axis


def positions(labels: Sequence[Any]) -> list[int]:
    """Bars placed by position, so two equal names stay two bars."""
    return list(range(len(labels)))


def hbar_layout(figure: go.Figure, labels: Sequence[str], *, title: str) -> go.Figure:
    """A horizontal bar chart over `positions(labels)`: the first on top, long names cut."""
    figure.update_layout(
        height=bar_height(len(labels)),
        margin={"l": 10, "r": 20, "t": 10, "b": 40},
        yaxis={
            "autorange": "reversed",
            "automargin": True,
            "tickmode": "array",
            "tickvals": positions(labels),
            "ticktext": [plot_text(clip(label, BAR_LABEL_CHARS)) for label in labels],
        },
        xaxis={"title": title},
        showlegend=False,
    )
    return figure


def top_by_cost(rows: Sequence[CampaignEconomics], limit: int = TOP_CAMPAIGNS) -> list[Any]:
    """The campaigns that cost the most (ties by name), at most `limit`."""
    spent = [r for r in rows if r.cost > 0]
    return sorted(spent, key=lambda r: (-r.cost, r.name))[:limit]


def money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def economics_chart(
    key: str, title: str, rows: Sequence[CampaignEconomics], *, note: str = ""
) -> Chart:
    """Every campaign's cost, leads, CPL, customers, CAC, pipeline, revenue and ROI as a table."""
    columns = (
        "Campaign",
        "Channel",
        "Cost",
        "Leads",
        "Cost per lead",
        "Customers",
        "CAC",
        "Pipeline",
        "Revenue",
        "ROI",
    )
    ordered = sorted(rows, key=lambda r: (-r.cost, r.name))
    table = [
        [
            r.name,
            CHANNEL_LABELS.get(r.channel, r.channel),
            r.cost,
            r.leads,
            r.cost_per_lead,
            round(r.customers, 2),
            r.cac,
            r.pipeline,
            r.revenue,
            None if r.roi is None else round(r.roi, 4),
        ]
        for r in ordered
    ]
    shown = ordered[:TOP_CAMPAIGNS]

    def text(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, Decimal):
            return f"{v:,.2f}"
        if isinstance(v, float):
            return f"{v:,.2f}"
        return str(v)

    figure = go.Figure(
        go.Table(
            columnwidth=[3, 1.4, 1.2, 0.8, 1.2, 1, 1.2, 1.3, 1.3, 0.9],
            header={"values": list(columns), "align": "left", "fill": {"color": "#e7ecf8"}},
            cells={
                "values": [
                    [plot_text(clip(r.name)) for r in shown],
                    [plot_text(str(row[1])) for row in table[: len(shown)]],
                    *[[text(row[i]) for row in table[: len(shown)]] for i in range(2, 10)],
                ],
                "align": ["left", "left", *["right"] * 8],
                "height": 24,
            },
        )
    )
    # The header, one line per row and one spare (a narrow screen that wraps names scrolls).
    figure.update_layout(
        height=36 + 24 * (max(1, len(shown)) + 1), margin={"l": 0, "r": 0, "t": 4, "b": 0}
    )
    if len(ordered) > len(shown):
        note = (note + " " if note else "") + (
            f"The {len(shown)} costliest of {len(ordered)} campaigns; the table view and CSV list all."
        )
    return Chart(key, title, figure, columns, table, note=note)


# ---------------------------------------------------------------- the page


@login_required
@require_GET
def marketing_page(request: AuthedRequest) -> HttpResponse:
    """Traffic, reach and engagement per week, leads by source, cost per lead and ROI by campaign."""
    check_viewer(request)
    period, error = page_period(request)
    start, end = period.start, period.end
    bucket = request.GET.get("bucket", "week")
    if bucket not in queries.BUCKETS:
        error = error or f"bucket must be one of: {', '.join(queries.BUCKETS)}"
        bucket = "week"

    shown_end = weeks_until_today(start, end)
    traffic = once(lambda: queries.traffic(start=start, end=shown_end))
    leads = once(lambda: queries.leads_by_source(start=start, end=shown_end, bucket=bucket))
    economics = once(
        lambda: attribution_queries.campaign_economics(start=start, end=end, model=ECONOMICS_MODEL)
    )

    def traffic_chart() -> Chart:
        weeks = traffic().weeks
        figure = go.Figure(
            go.Scatter(
                x=[w.week for w in weeks],
                y=[w.visits for w in weeks],
                mode="lines+markers",
                name="Visits",
                line={"color": PALETTE[0]},
            )
        )
        figure.update_layout(yaxis={"title": "Visits", "rangemode": "tozero"})
        week_axis(figure, [w.week for w in weeks])
        rows = [[w.week, w.visits] for w in weeks] if traffic().visits else []
        return Chart(
            "traffic",
            "Traffic: visits per week",
            figure,
            ("Week", "Visits"),
            rows,
            note="Touches of kind visit (known contacts and anonymous visitors), weeks from Monday.",
        )

    def reach_chart() -> Chart:
        weeks = traffic().weeks
        figure = go.Figure()
        for name, values, color in (
            ("People reached", [w.reach for w in weeks], PALETTE[0]),
            ("Known contacts", [w.contacts for w in weeks], PALETTE[2]),
            ("Anonymous visitors", [w.anonymous for w in weeks], PALETTE[1]),
        ):
            figure.add_trace(
                go.Scatter(
                    x=[w.week for w in weeks],
                    y=values,
                    mode="lines+markers",
                    name=name,
                    line={"color": color},
                )
            )
        figure.update_layout(
            yaxis={"title": "People", "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.22},
        )
        week_axis(figure, [w.week for w in weeks])
        rows = [[w.week, w.contacts, w.anonymous, w.reach] for w in weeks]
        return Chart(
            "reach",
            "Reach: distinct people touched per week",
            figure,
            ("Week", "Known contacts", "Anonymous visitors", "People reached"),
            rows if any(w.reach for w in weeks) else [],
            note="Distinct contacts with a touch in the week, plus distinct anonymous visitors.",
        )

    def engagement_chart() -> Chart:
        result = traffic()
        weeks = result.weeks
        figure = go.Figure()
        for kind in result.kinds:
            figure.add_trace(
                go.Bar(
                    x=[w.week for w in weeks],
                    y=[w.engagement[kind] for w in weeks],
                    name=queries.KIND_LABELS[kind],
                    marker={"color": KIND_COLORS[kind]},
                )
            )
        figure.update_layout(
            barmode="stack",
            yaxis={"title": "Touches"},
            legend={"orientation": "h", "y": -0.18, "traceorder": "normal"},
        )
        week_axis(figure, [w.week for w in weeks])
        rows = [[w.week, *(w.engagement[k] for k in result.kinds), w.engaged] for w in weeks]
        return Chart(
            "engagement",
            "Engagement per week by kind",
            figure,
            ("Week", *(queries.KIND_LABELS[k] for k in result.kinds), "All"),
            rows if any(w.engaged for w in weeks) else [],
        )

    def leads_chart() -> Chart:
        result = leads()
        figure = go.Figure()
        for i, source in enumerate(result.sources):
            figure.add_trace(
                go.Bar(
                    x=result.buckets,
                    y=[result.count(b, source.key) for b in result.buckets],
                    name=source.label,
                    marker={"color": PALETTE[i % len(PALETTE)]},
                )
            )
        figure.update_layout(
            barmode="stack",
            yaxis={"title": "New leads"},
            legend={"orientation": "h", "y": -0.18, "traceorder": "normal"},
        )
        if result.bucket == "week":
            week_axis(figure, result.buckets)
        else:
            figure.update_xaxes(
                tickmode="array",
                tickvals=result.buckets,
                ticktext=[f"{b:%b %Y}" for b in result.buckets],
            )
        label = "Week" if result.bucket == "week" else "Month"
        rows = [
            [
                b,
                *(result.count(b, s.key) for s in result.sources),
                sum(result.count(b, s.key) for s in result.sources),
            ]
            for b in result.buckets
        ]
        return Chart(
            "leads",
            f"New leads by original source per {result.bucket}",
            figure,
            (label, *(s.label for s in result.sources), "All"),
            rows if result.total else [],
            note="Contacts that entered the lead stage (or skipped past it) in the period.",
        )

    def cpl_chart() -> Chart:
        rows = top_by_cost(economics())
        figure = go.Figure(
            go.Bar(
                y=positions(rows),
                x=[money(r.cost_per_lead) for r in rows],
                customdata=[plot_text(r.name) for r in rows],
                orientation="h",
                marker={"color": PALETTE[0]},
                hovertemplate="%{customdata}: %{x:,.2f} per lead<extra></extra>",
            )
        )
        hbar_layout(figure, [r.name for r in rows], title="Cost per lead")
        return Chart(
            "cpl",
            f"Cost per lead by campaign (top {TOP_CAMPAIGNS} by cost)",
            figure,
            ("Campaign", "Channel", "Cost", "Leads", "Cost per lead"),
            [
                [r.name, CHANNEL_LABELS.get(r.channel, r.channel), r.cost, r.leads, r.cost_per_lead]
                for r in rows
            ],
            note="Cost in the period ÷ leads the campaign captured; blank without leads.",
        )

    def roi_chart() -> Chart:
        rows = top_by_cost(economics())
        figure = go.Figure(
            go.Bar(
                y=positions(rows),
                x=[r.roi for r in rows],
                customdata=[plot_text(r.name) for r in rows],
                orientation="h",
                marker={"color": [PALETTE[2] if (r.roi or 0) >= 0 else "#c92a2a" for r in rows]},
                hovertemplate="%{customdata}: ROI %{x:.2f}<extra></extra>",
            )
        )
        hbar_layout(figure, [r.name for r in rows], title="ROI")
        return Chart(
            "roi",
            f"ROI by campaign (top {TOP_CAMPAIGNS} by cost)",
            figure,
            ("Campaign", "Channel", "Cost", "Revenue", "ROI"),
            [
                [
                    r.name,
                    CHANNEL_LABELS.get(r.channel, r.channel),
                    r.cost,
                    r.revenue,
                    None if r.roi is None else round(r.roi, 4),
                ]
                for r in rows
            ],
            note=f"Revenue credited by the {ECONOMICS_MODEL} model, against cost in the period.",
        )

    def economics_card() -> Chart:
        return economics_chart("economics", "Campaign economics", economics())

    builders = {
        "traffic": traffic_chart,
        "reach": reach_chart,
        "engagement": engagement_chart,
        "leads": leads_chart,
        "cpl": cpl_chart,
        "roi": roi_chart,
        "economics": economics_card,
    }
    context = {
        "period": period,
        "period_error": error,
        "switch": period_switch("dash_marketing", period, {"bucket": bucket}),
        "keep": [("bucket", bucket)],
        "bucket": bucket,
        "query": chart_query(request),
        "bucket_choices": [("week", "Week"), ("month", "Month")],
        "traffic": traffic,
        "engaged_total": lambda: sum(w.engaged for w in traffic().weeks),
        "leads": leads,
    }
    return render_dashboard(
        request,
        template="dashboards/marketing.html",
        page="marketing",
        builders=builders,
        context=context,
    )


urlpatterns: list[URLPattern] = [
    path("marketing/", marketing_page, name="dash_marketing"),
]
