"""Campaign costs in a window, in the reporting currency, per campaign or per channel.

Costs in the reporting currency count as they are; others are converted with
sales.ExchangeRate like sales.services.deals.to_base converts a deal's amount (amount x rate,
rounded half up to cents), applied to each campaign's sum per currency. A currency without a
rate cannot be converted: its costs are left out and named in ``unconverted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Sum

from tandem.marketing.models import CampaignCost
from tandem.sales.models import ExchangeRate

CENT = Decimal("0.01")


@dataclass
class Costs:
    """Cost per key (campaign id as text, or channel) and what could not be converted."""

    by_key: dict[str, Decimal]
    unconverted: dict[str, Decimal] = field(default_factory=dict)  # currency → amount left out

    @property
    def total(self) -> Decimal:
        return sum(self.by_key.values(), Decimal(0))


def load_costs(*, start: date, end: date, group_by: str) -> Costs:
    """Sum of CampaignCost.amount incurred in [start, end] per campaign ("campaign") or channel."""
    if group_by not in ("campaign", "channel"):
        raise ValueError("group_by must be campaign or channel")
    sums = (
        CampaignCost.objects.filter(incurred_on__gte=start, incurred_on__lte=end)
        .values("campaign_id", "campaign__channel", "currency")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    rates = dict(ExchangeRate.objects.values_list("currency", "rate"))
    rates[settings.REPORTING_CURRENCY] = Decimal(1)
    by_key: dict[str, Decimal] = {}
    unconverted: dict[str, Decimal] = {}
    for row in sums:
        amount = Decimal(row["amount"] or 0).quantize(CENT)
        currency = (row["currency"] or "").upper()
        rate = rates.get(currency)
        if rate is None:
            unconverted[currency] = unconverted.get(currency, Decimal(0)) + amount
            continue
        key = str(row["campaign_id"]) if group_by == "campaign" else row["campaign__channel"]
        base = (amount * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        by_key[key] = by_key.get(key, Decimal(0)) + base
    return Costs(by_key=by_key, unconverted=unconverted)
