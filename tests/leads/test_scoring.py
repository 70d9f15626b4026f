"""Rule scoring: exact fit and engagement values at a frozen `now`, caps, decay, history, rules."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tandem.crm.models import Contact, TimelineEvent
from tandem.errors import Conflict, InvalidInput
from tandem.leads.models import LeadScore, LeadSettings, ScoreChange, ScoreRule
from tandem.leads.queries.scoring import describe_rule, explain_score
from tandem.leads.services import scoring as services
from tests.crm.factories import CompanyFactory, ContactFactory

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_keys = itertools.count()


def event(contact: Contact, type: str, *, days_ago: float, **properties: Any) -> TimelineEvent:
    return TimelineEvent.objects.create(
        type=type,
        occurred_at=NOW - timedelta(days=days_ago),
        contact=contact,
        properties=properties,
        idempotency_key=f"test-score:{next(_keys)}",
    )


def engagement_rule(name: str, type: str, points: int, **extra: Any) -> ScoreRule:
    return services.create_rule(
        axis="engagement", name=name, event_type=type, points=points, **extra
    )


def fit_rule(name: str, condition: dict[str, Any], points: int, **extra: Any) -> ScoreRule:
    return services.create_rule(axis="fit", name=name, condition=condition, points=points, **extra)


def stored(contact: Contact) -> tuple[int, int, int, int]:
    """(fit, engagement, total, Contact.score) as stored."""
    score = LeadScore.objects.get(contact=contact)
    contact.refresh_from_db()
    return score.fit, score.engagement, score.total, contact.score


def assert_explained(contact: Contact) -> None:
    """The explanation's lines add up to the stored fit, engagement and total."""
    explanation = explain_score(contact=contact)
    fit = sum(line.points for line in explanation.fit_rules)
    engagement = sum(line.points for line in explanation.engagement_rules)
    score = LeadScore.objects.filter(contact=contact).first()
    expected = (score.fit, score.engagement, score.total) if score else (0, 0, 0)
    assert (fit, engagement, fit + engagement) == expected
    assert explanation.matches_stored


@pytest.fixture
def decay_10(db: Any) -> LeadSettings:
    """A 10-day half-life and a 90-day window."""
    return services.update_scoring_settings(
        changes={"half_life_days": 10, "engagement_window_days": 90}
    )


# ---------------------------------------------------------------- engagement


def test_engagement_decays_by_half_life_and_rounds_per_rule(decay_10: LeadSettings) -> None:
    contact = ContactFactory()
    engagement_rule("Page views", "page_view", 10)
    engagement_rule("Forms", "form_submit", 25)
    event(contact, "page_view", days_ago=0)  # 10
    event(contact, "page_view", days_ago=10)  # 5
    event(contact, "page_view", days_ago=20)  # 2.5: 17.5 rounds up to 18
    event(contact, "form_submit", days_ago=5)  # 25 * 2 ** -0.5 = 17.68: 18
    event(contact, "page_view", days_ago=90.5)  # outside the 90-day window
    event(contact, "page_view", days_ago=-1)  # tomorrow: not yet
    event(contact, "content_view", days_ago=1)  # no rule counts it
    changed = services.recompute_all_scores(now=NOW)
    assert changed == [contact.pk]
    assert stored(contact) == (0, 36, 36, 36)
    explanation = explain_score(contact=contact)
    assert explanation.as_of == NOW
    lines = [(x.rule.name, x.points, x.event_count, x.capped) for x in explanation.engagement_rules]
    assert lines == [("Page views", 18, 3, False), ("Forms", 18, 1, False)]
    assert [round(e.points, 6) for e in explanation.engagement_rules[0].events] == [10.0, 5.0, 2.5]
    assert round(explanation.engagement_rules[1].decayed, 4) == 17.6777
    assert explanation.total == 36 and explanation.matches_stored


