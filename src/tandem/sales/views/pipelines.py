"""Pipelines pages: every pipeline with its stages; managers create pipelines and edit stages."""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods

from tandem.accounts import permissions
from tandem.crm.views.common import AuthedRequest
from tandem.errors import DomainError, InvalidInput
from tandem.htmx import wants_partial
from tandem.sales.models import ForecastCategory, Pipeline, Stage, StageOutcome
from tandem.sales.services import pipelines as services

# Stage rows the new-pipeline form offers (blank ones are ignored).
NEW_STAGE_ROWS = 8
MAX_STAGE_ROWS = 30
NEW_PIPELINE_INITIAL = [
    {"name": "Qualification", "probability": "20", "category": "pipeline", "outcome": "open"},
    {"name": "Proposal", "probability": "50", "category": "best_case", "outcome": "open"},
    {"name": "Commit", "probability": "80", "category": "commit", "outcome": "open"},
    {"name": "Closed Won", "probability": "100", "category": "closed", "outcome": "won"},
    {"name": "Closed Lost", "probability": "0", "category": "omitted", "outcome": "lost"},
]
ACTIONS = ("rename", "update_stage", "add_stage", "move_up", "move_down")


def _require_manage(user: Any) -> None:
    if not permissions.can_manage_sales(user):
        raise PermissionDenied("only admins and sales managers change pipelines")


def _choices() -> dict[str, Any]:
    return {
        "categories": ForecastCategory.choices,
        "outcomes": StageOutcome.choices,
    }


def _with_counts(pipelines: Any) -> list[Pipeline]:
    """Pipelines with their stages, each stage carrying its open deal count (two queries)."""
    rows = list(pipelines)
    counts = dict(
        Stage.objects.filter(pipeline__in=rows)
        .annotate(open_deals=Count("deals", filter=Q(deals__status="open")))
        .values_list("pk", "open_deals")
    )
    stages: dict[int, list[Stage]] = {p.pk: [] for p in rows}
    for stage in Stage.objects.filter(pipeline__in=rows).order_by("pipeline_id", "position"):
        stage.open_deals = counts.get(stage.pk, 0)  # type: ignore[attr-defined]
        stages[stage.pipeline_id].append(stage)
    for pipeline in rows:
        pipeline.stage_rows = stages[pipeline.pk]  # type: ignore[attr-defined]
    return rows


def _posted_stage_rows(request: AuthedRequest) -> list[dict[str, str]]:
    post = request.POST
    return [
        {"name": n.strip(), "probability": p.strip(), "category": c.strip(), "outcome": o.strip()}
        for n, p, c, o in zip_longest(
            post.getlist("stage_name")[:MAX_STAGE_ROWS],
            post.getlist("stage_probability")[:MAX_STAGE_ROWS],
            post.getlist("stage_category")[:MAX_STAGE_ROWS],
            post.getlist("stage_outcome")[:MAX_STAGE_ROWS],
            fillvalue="",
        )
    ]


