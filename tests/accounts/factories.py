"""Factories for accounts."""

from __future__ import annotations

import factory

from tandem.accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = "sales_rep"
    password = factory.PostGenerationMethodCall("set_password", "pw-test-123")