def test_cap_limits_a_rule_before_rounding(decay_10: LeadSettings) -> None:
    contact = ContactFactory()
    engagement_rule("Page views", "page_view", 10, cap=25)
    engagement_rule("Downloads", "content_download", 7, cap=100)
    for days in (0, 0, 10, 40):
        event(contact, "page_view", days_ago=days)  # 10 + 10 + 5 + 0.625 = 25.625 → cap 25
    event(contact, "content_download", days_ago=10)  # 3.5 rounds up to 4
    services.recompute_all_scores(now=NOW)
    assert stored(contact) == (0, 29, 29, 29)
    explanation = explain_score(contact=contact)
    views, downloads = explanation.engagement_rules
    assert (views.points, views.capped, round(views.decayed, 3)) == (25, True, 25.625)
    assert (downloads.points, downloads.capped) == (4, False)
    assert_explained(contact)


def test_a_capped_rule_without_events_gives_nothing(decay_10: LeadSettings) -> None:
    """Regression: PostgreSQL's LEAST(NULL, cap) is the cap, not nothing."""
    contact = ContactFactory()
    engagement_rule("Page views", "page_view", 10)
    engagement_rule("Downloads", "content_download", 7, cap=20)
    engagement_rule("Bounces", "email_bounce", -5, cap=20)
    event(contact, "page_view", days_ago=0)
    services.recompute_all_scores(now=NOW)
    assert stored(contact) == (0, 10, 10, 10)
    assert [line.rule.name for line in explain_score(contact=contact).engagement_rules] == [
        "Page views"
    ]


def test_negative_rules_lower_engagement_down_to_minus_cap(decay_10: LeadSettings) -> None:
    contact = ContactFactory()
    engagement_rule("Page views", "page_view", 10)
    engagement_rule("Bounces", "email_bounce", -20, cap=30)
    event(contact, "page_view", days_ago=0)
    event(contact, "email_bounce", days_ago=0)
    event(contact, "email_bounce", days_ago=0)  # -40 → capped at -30
    services.recompute_all_scores(now=NOW)
    assert stored(contact) == (0, -20, -20, -20)
    assert_explained(contact)


def test_decay_moves_the_score_as_time_passes(decay_10: LeadSettings) -> None:
    contact = ContactFactory()
    engagement_rule("Page views", "page_view", 40)
    event(contact, "page_view", days_ago=0)
    assert services.recompute_all_scores(now=NOW) == [contact.pk]
    assert stored(contact)[1] == 40
    assert services.recompute_all_scores(now=NOW + timedelta(days=10)) == [contact.pk]
    assert stored(contact)[1] == 20
    assert services.recompute_all_scores(now=NOW + timedelta(days=30)) == [contact.pk]
    assert stored(contact)[1] == 5
    # A later explanation is as of the last computation, so it still adds up.
    assert explain_score(contact=contact).as_of == NOW + timedelta(days=30)
    assert_explained(contact)
    assert services.recompute_all_scores(now=NOW + timedelta(days=91)) == [contact.pk]
    assert stored(contact)[1] == 0
    totals = list(
        ScoreChange.objects.filter(contact=contact).order_by("at").values_list("total", flat=True)
    )
    assert totals == [40, 20, 5, 0]


