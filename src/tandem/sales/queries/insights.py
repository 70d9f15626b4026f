"""Reads for customer insights: the feed marketing reads, and counts by tag, kind, competitor."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Lower

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm.normalise import clean_choice
from tandem.errors import InvalidInput
from tandem.sales.models import Deal, Insight, InsightKind, InsightTag
from tandem.sales.periods import Period, parse_period

TOP = 10


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a month or quarter."""
    start = datetime.combine(period.start, time.min, tzinfo=UTC)
    return start, datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=UTC)


def clean_filters(raw: Any) -> dict[str, Any]:
    """The feed's allow-listed filters: kind, tag, competitor, period (2026-Q4 or 2026-11)."""
    kind = str(raw.get("kind") or "").strip()
    period_text = str(raw.get("period") or "").strip()
    period = parse_period(period_text) if period_text else None
    start, end = period_bounds(period) if period else (None, None)
    return {
        "kind": clean_choice(kind, field="kind", choices=list(InsightKind.values)) if kind else "",
        "tag": str(raw.get("tag") or "").strip().lower()[:60],
        "competitor": str(raw.get("competitor") or "").strip()[:120],
        "period": period,
        "start": start,
        "end": end,
    }


def scoped(user: User) -> QuerySet[Insight]:
    """Insights the user may read: those on deals they can see, and those on no deal."""
    every = Deal.objects.all()
    deals = permissions.visible(user, every)
    if deals is every:
        return Insight.objects.all()
    return Insight.objects.filter(Q(deal__isnull=True) | Q(deal_id__in=deals.values("id")))


def filtered(
    *,
    user: User,
    kind: str = "",
    tag: str = "",
    competitor: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    deal: Deal | None = None,
    **_: Any,
) -> QuerySet[Insight]:
    """The user's insights narrowed by the filters (no ordering, no joins)."""
    insights = scoped(user)
    if kind:
        insights = insights.filter(kind=kind)
    if tag:
        insights = insights.filter(tags__name=tag.lower())
    if competitor:
        insights = insights.filter(competitor__iexact=competitor)
    if start is not None:
        insights = insights.filter(created_at__gte=start)
    if end is not None:
        insights = insights.filter(created_at__lt=end)
    if start is not None and end is not None and start >= end:
        raise InvalidInput("the start must be before the end", field="start")
    if deal is not None:
        insights = insights.filter(deal=deal)
    return insights


def feed(**filters: Any) -> QuerySet[Insight]:
    """The filtered insights newest first, with deal, author, contact and tags loaded."""
    return (
        filtered(**filters)
        .select_related("deal", "author", "contact")
        .prefetch_related("tags")
        .order_by("-created_at", "-id")
    )


def summary(**filters: Any) -> dict[str, list[dict[str, Any]]]:
    """Counts of the filtered insights by tag, by kind, and the most mentioned competitors."""
    insights = filtered(**filters)
    ids = insights.values("id")
    by_tag = list(
        InsightTag.objects.filter(insights__id__in=ids)
        .values("name")
        .annotate(count=Count("insights__id"))
        .order_by("-count", "name")[:50]
    )
    labels = dict(InsightKind.choices)
    by_kind = [
        {"kind": row["kind"], "label": labels.get(row["kind"], row["kind"]), "count": row["count"]}
        for row in insights.values("kind").annotate(count=Count("id")).order_by("-count", "kind")
    ]
    competitors = list(
        insights.exclude(competitor="")
        .annotate(key=Lower("competitor"))
        .values("key")
        .annotate(count=Count("id"), name=Min("competitor"))
        .order_by("-count", "key")[:TOP]
    )
    return {
        "by_tag": [{"tag": r["name"], "count": r["count"]} for r in by_tag],
        "by_kind": by_kind,
        "competitors": [{"competitor": r["name"], "count": r["count"]} for r in competitors],
    }
