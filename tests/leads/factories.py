"""Factories for leads records (through the ORM; services are tested on their own).

Other leads helpers: add your factories at the END of this file.
"""

from __future__ import annotations

import factory
from django.utils import timezone

from tandem.crm.models import TimelineEvent
from tandem.leads.models import LeadScore, Segment, SegmentMembership


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    kind = "dynamic"
    definition = factory.LazyFunction(
        lambda: {"field": "lifecycle_stage", "op": "eq", "value": "lead"}
    )


class StaticListFactory(SegmentFactory):
    kind = "static"
    definition = factory.LazyFunction(dict)


class SegmentMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentMembership

    segment = factory.SubFactory(SegmentFactory)
    entered_at = factory.LazyFunction(timezone.now)


class LeadScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadScore

    fit = 0
    engagement = 0
    total = factory.LazyAttribute(lambda o: o.fit + o.engagement)
    computed_at = factory.LazyFunction(timezone.now)


class TimelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    type = "page_view"
    occurred_at = factory.LazyFunction(timezone.now)
    properties = factory.LazyFunction(dict)
    idempotency_key = factory.Sequence(lambda n: f"test-leads-event:{n}")