@pytest.mark.parametrize(
    ("filters", "matching"),
    [
        ([{"property": "form_id", "op": "eq", "value": 3}], {"int3", "str3"}),
        ([{"property": "form_id", "op": "eq", "value": "3"}], {"int3", "str3"}),
        ([{"property": "form_id", "op": "neq", "value": 3}], {"int4", "none", "text"}),
        ([{"property": "slug", "op": "contains", "value": "DEMO"}], {"int3"}),
        ([{"property": "form_id", "op": "gt", "value": 3}], {"int4"}),
        ([{"property": "form_id", "op": "lte", "value": 3.5}], {"int3"}),
        ([{"property": "utm.source", "op": "eq", "value": "news"}], {"int4"}),
        (
            [
                {"property": "form_id", "op": "gte", "value": 3},
                {"property": "slug", "op": "neq", "value": "request-demo"},
            ],
            {"int4"},
        ),
    ],
)
def test_event_filters(
    decay_10: LeadSettings, filters: list[dict[str, Any]], matching: set[str]
) -> None:
    """Each matching event gives 1 point today (no decay), so engagement counts the matches."""
    contacts = {name: ContactFactory() for name in ("int3", "str3", "int4", "none", "text")}
    event(contacts["int3"], "form_submit", days_ago=0, form_id=3, slug="request-demo")
    event(contacts["str3"], "form_submit", days_ago=0, form_id="3")
    event(contacts["int4"], "form_submit", days_ago=0, form_id=4, utm={"source": "news"})
    event(contacts["none"], "form_submit", days_ago=0)
    event(contacts["text"], "form_submit", days_ago=0, form_id="three")
    engagement_rule("Filtered", "form_submit", 1, event_filters=filters)
    services.recompute_all_scores(now=NOW)
    scored = set(LeadScore.objects.filter(engagement=1).values_list("contact__email", flat=True))
    assert scored == {contacts[name].email for name in matching}


# ---------------------------------------------------------------- fit


def test_fit_rules_add_points_for_persona_and_firmographics(world: Any) -> None:
    big = CompanyFactory(employees=500)
    small = CompanyFactory(employees=20)
    buyer = ContactFactory(company=big, persona_id=3)
    small_buyer = ContactFactory(company=small, persona_id=3)
    stranger = ContactFactory(company=None)
    fit_rule("Buyer persona", {"field": "persona", "op": "eq", "value": 3}, 20)
    fit_rule("Big company", {"field": "company.employees", "op": "gte", "value": 200}, 15)
    fit_rule("Gmail", {"field": "email", "op": "contains", "value": "@gmail."}, -10)
    changed = services.recompute_all_scores(now=NOW)
    assert changed == sorted([buyer.pk, small_buyer.pk])
    assert stored(buyer) == (35, 0, 35, 35)
    assert stored(small_buyer) == (20, 0, 20, 20)
    assert not LeadScore.objects.filter(contact=stranger).exists()
    explanation = explain_score(contact=buyer)
    assert [(line.rule.name, line.points) for line in explanation.fit_rules] == [
        ("Buyer persona", 20),
        ("Big company", 15),
    ]
    assert_explained(buyer)
    assert_explained(stranger)


def test_fit_rules_may_not_read_the_score(db: Any) -> None:
    with pytest.raises(InvalidInput) as problem:
        fit_rule("Loop", {"any": [{"field": "fit_score", "op": "gte", "value": 1}]}, 5)
    assert problem.value.field == "condition"
    assert "fit_score" in str(problem.value)


def test_inactive_rules_give_nothing(decay_10: LeadSettings) -> None:
    contact = ContactFactory(persona_id=3)
    fit_rule("Persona", {"field": "persona", "op": "eq", "value": 3}, 20, is_active=False)
    engagement_rule("Views", "page_view", 10, is_active=False)
    engagement_rule("Forms", "form_submit", 5)
    event(contact, "page_view", days_ago=0)
    event(contact, "form_submit", days_ago=0)
    services.recompute_all_scores(now=NOW)
    assert stored(contact) == (0, 5, 5, 5)
    explanation = explain_score(contact=contact)
    assert explanation.fit_rules == []
    assert [line.rule.name for line in explanation.engagement_rules] == ["Forms"]


