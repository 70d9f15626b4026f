"""Campaign lookup by UTM tag, for incoming traffic."""

from __future__ import annotations

from collections.abc import Iterable

from tandem.marketing.models import Campaign


def campaigns_for_tags(tags: Iterable[str]) -> dict[str, tuple[int, str]]:
    """{utm_campaign: (campaign id, channel)} for the tags (already clean_tag-ged) that exist."""
    wanted = {t for t in tags if t}
    if not wanted:
        return {}
    rows = Campaign.objects.filter(utm_campaign__in=wanted).values_list(
        "utm_campaign", "id", "channel"
    )
    return {tag: (pk, channel) for tag, pk, channel in rows}
