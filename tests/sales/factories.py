"""Factories for sales records (through the ORM; services are tested on their own).

Sales helpers: add your factories at the END of this file.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from tandem.sales.models import Deal, Pipeline, Stage


def default_pipeline() -> Pipeline:
    """The seeded "New business" pipeline (Discovery … Closed Lost)."""
    return Pipeline.objects.get(is_default=True)


def stage(name: str, pipeline: Pipeline | None = None) -> Stage:
    """A stage of the default (or given) pipeline by name."""
    return (pipeline or default_pipeline()).stages.get(name=name)


class DealFactory(factory.django.DjangoModelFactory):
    """An open deal in Discovery of the default pipeline; pass owner/team/company as needed."""

    class Meta:
        model = Deal

    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("10000.00")
    amount_base = factory.LazyAttribute(lambda o: o.amount)
    currency = "USD"
    pipeline = factory.LazyFunction(default_pipeline)
    stage = factory.LazyAttribute(lambda o: o.pipeline.stages.get(position=0))
    status = "open"
    created_at = factory.LazyFunction(timezone.now)
    stage_entered_at = factory.LazyAttribute(lambda o: o.created_at)
    team = factory.LazyAttribute(lambda o: o.owner.team if o.owner is not None else None)
    owner = None