def test_deleting_a_rule_takes_its_points_away_at_the_recompute(decay_10: LeadSettings) -> None:
    contact = ContactFactory(persona_id=3)
    persona = fit_rule("Persona", {"field": "persona", "op": "eq", "value": 3}, 20)
    engagement_rule("Views", "page_view", 10)
    event(contact, "page_view", days_ago=0)
    services.recompute_all_scores(now=NOW)
    assert stored(contact) == (20, 10, 30, 30)
    services.delete_rule(rule=persona)
    assert services.recompute_all_scores(now=NOW + timedelta(hours=1)) == [contact.pk]
    assert stored(contact) == (0, 10, 10, 10)
    history = list(
        ScoreChange.objects.filter(contact=contact)
        .order_by("at")
        .values_list("fit", "engagement", "total", "cause")
    )
    assert history == [(20, 10, 30, "recompute"), (0, 10, 10, "recompute")]


# ---------------------------------------------------------------- what is written


def test_only_changed_rows_are_written(decay_10: LeadSettings) -> None:
    active, quiet = ContactFactory(), ContactFactory()
    engagement_rule("Views", "page_view", 10)
    event(active, "page_view", days_ago=0)
    assert services.recompute_all_scores(now=NOW) == [active.pk]
    # Same moment again: nothing changes, nothing is written.
    assert services.recompute_all_scores(now=NOW) == []
    assert services.rescore_contacts(contact_ids=[active.pk, quiet.pk], cause="x", now=NOW) == []
    assert ScoreChange.objects.count() == 1
    assert LeadScore.objects.get(contact=active).computed_at == NOW
    assert not LeadScore.objects.filter(contact=quiet).exists()


def test_rescore_contacts_touches_only_those_contacts(decay_10: LeadSettings) -> None:
    first, second = ContactFactory(), ContactFactory()
    engagement_rule("Views", "page_view", 10)
    event(first, "page_view", days_ago=0)
    event(second, "page_view", days_ago=0)
    assert services.rescore_contacts(contact_ids=[first.pk], cause="page_view", now=NOW) == [
        first.pk
    ]
    assert stored(first) == (0, 10, 10, 10)
    assert not LeadScore.objects.filter(contact=second).exists()
    second.refresh_from_db()
    assert second.score == 0
    change = ScoreChange.objects.get()
    assert (change.contact_id, change.cause, change.at) == (first.pk, "page_view", NOW)
    assert services.rescore_contacts(contact_ids=[], cause="x", now=NOW) == []


def test_probability_is_kept_and_a_stale_contact_score_is_repaired(decay_10: LeadSettings) -> None:
    predicted, drifted = ContactFactory(), ContactFactory()
    LeadScore.objects.create(contact=predicted, probability=0.42, computed_at=NOW)
    Contact.objects.filter(pk=drifted.pk).update(score=99)
    engagement_rule("Views", "page_view", 10)
    event(predicted, "page_view", days_ago=0)
    assert services.recompute_all_scores(now=NOW) == [predicted.pk]
    score = LeadScore.objects.get(contact=predicted)
    assert (score.engagement, score.probability) == (10, 0.42)
    drifted.refresh_from_db()
    # The mirror is put right; fit and engagement did not change, so no history row.
    assert drifted.score == 0
    assert not ScoreChange.objects.filter(contact=drifted).exists()


