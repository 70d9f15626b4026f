"""Factories for marketing records (through the ORM; services are tested on their own)."""

from __future__ import annotations

import secrets

import factory
from django.utils import timezone

from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    ConsentText,
    ContentAsset,
    Form,
    FormField,
    Persona,
    Source,
    Touchpoint,
)


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Persona

    name = factory.Sequence(lambda n: f"Persona {n}")
    description = "A buyer we want more of"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = "paid_search"
    status = "active"
    utm_source = "google"
    utm_medium = "cpc"
    utm_campaign = factory.Sequence(lambda n: f"campaign_{n}")
    created_at = factory.LazyFunction(timezone.now)


class CampaignCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignCost

    campaign = factory.SubFactory(CampaignFactory)
    incurred_on = factory.LazyFunction(lambda: timezone.now().date())
    amount = 100


class ContentAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentAsset

    title = factory.Sequence(lambda n: f"Asset {n}")
    type = "ebook"
    journey_stage = "awareness"
    audience = "market"
    url = "https://www.example.com/ebook"
    public_token = factory.LazyFunction(lambda: secrets.token_urlsafe(16))
    created_at = factory.LazyFunction(timezone.now)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Website {n}")
    origins = ["https://www.example.com"]
    key_prefix = "pk_test"
    key_digest = factory.LazyFunction(lambda: secrets.token_hex(32))


class FormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Form

    name = factory.Sequence(lambda n: f"Form {n}")
    slug = factory.Sequence(lambda n: f"form-{n}")
    status = "published"
    headline = "Get the guide"
    created_at = factory.LazyFunction(timezone.now)


class FormFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FormField

    form = factory.SubFactory(FormFactory)
    target = "email"
    label = "Email"
    input_type = "email"
    required = True


class ConsentTextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentText

    form = factory.SubFactory(FormFactory)
    version = 1
    text = "I agree to receive marketing email."


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    occurred_at = factory.LazyFunction(timezone.now)
    channel = "paid_search"
    kind = "visit"
    idempotency_key = factory.Sequence(lambda n: f"test-touch:{n}")
