"""Fixtures for page tests: a client signed in as a world user, and bulk record makers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import World
from tests.crm.factories import CompanyFactory, ContactFactory


@pytest.fixture
def rep1_contacts(world: World) -> Callable[[int], list[Any]]:
    """Make n more contacts owned by rep1, each at its own company (so N+1s would show)."""

    def make(n: int) -> list[Any]:
        out = []
        for _ in range(n):
            company = CompanyFactory(owner=world.rep1, team=world.east)
            out.append(ContactFactory(owner=world.rep1, team=world.east, company=company))
        return out

    return make


def htmx(**extra: Any) -> dict[str, Any]:
    """Headers of an htmx swap request."""
    return {"HTTP_HX_REQUEST": "true", **extra}
