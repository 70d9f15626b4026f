"""Activities on deals, tasks with due dates and reminders, the tasks API and the deal panel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tandem.crm.models import Activity, TimelineEvent
from tandem.errors import Forbidden, InvalidInput
from tandem.leads.models import Notification
from tandem.sales.models import Deal, DealContact
from tandem.sales.services import activities
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.sales.factories import DealFactory

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def deal(world: World) -> Deal:
    """rep1's deal with Acme: Ann (primary champion) and an influencer."""
    d = DealFactory(name="Acme platform", owner=world.rep1, company=world.acme)
    DealContact.objects.create(
        deal=d, contact=world.rep1_contact, role="champion", is_primary=True, added_at=NOW
    )
    influencer = ContactFactory(company=world.acme, owner=world.rep1, team=world.east)
    DealContact.objects.create(deal=d, contact=influencer, role="influencer", added_at=NOW)
    return d


@pytest.fixture
def run_commit(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    def run(fn: Callable[..., Any], **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


# ---------------------------------------------------------------- logging on deals


def test_a_call_on_a_deal_goes_to_its_primary_contact_and_timeline(
    world: World, deal: Deal
) -> None:
    call = activities.log_deal_activity(
        deal=deal,
        kind="call",
        by=world.rep1,
        subject="Discovery call",
        call_outcome="connected",
        duration_seconds=900,
        occurred_at=NOW,
    )
    assert (call.deal_id, call.contact, call.company, call.owner, call.team) == (
        deal.pk,
        world.rep1_contact,
        world.acme,
        world.rep1,
        world.east,
    )
    event = TimelineEvent.objects.get(type="activity_call", contact=world.rep1_contact)
    assert event.properties["deal_id"] == deal.pk
    assert event.occurred_at == NOW


def test_an_inbound_email_on_a_deal_keeps_its_direction(world: World, deal: Deal) -> None:
    email = activities.log_deal_activity(
        deal=deal, kind="email", by=world.rep1, direction="inbound", subject="Re: pricing"
    )
    assert (email.direction, email.kind) == ("inbound", "email")


def test_a_contact_not_on_the_deal_is_refused(world: World, deal: Deal) -> None:
    with pytest.raises(InvalidInput) as err:
        activities.log_deal_activity(
            deal=deal, kind="note", by=world.rep1, contact=world.east_unassigned
        )
    assert err.value.field == "contact"


def test_a_deal_without_contacts_logs_on_its_company(world: World) -> None:
    bare = DealFactory(owner=world.rep1, company=world.acme)
    note = activities.log_deal_activity(deal=bare, kind="note", by=world.rep1, body="hi")
    assert (note.contact, note.company, note.deal_id) == (None, world.acme, bare.pk)


@pytest.mark.parametrize("who", ["rep2", "rep3", "marketing"])
def test_only_who_may_edit_the_deal_logs_on_it(world: World, deal: Deal, who: str) -> None:
    with pytest.raises(Forbidden):
        activities.log_deal_activity(deal=deal, kind="note", by=world.users()[who])


def test_the_manager_logs_on_a_team_deal(world: World, deal: Deal) -> None:
    note = activities.log_deal_activity(deal=deal, kind="note", by=world.manager)
    assert note.owner == world.manager


def test_a_task_needs_a_due_date_and_a_reminder_before_it(world: World, deal: Deal) -> None:
    with pytest.raises(InvalidInput) as err:
        activities.log_deal_activity(deal=deal, kind="task", by=world.rep1, subject="x")
    assert err.value.field == "due_at"
    with pytest.raises(InvalidInput) as err:
        activities.log_deal_activity(
            deal=deal,
            kind="task",
            by=world.rep1,
            due_at=NOW,
            remind_at=NOW + timedelta(hours=1),
        )
    assert err.value.field == "remind_at"


# ---------------------------------------------------------------- tasks and reminders


def test_create_task_on_a_contact_or_a_deal(world: World, deal: Deal) -> None:
    on_contact = activities.create_task(
        by=world.rep1,
        subject="Send deck",
        due_at=NOW + timedelta(days=1),
        remind_at=NOW,
        contact=world.rep1_contact,
    )
    assert (on_contact.kind, on_contact.deal_id, on_contact.remind_at) == ("task", None, NOW)
    on_deal = activities.create_task(
        by=world.rep1, subject="Proposal", due_at=NOW + timedelta(days=2), deal=deal
    )
    assert (on_deal.deal_id, on_deal.contact) == (deal.pk, world.rep1_contact)
    with pytest.raises(Forbidden):
        activities.create_task(by=world.rep1, subject="x", due_at=NOW, contact=world.rep2_contact)
    with pytest.raises(Forbidden):
        activities.create_task(
            by=world.marketer, subject="x", due_at=NOW, contact=world.rep2_contact
        )
    with pytest.raises(InvalidInput):
        activities.create_task(by=world.rep1, subject=" ", due_at=NOW, contact=world.rep1_contact)


def test_reminders_are_sent_once_per_task(
    world: World, deal: Deal, run_commit: Callable[..., Any]
) -> None:
    due = activities.create_task(
        by=world.rep1,
        subject="Call back",
        due_at=NOW + timedelta(hours=2),
        remind_at=NOW - timedelta(minutes=5),
        contact=world.rep1_contact,
    )
    later = activities.create_task(
        by=world.rep1,
        subject="Later",
        due_at=NOW + timedelta(days=2),
        remind_at=NOW + timedelta(days=1),
        contact=world.rep1_contact,
    )
    done = activities.create_task(
        by=world.rep1,
        subject="Done already",
        due_at=NOW,
        remind_at=NOW - timedelta(hours=1),
        contact=world.rep1_contact,
    )
    Activity.objects.filter(pk=done.pk).update(done_at=NOW - timedelta(hours=2))
    # When the reminder job runs twice
    assert run_commit(activities.send_due_reminders, now=NOW) == 1
    assert run_commit(activities.send_due_reminders, now=NOW + timedelta(minutes=5)) == 0
    # Then rep1 has exactly one notification, for the due task
    notes = list(Notification.objects.filter(user=world.rep1).values_list("kind", "text"))
    assert notes == [("task_reminder", "Reminder: Call back (due Dec 3, 12:00 UTC)")]
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.reminded_at, later.reminded_at) == (NOW, None)


# ---------------------------------------------------------------- API


def test_api_tasks_by_due_window(world: World, api_as: Any) -> None:
    now = timezone.now()
    api = api_as("rep1")
    made = {}
    for name, due in (
        ("overdue", now - timedelta(hours=1)),
        ("upcoming", now + timedelta(days=3)),
    ):
        r = api.post(
            "/tasks",
            {"subject": name, "due_at": due.isoformat(), "contact_id": world.rep1_contact.pk},
        )
        assert r.status_code == 201, r.content
        made[name] = r.json()["id"]
    activities.create_task(by=world.rep2, subject="rep2's", due_at=now, contact=world.rep2_contact)
    assert [t["subject"] for t in api.get("/tasks", due="overdue").json()["items"]] == ["overdue"]
    assert [t["subject"] for t in api.get("/tasks", due="upcoming").json()["items"]] == ["upcoming"]
    assert api.get("/tasks", due="someday").status_code == 400
    # Done: another rep's task is a 404; marketing may not keep tasks.
    assert api_as("rep2").post(f"/tasks/{made['overdue']}/done").status_code == 404
    assert api_as("rep3").post(f"/tasks/{made['overdue']}/done").status_code == 404
    done = api.post(f"/tasks/{made['overdue']}/done")
    assert done.status_code == 200 and done.json()["done_at"] is not None
    assert api.get("/tasks", due="overdue").json()["items"] == []
    assert api_as("marketing").get("/tasks").status_code == 403


def test_api_task_on_a_deal_and_ownership(world: World, deal: Deal, api_as: Any) -> None:
    due = (timezone.now() + timedelta(days=1)).isoformat()
    r = api_as("rep1").post("/tasks", {"subject": "Proposal", "due_at": due, "deal_id": deal.pk})
    assert r.status_code == 201
    assert (r.json()["deal_id"], r.json()["contact_id"]) == (deal.pk, world.rep1_contact.pk)
    assert (
        api_as("rep3").post("/tasks", {"subject": "x", "due_at": due, "deal_id": deal.pk})
    ).status_code == 404
    assert (
        api_as("rep1").post(
            "/tasks", {"subject": "x", "due_at": due, "contact_id": world.rep3_contact.pk}
        )
    ).status_code == 404
    bad = api_as("rep1").post(
        "/tasks",
        {
            "subject": "x",
            "due_at": due,
            "remind_at": "2099-01-01T00:00:00Z",
            "contact_id": world.rep1_contact.pk,
        },
    )
    assert bad.status_code == 400 and "remind_at" in bad.json()["detail"]


# ---------------------------------------------------------------- the deal's activities panel


def test_deal_panel_lists_activities_and_logs_a_call(
    world: World, deal: Deal, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(5):
        activities.log_deal_activity(deal=deal, kind="note", by=world.rep1, subject=f"n{i}")
    url = reverse("web:deal_activities", args=[deal.pk])
    client = client_as("rep1")
    with django_assert_max_num_queries(8):
        panel = client.get(url, HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert panel.status_code == 200
    assert html.count('id="deal-activity-') == 5 and "Log a call" in html
    logged = client.post(
        url,
        {
            "kind": "call",
            "subject": "Pricing call",
            "call_outcome": "connected",
            "duration_minutes": "20",
        },
        HTTP_HX_REQUEST="true",
    )
    assert logged.status_code == 200
    assert "Call logged." in logged.content.decode()
    call = Activity.objects.get(subject="Pricing call")
    assert (call.deal_id, call.duration_seconds, call.contact) == (
        deal.pk,
        1200,
        world.rep1_contact,
    )


def test_deal_panel_logs_a_task_with_reminder_and_shows_form_errors(
    world: World, deal: Deal, client_as: Any
) -> None:
    url = reverse("web:deal_activities", args=[deal.pk])
    client = client_as("rep1")
    ok = client.post(
        url,
        {
            "kind": "task",
            "subject": "Send contract",
            "due_at": "2026-12-10T15:00",
            "remind_at": "2026-12-10T09:00",
        },
    )
    assert ok.status_code == 302
    task = Activity.objects.get(subject="Send contract")
    assert (task.due_at, task.remind_at) == (
        datetime(2026, 12, 10, 15, tzinfo=UTC),
        datetime(2026, 12, 10, 9, tzinfo=UTC),
    )
    missing = client.post(url, {"kind": "task", "subject": "No date"}, HTTP_HX_REQUEST="true")
    assert missing.status_code == 422
    assert "a task needs a due date" in missing.content.decode()


def test_deal_panel_ownership(world: World, deal: Deal, client_as: Any) -> None:
    url = reverse("web:deal_activities", args=[deal.pk])
    assert client_as("rep3").get(url).status_code == 404
    assert client_as("rep2").get(url).status_code == 404
    marketing = client_as("marketing").get(url)
    assert marketing.status_code == 200 and "Log a call" not in marketing.content.decode()
    assert client_as("marketing").post(url, {"kind": "note"}).status_code == 403
    assert client_as("rep3").post(url, {"kind": "note"}).status_code == 404
    assert client_as("manager").post(url, {"kind": "note", "subject": "m"}).status_code == 302
    assert client_as("rep1").get(reverse("web:deal_activities", args=[999999])).status_code == 404


def test_done_button_on_the_deal_panel(world: World, deal: Deal, client_as: Any) -> None:
    task = activities.create_task(by=world.rep1, subject="Follow up", due_at=NOW, deal=deal)
    response = client_as("rep1").post(
        reverse("web:task_done", args=[task.pk]), {"panel": "deal"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="deal-activities"' in response.content.decode()
    task.refresh_from_db()
    assert task.done_at is not None
