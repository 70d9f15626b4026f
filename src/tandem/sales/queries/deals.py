"""Reads of one deal: the deal a user may see, its timeline, and its time in each stage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from tandem.accounts.models import User
from tandem.accounts.permissions import visible
from tandem.crm.models import Activity, TimelineEvent
from tandem.sales.models import (
    ContentUse,
    Deal,
    DealContact,
    Insight,
    StageChange,
    StageChangeKind,
)

# Timeline rows that the deal's own records already show (stage history, activities, content).
COVERED_EVENT_TYPES = (
    "deal_created",
    "deal_won",
    "deal_lost",
    "deal_reopened",
    "content_shared",
)
SECONDS_PER_DAY = 86_400


def deals_for(user: Any) -> QuerySet[Deal]:
    """The deals the user may see, with what a deal's header shows."""
    return visible(
        user,
        Deal.objects.select_related("pipeline", "stage", "owner", "company", "team", "lost_reason"),
    )


def deal_for(user: Any, deal_id: int) -> Deal:
    """One deal the user may see, else Http404."""
    deal = deals_for(user).filter(pk=deal_id).first()
    if deal is None:
        raise Http404("no such deal")
    return deal


def deal_contacts(deal: Deal) -> list[DealContact]:
    """The deal's contacts with their roles, the primary one first."""
    return list(
        DealContact.objects.filter(deal=deal)
        .select_related("contact", "contact__company")
        .order_by("-is_primary", "added_at", "id")
    )


def _actor(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _stage_title(change: StageChange) -> str:
    to = change.to_stage.name
    if change.kind == StageChangeKind.CREATED:
        return f"Deal created in {to}"
    if change.kind == StageChangeKind.WON:
        return "Deal won"
    if change.kind == StageChangeKind.LOST:
        return "Deal lost"
    if change.kind == StageChangeKind.REOPENED:
        return f"Deal reopened in {to}"
    source = change.from_stage.name if change.from_stage else "—"
    return f"Moved from {source} to {to}"


def _days(seconds: int | None) -> str:
    if seconds is None:
        return ""
    days = seconds / SECONDS_PER_DAY
    return f"after {days:.1f} days in the stage" if days >= 0.1 else ""


def deal_timeline(*, deal: Deal, limit: int = 100) -> list[dict[str, Any]]:
    """The deal's history, newest first: stage changes, activities, content, insights, events.

    Each row: at, kind, title, detail, actor. Every source is read newest first up to
    `limit`, so the merged list is exact for the newest `limit` rows.
    """
    rows: list[dict[str, Any]] = []
    changes = (
        StageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-id")[:limit]
    )
    for change in changes:
        rows.append(
            {
                "at": change.changed_at,
                "kind": f"stage_{change.kind}",
                "title": _stage_title(change),
                "detail": _days(change.seconds_in_from_stage)
                if change.kind != StageChangeKind.CREATED
                else "",
                "actor": _actor(change.changed_by),
            }
        )
    activities = (
        Activity.objects.filter(deal_id=deal.pk)
        .select_related("owner", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
    for activity in activities:
        detail = activity.body[:300]
        if activity.call_outcome:
            detail = f"{activity.get_call_outcome_display()}. {detail}".strip()
        rows.append(
            {
                "at": activity.occurred_at,
                "kind": f"activity_{activity.kind}",
                "title": str(activity),
                "detail": detail,
                "actor": _actor(activity.owner),
            }
        )
    uses = (
        ContentUse.objects.filter(deal=deal)
        .select_related("asset", "user")
        .order_by("-used_at", "-id")[:limit]
    )
    for use in uses:
        rows.append(
            {
                "at": use.used_at,
                "kind": f"content_{use.kind}",
                "title": f"{use.get_kind_display()} {use.asset.title}",
                "detail": use.note,
                "actor": _actor(use.user),
            }
        )
    insights = (
        Insight.objects.filter(deal=deal)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )
    for insight in insights:
        rows.append(
            {
                "at": insight.created_at,
                "kind": f"insight_{insight.kind}",
                "title": insight.get_kind_display()
                + (f": {insight.competitor}" if insight.competitor else ""),
                "detail": insight.text[:300],
                "actor": _actor(insight.author),
            }
        )
    contact_ids = list(DealContact.objects.filter(deal=deal).values_list("contact_id", flat=True))
    if contact_ids:
        events = (
            TimelineEvent.objects.filter(contact_id__in=contact_ids, properties__deal_id=deal.pk)
            .exclude(type__in=COVERED_EVENT_TYPES)
            .exclude(type__startswith="activity_")
            .select_related("actor")
            .order_by("-occurred_at", "-id")[:limit]
        )
        for event in events:
            rows.append(
                {
                    "at": event.occurred_at,
                    "kind": event.type,
                    "title": event.type.replace("_", " ").capitalize(),
                    "detail": str(event.properties.get("name", ""))[:300],
                    "actor": _actor(event.actor) or event.actor_label,
                }
            )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows[:limit]


def time_in_stage(*, deal: Deal, now: datetime | None = None) -> list[dict[str, Any]]:
    """For each stage of the deal's pipeline in order: the time the deal spent there.

    Each row: stage, stage_id, name, outcome, seconds, days (one decimal), visits, current.
    The current stage of an open deal counts until `now`.
    """
    now = now or timezone.now()
    spent: dict[int, int] = {}
    visits: dict[int, int] = {}
    for change in StageChange.objects.filter(deal=deal).only(
        "from_stage_id", "to_stage_id", "seconds_in_from_stage"
    ):
        visits[change.to_stage_id] = visits.get(change.to_stage_id, 0) + 1
        if change.from_stage_id is not None and change.seconds_in_from_stage is not None:
            spent[change.from_stage_id] = (
                spent.get(change.from_stage_id, 0) + change.seconds_in_from_stage
            )
    if deal.status == "open":
        spent[deal.stage_id] = spent.get(deal.stage_id, 0) + max(
            0, int((now - deal.stage_entered_at).total_seconds())
        )
    rows = []
    for stage in deal.pipeline.stages.order_by("position"):
        seconds = spent.get(stage.pk, 0)
        rows.append(
            {
                "stage": stage,
                "stage_id": stage.pk,
                "name": stage.name,
                "outcome": stage.outcome,
                "seconds": seconds,
                "days": round(seconds / SECONDS_PER_DAY, 1),
                "visits": visits.get(stage.pk, 0),
                "current": stage.pk == deal.stage_id,
            }
        )
    return rows
