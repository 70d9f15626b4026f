"""Segment grammar validation, the compiler's edge cases, and membership refresh services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.crm.models import Contact
from tandem.errors import Conflict, InvalidInput
from tandem.leads.models import RoutingRule, Segment, SegmentMembership
from tandem.leads.queries.segments import count_definition, member_history, segment_members
from tandem.leads.segments import compile_definition, describe, validate_definition
from tandem.leads.services.segments import (
    add_members,
    create_segment,
    delete_segment,
    refresh_all_segments,
    refresh_for_contacts,
    refresh_segment,
    remove_members,
    update_segment,
)
from tests.conftest import World
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.leads.factories import LeadScoreFactory, SegmentFactory, TimelineEventFactory

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _ids(definition: Any) -> set[int]:
    return set(
        Contact.objects.filter(compile_definition(definition, now=NOW)).values_list("pk", flat=True)
    )


def _error(definition: Any) -> str:
    with pytest.raises(InvalidInput) as caught:
        validate_definition(definition)
    assert caught.value.field == "definition"
    return str(caught.value)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            {"all": [{"field": "email", "op": "eq", "value": "a"}, {"field": "company.size"}]},
            'all[1].field: "company.size" is not a segment field; choose one of email, ',
        ),
        (
            {"field": "score", "op": "contains", "value": 1},
            'op: "contains" is not an operator for score; choose one of eq, neq, gt',
        ),
        ({"field": "score", "op": "gt", "value": "5"}, 'value: "5" is not a whole number'),
        ({"field": "score", "op": "gt", "value": 2.5}, "value: 2.5 is not a whole number"),
        ({"field": "probability", "op": "gt", "value": True}, "value: true is not a number"),
        ({"field": "score", "op": "gt"}, "value: gt needs a value"),
        ({"field": "email", "op": "is_empty", "value": "x"}, "value: is_empty takes no value"),
        ({"field": "email", "op": "in", "value": []}, "value: in needs a non-empty list"),
        ({"field": "email", "op": "contains", "value": ""}, "value: must not be empty"),
        ({"field": "email", "op": "eq", "value": "a\x00b"}, "value: contains a NUL character"),
        (
            {"field": "lifecycle_stage", "op": "eq", "value": "vip"},
            'value: "vip" is not one of subscriber, lead, mql',
        ),
        ({"field": "score", "op": "between", "value": [5, 1]}, "the low end is above the high"),
        (
            {"field": "company.annual_revenue", "op": "gt", "value": 1.234},
            "at most 2 decimal places",
        ),
        ({"field": "created_at", "op": "before", "value": "yesterday"}, "is not an ISO date"),
        ({"field": "created_at", "op": "within_last_days", "value": 0}, "between 1 and 3650"),
        ({"event": "page_view", "min_count": 0}, "min_count: must be between 1 and 1000"),
        ({"event": "page_view", "within_days": 5000}, "within_days: must be between 1 and 3650"),
        ({"event": "page_view", "within_days": "7"}, 'within_days: "7" is not a whole number'),
        ({"event": "hack"}, 'event: "hack" is not an event type'),
        (
            {"event": "page_view", "where": [{"property": "a b", "op": "eq", "value": 1}]},
            'where[0].property: "a b" is not a property key',
        ),
        (
            {"event": "page_view", "where": [{"property": "x" * 65, "op": "eq", "value": 1}]},
            "where[0].property:",
        ),
        (
            {"event": "page_view", "where": [{"property": "12", "op": "eq", "value": 1}]},
            "a property key cannot be a number",
        ),
        (
            {"event": "page_view", "where": [{"property": "a", "op": "like", "value": 1}]},
            'where[0].op: "like" is not a property operator',
        ),
        (
            {"event": "page_view", "where": [{"property": "a", "op": "gt", "value": "1"}]},
            'where[0].value: "1" is not a number',
        ),
        ({"touched": {"channel": "fax"}}, 'touched.channel: "fax" is not a channel'),
        ({"touched": {"campaign": 1, "channel": "email"}}, "touched: must be"),
        ({"submitted_form": -1}, "submitted_form: must be between 1 and"),
        ({"all": []}, "all: needs a non-empty list"),
        ({"all": [{"field": "score", "op": "gt", "value": 1}], "any": []}, "has both 'all'"),
        ({"field": "score", "op": "gt", "value": 1, "extra": 1}, "extra: unknown key"),
        ({"frobnicate": 1}, 'definition: unknown key "frobnicate"; expected one of all'),
        ([1], "definition: must be an object"),
        ("{not json", "definition: is not valid JSON"),
    ],
)
def test_validation_names_the_problem_and_its_path(definition: Any, message: str) -> None:
    assert message in _error(definition)


def test_depth_and_size_are_limited() -> None:
    leaf: dict[str, Any] = {"field": "score", "op": "gt", "value": 1}
    deep = leaf
    for _ in range(7):
        deep = {"not": deep}
    assert validate_definition(deep) == deep  # 8 levels: allowed
    assert "nest at most 8 levels" in _error({"not": deep})
    assert validate_definition({"any": [leaf] * 99})["any"] == [leaf] * 99
    assert "at most 100 conditions" in _error({"any": [leaf] * 100})


def test_validation_normalises_defaults_and_dates() -> None:
    tree = validate_definition(
        {
            "all": [
                {"event": "page_view"},
                {"field": "created_at", "op": "after", "value": "2026-01-02"},
                {"field": "created_at", "op": "before", "value": "2026-01-02T10:00:00+02:00"},
                {"touched": {"channel": "email"}},
            ]
        }
    )
    assert tree == {
        "all": [
            {"event": "page_view", "where": [], "min_count": 1, "within_days": None},
            {"field": "created_at", "op": "after", "value": "2026-01-02T00:00:00+00:00"},
            {"field": "created_at", "op": "before", "value": "2026-01-02T08:00:00+00:00"},
            {"touched": {"channel": "email"}, "within_days": None},
        ]
    }


def test_describe_reads_as_words() -> None:
    text = describe(
        {
            "all": [
                {"field": "company.employees", "op": "gte", "value": 50},
                {"any": [{"event": "page_view", "min_count": 3, "within_days": 30}]},
                {"not": {"field": "lifecycle_stage", "op": "in", "value": ["customer", "mql"]}},
            ]
        }
    )
    assert text == (
        "Company employees is at least 50 and did “Page viewed” at least 3 times in the last "
        "30 days and not Lifecycle stage is one of “customer”, “mql”"
    )


# ---------------------------------------------------------------- compiler edges


def test_not_is_exact_for_contacts_without_a_company_or_owner(world: World) -> None:
    everyone = set(Contact.objects.values_list("pk", flat=True))
    acme = {world.rep1_contact.pk, world.rep2_contact.pk}
    name_is_acme = {"field": "company.name", "op": "eq", "value": "ACME corp"}
    assert _ids(name_is_acme) == acme
    assert _ids({"not": name_is_acme}) == everyone - acme
    assert _ids({"field": "company.name", "op": "neq", "value": "acme corp"}) == everyone - acme
    unowned = {world.east_unassigned.pk, world.nobody_contact.pk}
    assert _ids({"field": "owner", "op": "eq", "value": None}) == unowned
    assert _ids(
        {"field": "owner", "op": "not_in", "value": ["rep1", None]}
    ) == everyone - unowned - {world.rep1_contact.pk}
    no_company = {world.east_unassigned.pk, world.nobody_contact.pk}
    assert _ids({"field": "company.domain", "op": "is_empty"}) == no_company
    assert _ids({"any": [name_is_acme, {"field": "first_name", "op": "eq", "value": "eve"}]}) == (
        acme | {world.nobody_contact.pk}
    )


def test_lead_score_fields_default_to_zero_and_probability_to_empty(world: World) -> None:
    LeadScoreFactory(contact=world.rep1_contact, fit=30, engagement=5, probability=0.8)
    LeadScoreFactory(contact=world.rep2_contact, fit=0, engagement=50, probability=None)
    everyone = set(Contact.objects.values_list("pk", flat=True))
    assert _ids({"field": "fit_score", "op": "gte", "value": 10}) == {world.rep1_contact.pk}
    assert _ids({"field": "fit_score", "op": "lt", "value": 10}) == everyone - {
        world.rep1_contact.pk
    }
    assert _ids({"field": "probability", "op": "is_empty"}) == everyone - {world.rep1_contact.pk}
    assert _ids({"not": {"field": "probability", "op": "gt", "value": 0.5}}) == everyone - {
        world.rep1_contact.pk
    }


def test_text_is_case_insensitive_for_ascii_and_wildcards_are_plain_text(db: Any) -> None:
    a = ContactFactory(first_name="ANNA", title="50% off")
    b = ContactFactory(first_name="Éva", title="500 off")
    assert _ids({"field": "first_name", "op": "eq", "value": "anna"}) == {a.pk}
    # Only A-Z fold: "ÉVA" matches "Éva", "éva" does not (the same on SQLite and PostgreSQL).
    assert _ids({"field": "first_name", "op": "eq", "value": "ÉVA"}) == {b.pk}
    assert _ids({"field": "first_name", "op": "eq", "value": "éva"}) == set()
    assert _ids({"field": "title", "op": "contains", "value": "0%"}) == {a.pk}
    assert _ids({"field": "title", "op": "starts_with", "value": "5_"}) == set()


def test_event_counts_windows_and_typed_properties(db: Any) -> None:
    a, b, c = ContactFactory(), ContactFactory(), ContactFactory()
    for days in (1, 2, 40):
        TimelineEventFactory(contact=a, occurred_at=NOW - timedelta(days=days))
    TimelineEventFactory(contact=b, properties={"plan": "Pro", "seats": 5, "trial": True})
    TimelineEventFactory(contact=c, properties={"plan": "free", "seats": "5", "trial": 1})
    assert _ids({"event": "page_view", "min_count": 3}) == {a.pk}
    assert _ids({"event": "page_view", "min_count": 2, "within_days": 30}) == {a.pk}
    assert _ids({"event": "page_view", "min_count": 3, "within_days": 30}) == set()

    def where(*filters: dict[str, Any]) -> set[int]:
        return _ids({"event": "page_view", "where": list(filters)})

    assert where({"property": "plan", "op": "eq", "value": "pro"}) == {b.pk}
    assert where({"property": "seats", "op": "eq", "value": 5}) == {b.pk}
    assert where({"property": "seats", "op": "eq", "value": "5"}) == {c.pk}
    assert where({"property": "seats", "op": "gte", "value": 5}) == {b.pk}
    assert where({"property": "trial", "op": "eq", "value": True}) == {b.pk}
    assert where({"property": "trial", "op": "eq", "value": 1}) == {c.pk}
    # neq keeps events that lack the property (a's events have no plan).
    assert where({"property": "plan", "op": "neq", "value": "pro"}) == {a.pk, c.pk}


def test_compile_is_one_query(world: World) -> None:
    TimelineEventFactory(contact=world.rep1_contact)
    definition = {
        "all": [
            {"field": "company.employees", "op": "is_empty"},
            {"field": "lifecycle_stage", "op": "eq", "value": "lead"},
            {"event": "page_view", "min_count": 1, "within_days": 30},
            {"event": "page_view", "min_count": 1},
            {"not": {"touched": {"channel": "email"}}},
            {"field": "score", "op": "gte", "value": 0},
        ]
    }
    with CaptureQueriesContext(connection) as queries:
        q = compile_definition(definition, now=NOW)
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        found = set(Contact.objects.filter(q).values_list("pk", flat=True))
    assert len(queries) == 1
    assert found == {world.rep1_contact.pk}


# ---------------------------------------------------------------- services


def test_refresh_opens_and_closes_stays_set_based(world: World) -> None:
    definition = {"field": "first_name", "op": "in", "value": ["ann", "bob"]}
    segment = create_segment(
        name="A and B", kind="dynamic", definition=definition, by=world.marketer, now=NOW
    )
    assert set(segment_members(segment).values_list("pk", flat=True)) == {
        world.rep1_contact.pk,
        world.rep2_contact.pk,
    }
    assert (segment.member_count, segment.refreshed_at) == (2, NOW)
    Contact.objects.filter(pk=world.rep2_contact.pk).update(first_name="Robert")
    Contact.objects.filter(pk=world.rep3_contact.pk).update(first_name="Bob")
    later = NOW + timedelta(hours=1)
    with CaptureQueriesContext(connection) as queries:
        assert refresh_segment(segment=segment, now=later) == (1, 1)
    # Lock, the scratch table (drop, create, fill, drop), close, insert, count, save: no
    # per-contact statements.
    assert len(queries) <= 12  # (and ANALYZE of the scratch table on PostgreSQL)
    assert refresh_segment(segment=segment, now=later) == (0, 0)
    stays = SegmentMembership.objects.filter(segment=segment).order_by("contact_id", "entered_at")
    assert [(m.contact_id, m.entered_at, m.left_at) for m in stays] == [
        (world.rep1_contact.pk, NOW, None),
        (world.rep2_contact.pk, NOW, later),
        (world.rep3_contact.pk, later, None),
    ]
    segment.refresh_from_db()
    assert (segment.member_count, segment.refreshed_at) == (2, later)
    assert member_history(segment, now=later) == {
        "entered_7": 3,
        "left_7": 1,
        "entered_30": 3,
        "left_30": 1,
        "stays": 3,
    }
    # Coming back opens a new stay.
    Contact.objects.filter(pk=world.rep2_contact.pk).update(first_name="Bob")
    assert refresh_segment(segment=segment, now=later + timedelta(hours=1)) == (1, 0)
    assert (
        SegmentMembership.objects.filter(segment=segment, contact=world.rep2_contact).count() == 2
    )


def test_refresh_for_contacts_touches_only_those_contacts(world: World) -> None:
    seg = SegmentFactory(definition={"field": "first_name", "op": "eq", "value": "bob"})
    other = SegmentFactory(definition={"field": "first_name", "op": "eq", "value": "zed"})
    static = SegmentFactory(kind="static", definition={})
    refresh_all_segments(now=NOW)
    seg.refresh_from_db()
    assert seg.member_count == 1
    Contact.objects.filter(pk__in=[world.rep1_contact.pk, world.rep3_contact.pk]).update(
        first_name="Bob"
    )
    refresh_for_contacts(contact_ids=[world.rep1_contact.pk], now=NOW + timedelta(minutes=5))
    assert set(segment_members(seg).values_list("pk", flat=True)) == {
        world.rep1_contact.pk,
        world.rep2_contact.pk,
    }
    seg.refresh_from_db()
    other.refresh_from_db()
    assert (seg.member_count, seg.refreshed_at) == (2, NOW)
    assert other.member_count == 0
    assert not SegmentMembership.objects.filter(segment=static).exists()
    # Leaving through the incremental path closes the stay and lowers the count.
    Contact.objects.filter(pk=world.rep2_contact.pk).update(first_name="Robert")
    refresh_for_contacts(contact_ids=[world.rep2_contact.pk, 10**12], now=NOW + timedelta(hours=1))
    seg.refresh_from_db()
    assert seg.member_count == 1
    assert set(segment_members(seg).values_list("pk", flat=True)) == {world.rep1_contact.pk}


def test_min_count_refresh_for_contacts_counts_only_their_events(world: World) -> None:
    seg = SegmentFactory(definition={"event": "page_view", "min_count": 2})
    for _ in range(2):
        TimelineEventFactory(contact=world.rep1_contact)
        TimelineEventFactory(contact=world.rep2_contact)
    refresh_for_contacts(contact_ids=[world.rep1_contact.pk], now=NOW)
    assert set(segment_members(seg).values_list("pk", flat=True)) == {world.rep1_contact.pk}


def test_static_lists_take_members_by_hand(world: World) -> None:
    seg = create_segment(name="VIPs", kind="static", by=world.marketer)
    added = add_members(
        segment=seg,
        contact_ids=[world.rep1_contact.pk, world.rep2_contact.pk],
        by=world.marketer,
        now=NOW,
    )
    assert (added, seg.member_count) == (2, 2)
    assert add_members(segment=seg, contact_ids=[world.rep1_contact.pk], by=None, now=NOW) == 0
    assert remove_members(segment=seg, contact_ids=[world.rep1_contact.pk], by=None, now=NOW) == 1
    assert seg.member_count == 1
    with pytest.raises(InvalidInput, match="no contact with id 999999"):
        add_members(segment=seg, contact_ids=[999999], by=None)
    assert refresh_segment(segment=seg) == (0, 0)
    dynamic = SegmentFactory()
    with pytest.raises(InvalidInput, match="only static lists take edits"):
        add_members(segment=dynamic, contact_ids=[world.rep1_contact.pk], by=None)


def test_create_update_delete_rules(world: World) -> None:
    seg = create_segment(
        name="Leads",
        kind="dynamic",
        definition={"field": "lifecycle_stage", "op": "eq", "value": "lead"},
        by=world.marketer,
    )
    assert seg.member_count == 5
    with pytest.raises(Conflict):
        create_segment(name="leads", kind="static", by=world.marketer)
    with pytest.raises(InvalidInput, match="needs a definition"):
        create_segment(name="Empty", kind="dynamic", by=world.marketer)
    with pytest.raises(InvalidInput, match="has no definition"):
        create_segment(name="S", kind="static", definition={"event": "page_view"}, by=None)
    with pytest.raises(InvalidInput, match="kind cannot change"):
        update_segment(segment=seg, changes={"kind": "static"}, by=None)
    update_segment(
        segment=seg,
        changes={"definition": {"field": "first_name", "op": "eq", "value": "ann"}},
        by=None,
    )
    assert seg.member_count == 1
    RoutingRule.objects.create(name="By segment", segment=seg, team=world.east)
    with pytest.raises(Conflict, match="routing rule 'By segment'"):
        delete_segment(segment=seg)
    RoutingRule.objects.all().delete()
    delete_segment(segment=seg)
    assert not Segment.objects.exists()


def test_count_definition_is_narrowed_to_what_the_user_sees(world: World) -> None:
    definition = {"field": "email", "op": "contains", "value": "@"}
    assert count_definition(definition) == 5
    assert count_definition(definition, user=world.rep1) == 2  # own + team's unassigned
    assert count_definition(definition, user=world.marketer) == 5


def test_segment_with_empty_result_refreshes(world: World) -> None:
    seg = SegmentFactory(definition={"field": "fit_score", "op": "is_empty"})
    assert refresh_segment(segment=seg, now=NOW) == (0, 0)
    seg2 = SegmentFactory(definition={"field": "fit_score", "op": "is_not_empty"})
    assert refresh_segment(segment=seg2, now=NOW) == (5, 0)


def test_company_conditions(db: Any) -> None:
    big = CompanyFactory(employees=500, annual_revenue="2500000.00", country="US")
    small = CompanyFactory(employees=None, country="")
    a, b, c = ContactFactory(company=big), ContactFactory(company=small), ContactFactory()
    assert _ids({"field": "company.employees", "op": "between", "value": [100, 500]}) == {a.pk}
    assert _ids({"field": "company.employees", "op": "is_empty"}) == {b.pk, c.pk}
    assert _ids({"field": "company.annual_revenue", "op": "gt", "value": 2499999.99}) == {a.pk}
    assert _ids({"field": "company.country", "op": "in", "value": ["us", "gb"]}) == {a.pk}
    assert _ids({"field": "company.country", "op": "is_not_empty"}) == {a.pk}


def test_refresh_statement_count_does_not_grow_with_contacts(db: Any) -> None:
    seg = SegmentFactory(definition={"field": "first_name", "op": "eq", "value": "pat"})
    few = [ContactFactory().pk for _ in range(3)]
    with CaptureQueriesContext(connection) as small:
        refresh_for_contacts(contact_ids=few, now=NOW)
    many = [ContactFactory().pk for _ in range(40)]
    with CaptureQueriesContext(connection) as large:
        refresh_for_contacts(contact_ids=many, now=NOW)
    assert len(large) == len(small)
    with CaptureQueriesContext(connection) as full:
        assert refresh_segment(segment=seg, now=NOW + timedelta(days=1)) == (0, 0)
    assert len(full) <= 12
    seg.refresh_from_db()
    assert seg.member_count == 43
