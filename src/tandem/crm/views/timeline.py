"""Timelines on contact and company pages: event rows, one-line summaries and "load more"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tandem.crm.models import TimelineEvent
from tandem.crm.views.common import OUTCOME_LABELS, SOURCE_LABELS, STAGE_LABELS, label

TIMELINE_PAGE = 50
MAX_TIMELINE_OFFSET = 100_000

EVENT_TITLES = {
    "contact_created": "Contact created",
    "company_created": "Company created",
    "lifecycle_stage_changed": "Lifecycle stage changed",
    "activity_note": "Note",
    "activity_call": "Call",
    "activity_meeting": "Meeting",
    "activity_task": "Task",
    "activity_email": "Email logged",
    "task_completed": "Task completed",
    "contact_merged": "Duplicate merged in",
    "page_view": "Page viewed",
    "form_submit": "Form submitted",
    "content_view": "Content viewed",
    "content_download": "Content downloaded",
    "link_click": "Link clicked",
    "email_open": "Email opened",
    "deal_created": "Deal created",
    "deal_won": "Deal won",
    "deal_lost": "Deal lost",
    "deal_reopened": "Deal reopened",
    "content_shared": "Sales content shared",
    "sequence_task_created": "Sequence step due",
    "referral_credited": "Referral credited",
}
# Sales writes these on the contact's timeline; they name a deal by its properties.
DEAL_TYPES = {"deal_created", "deal_won", "deal_lost", "deal_reopened", "referral_credited"}
MAX_URL_SHOWN = 160
TRACKED_TYPES = {
    "page_view",
    "form_submit",
    "content_view",
    "content_download",
    "link_click",
    "email_open",
}


def _text(value: Any, limit: int = MAX_URL_SHOWN) -> str:
    """A visitor-sent value as bounded plain text (the template escapes it)."""
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tracking_detail(event: TimelineEvent, props: dict[str, Any]) -> str:
    """Where a tracked event happened: page, form or asset, referrer and campaign tag."""
    parts = [
        _text(props.get("form_name")),
        _text(props.get("title")),
        _text(props.get("url")),
    ]
    referrer = _text(props.get("referrer"))
    if referrer:
        parts.append(f"from {referrer}")
    raw_utm = props.get("utm")
    utm: dict[str, Any] = raw_utm if isinstance(raw_utm, dict) else {}
    if utm.get("campaign"):
        parts.append(f"campaign {_text(utm['campaign'], 80)}")
    return " · ".join(p for p in parts if p)


def event_detail(event: TimelineEvent) -> str:
    """A one-line summary of an event's properties (plain text; the template escapes it)."""
    props: dict[str, Any] = event.properties if isinstance(event.properties, dict) else {}
    if event.type == "lifecycle_stage_changed":
        line = f"{label(STAGE_LABELS, props.get('from'))} → {label(STAGE_LABELS, props.get('to'))}"
        return f"{line}: {props['reason']}" if props.get("reason") else line
    if event.type.startswith("activity_"):
        parts = [str(props.get("subject") or "")]
        if props.get("outcome"):
            parts.append(label(OUTCOME_LABELS, props["outcome"]))
        if isinstance(props.get("duration_seconds"), int | float) and props["duration_seconds"]:
            parts.append(f"{round(props['duration_seconds'] / 60)} min")
        return " · ".join(p for p in parts if p)
    if event.type == "contact_created":
        stage = label(STAGE_LABELS, props.get("stage"))
        return f"stage {stage}, source {label(SOURCE_LABELS, props.get('source'))}"
    if event.type == "contact_merged":
        return f"merged {props.get('merged_email', '')}"
    if event.type in TRACKED_TYPES or event.type.startswith("custom:"):
        return tracking_detail(event, props)
    if event.type == "task_completed":
        return str(props.get("subject") or "")
    if event.type in DEAL_TYPES:
        amount = " ".join(str(props.get(k) or "") for k in ("amount", "currency")).strip()
        parts = [_text(props.get("name"), 200), amount, _text(props.get("reason"), 120)]
        return " · ".join(p for p in parts if p)
    if event.type == "content_shared":
        return " · ".join(
            p for p in (_text(props.get("title"), 200), _text(props.get("kind"))) if p
        )
    if event.type == "sequence_task_created":
        return f"{_text(props.get('sequence'), 160)}, step {props.get('step')}: {_text(props.get('task'))}"
    simple = [f"{k}: {v}" for k, v in props.items() if isinstance(v, str | int | float) and v != ""]
    return ", ".join(simple)[:300]


def _title(type_: str) -> str:
    if type_.startswith("custom:"):
        return f"Event: {_text(type_.removeprefix('custom:'), 80)}"
    return EVENT_TITLES.get(type_, type_.replace("_", " ").capitalize())


def timeline_rows(events: Iterable[TimelineEvent], *, with_contact: bool) -> list[dict[str, Any]]:
    """What the timeline template shows of each event: kind, title, detail, when and who."""
    rows = []
    for event in events:
        actor = event.actor
        who = (actor.get_full_name() or actor.username) if actor else event.actor_label or "system"
        rows.append(
            {
                "kind": event.type.split("_", 1)[0],
                "title": _title(event.type),
                "detail": event_detail(event),
                "when": event.occurred_at,
                "who": who,
                "contact": event.contact if with_contact and event.contact_id else None,
            }
        )
    return rows


def offset_of(request: HttpRequest) -> int:
    """The ?offset= of a "load more" request, clamped; a bad value starts from the top."""
    try:
        return max(0, min(int(request.GET.get("offset", "0")), MAX_TIMELINE_OFFSET))
    except ValueError:
        return 0


def timeline_slice(
    qs: QuerySet[TimelineEvent], offset: int, more_url: str, *, with_contact: bool = False
) -> dict[str, Any]:
    """One slice of a timeline (newest first) and the offset of the next, if any."""
    events = list(qs[offset : offset + TIMELINE_PAGE + 1])
    more = len(events) > TIMELINE_PAGE
    return {
        "timeline": timeline_rows(events[:TIMELINE_PAGE], with_contact=with_contact),
        "next_offset": offset + TIMELINE_PAGE if more else None,
        "more_url": more_url,
    }


def more_rows(
    request: HttpRequest, qs: QuerySet[TimelineEvent], *, with_contact: bool = False
) -> HttpResponse:
    """The rows a "load more" click appends: the slice at the request's offset."""
    context = timeline_slice(qs, offset_of(request), request.path, with_contact=with_contact)
    return render(request, "crm/_timeline_rows.html", context)
