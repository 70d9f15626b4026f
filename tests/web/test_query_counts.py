"""Query-count ceilings: every list page costs the same number of queries for 10 rows or 60."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.accounts.services import create_api_key
from tandem.crm import services

# Measured (worst role: a manager, whose scope needs its teams) plus one: session, user, scope,
# count, rows and filter choices. An N+1 over 50 rows would blow through any of them.
CEILINGS = {
    "contacts": 12,
    "companies": 9,
    "apikeys": 4,
    "contact_page": 14,
    "timeline_more": 6,
    "company_page": 13,
    "imports": 5,
    "contact_new": 6,
    "company_new": 5,
}


def measure(get: Callable[[], Any], ceiling: int, assert_max: Any) -> int:
    with assert_max(ceiling), CaptureQueriesContext(connection) as ctx:
        response = get()
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["rep1", "manager", "admin"])
def test_contact_and_company_lists(
    world, client_as, rep1_contacts, django_assert_max_num_queries, role
):
    client = client_as(role)
    counts: dict[str, list[int]] = {"contacts": [], "companies": [], "partial": []}
    for n in (10, 50):  # 10 rows, then 60
        rep1_contacts(n)
        counts["contacts"].append(
            measure(
                lambda: client.get("/contacts/"),
                CEILINGS["contacts"],
                django_assert_max_num_queries,
            )
        )
        counts["partial"].append(
            measure(
                lambda: client.get("/contacts/?sort=-company", HTTP_HX_REQUEST="true"),
                CEILINGS["contacts"],
                django_assert_max_num_queries,
            )
        )
        counts["companies"].append(
            measure(
                lambda: client.get("/companies/"),
                CEILINGS["companies"],
                django_assert_max_num_queries,
            )
        )
    for page, (small, large) in counts.items():
        assert small == large, f"{page}: {small} queries for 10 rows but {large} for 60"


def test_api_keys_page(world, client_as, django_assert_max_num_queries):
    client = client_as("rep1")
    counts = []
    for n in (10, 50):
        for i in range(n):
            create_api_key(user=world.rep1, name=f"key {i}")
        counts.append(
            measure(
                lambda: client.get("/settings/api-keys/"),
                CEILINGS["apikeys"],
                django_assert_max_num_queries,
            )
        )
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", ["rep1", "manager"])
def test_contact_and_company_pages_with_long_timelines(
    world, client_as, django_assert_max_num_queries, role
):
    client = client_as(role)
    contact = world.rep1_contact
    counts: dict[str, list[int]] = {"contact": [], "company": [], "more": []}
    done = 0
    for n in (10, 60):
        for i in range(done, n):
            services.log_activity(
                kind="call",
                by=world.rep1,
                contact=contact,
                subject=f"call {i}",
                call_outcome="connected",
                duration_seconds=60,
            )
            stage = "sql" if i % 2 == 0 else "lead"
            services.change_lifecycle_stage(
                contact=contact, to_stage=stage, by=world.manager, reason="test"
            )
        done = n
        counts["contact"].append(
            measure(
                lambda: client.get(f"/contacts/{contact.pk}/"),
                CEILINGS["contact_page"],
                django_assert_max_num_queries,
            )
        )
        counts["more"].append(
            measure(
                lambda: client.get(f"/contacts/{contact.pk}/timeline/?offset=5"),
                CEILINGS["timeline_more"],
                django_assert_max_num_queries,
            )
        )
        counts["company"].append(
            measure(
                lambda: client.get(f"/companies/{world.acme.pk}/"),
                CEILINGS["company_page"],
                django_assert_max_num_queries,
            )
        )
    for page, (small, large) in counts.items():
        assert small == large, f"{page}: {small} queries for 10 rows but {large} for 60"


def test_import_page_lists_recent_jobs_at_a_fixed_cost(
    world, client_as, django_assert_max_num_queries
):
    from tandem.crm.models import ImportJob

    client = client_as("marketing")
    counts = []
    for n in (2, 8):  # 2 jobs, then 10
        ImportJob.objects.bulk_create(
            ImportJob(
                kind="contacts",
                file_name=f"f{i}.csv",
                stored_path="x",
                size_bytes=10,
                created_by=world.marketer,
                status="done",
            )
            for i in range(n)
        )
        counts.append(
            measure(
                lambda: client.get("/import/"), CEILINGS["imports"], django_assert_max_num_queries
            )
        )
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", ["rep1", "manager", "admin"])
def test_new_record_forms_cost_the_same_for_10_or_60_companies(
    world, client_as, rep1_contacts, django_assert_max_num_queries, role
):
    client = client_as(role)
    counts: dict[str, list[int]] = {"contact_new": [], "company_new": []}
    for n in (10, 50):  # 10 more companies (with a domain each, for the datalist), then 60
        rep1_contacts(n)
        for page in counts:
            url = "/contacts/new/" if page == "contact_new" else "/companies/new/"
            counts[page].append(
                measure(
                    lambda url=url: client.get(url), CEILINGS[page], django_assert_max_num_queries
                )
            )
    for page, (small, large) in counts.items():
        assert small == large, f"{page}: {small} queries for 10 companies but {large} for 60"
