"""/api/v1/scoring: everyone signed in reads, marketing and admins write; 400s name the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tandem.crm.models import TimelineEvent
from tandem.leads.models import LeadSettings, ScoreRule
from tandem.leads.services import scoring as services

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
VIEWS = {
    "axis": "engagement",
    "name": "Page views",
    "points": 5,
    "event_type": "page_view",
    "cap": 20,
}


def test_marketing_creates_an_engagement_rule(world: Any, api_as: Any) -> None:
    response = api_as("marketing").post(
        "/scoring/rules",
        {**VIEWS, "event_filters": [{"property": "utm.source", "op": "eq", "value": "news"}]},
    )
    assert response.status_code == 201
    body = response.json()
    rule = ScoreRule.objects.get()
    assert body == {
        "id": rule.pk,
        "axis": "engagement",
        "name": "Page views",
        "position": 0,
        "is_active": True,
        "points": 5,
        "condition": {},
        "event_type": "page_view",
        "event_filters": [{"property": "utm.source", "op": "eq", "value": "news"}],
        "cap": 20,
        "description": "each page_view where utm.source is news, at most 20 points",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


def test_admin_creates_a_fit_rule(world: Any, api_as: Any) -> None:
    condition = {"field": "company.employees", "op": "gte", "value": 200}
    response = api_as("admin").post(
        "/scoring/rules", {"axis": "fit", "name": "Big", "points": 15, "condition": condition}
    )
    assert response.status_code == 201
    assert response.json()["condition"] == condition


@pytest.mark.parametrize("role", ["manager", "rep1"])
def test_sales_reads_but_may_not_change_rules(world: Any, api_as: Any, role: str) -> None:
    rule = services.create_rule(**VIEWS)
    client = api_as(role)
    assert client.get("/scoring/rules").json()["items"][0]["id"] == rule.pk
    assert client.get(f"/scoring/rules/{rule.pk}").status_code == 200
    assert client.get("/scoring/settings").status_code == 200
    assert client.post("/scoring/rules", {**VIEWS, "name": "Other"}).status_code == 403
    assert client.patch(f"/scoring/rules/{rule.pk}", {"points": 1}).status_code == 403
    assert client.delete(f"/scoring/rules/{rule.pk}").status_code == 403
    assert client.patch("/scoring/settings", {"half_life_days": 3}).status_code == 403
    assert ScoreRule.objects.get().points == 5
    assert LeadSettings.objects.get().half_life_days == 30


def test_anonymous_callers_get_401(db: Any, api_as: Any) -> None:
    from django.test import Client

    assert Client().get("/api/v1/scoring/rules").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VIEWS, "axis": "both"}, "axis"),
        ({**VIEWS, "points": 0}, "points"),
        ({**VIEWS, "event_type": "page view"}, "event_type"),
        (
            {**VIEWS, "event_filters": [{"property": "a;b", "op": "eq", "value": 1}]},
            "event_filters",
        ),
        ({**VIEWS, "cap": 0}, "cap"),
        ({"axis": "fit", "name": "F", "points": 3}, "condition"),
        (
            {
                "axis": "fit",
                "name": "F",
                "points": 3,
                "condition": {"field": "salary", "op": "eq", "value": 1},
            },
            "condition",
        ),
    ],
)
def test_invalid_rules_are_400s_naming_the_field(
    world: Any, api_as: Any, body: dict[str, Any], field: str
) -> None:
    response = api_as("marketing").post("/scoring/rules", body)
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert not ScoreRule.objects.exists()


def test_a_taken_name_is_a_409(world: Any, api_as: Any) -> None:
    rule = services.create_rule(**VIEWS)
    response = api_as("marketing").post("/scoring/rules", VIEWS)
    assert response.status_code == 409
    assert response.json()["existing_id"] == rule.pk


def test_patch_and_delete_a_rule(world: Any, api_as: Any) -> None:
    rule = services.create_rule(**VIEWS)
    client = api_as("marketing")
    response = client.patch(f"/scoring/rules/{rule.pk}", {"points": 8, "cap": None})
    assert response.status_code == 200
    assert (response.json()["points"], response.json()["cap"]) == (8, None)
    response = client.patch(f"/scoring/rules/{rule.pk}", {"name": None})
    assert response.status_code == 400
    assert "name" in response.json()["detail"]
    assert client.delete(f"/scoring/rules/{rule.pk}").status_code == 204
    assert client.get(f"/scoring/rules/{rule.pk}").status_code == 404


def test_list_filters_by_axis(world: Any, api_as: Any) -> None:
    services.create_rule(**VIEWS)
    fit = services.create_rule(
        axis="fit", name="P", points=2, condition={"field": "persona", "op": "eq", "value": 1}
    )
    client = api_as("rep1")
    assert [r["id"] for r in client.get("/scoring/rules", axis="fit").json()["items"]] == [fit.pk]
    response = client.get("/scoring/rules", axis="other")
    assert response.status_code == 400 and "axis" in response.json()["detail"]


def test_settings(world: Any, api_as: Any) -> None:
    client = api_as("marketing")
    response = client.patch(
        "/scoring/settings",
        {"half_life_days": 14, "engagement_window_days": 120, "mql_probability_min": "0.6"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "half_life_days": 14,
        "engagement_window_days": 120,
        "mql_fit_min": 40,
        "mql_engagement_min": 30,
        "mql_probability_min": "0.600",
        "mql_on_hand_raise": True,
    }
    response = client.patch("/scoring/settings", {"half_life_days": 0})
    assert response.status_code == 400
    assert "half_life_days" in response.json()["detail"]
    response = client.patch("/scoring/settings", {"mql_probability_min": 2})
    assert response.status_code == 400
    assert "mql_probability_min" in response.json()["detail"]


def test_contact_explanation(world: Any, api_as: Any) -> None:
    contact = world.rep1_contact
    services.create_rule(**VIEWS)
    services.update_scoring_settings(changes={"half_life_days": 10})
    for days in (0, 10):
        TimelineEvent.objects.create(
            type="page_view",
            occurred_at=NOW - timedelta(days=days),
            contact=contact,
            idempotency_key=f"api-score-{days}",
        )
    services.rescore_contacts(contact_ids=[contact.pk], cause="test", now=NOW)
    response = api_as("rep1").get(f"/scoring/contacts/{contact.pk}")
    assert response.status_code == 200
    body = response.json()
    rule = ScoreRule.objects.get()
    event_ids = list(
        TimelineEvent.objects.filter(contact=contact)
        .order_by("-occurred_at")
        .values_list("id", flat=True)
    )
    assert body == {
        "contact_id": contact.pk,
        "as_of": "2026-06-01T12:00:00Z",
        "half_life_days": 10,
        "engagement_window_days": 365,
        "fit": 0,
        "engagement": 8,
        "total": 8,
        "probability": None,
        "matches_stored": True,
        "fit_rules": [],
        "engagement_rules": [
            {
                "rule_id": rule.pk,
                "name": "Page views",
                "points": 8,
                "decayed": 7.5,
                "capped": False,
                "cap": 20,
                "event_count": 2,
                "events": [
                    {
                        "id": event_ids[0],
                        "type": "page_view",
                        "occurred_at": "2026-06-01T12:00:00Z",
                        "points": 5.0,
                    },
                    {
                        "id": event_ids[1],
                        "type": "page_view",
                        "occurred_at": "2026-05-22T12:00:00Z",
                        "points": 2.5,
                    },
                ],
            }
        ],
    }
    # A contact the caller may not see is a 404.
    assert api_as("rep3").get(f"/scoring/contacts/{contact.pk}").status_code == 404
    assert api_as("rep1").get("/scoring/contacts/999999").status_code == 404
