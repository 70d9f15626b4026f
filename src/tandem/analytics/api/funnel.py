"""/api/v1/analytics/funnel, /cohorts and /throughput: the lifecycle funnel for a window of days.

Every signed-in role may read them (can_view_analytics). Windows: `?period=2026-11|2026-Q4` or
`?start=YYYY-MM-DD&end=YYYY-MM-DD` (inclusive); the funnel defaults to all time, cohorts and
throughput to the current quarter. Bad values are 400s naming the parameter.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tandem.analytics.api.access import analytics_viewer
from tandem.analytics.queries import funnel as queries
from tandem.analytics.queries.window import window_from
from tandem.errors import InvalidInput

router = Router(tags=["analytics"])

PERIOD_HELP = "a month (2026-11) or a quarter (2026-Q4); or give start and end"


class WindowParams(Schema):
    period: str | None = Field(None, description=PERIOD_HELP)
    start: str | None = Field(None, description="first day, YYYY-MM-DD")
    end: str | None = Field(None, description="last day (inclusive), YYYY-MM-DD")


class FunnelParams(WindowParams):
    mode: str = Field(
        "cohort",
        description="cohort: contacts created in the window; period: stage entries in the window",
    )
    breakdown: str | None = Field(None, description="channel | campaign | persona | segment")
    segment: str | None = Field(
        None, description="segment ids for breakdown=segment, comma-separated"
    )


class StageOut(Schema):
    stage: str
    label: str
    entered: int
    conversion_to_next: float | None = Field(
        ..., description="share of the stage's contacts that entered the next; null for the last"
    )
    median_days_to_next: float | None
    p75_days_to_next: float | None


class GroupOut(Schema):
    key: str
    label: str
    stages: list[StageOut]


class FunnelOut(Schema):
    mode: str
    start: date
    end: date
    stages: list[StageOut]
    breakdown: str | None
    groups: list[GroupOut]


class CohortRowOut(Schema):
    month: str
    size: int
    entered: dict[str, int]
    rates: dict[str, float]


class CohortsOut(Schema):
    start: date
    end: date
    stages: list[str]
    rows: list[CohortRowOut]


class WeekOut(Schema):
    week: date = Field(..., description="the Monday of the ISO week")
    mqls: int
    sqls: int


class ThroughputOut(Schema):
    start: date
    end: date
    weeks: list[WeekOut]


def _segment_ids(text: str | None) -> list[int]:
    ids: list[int] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or len(part) > 18:
            raise InvalidInput(f'segment "{part[:20]}" is not a segment id', field="segment")
        if int(part) not in ids:
            ids.append(int(part))
    return ids


@router.get(
    "/funnel",
    response=FunnelOut,
    summary="The lifecycle funnel: entered, conversion and days to the next stage",
)
def get_funnel(request: HttpRequest, params: Query[FunnelParams]) -> queries.FunnelResult:
    analytics_viewer(request)
    start, end = window_from(
        period=params.period, start=params.start, end=params.end, default="all"
    )
    return queries.funnel(
        start=start,
        end=end,
        mode=params.mode,
        breakdown=params.breakdown or None,
        segment_ids=_segment_ids(params.segment),
    )


@router.get(
    "/cohorts",
    response=CohortsOut,
    summary="Contacts by month of creation: how many entered each stage",
)
def get_cohorts(request: HttpRequest, params: Query[WindowParams]) -> dict[str, object]:
    analytics_viewer(request)
    start, end = window_from(period=params.period, start=params.start, end=params.end)
    result = queries.cohorts(start=start, end=end)
    return {"start": start, "end": end, "stages": result.stages, "rows": result.rows}


@router.get(
    "/throughput",
    response=ThroughputOut,
    summary="MQLs and SQLs entered per ISO week, zero weeks included",
)
def get_throughput(request: HttpRequest, params: Query[WindowParams]) -> dict[str, object]:
    analytics_viewer(request)
    start, end = window_from(period=params.period, start=params.start, end=params.end)
    return {"start": start, "end": end, "weeks": queries.throughput(start=start, end=end)}
