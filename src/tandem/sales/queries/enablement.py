"""Reads for the enablement library, an asset's ratings, a deal's content and the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from tandem.accounts import permissions
from tandem.crm.models import Contact
from tandem.crm.normalise import clean_choice
from tandem.marketing.models import Audience, ContentAsset, ContentType, JourneyStage
from tandem.sales.models import ContentRating, ContentUse, Deal, DealStatus, StageOutcome

SALES_AUDIENCES = (Audience.ENABLEMENT, Audience.BOTH)
SUGGESTIONS = 5


def _rating_avg() -> Subquery:
    return Subquery(
        ContentRating.objects.filter(asset_id=OuterRef("pk"))
        .values("asset_id")
        .annotate(avg=Avg("rating"))
        .values("avg"),
        output_field=DecimalField(max_digits=4, decimal_places=2),
    )


def _count_of(model: Any) -> Coalesce:
    return Coalesce(
        Subquery(
            model.objects.filter(asset_id=OuterRef("pk"))
            .values("asset_id")
            .annotate(n=Count("id"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def with_stats(assets: QuerySet[ContentAsset]) -> QuerySet[ContentAsset]:
    """Annotate avg_rating, rating_count and use_count (one subquery each, no join fan-out)."""
    return assets.annotate(
        avg_rating=_rating_avg(),
        rating_count=_count_of(ContentRating),
        use_count=_count_of(ContentUse),
    )


def library_assets() -> QuerySet[ContentAsset]:
    """Every asset sales may use: audience enablement or both, not archived."""
    return ContentAsset.objects.filter(audience__in=SALES_AUDIENCES, archived=False)


def clean_filters(raw: Any) -> dict[str, Any]:
    """The library's allow-listed filters (q, stage, persona, type); bad values are a 400."""
    filters: dict[str, Any] = {"q": str(raw.get("q") or "").strip()[:200]}
    stage = str(raw.get("stage") or "").strip()
    filters["stage"] = (
        clean_choice(stage, field="stage", choices=list(JourneyStage.values)) if stage else ""
    )
    kind = str(raw.get("type") or "").strip()
    filters["type"] = (
        clean_choice(kind, field="type", choices=list(ContentType.values)) if kind else ""
    )
    persona = str(raw.get("persona") or "").strip()
    filters["persona"] = int(persona) if persona.isdigit() and len(persona) < 19 else None
    return filters


def library(
    *, q: str = "", stage: str = "", persona: int | None = None, type: str = ""
) -> QuerySet[ContentAsset]:
    """Sales-facing assets matching the search, best rated first, with their stats."""
    assets = library_assets()
    if q:
        assets = assets.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if stage:
        assets = assets.filter(journey_stage=stage)
    if type:
        assets = assets.filter(type=type)
    if persona is not None:
        assets = assets.filter(personas__id=persona)
    return (
        with_stats(assets)
        .prefetch_related("personas")
        .order_by(Coalesce("avg_rating", Value(0), output_field=DecimalField()).desc(), "title")
    )


def asset_for(asset_id: int) -> ContentAsset:
    """A library asset with its stats, or 404 (market-only and archived assets are not here)."""
    asset = with_stats(library_assets()).prefetch_related("personas").filter(pk=asset_id).first()
    if asset is None:
        raise Http404("no such asset in the enablement library")
    return asset


def asset_ratings(asset: ContentAsset) -> list[ContentRating]:
    """The asset's ratings, newest first, with their authors."""
    return list(
        ContentRating.objects.filter(asset=asset).select_related("user").order_by("-rated_at")
    )


def asset_deal_count(asset: ContentAsset) -> int:
    """How many distinct deals the asset was used on."""
    return (
        ContentUse.objects.filter(asset=asset, deal__isnull=False)
        .values("deal_id")
        .distinct()
        .count()
    )


def deal_content(deal: Deal) -> list[ContentUse]:
    """The assets used on a deal, newest first."""
    return list(
        ContentUse.objects.filter(deal=deal)
        .select_related("asset", "user", "contact")
        .order_by("-used_at", "-id")
    )


def journey_stage_for(deal: Deal) -> str:
    """The buyer's journey stage a deal's stage stands for: early stages consider, late decide."""
    if deal.stage.outcome != StageOutcome.OPEN or deal.stage.probability >= 50:
        return JourneyStage.DECISION
    return JourneyStage.CONSIDERATION


def suggestions_for(deal: Deal) -> list[ContentAsset]:
    """The best rated library assets for the deal's stage that it has not used yet."""
    used = ContentUse.objects.filter(deal=deal).values("asset_id")
    return list(
        with_stats(library_assets().filter(journey_stage=journey_stage_for(deal)))
        .exclude(pk__in=used)
        .order_by(Coalesce("avg_rating", Value(0), output_field=DecimalField()).desc(), "title")[
            :SUGGESTIONS
        ]
    )


