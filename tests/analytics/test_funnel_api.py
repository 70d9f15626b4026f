"""The funnel, cohorts and throughput endpoints over contacts moved through the crm services.

Scenario (all 2026, UTC, hand-computed figures in each test):
  a: subscriber Mar 2 09:00 → lead Mar 3 → MQL Mar 5 → SQL Mar 9 → opportunity Mar 10 →
     customer Mar 20 (each at 09:00); source email, persona "Founders"; first touch "Spring
     webinar", a later touch "Search ads".
  b: lead Mar 4 → SQL Mar 6 (skips MQL); paid search; first touch "Search ads".
  c: subscriber Mar 10; email, persona "Founders"; no touches.
  d: lead Feb 20 → MQL Mar 2 → SQL Mar 4; events.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.accounts import permissions
from tandem.crm.services import change_lifecycle_stage, create_contact
from tests.leads.factories import SegmentMembershipFactory, StaticListFactory
from tests.marketing.factories import CampaignFactory, PersonaFactory, TouchpointFactory

STAGE_KEYS = {
    "stage",
    "label",
    "entered",
    "conversion_to_next",
    "median_days_to_next",
    "p75_days_to_next",
}
ORDER = ["subscriber", "lead", "mql", "sql", "opportunity", "customer"]


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def journey(email: str, steps: list[tuple[str, datetime]], **values):
    (first, created), *moves = steps
    contact = create_contact(email=email, lifecycle_stage=first, created_at=created, **values)
    for stage, when in moves:
        change_lifecycle_stage(contact=contact, to_stage=stage, at=when)
    return contact


@pytest.fixture
def scenario(world):
    founders = PersonaFactory(name="Founders")
    a = journey(
        "a@example.com",
        [
            ("subscriber", at(3, 2, 9)),
            ("lead", at(3, 3, 9)),
            ("mql", at(3, 5, 9)),
            ("sql", at(3, 9, 9)),
            ("opportunity", at(3, 10, 9)),
            ("customer", at(3, 20, 9)),
        ],
        original_source="email",
        persona_id=founders.pk,
    )
    b = journey(
        "b@example.com", [("lead", at(3, 4)), ("sql", at(3, 6))], original_source="paid_search"
    )
    c = journey(
        "c@example.com",
        [("subscriber", at(3, 10))],
        original_source="email",
        persona_id=founders.pk,
    )
    d = journey(
        "d@example.com",
        [("lead", at(2, 20)), ("mql", at(3, 2)), ("sql", at(3, 4))],
        original_source="events",
    )
    webinar = CampaignFactory(name="Spring webinar")
    ads = CampaignFactory(name="Search ads")
    TouchpointFactory(contact=a, campaign=ads, occurred_at=at(3, 5))
    TouchpointFactory(contact=a, campaign=webinar, occurred_at=at(3, 1))
    TouchpointFactory(contact=b, campaign=ads, occurred_at=at(3, 3))
    TouchpointFactory(contact=None, campaign=webinar, occurred_at=at(3, 1))
    return {"a": a, "b": b, "c": c, "d": d, "webinar": webinar, "ads": ads}


def rows(stages):
    return [
        (
            s["stage"],
            s["entered"],
            s["conversion_to_next"],
            s["median_days_to_next"],
            s["p75_days_to_next"],
        )
        for s in stages
    ]


def test_contract_shape_and_cohort_figures(api_as, scenario):
    resp = api_as("rep1").get("/analytics/funnel", period="2026-03")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert set(body) == {"mode", "start", "end", "stages", "breakdown", "groups"}
    assert (body["mode"], body["start"], body["end"]) == ("cohort", "2026-03-01", "2026-03-31")
    assert body["breakdown"] is None and body["groups"] == []
    assert [s["stage"] for s in body["stages"]] == ORDER
    assert all(set(s) == STAGE_KEYS for s in body["stages"])
    assert body["stages"][2]["label"] == "Marketing qualified lead"
    # Created in March: a, b, c. Sub→lead days 1 (a) and 0 (b skipped subscriber);
    # MQL→SQL 4 (a) and 0 (b skipped MQL).
    assert rows(body["stages"]) == [
        ("subscriber", 3, pytest.approx(2 / 3), 0.5, 0.75),
        ("lead", 2, 1.0, 2.0, 2.0),
        ("mql", 2, 1.0, 2.0, 3.0),
        ("sql", 2, 0.5, 1.0, 1.0),
        ("opportunity", 1, 1.0, 10.0, 10.0),
        ("customer", 1, None, None, None),
    ]


def test_period_mode_counts_entries_in_the_window(api_as, scenario):
    body = api_as("marketing").get(
        "/analytics/funnel", start="2026-03-01", end="2026-03-31", mode="period"
    )
    body = body.json()
    assert body["mode"] == "period"
    # d was created in February but entered MQL (Mar 2) and SQL (Mar 4) in March.
    assert rows(body["stages"]) == [
        ("subscriber", 3, pytest.approx(2 / 3), 0.5, 0.75),
        ("lead", 2, 1.0, 2.0, 2.0),
        ("mql", 3, 1.0, 2.0, 3.0),
        ("sql", 3, pytest.approx(1 / 3), 1.0, 1.0),
        ("opportunity", 1, 1.0, 10.0, 10.0),
        ("customer", 1, None, None, None),
    ]


def test_default_window_is_all_time(api_as, scenario):
    body = api_as("admin").get("/analytics/funnel").json()
    assert body["start"] == "2000-01-01"
    # All four contacts (the world's contacts have no stage entries on record).
    assert [s["entered"] for s in body["stages"]] == [4, 3, 3, 3, 1, 1]


def entered(group):
    return [s["entered"] for s in group["stages"]]


def test_breakdown_by_channel(api_as, scenario):
    body = api_as("rep2").get("/analytics/funnel", period="2026-03", breakdown="channel").json()
    assert body["breakdown"] == "channel"
    got = {(g["key"], g["label"]): entered(g) for g in body["groups"]}
    assert got == {
        ("email", "Email marketing"): [2, 1, 1, 1, 1, 1],
        ("paid_search", "Paid search"): [1, 1, 1, 1, 0, 0],
    }
    assert [g["label"] for g in body["groups"]] == ["Email marketing", "Paid search"]
    assert [s["entered"] for s in body["stages"]] == [3, 2, 2, 2, 1, 1]


def test_breakdown_by_first_touch_campaign(api_as, scenario):
    body = api_as("manager").get("/analytics/funnel", period="2026-03", breakdown="campaign")
    groups = body.json()["groups"]
    webinar, ads = scenario["webinar"].pk, scenario["ads"].pk
    # a's first touch is the webinar (Mar 1), not the later ads touch; c has no touches.
    assert [(g["key"], g["label"], entered(g)) for g in groups] == [
        (str(ads), "Search ads", [1, 1, 1, 1, 0, 0]),
        (str(webinar), "Spring webinar", [1, 1, 1, 1, 1, 1]),
        ("none", "No campaign", [1, 0, 0, 0, 0, 0]),
    ]


def test_breakdown_by_persona(api_as, scenario):
    groups = api_as("rep3").get("/analytics/funnel", period="2026-03", breakdown="persona")
    persona_id = scenario["a"].persona_id
    assert [(g["key"], g["label"], entered(g)) for g in groups.json()["groups"]] == [
        (str(persona_id), "Founders", [2, 1, 1, 1, 1, 1]),
        ("none", "No persona", [1, 1, 1, 1, 0, 0]),
    ]


def test_breakdown_by_segment_uses_current_members(api_as, scenario):
    big = StaticListFactory(name="Big accounts")
    all_ = StaticListFactory(name="All hands")
    empty = StaticListFactory(name="Zero")
    SegmentMembershipFactory(segment=big, contact=scenario["a"])
    SegmentMembershipFactory(segment=big, contact=scenario["c"], left_at=at(3, 15))
    for name in "abc":
        SegmentMembershipFactory(segment=all_, contact=scenario[name])
    resp = api_as("admin").get(
        "/analytics/funnel",
        period="2026-03",
        breakdown="segment",
        segment=f"{big.pk},{all_.pk}, {empty.pk}",
    )
    assert resp.status_code == 200, resp.content
    groups = resp.json()["groups"]
    assert [(g["key"], g["label"], entered(g)) for g in groups] == [
        (str(all_.pk), "All hands", [3, 2, 2, 2, 1, 1]),
        (str(big.pk), "Big accounts", [1, 1, 1, 1, 1, 1]),  # c left the segment
        (str(empty.pk), "Zero", [0, 0, 0, 0, 0, 0]),
    ]
    assert groups[2]["stages"][0]["conversion_to_next"] == 0.0


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"mode": "weekly"}, "mode must be one of cohort, period"),
        ({"mode": "x" * 500}, 'not "' + "x" * 40 + '"'),
        ({"period": "2026-11" * 100}, "not a period"),
        ({"breakdown": "region"}, "breakdown must be one of channel, campaign, persona, segment"),
        ({"period": "2026-13"}, "not a period"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "before start"),
        ({"breakdown": "segment"}, "needs at least one segment"),
        ({"breakdown": "segment", "segment": "abc"}, "not a segment id"),
        ({"breakdown": "segment", "segment": "999999"}, "no segment with id 999999"),
    ],
)
def test_bad_parameters_are_400s_naming_the_problem(api_as, world, params, words):
    resp = api_as("rep1").get("/analytics/funnel", **params)
    assert resp.status_code == 400, resp.content
    assert words in resp.json()["detail"]


def test_needs_an_api_key_and_the_analytics_permission(api_as, world, monkeypatch):
    from tests.conftest import ApiClient

    assert ApiClient(None).get("/analytics/funnel").status_code == 401
    monkeypatch.setattr(permissions, "can_view_analytics", lambda user: False)
    for path in ("/analytics/funnel", "/analytics/cohorts", "/analytics/throughput"):
        resp = api_as("rep1").get(path)
        assert resp.status_code == 403, path
        assert resp.json()["detail"] == "you may not view analytics"


def test_cohorts_endpoint(api_as, scenario):
    body = api_as("rep1").get("/analytics/cohorts", period="2026-Q1").json()
    assert (body["start"], body["end"]) == ("2026-01-01", "2026-03-31")
    assert body["stages"] == ORDER
    assert [(r["month"], r["size"]) for r in body["rows"]] == [
        ("2026-01", 0),
        ("2026-02", 1),
        ("2026-03", 3),
    ]
    feb, mar = body["rows"][1], body["rows"][2]
    assert feb["entered"] == {
        "subscriber": 1,
        "lead": 1,
        "mql": 1,
        "sql": 1,
        "opportunity": 0,
        "customer": 0,
    }
    assert mar["entered"]["lead"] == 2 and mar["rates"]["lead"] == pytest.approx(2 / 3)
    assert mar["rates"]["customer"] == pytest.approx(1 / 3)
    assert api_as("rep1").get("/analytics/cohorts", period="Q1").status_code == 400


def test_throughput_endpoint_counts_mqls_and_sqls_per_week(api_as, scenario):
    body = api_as("rep1").get("/analytics/throughput", period="2026-03").json()
    # March 1 2026 is a Sunday: its week starts Mon Feb 23. MQLs: d Mar 2, a Mar 5, b Mar 6
    # (skipped MQL, enters with its SQL) → week of Mar 2. SQLs: d Mar 4, b Mar 6 → Mar 2;
    # a Mar 9 → Mar 9.
    assert body["weeks"] == [
        {"week": "2026-02-23", "mqls": 0, "sqls": 0},
        {"week": "2026-03-02", "mqls": 3, "sqls": 2},
        {"week": "2026-03-09", "mqls": 0, "sqls": 1},
        {"week": "2026-03-16", "mqls": 0, "sqls": 0},
        {"week": "2026-03-23", "mqls": 0, "sqls": 0},
        {"week": "2026-03-30", "mqls": 0, "sqls": 0},
    ]
    bad = api_as("rep1").get("/analytics/throughput", start="2010-01-01", end="2026-01-01")
    assert bad.status_code == 400 and "10 years" in bad.json()["detail"]
