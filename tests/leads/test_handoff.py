"""Accept / reject (services and API), the lead-quality report, and every hand-off page's permissions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tandem.crm.models import Contact, LifecycleChange
from tandem.errors import InvalidInput
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    MqlCommitment,
    Notification,
    RejectionReason,
    RoutingRule,
)
from tandem.leads.queries import handoff as queries
from tandem.leads.services import handoff
from tests.conftest import World
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.marketing.factories import CampaignFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def pending(world: World, rep: Any = None, *, now: datetime = NOW, **fields: Any) -> LeadAssignment:
    """A contact in MQL with a pending assignment to `rep` (rep1 by default)."""
    rep = rep or world.rep1
    contact = ContactFactory(
        company=CompanyFactory(name="Initrode"),
        lifecycle_stage="mql",
        owner=rep,
        team=rep.team,
        **fields,
    )
    return LeadAssignment.objects.create(
        contact=contact,
        rep=rep,
        team=rep.team,
        qualified_by="MQL rule: fit 52 ≥ 40 and engagement 35 ≥ 30",
        assigned_at=now,
        accept_due_at=now + timedelta(hours=24),
        first_touch_due_at=now + timedelta(hours=48),
        source=fields.get("original_source", "other"),
    )


# ---------------------------------------------------------------- services


def test_the_managed_reasons_are_seeded(db: Any) -> None:
    rows = list(
        RejectionReason.objects.order_by("position").values_list(
            "code", "outcome", "needs_recycle_date"
        )
    )
    assert rows == [
        ("not_a_fit", "disqualify", False),
        ("no_budget", "nurture", False),
        ("bad_data", "disqualify", False),
        ("duplicate", "disqualify", False),
        ("not_now", "nurture", True),
    ]


def test_accept_makes_an_sql(world: World) -> None:
    a = pending(world)
    handoff.accept_lead(contact=a.contact, by=world.rep1, now=NOW + timedelta(hours=2))
    a.refresh_from_db()
    assert (a.status, a.decided_at) == (AssignmentStatus.ACCEPTED, NOW + timedelta(hours=2))
    change = LifecycleChange.objects.get(contact=a.contact)
    assert (change.from_stage, change.to_stage, change.changed_by) == ("mql", "sql", world.rep1)


def test_reject_to_nurture_clears_the_owner_and_says_why(world: World) -> None:
    a = pending(world)
    handoff.reject_lead(
        contact=a.contact,
        by=world.rep1,
        reason="not_now",
        note="Budget in Q3",
        recycle_on=date(2026, 7, 1),
        now=NOW,
    )
    a.refresh_from_db()
    contact = Contact.objects.get(pk=a.contact_id)
    assert (contact.lifecycle_stage, contact.owner) == ("lead", None)
    assert (a.status, a.reason.code, a.note, a.recycle_on) == (
        "rejected",
        "not_now",
        "Budget in Q3",
        date(2026, 7, 1),
    )
    change = LifecycleChange.objects.get(contact=contact)
    assert change.reason == (
        "Rejected by sales: Not now (recycle later) (recycle on 2026-07-01) — Budget in Q3"
    )


def test_reject_as_not_a_fit_disqualifies(world: World) -> None:
    a = pending(world)
    handoff.reject_lead(contact=a.contact, by=world.rep1, reason="not_a_fit", now=NOW)
    contact = Contact.objects.get(pk=a.contact_id)
    assert (contact.lifecycle_stage, contact.owner) == ("disqualified", world.rep1)
    assert LifecycleChange.objects.get(contact=contact).reason == "Rejected by sales: Not a fit"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"reason": "meh"},
            "reason must be one of: not_a_fit, no_budget, bad_data, duplicate, not_now",
        ),
        ({"reason": "not_now"}, "not_now needs a recycle_on date"),
        ({"reason": "not_now", "recycle_on": date(2026, 3, 2)}, "recycle_on must be a date after"),
        (
            {"reason": "duplicate", "recycle_on": date(2026, 5, 1)},
            "recycle_on is only for reasons that send the lead back to nurture",
        ),
    ],
)
def test_reject_refusals(world: World, kwargs: dict[str, Any], message: str) -> None:
    a = pending(world)
    with pytest.raises(InvalidInput) as caught:
        handoff.reject_lead(contact=a.contact, by=world.rep1, now=NOW, **kwargs)
    assert message in str(caught.value)
    a.refresh_from_db()
    assert a.status == AssignmentStatus.PENDING


# ---------------------------------------------------------------- API


def test_inbox_lists_only_my_pending_leads_most_urgent_first(world: World, api_as: Any) -> None:
    later = pending(world, now=NOW + timedelta(hours=1))
    sooner = pending(world, now=NOW)
    pending(world, world.rep2)
    done = pending(world)
    done.status = AssignmentStatus.ACCEPTED
    done.save()
    response = api_as("rep1").get("/leads/inbox")
    assert response.status_code == 200
    body = response.json()
    assert [i["contact_id"] for i in body["items"]] == [sooner.contact_id, later.contact_id]
    assert body["next_cursor"] is None
    item = body["items"][0]
    assert item["sla_due_at"].startswith("2026-03-03T09:00:00")
    assert item["email"] == sooner.contact.email
    assert item["company_name"] == "Initrode"
    assert item["qualified_by"] == "MQL rule: fit 52 ≥ 40 and engagement 35 ≥ 30"
    # Keyset pages.
    first = api_as("rep1").get("/leads/inbox", limit=1).json()
    assert [i["contact_id"] for i in first["items"]] == [sooner.contact_id]
    rest = api_as("rep1").get("/leads/inbox", limit=1, cursor=first["next_cursor"]).json()
    assert [i["contact_id"] for i in rest["items"]] == [later.contact_id]


def test_accept_over_the_api(world: World, api_as: Any) -> None:
    a = pending(world)
    response = api_as("rep1").post(f"/leads/{a.contact_id}/accept")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["lifecycle_stage"] == "sql"
    # Decided: accepting again is a 404 (nothing pending for me).
    assert api_as("rep1").post(f"/leads/{a.contact_id}/accept").status_code == 404


def test_someone_elses_lead_is_a_404(world: World, api_as: Any) -> None:
    a = pending(world, world.rep2)
    for who in ("rep1", "manager", "admin"):
        client = api_as(who)
        assert client.post(f"/leads/{a.contact_id}/accept").status_code == 404
        reject = client.post(f"/leads/{a.contact_id}/reject", {"reason": "duplicate"})
        assert reject.status_code == 404
    assert api_as("rep1").post("/leads/99999999/accept").status_code == 404
    a.refresh_from_db()
    assert a.status == AssignmentStatus.PENDING


def test_reject_over_the_api(world: World, api_as: Any) -> None:
    a = pending(world)
    client = api_as("rep1")
    bad = client.post(f"/leads/{a.contact_id}/reject", {"reason": "bored"})
    assert bad.status_code == 400
    assert bad.json()["detail"] == (
        "reason must be one of: not_a_fit, no_budget, bad_data, duplicate, not_now"
    )
    no_date = client.post(f"/leads/{a.contact_id}/reject", {"reason": "not_now"})
    assert no_date.status_code == 400
    assert "recycle_on" in no_date.json()["detail"]
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    ok = client.post(
        f"/leads/{a.contact_id}/reject",
        {"reason": "not_now", "note": "call in spring", "recycle_on": tomorrow},
    )
    assert ok.status_code == 200
    assert ok.json()["reason"] == "not_now"
    assert ok.json()["lifecycle_stage"] == "lead"
    assert ok.json()["recycle_on"] == tomorrow


def test_inbox_needs_a_key(world: World) -> None:
    assert Client().get("/api/v1/leads/inbox").status_code == 401


# ---------------------------------------------------------------- lead quality


def test_lead_quality_exact_numbers(world: World) -> None:
    # Given five hand-offs in March: three from paid search, two from email
    spring = CampaignFactory(name="Spring")
    base = NOW

    def chain(source: str, campaign: Any, *steps: dict[str, Any]) -> list[LeadAssignment]:
        contact = ContactFactory()
        out = []
        for attempt, step in enumerate(steps, start=1):
            out.append(
                LeadAssignment.objects.create(
                    contact=contact,
                    rep=world.rep1,
                    team=world.east,
                    qualified_by="t",
                    attempt=attempt,
                    source=source,
                    campaign_id=campaign.pk if campaign else None,
                    **step,
                )
            )
        return out

    not_fit = RejectionReason.objects.get(code="not_a_fit")
    no_budget = RejectionReason.objects.get(code="no_budget")
    # paid search 1: accepted, touched 2 h after assignment
    chain(
        "paid_search",
        spring,
        {"assigned_at": base, "status": "accepted", "first_touch_at": base + timedelta(hours=2)},
    )
    # paid search 2: late, re-routed, then accepted and touched 10 h after the first hand-off
    chain(
        "paid_search",
        spring,
        {"assigned_at": base, "status": "rerouted", "accept_breached_at": base},
        {
            "assigned_at": base + timedelta(hours=25),
            "status": "accepted",
            "first_touch_at": base + timedelta(hours=10),
            "touch_breached_at": base + timedelta(hours=60),
        },
    )
    # paid search 3: rejected as not a fit
    chain("paid_search", None, {"assigned_at": base, "status": "rejected", "reason": not_fit})
    # email 1: rejected (no budget); email 2: still pending
    chain("email", None, {"assigned_at": base, "status": "rejected", "reason": no_budget})
    chain("email", None, {"assigned_at": base, "status": "pending"})
    # And one outside the period
    chain("email", None, {"assigned_at": base - timedelta(days=40), "status": "accepted"})

    report = queries.lead_quality(start=date(2026, 3, 1), end=date(2026, 3, 31))
    rows = {r.label: r for r in report.rows}
    paid, email = rows["Paid search"], rows["Email marketing"]
    assert (paid.mqls, paid.accepted, paid.rejected, paid.pending) == (3, 2, 1, 0)
    assert paid.acceptance_rate == 0.6667
    assert paid.reasons == {"not_a_fit": 1}
    assert paid.median_hours_to_first_touch == 6.0
    assert (paid.accept_breaches, paid.touch_breaches, paid.sla_breaches) == (1, 1, 2)
    assert (email.mqls, email.accepted, email.rejected, email.pending) == (2, 0, 1, 1)
    assert email.acceptance_rate == 0.0
    assert email.median_hours_to_first_touch is None
    total = report.total
    assert (total.mqls, total.accepted, total.rejected, total.sla_breaches) == (5, 2, 2, 2)
    assert total.acceptance_rate == 0.5
    assert [r.label for r in report.rows] == ["Paid search", "Email marketing"]

    by_campaign = queries.lead_quality(
        start=date(2026, 3, 1), end=date(2026, 3, 31), group_by="campaign"
    )
    assert {r.label: r.mqls for r in by_campaign.rows} == {"Spring": 2, "None": 3}
    with pytest.raises(InvalidInput, match="group_by must be one of: source, campaign, persona"):
        queries.lead_quality(start=date(2026, 3, 1), end=date(2026, 3, 31), group_by="owner")


def test_commitments_report_delivered_against_target(world: World) -> None:
    from tandem.leads.services import routing

    routing.set_commitment(team=world.east, month="2026-03", target=2)
    for day in (1, 15):
        LeadAssignment.objects.create(
            contact=ContactFactory(),
            team=world.east,
            rep=world.rep1,
            qualified_by="t",
            assigned_at=datetime(2026, 3, day, 12, tzinfo=UTC),
        )
    LeadAssignment.objects.create(
        contact=ContactFactory(),
        team=world.east,
        rep=world.rep1,
        qualified_by="t",
        attempt=2,
        assigned_at=datetime(2026, 3, 20, tzinfo=UTC),
    )
    rows = queries.commitments()
    assert [(r.commitment.team, r.delivered, r.met) for r in rows] == [(world.east, 2, True)]
    assert MqlCommitment.objects.get().month == date(2026, 3, 1)


# ---------------------------------------------------------------- pages

PAGES = {
    # url name → who gets 200 (everyone else 403)
    "web:lead_inbox": {"admin", "marketing", "manager", "rep1", "rep2", "rep3"},
    "web:notifications": {"admin", "marketing", "manager", "rep1", "rep2", "rep3"},
    "web:handoff": {"admin", "marketing", "manager"},
    "web:routing": {"admin", "marketing", "manager"},
    "web:routing_rule_new": {"admin", "manager"},
    "web:lead_quality": {"admin", "marketing", "manager"},
}


@pytest.mark.parametrize("name", PAGES)
def test_page_permissions(world: World, client_as: Any, name: str) -> None:
    pending(world)
    for who in world.users():
        expected = 200 if who in PAGES[name] else 403
        assert client_as(who).get(reverse(name)).status_code == expected, (name, who)


def test_anonymous_is_sent_to_sign_in(world: World) -> None:
    response = Client().get(reverse("web:lead_inbox"))
    assert response.status_code == 302


def test_inbox_page_shows_countdown_and_accepts_with_htmx(world: World, client_as: Any) -> None:
    a = pending(world, now=timezone.now() - timedelta(hours=21, minutes=1))
    late = pending(world, now=timezone.now() - timedelta(hours=26, minutes=1))
    page = client_as("rep1").get(reverse("web:lead_inbox")).content.decode()
    assert "due in 2 h" in page
    assert "overdue by 2 h" in page
    response = client_as("rep1").post(
        reverse("web:lead_accept", args=[a.contact_id]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="lead-inbox"' in body and "<html" not in body
    assert f"lead-{a.contact_id}" not in body and f"lead-{late.contact_id}" in body
    a.refresh_from_db()
    assert a.status == AssignmentStatus.ACCEPTED


def test_inbox_page_reject_errors_and_other_reps(world: World, client_as: Any) -> None:
    a = pending(world)
    url = reverse("web:lead_reject", args=[a.contact_id])
    assert client_as("rep2").post(url, {"reason": "duplicate"}).status_code == 404
    bad = client_as("rep1").post(url, {"reason": "not_now"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    assert "not_now needs a recycle_on date" in bad.content.decode()
    ok = client_as("rep1").post(url, {"reason": "duplicate", "note": "<b>dupe</b>"})
    assert ok.status_code == 302
    a.refresh_from_db()
    assert (a.status, a.note) == ("rejected", "<b>dupe</b>")
    # Notes are escaped on the contact panel.
    panel = client_as("manager").get(reverse("web:contact_handoff", args=[a.contact_id]))
    assert "&lt;b&gt;dupe&lt;/b&gt;" in panel.content.decode()


def test_contact_panel_is_404_for_contacts_one_cannot_see(world: World, client_as: Any) -> None:
    a = pending(world)
    url = reverse("web:contact_handoff", args=[a.contact_id])
    assert client_as("rep3").get(url).status_code == 404
    mine = client_as("rep1").get(url)
    assert mine.status_code == 200
    assert "Accept or reject in your inbox" in mine.content.decode()
    assert "Awaiting decision" in mine.content.decode()


def test_notifications_mark_read(world: World, client_as: Any) -> None:
    for i in range(2):
        handoff.notify(user=world.rep1, kind="k", text=f"note {i}", key=f"k{i}", now=NOW)
    handoff.notify(user=world.rep2, kind="k", text="theirs", key="k9", now=NOW)
    first = Notification.objects.filter(user=world.rep1).order_by("id").first()
    page = client_as("rep1").get(reverse("web:notifications")).content.decode()
    assert "note 0" in page and "theirs" not in page
    client_as("rep1").post(reverse("web:notifications_read"), {"id": first.pk})
    assert Notification.objects.filter(user=world.rep1, read_at__isnull=True).count() == 1
    # Someone else's id marks nothing.
    theirs = Notification.objects.get(user=world.rep2)
    client_as("rep1").post(reverse("web:notifications_read"), {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None
    client_as("rep1").post(reverse("web:notifications_read"))
    assert Notification.objects.filter(user=world.rep1, read_at__isnull=True).count() == 0


def test_manager_view_shows_load_and_breaches(world: World, client_as: Any) -> None:
    a = pending(world)
    a.accept_breached_at = NOW
    a.save()
    page = client_as("manager").get(reverse("web:handoff")).content.decode()
    assert "not accepted in time" in page
    assert "Sales East" in page and "Sales West" not in page
    assert "<h3>Sales West</h3>" in client_as("admin").get(reverse("web:handoff")).content.decode()
    # Only reps of the manager's own team are offered for hand assignment.
    assert f'<option value="{world.rep2.pk}">' in page
    assert f'<option value="{world.rep3.pk}">' not in page


def test_manager_sets_away_and_capacity(world: World, client_as: Any) -> None:
    url = reverse("web:handoff_rep", args=[world.rep2.pk])
    assert client_as("marketing").post(url, {"is_away": "on"}).status_code == 403
    assert (
        client_as("manager").post(url, {"is_away": "on", "max_open_leads": "4"}).status_code == 302
    )
    world.rep2.refresh_from_db()
    assert world.rep2.is_away is True
    # Another team's rep: refused with a message, nothing changes.
    client_as("manager").post(reverse("web:handoff_rep", args=[world.rep3.pk]), {"is_away": "on"})
    world.rep3.refresh_from_db()
    assert world.rep3.is_away is False


def test_routing_editor_and_settings(world: World, client_as: Any) -> None:
    manager = client_as("manager")
    created = manager.post(
        reverse("web:routing_rule_new"),
        {
            "name": "Big East",
            "position": "3",
            "is_active": "on",
            "team": str(world.east.pk),
            "method": "capacity",
            "min_employees": "500",
        },
    )
    assert created.status_code == 302
    rule = RoutingRule.objects.get(name="Big East")
    assert (rule.team, rule.method, rule.min_employees, rule.max_employees) == (
        world.east,
        "capacity",
        500,
        None,
    )
    bad = manager.post(
        reverse("web:routing_rule_edit", args=[rule.pk]),
        {
            "name": "Big East",
            "position": "3",
            "team": str(world.east.pk),
            "method": "capacity",
            "min_employees": "500",
            "max_employees": "10",
        },
    )
    assert bad.status_code == 422
    assert "min_employees must not be above max_employees" in bad.content.decode()
    assert (
        client_as("marketing").post(reverse("web:routing_rule_delete", args=[rule.pk])).status_code
        == 403
    )
    assert manager.post(reverse("web:routing_rule_delete", args=[rule.pk])).status_code == 302
    assert not RoutingRule.objects.exists()
    settings = {
        "accept_sla_hours": "8",
        "first_touch_sla_hours": "24",
        "max_reroutes": "1",
        "default_capacity": "10",
    }
    assert client_as("marketing").post(reverse("web:routing_settings"), settings).status_code == 403
    assert manager.post(reverse("web:routing_settings"), settings).status_code == 302
    cfg = handoff.lead_settings()
    assert (cfg.accept_sla_hours, cfg.max_reroutes, cfg.default_capacity) == (8, 1, 10)
    refused = manager.post(reverse("web:routing_settings"), {**settings, "max_reroutes": "99"})
    assert refused.status_code == 422
    commitment = {"team": str(world.east.pk), "month": "2026-04", "target": "30"}
    assert client_as("rep1").post(reverse("web:mql_commitment"), commitment).status_code == 403
    assert manager.post(reverse("web:mql_commitment"), commitment).status_code == 302
    assert MqlCommitment.objects.get().target == 30


def test_quality_page_filters_and_group_by_allow_list(world: World, client_as: Any) -> None:
    pending(world, now=timezone.now(), original_source="paid_search")
    client = client_as("marketing")
    page = client.get(reverse("web:lead_quality")).content.decode()
    assert "Paid search" in page
    # An unknown group-by falls back to the default rather than reaching the query.
    odd = client.get(reverse("web:lead_quality"), {"group_by": "owner; drop table"})
    assert odd.status_code == 200
    persona = client.get(
        reverse("web:lead_quality"), {"group_by": "persona"}, HTTP_HX_REQUEST="true"
    )
    assert persona.status_code == 200
    assert 'id="quality-table"' in persona.content.decode()
    empty = client.get(reverse("web:lead_quality"), {"start": "2020-01-01", "end": "2020-01-31"})
    assert "No MQLs were handed off" in empty.content.decode()


def test_manager_assigns_an_unrouted_lead_from_the_page(world: World, client_as: Any) -> None:
    contact = ContactFactory(lifecycle_stage="mql")
    waiting = handoff.route_lead(contact=contact, qualified_by="q", now=NOW)
    assert waiting.status == AssignmentStatus.UNROUTED
    url = reverse("web:handoff_assign", args=[contact.pk])
    assert client_as("marketing").post(url, {"rep": world.rep1.pk}).status_code == 403
    assert client_as("manager").post(url, {"rep": world.rep1.pk}).status_code == 302
    live = LeadAssignment.objects.get(contact=contact, status="pending")
    assert (live.rep, live.attempt) == (world.rep1, 2)


def test_inbox_page_queries_do_not_grow_with_leads(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(15):
        pending(world)
    client = client_as("rep1")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("web:lead_inbox"))
    assert response.content.decode().count('class="primary">Accept</button>') == 15


def test_handoff_page_queries_do_not_grow_with_breaches(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(12):
        a = pending(world)
        a.accept_breached_at = NOW
        a.save()
    client = client_as("manager")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("web:handoff"))
    assert response.content.decode().count("not accepted in time") == 12
