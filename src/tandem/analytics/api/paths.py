"""POST /api/v1/analytics/attribution/paths: the CLI's attribution over aggregated journeys, as JSON."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tandem.analytics.api.access import analytics_viewer
from tandem.analytics.compute.paths import (
    MODELS,
    PathsError,
    attribute_paths,
    parse_models,
    paths_from_records,
    rounded,
)
from tandem.errors import InvalidInput

router = Router(tags=["analytics"])

# A request body is capped at 5 MB (DATA_UPLOAD_MAX_MEMORY_SIZE), about 50,000 paths of JSON;
# bigger files go through `tandem attribution paths`, which has no limit.
MAX_PATHS = 50_000


class PathIn(Schema):
    path: str = Field(..., description="channels in order, separated by `sep`")
    total_conversions: float = Field(..., description="conversions of the journeys on this path")
    total_conversion_value: float | None = Field(None, description="their conversion value")
    total_null: float | None = Field(None, description="journeys on this path that did not convert")


class PathsIn(Schema):
    paths: list[PathIn] = Field(..., description=f"at most {MAX_PATHS:,}; duplicates add up")
    sep: str = Field(">", description="separator between channels; names are trimmed")
    models: list[str] = Field(
        default_factory=lambda: ["all"], description=f'["all"] or some of {", ".join(MODELS)}'
    )


class CreditOut(Schema):
    channel: str
    model: str
    conversions: float
    value: float


class CreditsOut(Schema):
    rows: list[CreditOut]


@router.post(
    "/attribution/paths",
    response=CreditsOut,
    summary="Attribute aggregated journeys under six models (the CLI's `tandem attribution paths`)",
)
def attribution_paths(request: HttpRequest, payload: PathsIn) -> dict[str, Any]:
    analytics_viewer(request)
    if len(payload.paths) > MAX_PATHS:
        raise InvalidInput(
            f"paths: {len(payload.paths):,} given, at most {MAX_PATHS:,}", field="paths"
        )
    try:
        models = parse_models(payload.models)
        frame = paths_from_records([p.dict() for p in payload.paths], sep=payload.sep)
        result = attribute_paths(frame, models=models)
    except PathsError as exc:
        raise InvalidInput(str(exc)) from None
    return {
        "rows": [
            {
                "channel": channel,
                "model": model,
                "conversions": rounded(conversions),
                "value": rounded(value),
            }
            for channel, model, conversions, value in result.iter_rows()
        ]
    }
