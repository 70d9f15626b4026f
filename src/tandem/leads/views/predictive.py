"""The predictive model page (/leads/model/): how good the model is, what drives it, retrain."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from tandem.accounts import permissions
from tandem.leads import tasks
from tandem.leads.models import PredictiveModel
from tandem.leads.queries import predictive as queries

MODEL_LABELS = {
    "naive_bayes": "Naive Bayes (baseline)",
    "logistic": "Logistic regression (challenger)",
}
CHART_CONFIG = {"displaylogo": False, "responsive": True}


def reliability_figure(bins: list[dict[str, Any]]) -> go.Figure:
    """Mean predicted probability against the observed rate per bin, beside the diagonal."""
    filled = [b for b in bins if b["count"]]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="Perfectly calibrated",
            line={"dash": "dash", "color": "#999"},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[b["mean_predicted"] for b in filled],
            y=[b["observed_rate"] for b in filled],
            customdata=[b["count"] for b in filled],
            mode="lines+markers",
            name="Held-out contacts",
            hovertemplate="predicted %{x:.1%}<br>observed %{y:.1%}<br>%{customdata} contacts"
            "<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"title": "Mean predicted probability", "range": [0, 1], "tickformat": ".0%"},
        yaxis={
            "title": "Observed share that became customers",
            "range": [0, 1],
            "tickformat": ".0%",
        },
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
        legend={"orientation": "h", "y": -0.25},
        height=360,
    )
    return figure


def distribution_figure(bins: list[dict[str, Any]]) -> go.Figure:
    """How many open contacts have a probability in each tenth."""
    figure = go.Figure(
        go.Bar(
            x=[f"{b['lower']:.0%}-{b['upper']:.0%}" for b in bins],
            y=[b["count"] for b in bins],
            hovertemplate="%{x}: %{y} contacts<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"title": "Probability of becoming a customer"},
        yaxis={"title": "Contacts"},
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
        height=300,
    )
    return figure


def _chart(figure: go.Figure) -> str:
    # The figures hold only numbers and our own labels (no user text), so the markup plotly
    # writes is safe to place as is.
    return mark_safe(figure.to_html(full_html=False, include_plotlyjs=False, config=CHART_CONFIG))


def _model_context(model: PredictiveModel) -> dict[str, Any]:
    distribution = queries.probability_distribution()
    return {
        "model": model,
        "chosen_label": MODEL_LABELS.get(model.chosen, model.chosen),
        "baseline_label": MODEL_LABELS["naive_bayes"],
        "challenger_label": MODEL_LABELS["logistic"],
        "negatives": model.training_rows - model.positives,
        "bins": model.reliability,
        "factors": queries.factor_rows(model),
        "distribution": distribution,
        "scored": sum(b["count"] for b in distribution),
        "reliability_chart": _chart(reliability_figure(model.reliability)),
        "distribution_chart": _chart(distribution_figure(distribution)),
    }


@login_required
@require_GET
def lead_model(request: HttpRequest) -> HttpResponse:
    """The current model's quality, calibration and factors, or what training still lacks."""
    model = queries.current_model()
    context: dict[str, Any] = {
        "can_manage": permissions.can_manage_marketing(request.user),
        "model": None,
    }
    if model is None:
        context["readiness"] = queries.training_readiness()
    else:
        context.update(_model_context(model))
    return render(request, "leads/model.html", context)


@login_required
@require_POST
def lead_model_retrain(request: HttpRequest) -> HttpResponse:
    """Queue a training run now (admins and marketing)."""
    if not permissions.can_manage_marketing(request.user):
        raise PermissionDenied("only admins and marketing may retrain the model")
    tasks.retrain_predictive_model()
    messages.success(
        request, "Retraining has started; this page shows the new model once it is stored."
    )
    return redirect("web:lead_model")


urlpatterns: list[URLPattern] = [
    path("model/", lead_model, name="lead_model"),
    path("model/retrain/", lead_model_retrain, name="lead_model_retrain"),
]
