"""Pipelines and their stages: create, edit, reorder (admins and sales managers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from tandem.accounts.models import User
from tandem.accounts.permissions import can_manage_sales
from tandem.crm.normalise import clean_choice, clean_int, clean_text
from tandem.errors import Forbidden, InvalidInput, refuse_taken
from tandem.sales.models import ForecastCategory, Pipeline, Stage, StageOutcome

STAGE_FIELDS = ("name", "probability", "forecast_category", "outcome")
# Positions are rewritten in two passes; the first parks them above any real position.
PARKING_OFFSET = 10_000


def default_pipeline() -> Pipeline:
    """The default pipeline (else the first active one)."""
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        pipeline = Pipeline.objects.filter(is_active=True).order_by("position", "id").first()
    if pipeline is None:
        raise InvalidInput("there is no pipeline; create one first", field="pipeline")
    return pipeline


def first_open_stage(pipeline: Pipeline) -> Stage:
    """The stage a new deal starts in."""
    stage = pipeline.stages.filter(outcome=StageOutcome.OPEN).order_by("position").first()
    if stage is None:
        raise InvalidInput(f"pipeline {pipeline.name} has no open stage", field="pipeline")
    return stage


def won_stage(pipeline: Pipeline) -> Stage:
    """The pipeline's one won stage."""
    return pipeline.stages.get(outcome=StageOutcome.WON)


def lost_stage(pipeline: Pipeline) -> Stage:
    """The pipeline's first lost stage."""
    stage = pipeline.stages.filter(outcome=StageOutcome.LOST).order_by("position").first()
    if stage is None:  # pragma: no cover - the services keep one
        raise InvalidInput(f"pipeline {pipeline.name} has no lost stage", field="pipeline")
    return stage


def _require_manager(by: User | None) -> None:
    if by is not None and not can_manage_sales(by):
        raise Forbidden("only admins and sales managers change pipelines")


def clean_stage_values(values: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate a stage's name, probability, forecast category and outcome."""
    unknown = set(values) - set(STAGE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown stage field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    out: dict[str, Any] = {}
    if "name" in values or not partial:
        out["name"] = clean_text(values.get("name"), field="name", max_length=80, required=True)
    if "probability" in values or not partial:
        probability = clean_int(values.get("probability"), field="probability", maximum=100)
        if probability is None:
            raise InvalidInput("probability is required (0 to 100)", field="probability")
        out["probability"] = probability
    if "forecast_category" in values or not partial:
        out["forecast_category"] = clean_choice(
            values.get("forecast_category"),
            field="forecast_category",
            choices=list(ForecastCategory.values),
        )
    if "outcome" in values or not partial:
        out["outcome"] = clean_choice(
            values.get("outcome") or StageOutcome.OPEN,
            field="outcome",
            choices=list(StageOutcome.values),
        )
    return out


def _check_outcomes(outcomes: list[str], *, pipeline_name: str) -> None:
    won = outcomes.count(StageOutcome.WON)
    if won != 1:
        raise InvalidInput(
            f"pipeline {pipeline_name} must have exactly one won stage (it would have {won})",
            field="outcome",
        )
    if StageOutcome.LOST not in outcomes:
        raise InvalidInput(
            f"pipeline {pipeline_name} must have at least one lost stage", field="outcome"
        )
    if StageOutcome.OPEN not in outcomes:
        raise InvalidInput(
            f"pipeline {pipeline_name} must have at least one open stage", field="outcome"
        )


@transaction.atomic
def create_pipeline(*, name: str, stages: list[dict[str, Any]], by: User | None) -> Pipeline:
    """A new pipeline with its stages in the given order (one won, at least one lost)."""
    _require_manager(by)
    name = clean_text(name, field="name", max_length=120, required=True)
    refuse_taken(
        Pipeline.objects.filter(name__iexact=name),
        message=lambda p: f"a pipeline named {p.name} exists",
    )
    if not isinstance(stages, list) or not stages:
        raise InvalidInput("a pipeline needs stages", field="stages")
    if not all(isinstance(s, dict) for s in stages):
        raise InvalidInput("each stage must be an object", field="stages")
    cleaned = [clean_stage_values(s) for s in stages]
    names = [s["name"].lower() for s in cleaned]
    if len(set(names)) != len(names):
        raise InvalidInput("stage names must differ within a pipeline", field="stages")
    _check_outcomes([s["outcome"] for s in cleaned], pipeline_name=name)
    last = Pipeline.objects.aggregate(last=Max("position"))["last"]
    pipeline = Pipeline.objects.create(
        name=name,
        is_default=not Pipeline.objects.filter(is_default=True).exists(),
        position=0 if last is None else last + 1,
    )
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, position=i, **values) for i, values in enumerate(cleaned)
    )
    return pipeline


