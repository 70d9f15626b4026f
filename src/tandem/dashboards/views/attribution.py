"""The attribution page: eight models side by side, the journeys as a sankey, campaign economics."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import plotly.graph_objects as go
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from tandem.analytics.loaders.journeys import NO_CAMPAIGN
from tandem.analytics.queries import attribution as queries
from tandem.crm.views.common import AuthedRequest
from tandem.dashboards.charts import Chart, render_dashboard
from tandem.dashboards.views.marketing import PALETTE, clip, economics_chart, plot_text
from tandem.dashboards.views.shared import chart_query, check_viewer, page_period, period_switch
from tandem.errors import InvalidInput

MODEL_LABELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "position_based": "Position-based",
    "w_shaped": "W-shaped",
    "time_decay": "Time decay",
    "markov": "Markov",
    "shapley": "Shapley",
}
CONVERSION_LABELS = {"won": "Deals won (revenue)", "created": "Deals created (pipeline)"}
GROUP_LABELS = {"channel": "Channel", "campaign": "Campaign"}
LOOKBACK_CHOICES = (30, 60, 90, 180, 365)
HALF_LIFE_CHOICES = (1.0, 3.0, 7.0, 14.0, 30.0)
TOP_KEYS = 15
JOURNEY_STEPS = 4
UNASSIGNED = frozenset({queries.NO_TOUCH, NO_CAMPAIGN})
TICK_CHARS = 26

OUTCOME_COLORS = {
    **dict.fromkeys(queries.OUTCOME_LABELS.values(), "#2b8a3e"),
    queries.OTHER_OUTCOME: "#adb5bd",
}


@dataclass(frozen=True)
class Controls:
    """The page's validated choices; `errors` name each refused value (its default is used)."""

    conversion: str = "won"
    group_by: str = "channel"
    model: str = "linear"
    lookback_days: int = 90
    half_life_days: float = 7.0
    errors: tuple[str, ...] = ()


def _choice(raw: str | None, allowed: tuple[str, ...], name: str, errors: list[str]) -> str | None:
    if raw in (None, ""):
        return None
    if raw in allowed:
        return raw
    errors.append(f'{name} "{str(raw)[:40]}" is not one of: {", ".join(allowed)}')
    return None


def _number(raw: str | None, name: str, errors: list[str], *, integer: bool) -> Any:
    if raw in (None, ""):
        return None
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number of days" if integer else "a number of days"
        errors.append(f'{name} "{str(raw)[:20]}" is not {kind}')
        return None


def parse_controls(params: Any) -> Controls:
    """The controls from the querystring: allow-listed names, numbers checked by the query's own rules."""
    errors: list[str] = []
    base = Controls()
    conversion = _choice(params.get("conversion"), tuple(CONVERSION_LABELS), "conversion", errors)
    group_by = _choice(params.get("group_by"), tuple(GROUP_LABELS), "group_by", errors)
    model = _choice(params.get("model"), tuple(queries.ATTRIBUTION_MODELS), "model", errors)
    lookback = _number(params.get("lookback_days"), "lookback_days", errors, integer=True)
    half_life = _number(params.get("half_life_days"), "half_life_days", errors, integer=False)
    if lookback is not None and not 1 <= lookback <= queries.MAX_LOOKBACK_DAYS:
        errors.append(f"lookback_days must be between 1 and {queries.MAX_LOOKBACK_DAYS}")
        lookback = None
    if half_life is not None and not (0 < half_life <= queries.MAX_HALF_LIFE_DAYS):
        # Also refuses nan and inf: neither compares inside the range.
        errors.append(f"half_life_days must be above 0 and at most {queries.MAX_HALF_LIFE_DAYS:g}")
        half_life = None
    return Controls(
        conversion=conversion or base.conversion,
        group_by=group_by or base.group_by,
        model=model or base.model,
        lookback_days=base.lookback_days if lookback is None else lookback,
        half_life_days=base.half_life_days if half_life is None else half_life,
        errors=tuple(errors),
    )


