"""Factories for CRM records (they go through the ORM; services are tested on their own)."""

from __future__ import annotations

import factory
from django.utils import timezone

from tandem.crm.models import Company, Contact


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    country = "US"
    created_at = factory.LazyFunction(timezone.now)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    lifecycle_stage = "lead"
    created_at = factory.LazyFunction(timezone.now)
