"""The hand-off panel: SLA met, acceptance, rejection reasons and time to first touch.

Acceptance, reasons and first-touch times are the lead-quality report's own numbers
(leads.queries.handoff.lead_quality), so this panel and the lead-quality page agree.
"""

from __future__ import annotations

from functools import cache

import plotly.graph_objects as go
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from tandem.accounts import permissions
from tandem.analytics.queries import marketing as analytics
from tandem.crm.views.common import AuthedRequest
from tandem.dashboards.charts import Chart, render_dashboard
from tandem.dashboards.views.marketing import (
    PALETTE,
    count_axis,
    hbar_layout,
    plot_text,
    positions,
    week_axis,
    weeks_until_today,
)
from tandem.dashboards.views.shared import chart_query, page_period, period_switch
from tandem.leads.queries import handoff as handoff_queries

# Hours from hand-off to the first call, meeting or email: (label, upper bound in hours).
TOUCH_BUCKETS: tuple[tuple[str, float], ...] = (
    ("Under 1 h", 1),
    ("1 to 4 h", 4),
    ("4 to 24 h", 24),
    ("1 to 3 days", 72),
    ("3 to 7 days", 168),
    ("Over 7 days", float("inf")),
)


def touch_histogram(hours: list[float]) -> list[tuple[str, int]]:
    """How many first touches fell in each TOUCH_BUCKETS range (upper bounds exclusive)."""
    counts = [0] * len(TOUCH_BUCKETS)
    for h in hours:
        for i, (_, bound) in enumerate(TOUCH_BUCKETS):
            if h < bound:
                counts[i] += 1
                break
    return [(label, n) for (label, _), n in zip(TOUCH_BUCKETS, counts, strict=True)]


def percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


@login_required
@require_GET
def handoff_page(request: AuthedRequest) -> HttpResponse:
    """SLA met per week, acceptance by group, rejection reasons and time to first touch."""
    # As the hand-off pages themselves: admins, sales managers and marketing (both sides).
    if not permissions.can_view_handoff(request.user):
        raise PermissionDenied("you may not see the hand-off panel")
    period, error = page_period(request)
    start, end = period.start, period.end
    group_by = request.GET.get("group_by", "source")
    if group_by not in handoff_queries.GROUP_BY:
        error = error or f"group_by must be one of: {', '.join(handoff_queries.GROUP_BY)}"
        group_by = "source"

    report = cache(lambda: handoff_queries.lead_quality(start=start, end=end, group_by=group_by))
    sla = cache(lambda: analytics.handoff_sla(start=start, end=weeks_until_today(start, end)))

    def sla_chart() -> Chart:
        weeks = sla().weeks
        figure = go.Figure(
            go.Scatter(
                x=[w.week for w in weeks],
                y=[percent(w.rate) for w in weeks],
                mode="lines+markers",
                connectgaps=False,
                line={"color": PALETTE[0]},
                hovertemplate="%{x}: %{y}% met<extra></extra>",
            )
        )
        figure.update_layout(yaxis={"title": "SLA met (%)", "range": [0, 105]})
        week_axis(figure, [w.week for w in weeks])
        return Chart(
            "sla",
            "SLA met per week",
            figure,
            ("Week", "Hand-offs", "Met SLA", "Met (%)"),
            [[w.week, w.handoffs, w.met, percent(w.rate)] for w in weeks] if sla().handoffs else [],
            note="Hand-offs to a rep by week assigned: accepted or rejected in time and, once "
            "accepted, first touched in time. Leads still inside their deadline wait.",
        )

    def acceptance_chart() -> Chart:
        rep = report()
        rows = rep.rows
        label = handoff_queries.GROUP_LABELS[group_by]
        figure = go.Figure(
            go.Bar(
                y=positions(rows),
                x=[percent(r.acceptance_rate) for r in rows],
                orientation="h",
                marker={"color": PALETTE[2]},
                customdata=[
                    [plot_text(r.label), r.accepted, r.accepted + r.rejected] for r in rows
                ],
                hovertemplate="%{customdata[0]}: %{x}% accepted (%{customdata[1]} of "
                "%{customdata[2]} decided)<extra></extra>",
            )
        )
        hbar_layout(figure, [r.label for r in rows], title="Accepted of decided (%)")
        figure.update_layout(xaxis={"title": "Accepted of decided (%)", "range": [0, 105]})
        return Chart(
            "acceptance",
            f"Acceptance rate by {label.lower()}",
            figure,
            (label, "MQLs", "Accepted", "Rejected", "Pending", "Unrouted", "Accepted (%)"),
            [
                [
                    r.label,
                    r.mqls,
                    r.accepted,
                    r.rejected,
                    r.pending,
                    r.unrouted,
                    percent(r.acceptance_rate),
                ]
                for r in rows
            ],
            note="Accepted ÷ (accepted + rejected) of the MQLs handed off in the period.",
        )

    def reasons_chart() -> Chart:
        rep = report()
        reasons = handoff_queries.reason_breakdown(rep.rows, rep.reason_labels)
        figure = go.Figure(
            go.Bar(
                y=positions(reasons),
                x=[n for _, n in reasons],
                customdata=[plot_text(label) for label, _ in reasons],
                orientation="h",
                marker={"color": "#c92a2a"},
                hovertemplate="%{customdata}: %{x}<extra></extra>",
            )
        )
        hbar_layout(figure, [label for label, _ in reasons], title="Rejected leads")
        figure.update_xaxes(**count_axis([n for _, n in reasons]))
        return Chart(
            "reasons",
            "Rejection reasons",
            figure,
            ("Reason", "Rejected leads"),
            [[label, n] for label, n in reasons],
        )

    def first_touch_chart() -> Chart:
        hours = report().total.touch_hours
        buckets = touch_histogram(hours)
        figure = go.Figure(
            go.Bar(
                x=[label for label, _ in buckets],
                y=[n for _, n in buckets],
                marker={"color": PALETTE[4]},
                hovertemplate="%{x}: %{y}<extra></extra>",
            )
        )
        figure.update_layout(yaxis={"title": "Leads", **count_axis([n for _, n in buckets])})
        return Chart(
            "first_touch",
            "Time from hand-off to first touch",
            figure,
            ("Time to first touch", "Leads"),
            buckets if hours else [],
            note=f"Median {report().total.median_hours_to_first_touch} h over {len(hours)} leads touched."
            if hours
            else "",
        )

    builders = {
        "sla": sla_chart,
        "acceptance": acceptance_chart,
        "reasons": reasons_chart,
        "first_touch": first_touch_chart,
    }
    context = {
        "period": period,
        "period_error": error,
        "switch": period_switch("dash_handoff", period, {"group_by": group_by}),
        "keep": [("group_by", group_by)],
        "group_by": group_by,
        "group_choices": list(handoff_queries.GROUP_LABELS.items()),
        "query": chart_query(request),
        "report": report,
        "sla": sla,
        "acceptance_pct": lambda: percent(report().total.acceptance_rate),
        "sla_pct": lambda: percent(sla().rate),
    }
    return render_dashboard(
        request,
        template="dashboards/handoff.html",
        page="handoff",
        builders=builders,
        context=context,
    )


urlpatterns: list[URLPattern] = [
    path("handoff/", handoff_page, name="dash_handoff"),
]