@transaction.atomic
def rename_pipeline(
    *, pipeline: Pipeline, name: str, by: User | None, is_active: bool | None = None
) -> Pipeline:
    """Rename a pipeline (and activate or retire it; the default stays active)."""
    _require_manager(by)
    name = clean_text(name, field="name", max_length=120, required=True)
    refuse_taken(
        Pipeline.objects.filter(name__iexact=name),
        message=lambda p: f"a pipeline named {p.name} exists",
        exclude_pk=pipeline.pk,
    )
    pipeline.name = name
    if is_active is not None:
        if not is_active and pipeline.is_default:
            raise InvalidInput("the default pipeline cannot be retired", field="is_active")
        pipeline.is_active = is_active
    pipeline.save(update_fields=["name", "is_active"])
    return pipeline


@transaction.atomic
def add_stage(*, pipeline: Pipeline, values: dict[str, Any], by: User | None) -> Stage:
    """Add an open stage before the pipeline's closed stages (or a lost stage at the end)."""
    _require_manager(by)
    cleaned = clean_stage_values(values)
    if cleaned["outcome"] == StageOutcome.WON:
        raise InvalidInput("a pipeline has exactly one won stage", field="outcome")
    refuse_taken(
        pipeline.stages.filter(name__iexact=cleaned["name"]),
        message=lambda s: f"pipeline {pipeline.name} has a stage named {s.name}",
    )
    stages = list(Stage.objects.select_for_update().filter(pipeline=pipeline).order_by("position"))
    if cleaned["outcome"] == StageOutcome.OPEN:
        at = max((s.position for s in stages if s.outcome == StageOutcome.OPEN), default=-1) + 1
    else:
        at = len(stages)
    new = Stage(pipeline=pipeline, position=PARKING_OFFSET + len(stages), **cleaned)
    new.save()
    order = [s.pk for s in stages]
    order.insert(at, new.pk)
    _write_positions(pipeline, order)
    new.refresh_from_db()
    return new


@transaction.atomic
def update_stage(*, stage: Stage, changes: dict[str, Any], by: User | None) -> Stage:
    """Change a stage's name, probability, forecast category or outcome."""
    _require_manager(by)
    if not isinstance(changes, dict):
        raise InvalidInput("changes must be an object", field="changes")
    cleaned = clean_stage_values(changes, partial=True)
    stage = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    pipeline = stage.pipeline
    if "name" in cleaned:
        refuse_taken(
            pipeline.stages.filter(name__iexact=cleaned["name"]),
            message=lambda s: f"pipeline {pipeline.name} has a stage named {s.name}",
            exclude_pk=stage.pk,
        )
    if "outcome" in cleaned and cleaned["outcome"] != stage.outcome:
        # Deals in the stage would keep a status that contradicts it.
        if stage.deals.exists():
            raise InvalidInput(
                f"stage {stage.name} has deals; move them before changing its outcome",
                field="outcome",
            )
        outcomes = [
            cleaned["outcome"] if s.pk == stage.pk else s.outcome for s in pipeline.stages.all()
        ]
        _check_outcomes(outcomes, pipeline_name=pipeline.name)
    for field, value in cleaned.items():
        setattr(stage, field, value)
    stage.save(update_fields=list(cleaned) or None)
    return stage


def _write_positions(pipeline: Pipeline, stage_ids: list[int]) -> None:
    # Two passes, so that the unique (pipeline, position) holds after every statement.
    for i, pk in enumerate(stage_ids):
        Stage.objects.filter(pk=pk, pipeline=pipeline).update(position=PARKING_OFFSET * 2 + i)
    for i, pk in enumerate(stage_ids):
        Stage.objects.filter(pk=pk, pipeline=pipeline).update(position=i)


@transaction.atomic
def reorder_stages(*, pipeline: Pipeline, stage_ids: list[int], by: User | None) -> None:
    """Put the pipeline's stages in this order (every stage id exactly once)."""
    _require_manager(by)
    current = set(
        Stage.objects.select_for_update().filter(pipeline=pipeline).values_list("pk", flat=True)
    )
    try:
        wanted = [int(pk) for pk in stage_ids]
    except (TypeError, ValueError):
        raise InvalidInput("stage_ids must be a list of stage ids", field="stage_ids") from None
    if len(wanted) != len(set(wanted)) or set(wanted) != current:
        raise InvalidInput(
            f"stage_ids must list each stage of pipeline {pipeline.name} exactly once",
            field="stage_ids",
        )
    _write_positions(pipeline, wanted)