def win_rate(won: int, lost: int) -> Decimal | None:
    """won / (won + lost) as a fraction with 4 decimals; None when nothing closed."""
    if won + lost == 0:
        return None
    return (Decimal(won) / Decimal(won + lost)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass
class ReportRow:
    asset_id: int
    title: str
    type: str
    journey_stage: str
    archived: bool
    uses: int
    deals: int
    avg_rating: Decimal | None
    rating_count: int
    won_with: int
    lost_with: int
    win_rate_with: Decimal | None
    won_without: int
    lost_without: int
    win_rate_without: Decimal | None

    @property
    def lift(self) -> int | None:
        """Percentage points the win rate with the asset is above (or below) the rate without."""
        if self.win_rate_with is None or self.win_rate_without is None:
            return None
        return round((self.win_rate_with - self.win_rate_without) * 100)


def report(*, start: datetime | None = None, end: datetime | None = None) -> list[ReportRow]:
    """Per sales-facing asset: uses, deals, rating, and the win rate with against without it.

    Intuition: take the deals closed (won or lost) in [start, end). For each asset, the deals
    among them it was used on are "with"; every other closed deal is "without". Win rate is
    won / (won + lost) in each group. Five grouped queries in all, whatever the number of assets.
    """
    closed = Q(status__in=[DealStatus.WON, DealStatus.LOST])
    if start is not None:
        closed &= Q(closed_at__gte=start)
    if end is not None:
        closed &= Q(closed_at__lt=end)
    totals = Deal.objects.filter(closed).aggregate(
        won=Count("id", filter=Q(status=DealStatus.WON)),
        lost=Count("id", filter=Q(status=DealStatus.LOST)),
    )
    closed_ids = Deal.objects.filter(closed).values("id")
    with_rows: dict[int, dict[str, Any]] = {
        row["asset_id"]: dict(row)
        for row in ContentUse.objects.filter(deal_id__in=closed_ids)
        .values("asset_id")
        .annotate(
            won=Count("deal_id", distinct=True, filter=Q(deal__status=DealStatus.WON)),
            lost=Count("deal_id", distinct=True, filter=Q(deal__status=DealStatus.LOST)),
        )
    }
    uses = ContentUse.objects.all()
    if start is not None:
        uses = uses.filter(used_at__gte=start)
    if end is not None:
        uses = uses.filter(used_at__lt=end)
    use_rows: dict[int, dict[str, Any]] = {
        row["asset_id"]: dict(row)
        for row in uses.values("asset_id").annotate(
            uses=Count("id"), deals=Count("deal_id", distinct=True)
        )
    }
    rating_rows: dict[int, dict[str, Any]] = {
        row["asset_id"]: dict(row)
        for row in ContentRating.objects.values("asset_id").annotate(
            avg=Avg("rating"), n=Count("id")
        )
    }
    rows = []
    assets = ContentAsset.objects.filter(audience__in=SALES_AUDIENCES).values(
        "id", "title", "type", "journey_stage", "archived"
    )
    for asset in assets:
        used: dict[str, Any] = use_rows.get(asset["id"], {})
        if asset["archived"] and not used:
            continue
        rated: dict[str, Any] = rating_rows.get(asset["id"], {})
        with_: dict[str, Any] = with_rows.get(asset["id"], {})
        won_with, lost_with = with_.get("won", 0), with_.get("lost", 0)
        won_without, lost_without = totals["won"] - won_with, totals["lost"] - lost_with
        avg = rated.get("avg")
        rows.append(
            ReportRow(
                asset_id=asset["id"],
                title=asset["title"],
                type=asset["type"],
                journey_stage=asset["journey_stage"],
                archived=asset["archived"],
                uses=used.get("uses", 0),
                deals=used.get("deals", 0),
                avg_rating=None
                if avg is None
                else Decimal(str(avg)).quantize(Decimal("0.01"), ROUND_HALF_UP),
                rating_count=rated.get("n", 0),
                won_with=won_with,
                lost_with=lost_with,
                win_rate_with=win_rate(won_with, lost_with),
                won_without=won_without,
                lost_without=lost_without,
                win_rate_without=win_rate(won_without, lost_without),
            )
        )
    rows.sort(key=lambda r: (-r.uses, r.title.lower()))
    return rows


def visible_contact(user: Any, contact_id: int) -> Contact:
    """A contact the user may see, or 404."""
    contact = permissions.visible(user, Contact.objects.all()).filter(pk=contact_id).first()
    if contact is None:
        raise Http404("no such contact")
    return contact