def _padded(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    filled = [r for r in rows if r["name"] or r["probability"]]
    blank = {"name": "", "probability": "", "category": "pipeline", "outcome": "open"}
    return filled + [dict(blank) for _ in range(max(NEW_STAGE_ROWS - len(filled), 1))]


def _list_page(
    request: AuthedRequest,
    *,
    name: str = "",
    rows: list[dict[str, str]] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "pipelines": _with_counts(Pipeline.objects.order_by("position", "id")),
        "can_manage": permissions.can_manage_sales(request.user),
        "new_name": name,
        "new_rows": _padded(rows if rows is not None else NEW_PIPELINE_INITIAL),
        "error": error,
        **_choices(),
    }
    return render(request, "sales/pipelines.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def pipelines_page(request: AuthedRequest) -> HttpResponse:
    """Every pipeline with its stages; a manager creates a pipeline here."""
    if request.method == "GET":
        return _list_page(request)
    _require_manage(request.user)
    name = request.POST.get("name", "")
    rows = _posted_stage_rows(request)
    stages = [
        {
            "name": r["name"],
            "probability": r["probability"],
            "forecast_category": r["category"],
            "outcome": r["outcome"],
        }
        for r in rows
        if r["name"] or r["probability"]
    ]
    try:
        pipeline = services.create_pipeline(name=name, stages=stages, by=request.user)
    except DomainError as problem:
        return _list_page(request, name=name, rows=rows, error=str(problem), status=422)
    messages.success(request, f"Created the pipeline {pipeline.name}.")
    return redirect("web:pipeline", pk=pipeline.pk)


def _detail_context(request: AuthedRequest, pipeline: Pipeline, **extra: Any) -> dict[str, Any]:
    return {
        "pipeline": _with_counts([pipeline])[0],
        "can_manage": permissions.can_manage_sales(request.user),
        "error": "",
        "notice": "",
        "new_stage": {"name": "", "probability": "", "category": "pipeline", "outcome": "open"},
        **_choices(),
        **extra,
    }


def _render_detail(
    request: AuthedRequest, pipeline: Pipeline, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = _detail_context(request, pipeline, **extra)
    template = "sales/pipeline_stages.html" if wants_partial(request) else "sales/pipeline.html"
    return render(request, template, context, status=status)


def _stage_of(pipeline: Pipeline, raw: str) -> Stage:
    try:
        return pipeline.stages.get(pk=int(raw))
    except (ValueError, Stage.DoesNotExist):
        raise InvalidInput("choose a stage of this pipeline", field="stage") from None


def _apply(request: AuthedRequest, pipeline: Pipeline, action: str) -> str:
    """Carry out one posted edit; returns what to tell the user."""
    post = request.POST
    user = request.user
    if action == "rename":
        services.rename_pipeline(
            pipeline=pipeline,
            name=post.get("name", ""),
            is_active=post.get("is_active") == "on",
            by=user,
        )
        return f"Saved the pipeline {pipeline.name}."
    if action == "add_stage":
        stage = services.add_stage(
            pipeline=pipeline,
            values={
                "name": post.get("stage_name", ""),
                "probability": post.get("stage_probability", ""),
                "forecast_category": post.get("stage_category", ""),
                "outcome": post.get("stage_outcome", "") or "open",
            },
            by=user,
        )
        return f"Added the stage {stage.name}."
    stage = _stage_of(pipeline, post.get("stage", ""))
    if action == "update_stage":
        services.update_stage(
            stage=stage,
            changes={
                "name": post.get("stage_name", ""),
                "probability": post.get("stage_probability", ""),
                "forecast_category": post.get("stage_category", ""),
                "outcome": post.get("stage_outcome", ""),
            },
            by=user,
        )
        return f"Saved the stage {post.get('stage_name', '').strip()}."
    order = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    i = order.index(stage.pk)
    j = i - 1 if action == "move_up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
        services.reorder_stages(pipeline=pipeline, stage_ids=order, by=user)
    return f"Moved the stage {stage.name}."


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_page(request: AuthedRequest, pk: int) -> HttpResponse:
    """One pipeline's stages; a manager renames it, edits, adds and reorders stages."""
    pipeline = get_object_or_404(Pipeline, pk=pk)
    if request.method == "GET":
        return _render_detail(request, pipeline)
    _require_manage(request.user)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _render_detail(request, pipeline, status=422, error="Unknown action.")
    try:
        notice = _apply(request, pipeline, action)
    except DomainError as problem:
        pipeline.refresh_from_db()
        extra: dict[str, Any] = {"error": str(problem)}
        if action == "add_stage":
            extra["new_stage"] = {
                "name": request.POST.get("stage_name", ""),
                "probability": request.POST.get("stage_probability", ""),
                "category": request.POST.get("stage_category", "pipeline"),
                "outcome": request.POST.get("stage_outcome", "open"),
            }
        return _render_detail(request, pipeline, status=422, **extra)
    if wants_partial(request):
        pipeline.refresh_from_db()
        return _render_detail(request, pipeline, notice=notice)
    messages.success(request, notice)
    return redirect(reverse("web:pipeline", args=[pipeline.pk]))


urlpatterns: list[URLPattern] = [
    path("pipelines/", pipelines_page, name="pipelines"),
    path("pipelines/<int:pk>/", pipeline_page, name="pipeline"),
]
