"""Routing stays fair when several workers route leads of one team at the same moment (PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, connections

from tandem.leads.models import LeadAssignment, RoutingRule
from tandem.leads.services import handoff
from tests.conftest import World
from tests.crm.factories import CompanyFactory, ContactFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORKERS = 4
PER_WORKER = 6


def test_concurrent_routing_is_fair(transactional_db: Any, world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole write transactions")
    RoutingRule.objects.create(name="East", team=world.east)
    contacts = [
        ContactFactory(company=CompanyFactory(country="US"), lifecycle_stage="mql")
        for _ in range(WORKERS * PER_WORKER)
    ]
    batches = [contacts[i::WORKERS] for i in range(WORKERS)]
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def work(batch: list[Any]) -> None:
        try:
            start.wait()
            for contact in batch:
                handoff.route_lead(contact=contact, qualified_by="race", now=NOW)
        except BaseException as problem:  # reported below, in the test's thread
            errors.append(problem)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = Counter(LeadAssignment.objects.values_list("rep__username", flat=True))
    assert counts == {"rep1": 12, "rep2": 12}
