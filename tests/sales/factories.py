"""Factories for sales records (through the ORM; services are tested on their own).

Sales helpers: add your factories at the END of this file.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from tandem.sales.models import Deal, Pipeline, Stage


def default_pipeline() -> Pipeline:
    """The seeded "New business" pipeline (Discovery … Closed Lost)."""
    from tests.conftest import ensure_seeded

    ensure_seeded()
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


# ---------------------------------------------------------------- ACTIVITY: sequences


class SequenceFactory(factory.django.DjangoModelFactory):
    """An active sequence with no steps (add them with `with_steps`)."""

    class Meta:
        model = "sales.Sequence"

    name = factory.Sequence(lambda n: f"Sequence {n}")
    created_at = factory.LazyFunction(timezone.now)


def with_steps(sequence: Any, *steps: tuple[str, int | str]) -> Any:
    """Add steps in order: ("call", "Intro call"), ("wait", 2), ("email", "Follow up")."""
    from tandem.sales.models import SequenceStep

    for position, (kind, value) in enumerate(steps, start=1):
        SequenceStep.objects.create(
            sequence=sequence,
            position=position,
            kind=kind,
            wait_days=int(value) if kind == "wait" else 0,
            subject="" if kind == "wait" else str(value),
        )
    return sequence