def money(value: Decimal) -> float:
    return float(value)


@login_required
@require_GET
def attribution_page(request: AuthedRequest) -> HttpResponse:
    """Model comparison, journey sankey and the campaign economics under the chosen model."""
    check_viewer(request)
    period, period_error = page_period(request)
    controls = parse_controls(request.GET)
    start, end = period.start, period.end
    c = controls
    value_name = "Revenue" if c.conversion == "won" else "Pipeline"

    # One read of the window for the three computations (each keys and builds what it needs).
    loaded = cache(lambda: queries.window(start=start, end=end, lookback_days=c.lookback_days))
    compared = cache(
        lambda: queries.compare_models(
            group_by=c.group_by,
            conversion=c.conversion,
            start=start,
            end=end,
            lookback_days=c.lookback_days,
            half_life_days=c.half_life_days,
            loaded=loaded(),
        )
    )
    links = cache(
        lambda: queries.journey_links(
            start=start,
            end=end,
            conversion=c.conversion,
            lookback_days=c.lookback_days,
            max_steps=JOURNEY_STEPS,
            loaded=loaded(),
        )
    )
    economics = cache(
        lambda: queries.campaign_economics(
            start=start,
            end=end,
            model=c.model,
            lookback_days=c.lookback_days,
            half_life_days=c.half_life_days,
            loaded=loaded(),
        )
    )

    def models_chart() -> Chart:
        results = compared()
        models = list(results)
        keys: dict[str, str] = {}
        values: dict[tuple[str, str], Decimal] = {}
        conversions: dict[tuple[str, str], float] = {}
        for m, result in results.items():
            for row in result.rows:
                keys.setdefault(row.key, row.label)
                values[(m, row.key)] = row.value
                conversions[(m, row.key)] = row.conversions
        # The keys any model credits most come first; keys no model credits are left out.
        peak = {
            k: max((values.get((m, k), Decimal(0)) for m in models), default=Decimal(0))
            for k in keys
        }
        credited = [
            k for k in keys if peak[k] > 0 or any(conversions.get((m, k), 0) > 0 for m in models)
        ]
        credited.sort(key=lambda k: (-peak[k], keys[k]))
        # Deals without touches and untagged touches stay in the table; in the chart their bars
        # would dwarf every channel or campaign a marketer can act on.
        shown = [k for k in credited if k not in UNASSIGNED][:TOP_KEYS]
        positions = list(range(len(shown)))  # by position: equal names stay apart
        figure = go.Figure()
        for i, m in enumerate(models):
            figure.add_trace(
                go.Bar(
                    x=positions,
                    y=[money(values.get((m, k), Decimal(0))) for k in shown],
                    customdata=[plot_text(keys[k]) for k in shown],
                    name=MODEL_LABELS.get(m, m),
                    marker={"color": PALETTE[i % len(PALETTE)]},
                    hovertemplate=f"{MODEL_LABELS.get(m, m)} · %{{customdata}}: "
                    "%{y:,.0f}<extra></extra>",
                )
            )
        figure.update_layout(
            barmode="group",
            height=440,
            yaxis={"title": value_name, "tickformat": ",.0f"},
            xaxis={
                "tickmode": "array",
                "tickvals": positions,
                "ticktext": [plot_text(clip(keys[k], TICK_CHARS)) for k in shown],
                "tickangle": -30 if len(shown) > 8 else 0,
                "automargin": True,
            },
            legend={"orientation": "h", "y": 1.12, "x": 0},
            margin={"l": 70, "r": 10, "t": 40, "b": 10},
        )
        label = GROUP_LABELS[c.group_by]
        columns = (label, *(f"{MODEL_LABELS.get(m, m)} {value_name.lower()}" for m in models))
        rows = [[keys[k], *(values.get((m, k), Decimal(0)) for m in models)] for k in credited]
        note = f"{value_name} each model credits to each {label.lower()}"
        left_out = [k for k in credited if k in UNASSIGNED]
        if len(credited) - len(left_out) > len(shown):
            note += f"; the chart shows the top {len(shown)} of {len(credited) - len(left_out)}"
        if left_out:
            parts = [
                f"{keys[k]} {money(values.get(('linear', k), Decimal(0))):,.0f}" for k in left_out
            ]
            note += f"; not charted: {', '.join(parts)} (linear)"
        note += "; the table lists all"
        return Chart(
            "models",
            f"Model comparison by {label.lower()}",
            figure,
            columns,
            rows,
            note=note + ".",
        )

    def journeys_chart() -> Chart:
        flows = [link for link in links() if link.journeys > 0]
        nodes: list[str] = []
        index: dict[str, int] = {}
        for link in flows:
            for name in (link.source, link.target):
                if name not in index:
                    index[name] = len(nodes)
                    nodes.append(name)
        figure = go.Figure(
            go.Sankey(
                arrangement="snap",
                node={
                    "label": [plot_text(n) for n in nodes],
                    "pad": 14,
                    "thickness": 14,
                    "color": [OUTCOME_COLORS.get(n, "#748ffc") for n in nodes],
                },
                link={
                    "source": [index[x.source] for x in flows],
                    "target": [index[x.target] for x in flows],
                    "value": [x.journeys for x in flows],
                    "color": "rgba(116,143,252,0.25)",
                },
            )
        )
        # Tall enough that thirteen channels a step keep their labels apart.
        figure.update_layout(height=620, margin={"l": 10, "r": 10, "t": 10, "b": 10})
        outcome = "won" if c.conversion == "won" else "created a deal"
        return Chart(
            "journeys",
            "Journeys: the first channels, step by step",
            figure,
            ("From", "To", "Journeys"),
            [[x.source, x.target, x.journeys] for x in flows],
            note=f"The first {JOURNEY_STEPS} channels of each journey and whether it {outcome} "
            f"(look-back {c.lookback_days} days).",
        )

    def economics_card() -> Chart:
        return economics_chart(
            "economics",
            f"ROI, cost per lead and CAC by campaign ({MODEL_LABELS[c.model]})",
            economics(),
            note=f"Pipeline, customers and revenue credited by the {MODEL_LABELS[c.model]} model.",
        )

    builders = {"models": models_chart, "journeys": journeys_chart, "economics": economics_card}
    errors = [e for e in (period_error, *controls.errors) if e]
    context = {
        "period": period,
        "period_error": "",
        "errors": errors,
        "controls": controls,
        "switch": period_switch("dash_attribution", period, _kept(controls)),
        "keep": list(_kept(controls).items()),
        "query": chart_query(request),
        "conversion_choices": list(CONVERSION_LABELS.items()),
        "group_choices": list(GROUP_LABELS.items()),
        "model_choices": list(MODEL_LABELS.items()),
        "lookback_choices": _with(LOOKBACK_CHOICES, controls.lookback_days),
        "half_life_choices": _with(HALF_LIFE_CHOICES, controls.half_life_days),
        "totals": lambda: next(iter(compared().values())),
        "value_name": value_name,
    }
    try:
        return render_dashboard(
            request,
            template="dashboards/attribution.html",
            page="attribution",
            builders=builders,
            context=context,
        )
    except InvalidInput as problem:
        # The controls are checked above; this catches a rule the query adds later.
        context["errors"] = [*errors, str(problem)]
        context["totals"] = None
        return render_dashboard(
            request,
            template="dashboards/attribution.html",
            page="attribution",
            builders={},
            context=context,
        )


def _kept(c: Controls) -> dict[str, str]:
    return {
        "conversion": c.conversion,
        "group_by": c.group_by,
        "model": c.model,
        "lookback_days": str(c.lookback_days),
        "half_life_days": f"{c.half_life_days:g}",
    }


def _with(choices: tuple[Any, ...], current: Any) -> list[Any]:
    """The offered values, plus the current one when it was typed in by hand."""
    return sorted({*choices, current})


urlpatterns: list[URLPattern] = [
    path("attribution/", attribution_page, name="dash_attribution"),
]