def test_explanations_add_up_to_the_stored_scores(world: Any) -> None:
    """Many contacts, rules with caps and negative points, events of every age: always exact."""
    services.update_scoring_settings(changes={"half_life_days": 7, "engagement_window_days": 60})
    rng = random.Random(4)
    fit_rule("Persona 1", {"field": "persona", "op": "eq", "value": 1}, 13)
    fit_rule("Industry", {"field": "company.industry", "op": "eq", "value": "Software"}, 7)
    engagement_rule("Views", "page_view", 3, cap=20)
    engagement_rule(
        "Demo form",
        "form_submit",
        11,
        event_filters=[{"property": "form_id", "op": "eq", "value": 1}],
    )
    engagement_rule("Downloads", "content_download", 5)
    engagement_rule("Bounces", "email_bounce", -4, cap=9)
    contacts = [ContactFactory(persona_id=rng.choice([None, 1, 2])) for _ in range(25)]
    for contact in contacts:
        for _ in range(rng.randrange(0, 12)):
            kind = rng.choice(["page_view", "form_submit", "content_download", "email_bounce"])
            event(contact, kind, days_ago=rng.uniform(-2, 70), form_id=rng.choice([1, 2]))
    for step in range(4):
        now = NOW + timedelta(days=step * 3.3, minutes=step * 17)
        services.recompute_all_scores(now=now)
        for contact in contacts:
            assert_explained(contact)


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"axis": "both"}, "axis", "not one of"),
        ({"name": "  "}, "name", "name is required"),
        ({"points": 0}, "points", "must not be 0"),
        ({"points": 5000}, "points", "between"),
        ({"event_type": ""}, "event_type", "required"),
        ({"event_type": "page view; drop table"}, "event_type", "not a timeline event type"),
        (
            {"event_filters": [{"property": "x') or 1=1 --", "op": "eq", "value": 1}]},
            "event_filters",
            "property",
        ),
        (
            {"event_filters": [{"property": "form_id", "op": "like", "value": 1}]},
            "event_filters",
            "op",
        ),
        (
            {"event_filters": [{"property": "form_id", "op": "gt", "value": "many"}]},
            "event_filters",
            "number",
        ),
        ({"event_filters": "form_id=3"}, "event_filters", "must be a list"),
        ({"cap": 0}, "cap", "between"),
        (
            {"condition": {"field": "persona", "op": "eq", "value": 1}},
            "condition",
            "fit rules only",
        ),
    ],
)
def test_engagement_rule_validation_names_the_field(
    db: Any, values: dict[str, Any], field: str, words: str
) -> None:
    base = {"axis": "engagement", "name": "Views", "points": 5, "event_type": "page_view"}
    with pytest.raises(InvalidInput) as problem:
        services.create_rule(**{**base, **values})
    assert problem.value.field == field
    assert words in str(problem.value)
    assert not ScoreRule.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"condition": None}, "condition"),
        ({"condition": {"field": "company.size", "op": "eq", "value": 1}}, "condition"),
        ({"condition": {"field": "persona", "op": "eq", "value": 1}, "cap": 5}, "cap"),
        (
            {"condition": {"field": "persona", "op": "eq", "value": 1}, "event_type": "page_view"},
            "event_type",
        ),
    ],
)
def test_fit_rule_validation_names_the_field(db: Any, values: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as problem:
        services.create_rule(**{"axis": "fit", "name": "Fit", "points": 5, **values})
    assert problem.value.field == field


def test_rule_names_are_unique_per_axis(db: Any) -> None:
    first = engagement_rule("Views", "page_view", 5)
    with pytest.raises(Conflict) as problem:
        engagement_rule("Views", "form_submit", 5)
    assert problem.value.existing_id == first.pk
    fit_rule("Views", {"field": "persona", "op": "eq", "value": 1}, 5)  # the other axis may


def test_update_rule(db: Any) -> None:
    rule = engagement_rule("Views", "page_view", 5, cap=10)
    services.update_rule(rule=rule, changes={"points": 7, "cap": None, "is_active": False})
    rule.refresh_from_db()
    assert (rule.points, rule.cap, rule.is_active, rule.position) == (7, None, False, 0)
    with pytest.raises(InvalidInput) as problem:
        services.update_rule(rule=rule, changes={"owner": "x"})
    assert problem.value.field == "owner"
    # Moving to the fit axis drops the event fields and needs a condition.
    services.update_rule(
        rule=rule,
        changes={"axis": "fit", "condition": {"field": "persona", "op": "eq", "value": 2}},
    )
    rule.refresh_from_db()
    assert (rule.axis, rule.event_type, rule.event_filters) == ("fit", "", [])
    assert describe_rule(rule)


def test_rule_positions_follow_on_per_axis(db: Any) -> None:
    a = engagement_rule("A", "page_view", 1)
    b = engagement_rule("B", "page_view", 1)
    c = fit_rule("C", {"field": "persona", "op": "eq", "value": 1}, 1)
    assert (a.position, b.position, c.position) == (0, 1, 0)


def test_rule_and_decay_changes_schedule_a_recompute(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        rule = engagement_rule("Views", "page_view", 5)
        services.update_rule(rule=rule, changes={"points": 6})
        services.delete_rule(rule=rule)
        services.update_scoring_settings(changes={"half_life_days": 45})
        services.update_scoring_settings(changes={"mql_fit_min": 10})  # no rescoring needed
    assert [c.__name__ for c in callbacks] == ["_enqueue_recompute"] * 4


def test_scoring_settings_refuse_other_settings(db: Any) -> None:
    with pytest.raises(InvalidInput) as problem:
        services.update_scoring_settings(changes={"accept_sla_hours": 5})
    assert problem.value.field == "accept_sla_hours"
    with pytest.raises(InvalidInput) as problem:
        services.update_scoring_settings(changes={"half_life_days": 0})
    assert problem.value.field == "half_life_days"


# ---------------------------------------------------------------- per-event rescoring


def test_rescoring_reuses_its_statement_with_each_moment_and_contact(
    decay_10: LeadSettings,
) -> None:
    """The scoped statement is compiled once and reused: `now` and the ids must be swapped in."""
    first, second = ContactFactory(), ContactFactory()
    views = engagement_rule("Views", "page_view", 40)
    event(first, "page_view", days_ago=0)
    event(second, "page_view", days_ago=10)
    assert services.rescore_contacts(contact_ids=[first.pk], cause="t", now=NOW) == [first.pk]
    assert services.rescore_contacts(contact_ids=[second.pk], cause="t", now=NOW) == [second.pk]
    assert (stored(first)[1], stored(second)[1]) == (40, 20)
    later = NOW + timedelta(days=10)
    services.rescore_contacts(contact_ids=[first.pk], cause="t", now=later)
    services.rescore_contacts(contact_ids=[second.pk], cause="t", now=later)
    assert (stored(first)[1], stored(second)[1]) == (20, 10)
    # A changed rule is a different statement.
    services.update_rule(rule=views, changes={"points": 80})
    services.rescore_contacts(contact_ids=[first.pk, second.pk], cause="t", now=later)
    assert (stored(first)[1], stored(second)[1]) == (40, 20)
    # The full recompute agrees with the per-contact one.
    assert services.recompute_all_scores(now=later) == []
    assert_explained(first)
    assert_explained(second)


def test_rescoring_with_a_clock_reading_fit_rule(db: Any) -> None:
    """A fit condition relative to `now` is compiled for each moment."""
    fresh = ContactFactory(created_at=NOW - timedelta(days=5))
    fit_rule("New", {"field": "created_at", "op": "within_last_days", "value": 30}, 10)
    assert services.rescore_contacts(contact_ids=[fresh.pk], cause="t", now=NOW) == [fresh.pk]
    assert stored(fresh) == (10, 0, 10, 10)
    later = NOW + timedelta(days=30)
    assert services.rescore_contacts(contact_ids=[fresh.pk], cause="t", now=later) == [fresh.pk]
    assert stored(fresh) == (0, 0, 0, 0)


def test_rescoring_many_contacts_goes_in_chunks(decay_10: LeadSettings, monkeypatch: Any) -> None:
    from tandem.leads import scoring

    monkeypatch.setattr(scoring, "ID_CHUNK", 2)
    contacts = [ContactFactory() for _ in range(5)]
    engagement_rule("Views", "page_view", 3)
    for contact in contacts:
        event(contact, "page_view", days_ago=0)
    ids = [c.pk for c in contacts]
    assert services.rescore_contacts(contact_ids=[*ids, ids[0]], cause="t", now=NOW) == ids
    assert sorted(LeadScore.objects.values_list("engagement", flat=True)) == [3] * 5
