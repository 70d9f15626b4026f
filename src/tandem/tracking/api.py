"""`POST /api/v1/events`: tracking ingestion with a source's write key (CONTRACT.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic_core import to_json

from tandem.marketing.models import Source
from tandem.tracking import http, ingest, queries
from tandem.tracking.auth import WriteKeyAuth

router = Router(tags=["tracking"])


class Rejected(Schema):
    index: int
    error: str


class IngestResult(Schema):
    accepted: int
    duplicates: int
    rejected: list[Rejected]


class Detail(Schema):
    detail: str


_STRING = {"type": "string"}
_OBJECT = {"type": "object", "additionalProperties": True}
# Documented by hand: the route reads the raw body itself (the hot path skips model parsing).
EVENT_BATCH_SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "maxItems": ingest.MAX_EVENTS,
            "items": {
                "type": "object",
                "required": ["event_id", "type", "occurred_at"],
                "properties": {
                    "event_id": {"type": "string", "maxLength": ingest.MAX_EVENT_ID},
                    "type": {
                        "type": "string",
                        "description": ingest.TYPES_TEXT
                        + " (name: letters, digits, spaces, _ - . :, at most 64)",
                    },
                    "occurred_at": {"type": "string", "format": "date-time"},
                    "anonymous_id": _STRING,
                    "email": _STRING,
                    "properties": _OBJECT,
                    "context": {
                        "type": "object",
                        "properties": {
                            "url": {"type": "string", "maxLength": ingest.MAX_URL},
                            "referrer": {"type": "string", "maxLength": ingest.MAX_URL},
                            "utm": _OBJECT,
                        },
                    },
                },
            },
        }
    },
}

DESCRIPTION = f"""Append tracking events; auth `Authorization: Bearer <source write key>`.

At most {ingest.MAX_EVENTS:,} events and {ingest.MAX_BODY_BYTES // 1_048_576} MB per request
(413 beyond). Each event is checked on its own: the reply lists the refused ones by index with
the reason, and stores the rest. An `event_id` already stored for the source, or repeated in the
batch, counts as a duplicate and changes nothing. `identify` needs both `email` and
`anonymous_id`. From a browser, the page's origin must be one of the source's origins.
"""


def _json(body: object, *, status: int) -> HttpResponse:
    return HttpResponse(to_json(body), status=status, content_type="application/json")


@router.post(
    "",
    auth=WriteKeyAuth(),
    response={202: IngestResult, 400: Detail, 401: Detail, 403: Detail, 413: Detail},
    summary="Ingest tracking events",
    description=DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EVENT_BATCH_SCHEMA}},
        }
    },
)
def ingest_events(request: HttpRequest) -> HttpResponse:
    """Validate and store a batch; 202 with accepted, duplicate and rejected counts."""
    source: Source = request.auth  # type: ignore[attr-defined]
    if not http.origin_allowed(request, source.origins):
        origin = http.request_origin(request)
        return http.allow_cors(
            _json({"detail": f"origin {origin} is not allowed for this source"}, status=403),
            request,
            source.origins,
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    try:
        # Before reading: a declared length over the limit is refused without taking the body.
        ingest.refuse_oversize(length)
        body = request.body
        items = ingest.parse_batch(body)
    except ingest.BatchError as exc:
        response = _json({"detail": str(exc)}, status=exc.status)
    else:
        outcome = ingest.ingest(
            source_id=source.pk,
            items=items,
            ip=http.client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            text_checks=ingest.may_hold_nul(body),
        )
        response = _json(outcome.reply(), status=202)
    return http.allow_cors(response, request, source.origins)


@router.api_operation(["OPTIONS"], "", auth=None, include_in_schema=False)
def preflight(request: HttpRequest) -> HttpResponse:
    """CORS preflight: it carries no key, so any active source's origin may go on to POST."""
    origins = queries.active_origins()
    origin = http.request_origin(request)
    if origin is None or origin not in origins:
        response = _json({"detail": f"origin {origin} is not allowed"}, status=403)
        response["Vary"] = "Origin"
        return response
    return http.allow_cors(HttpResponse(status=204), request, origins)
