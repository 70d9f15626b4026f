"""Scoring pages: who sees and changes what, form errors, the contact panel, escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from tandem.crm.models import TimelineEvent
from tandem.leads.models import LeadSettings, ScoreChange, ScoreRule
from tandem.leads.services import scoring as services

XSS = "<script>alert(1)</script>"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def views_rule(**extra: Any) -> ScoreRule:
    return services.create_rule(
        axis="engagement", name="Page views", points=5, event_type="page_view", **extra
    )


def test_anonymous_users_are_sent_to_sign_in(db: Any) -> None:
    for url in ("/leads/scoring/", "/leads/scoring/rules/new/", "/leads/contacts/1/score/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_reps_see_rules_and_settings_but_no_editing(world: Any, client_as: Any) -> None:
    rule = views_rule(cap=10)
    page = client_as("rep1").get("/leads/scoring/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Page views" in html
    assert "each page_view, at most 10 points" in html
    assert "/leads/scoring/rules/new/" not in html
    assert f"/leads/scoring/rules/{rule.pk}/edit/" not in html
    assert 'action="/leads/scoring/settings/"' not in html
    client = client_as("rep1")
    assert client.get("/leads/scoring/rules/new/").status_code == 403
    assert client.post("/leads/scoring/rules/new/", {"axis": "fit"}).status_code == 403
    assert client.get(f"/leads/scoring/rules/{rule.pk}/edit/").status_code == 403
    assert client.post(f"/leads/scoring/rules/{rule.pk}/delete/").status_code == 403
    assert client.post("/leads/scoring/settings/", {"half_life_days": 2}).status_code == 403
    assert ScoreRule.objects.count() == 1


def test_marketing_creates_an_engagement_rule_with_filters(world: Any, client_as: Any) -> None:
    client = client_as("marketing")
    page = client.get("/leads/scoring/rules/new/?axis=engagement")
    assert page.status_code == 200
    assert 'name="filter_property"' in page.content.decode()
    response = client.post(
        "/leads/scoring/rules/new/",
        {
            "axis": "engagement",
            "name": "Demo form",
            "points": "30",
            "event_type": "form_submit",
            "filter_property": ["form_slug", ""],
            "filter_op": ["eq", "eq"],
            "filter_value": ["request-demo", ""],
            "cap": "60",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/leads/scoring/"
    rule = ScoreRule.objects.get()
    assert (rule.axis, rule.points, rule.cap, rule.event_filters) == (
        "engagement",
        30,
        60,
        [{"property": "form_slug", "op": "eq", "value": "request-demo"}],
    )


def test_marketing_creates_and_edits_a_fit_rule(world: Any, client_as: Any) -> None:
    client = client_as("marketing")
    response = client.post(
        "/leads/scoring/rules/new/",
        {
            "axis": "fit",
            "name": "Big company",
            "points": "15",
            "condition": '{"field": "company.employees", "op": "gte", "value": 200}',
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = ScoreRule.objects.get()
    assert rule.condition == {"field": "company.employees", "op": "gte", "value": 200}
    page = client.get(f"/leads/scoring/rules/{rule.pk}/edit/")
    assert "company.employees" in page.content.decode()
    response = client.post(
        f"/leads/scoring/rules/{rule.pk}/edit/",
        {
            "axis": "fit",
            "name": "Big company",
            "points": "20",
            "condition": page.context["form"]["condition"].value(),
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.points, rule.is_active) == (20, False)


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (
            {"axis": "fit", "name": "F", "points": "3", "condition": "{not json"},
            "condition is not valid JSON",
        ),
        ({"axis": "fit", "name": "F", "points": "3", "condition": ""}, "condition is required"),
        (
            {
                "axis": "fit",
                "name": "F",
                "points": "3",
                "condition": '{"field": "salary", "op": "eq", "value": 1}',
            },
            "salary",
        ),
        (
            {"axis": "engagement", "name": "E", "points": "3", "event_type": "Page View"},
            "not a timeline event type",
        ),
        (
            {
                "axis": "engagement",
                "name": "E",
                "points": "3",
                "event_type": "page_view",
                "filter_property": "x",
                "filter_op": "gt",
                "filter_value": "lots",
            },
            "must be a number",
        ),
        (
            {"axis": "engagement", "name": "E", "points": "0", "event_type": "page_view"},
            "points must not be 0",
        ),
    ],
)
def test_rule_form_shows_errors(
    world: Any, client_as: Any, post: dict[str, str], message: str
) -> None:
    response = client_as("marketing").post("/leads/scoring/rules/new/", post)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ScoreRule.objects.exists()


def test_a_taken_name_shows_on_the_name_field(world: Any, client_as: Any) -> None:
    views_rule()
    response = client_as("marketing").post(
        "/leads/scoring/rules/new/",
        {"axis": "engagement", "name": "Page views", "points": "3", "event_type": "form_submit"},
    )
    assert response.status_code == 422
    assert "already exists" in response.context["form"].errors["name"][0]


def test_delete_a_rule(world: Any, client_as: Any) -> None:
    rule = views_rule()
    response = client_as("admin").post(f"/leads/scoring/rules/{rule.pk}/delete/")
    assert response.status_code == 302
    assert not ScoreRule.objects.exists()


def test_settings_form(world: Any, client_as: Any) -> None:
    client = client_as("marketing")
    fields = {
        "half_life_days": "21",
        "engagement_window_days": "180",
        "mql_fit_min": "35",
        "mql_engagement_min": "25",
        "mql_probability_min": "0.7",
    }
    assert client.post("/leads/scoring/settings/", fields).status_code == 302
    row = LeadSettings.objects.get()
    assert (row.half_life_days, row.engagement_window_days, row.mql_fit_min) == (21, 180, 35)
    assert str(row.mql_probability_min) == "0.700"
    assert row.mql_on_hand_raise is False  # an unticked box
    response = client.post("/leads/scoring/settings/", {**fields, "half_life_days": "0"})
    assert response.status_code == 422
    assert response.context["settings_form"].errors["half_life_days"]
    assert LeadSettings.objects.get().half_life_days == 21


def test_contact_panel_explains_the_score(world: Any, client_as: Any) -> None:
    contact = world.rep1_contact
    services.create_rule(
        axis="fit",
        name=XSS,
        points=12,
        condition={"field": "email", "op": "contains", "value": "acme"},
    )
    views_rule(cap=4)
    TimelineEvent.objects.create(
        type="page_view", occurred_at=NOW, contact=contact, idempotency_key="page-1"
    )
    TimelineEvent.objects.create(
        type="page_view", occurred_at=NOW, contact=contact, idempotency_key="page-2"
    )
    services.rescore_contacts(contact_ids=[contact.pk], cause="page_view", now=NOW)
    response = client_as("rep1").get(f"/leads/contacts/{contact.pk}/score/")
    assert response.status_code == 200
    html = response.content.decode()
    explanation = response.context["explanation"]
    assert (explanation.fit, explanation.engagement, explanation.total) == (12, 4, 16)
    assert "capped at 4" in html
    assert XSS not in html and "&lt;script&gt;" in html
    assert [h.total for h in response.context["history"]] == [16]
    assert ScoreChange.objects.get().cause == "page_view"
    # Someone who may not see the contact gets a 404.
    assert client_as("rep3").get(f"/leads/contacts/{contact.pk}/score/").status_code == 404


def test_contact_page_loads_the_panel_lazily(world: Any, client_as: Any) -> None:
    contact = world.rep1_contact
    html = client_as("rep1").get(f"/contacts/{contact.pk}/").content.decode()
    assert f'hx-get="/leads/contacts/{contact.pk}/score/" hx-trigger="load"' in html
