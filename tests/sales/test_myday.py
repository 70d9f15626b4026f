"""A rep's "My day": overdue, due today, meetings, upcoming and sequence tasks; the done button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tandem.crm import services as crm_services
from tandem.crm.models import Activity
from tandem.sales.models import SequenceEnrollment
from tandem.sales.queries import myday
from tandem.sales.services import sequences
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.sales.factories import SequenceFactory, with_steps

# Thursday 3 December 2026, 14:00 UTC.
NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def task(world: World, subject: str, due: datetime, *, by: Any = None) -> Activity:
    by = by or world.rep1
    contact = world.rep1_contact if by == world.rep1 else world.rep2_contact
    return crm_services.log_activity(
        kind="task", by=by, contact=contact, subject=subject, due_at=due
    )


def meeting(world: World, subject: str, at: datetime) -> Activity:
    return crm_services.log_activity(
        kind="meeting", by=world.rep1, contact=world.rep1_contact, subject=subject, occurred_at=at
    )


def test_my_day_sorts_tasks_into_their_sections(world: World) -> None:
    task(world, "yesterday", NOW - timedelta(days=1))
    task(world, "this morning", NOW - timedelta(hours=3))
    task(world, "tonight", NOW + timedelta(hours=6))
    task(world, "tomorrow", NOW + timedelta(days=1))
    task(world, "next month", NOW + timedelta(days=30))
    done = task(world, "done", NOW + timedelta(hours=1))
    crm_services.complete_task(activity=done, by=world.rep1)
    task(world, "rep2's", NOW, by=world.rep2)
    meeting(world, "demo", NOW + timedelta(hours=2))
    meeting(world, "yesterday's demo", NOW - timedelta(days=1))
    e = sequences.enroll(
        sequence=with_steps(SequenceFactory(), ("call", "Seq call")),
        contact=world.rep1_contact,
        by=world.rep1,
        at=NOW - timedelta(hours=1),
    )
    sequences.advance_due(now=NOW)
    e.refresh_from_db()

    day = myday.my_day(user=world.rep1, now=NOW)

    def subjects(rows: list[Activity]) -> list[str]:
        return [a.subject for a in rows]

    assert subjects(day.overdue) == ["yesterday", "this morning"]
    assert subjects(day.due_today) == ["tonight"]
    assert subjects(day.upcoming) == ["tomorrow"]
    assert subjects(day.meetings) == ["demo"]
    assert [a.pk for a in day.sequence_tasks] == [e.current_task_id]


def test_api_tasks_today_matches_the_page_section(world: World) -> None:
    task(world, "tonight", NOW + timedelta(hours=6))
    task(world, "late", NOW - timedelta(hours=6))
    today = myday.tasks_due(user=world.rep1, due="today", now=NOW)
    assert [t.subject for t in today] == ["tonight"]


def test_my_day_page_shows_my_tasks_only_with_a_query_ceiling(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    for i in range(10):
        task(
            world,
            f"mine {i}",
            now + timedelta(minutes=i + 1) if i % 2 else now - timedelta(hours=i + 1),
        )
    task(world, "theirs", now, by=world.rep2)
    for _ in range(3):
        contact = ContactFactory(owner=world.rep1, team=world.east)
        sequences.enroll(
            sequence=with_steps(SequenceFactory(), ("email", "Hello")),
            contact=contact,
            by=world.rep1,
        )
    sequences.advance_due(now=timezone.now())
    client = client_as("rep1")
    with django_assert_max_num_queries(8):
        page = client.get(reverse("web:my_day"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "mine 0" in html and "theirs" not in html
    assert html.count('class="task-row"') == 13
    assert 'id="count-sequence">3<' in html


@pytest.mark.parametrize("who", ["marketing"])
def test_my_day_is_for_sellers(world: World, client_as: Any, who: str) -> None:
    assert client_as(who).get(reverse("web:my_day")).status_code == 403


def test_done_button_completes_and_rerenders(world: World, client_as: Any) -> None:
    t = task(world, "Call Ann", timezone.now() - timedelta(hours=1))
    url = reverse("web:task_done", args=[t.pk])
    assert client_as("rep2").post(url).status_code == 404
    assert client_as("rep3").post(url).status_code == 404
    # Marketing sees every record but does not work sales tasks.
    assert client_as("marketing").post(url).status_code == 403
    response = client_as("rep1").post(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Done: Call Ann." in html and 'id="task-' not in html
    t.refresh_from_db()
    assert t.done_at is not None
    # Without htmx the button redirects back; completing twice is harmless.
    again = client_as("rep1").post(url)
    assert (again.status_code, again["Location"]) == (302, reverse("web:my_day"))


def test_the_manager_may_complete_a_team_task(world: World, client_as: Any) -> None:
    t = task(world, "Team task", timezone.now())
    assert client_as("manager").post(reverse("web:task_done", args=[t.pk])).status_code == 302


def test_done_on_the_sequence_task_moves_the_sequence_on(
    world: World, client_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    e = sequences.enroll(
        sequence=with_steps(SequenceFactory(), ("call", "a"), ("email", "b")),
        contact=world.rep1_contact,
        by=world.rep1,
    )
    sequences.advance_due(now=timezone.now())
    e.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        client_as("rep1").post(reverse("web:task_done", args=[e.current_task_id]))
    e = SequenceEnrollment.objects.get(pk=e.pk)
    assert (e.current_task_id, e.current_position, e.status) == (None, 1, "active")
    assert e.next_due_at is not None
    assert sequences.advance_due(now=timezone.now()) == 1


def test_my_day_routes_need_sign_in(world: World) -> None:
    from django.test import Client

    t = task(world, "Call Ann", timezone.now())
    anonymous = Client()
    for method, url in (
        ("get", reverse("web:my_day")),
        ("post", reverse("web:task_done", args=[t.pk])),
        ("get", reverse("web:deal_activities", args=[1])),
    ):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
