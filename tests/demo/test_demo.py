"""The demo dataset: logins, determinism, a consistent history, believable rates, safe refusals."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max
from django.test import Client

from tandem.accounts.models import Role, Team, User
from tandem.crm.models import Activity, Company, Contact, LifecycleChange, TimelineEvent
from tandem.crm.normalise import normalise_email
from tandem.demo import pipeline
from tandem.demo.context import DemoContext
from tandem.demo.data import DEMO_PASSWORD
from tandem.demo.generators.lifecycle import RECYCLE_REASON
from tandem.errors import Conflict

ANCHOR = datetime(2026, 3, 2, tzinfo=UTC)
DEMO_LOGINS = ["admin", "marketing", "manager", *(f"rep{i}" for i in range(1, 7))]


@pytest.fixture(autouse=True)
def demo_mode(settings: Any) -> None:
    """`tandem demo` only runs with TANDEM_DEBUG on (pytest-django turns DEBUG off)."""
    settings.DEBUG = True


def build(seed: int = 7, contacts: int = 300, **kwargs: Any) -> DemoContext:
    return pipeline.build(seed=seed, contacts=contacts, now=ANCHOR, **kwargs)


def snapshot() -> list[tuple[Any, ...]]:
    """Everything that should repeat for a seed, in a stable order (ids may differ)."""
    history: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for email, stage, at in LifecycleChange.objects.order_by("changed_at", "id").values_list(
        "contact__email", "to_stage", "changed_at"
    ):
        history[email].append((stage, at))
    return [
        (
            c.email,
            c.first_name,
            c.title,
            c.lifecycle_stage,
            c.created_at,
            c.owner.username if c.owner else None,
            c.company.domain if c.company else None,
            tuple(history[c.email]),
        )
        for c in Contact.objects.select_related("owner", "company").order_by("email")
    ]


@pytest.mark.django_db
def test_demo_users_have_their_roles_and_log_in_with_the_demo_password() -> None:
    # Given a demo build
    build()
    users = {u.username: u for u in User.objects.select_related("team")}
    # Then the contract's logins exist with the right roles and teams
    assert set(DEMO_LOGINS) <= set(users)
    assert users["admin"].role == Role.ADMIN and users["admin"].is_superuser
    assert users["marketing"].role == Role.MARKETING
    assert users["manager"].role == Role.SALES_MANAGER
    assert {t.name for t in Team.objects.filter(manager=users["manager"])} == {
        "Sales — Americas",
        "Sales — EMEA",
    }
    assert [users[f"rep{i}"].team.name for i in range(1, 7)] == ["Sales — Americas"] * 3 + [
        "Sales — EMEA"
    ] * 3
    assert all(users[f"rep{i}"].role == Role.SALES_REP for i in range(1, 7))
    # And every one of them can sign in with the published password
    for username in DEMO_LOGINS:
        assert Client().login(username=username, password=DEMO_PASSWORD), username


@pytest.mark.django_db
def test_same_seed_builds_the_same_world_and_another_seed_a_different_one() -> None:
    build(seed=7)
    first = snapshot()
    pipeline.wipe()
    build(seed=7)
    again = snapshot()
    pipeline.wipe()
    build(seed=8)
    other = snapshot()

    assert len(first) == 300
    assert again == first
    assert [row[0] for row in other] != [row[0] for row in first]


@pytest.mark.django_db
def test_history_timeline_and_derived_fields_agree_with_each_contact() -> None:
    build()
    contacts = list(Contact.objects.select_related("owner"))
    changes: dict[int, list[LifecycleChange]] = defaultdict(list)
    for change in LifecycleChange.objects.order_by("id"):
        changes[change.contact_id].append(change)
    latest_event = dict(
        TimelineEvent.objects.filter(contact__isnull=False)
        .values("contact")
        .annotate(at=Max("occurred_at"))
        .values_list("contact", "at")
    )
    for contact in contacts:
        history = changes[contact.pk]
        # The final stage is the last change; history starts at creation and moves forward in time
        assert history[0].from_stage == "" and history[0].changed_at == contact.created_at
        assert history[-1].to_stage == contact.lifecycle_stage
        assert all(a.to_stage == b.from_stage for a, b in pairwise(history))
        assert all(a.changed_at < b.changed_at for a, b in pairwise(history))
        assert history[-1].changed_at <= ANCHOR
        # Backward moves carry a reason, as crm.services demands
        for change in history[1:]:
            if change.to_stage in ("disqualified", "lead") and change.from_stage != "subscriber":
                assert change.reason
        # Rows look as crm.services writes them
        assert contact.email == normalise_email(contact.email)
        if contact.owner is not None:
            assert contact.team_id == contact.owner.team_id
        assert contact.last_activity_at == latest_event[contact.pk]
    # A contact_created event per contact, a stage-change event per later history row
    assert TimelineEvent.objects.filter(type="contact_created").count() == len(contacts)
    assert TimelineEvent.objects.filter(type="lifecycle_stage_changed").count() == (
        LifecycleChange.objects.exclude(from_stage="").count()
    )
    # Every activity has its timeline event; nothing happened after "now"
    activities = Activity.objects.all()
    assert activities.exists()
    assert TimelineEvent.objects.filter(type__startswith="activity_").count() == activities.count()
    assert not activities.filter(occurred_at__gt=ANCHOR).exists()
    assert not activities.filter(done_at__gt=ANCHOR).exists()
    assert not TimelineEvent.objects.filter(occurred_at__gt=ANCHOR).exists()
    kinds = set(activities.values_list("kind", flat=True))
    assert {"call", "meeting", "note", "task", "email"} <= kinds
    tasks = activities.filter(kind="task")
    assert tasks.filter(done_at__isnull=False).exists()  # done
    assert tasks.filter(done_at__isnull=True, due_at__lt=ANCHOR).exists()  # overdue
    assert tasks.filter(done_at__isnull=True, due_at__gte=ANCHOR).exists()  # open
    # Companies: unique domains, in a territory, owned by a rep of that territory's team
    companies = list(Company.objects.select_related("owner"))
    assert len({c.domain for c in companies}) == len(companies) == 60
    assert all(c.region and c.team_id for c in companies)
    assert all(c.owner is None or c.owner.team_id == c.team_id for c in companies)


@pytest.mark.django_db
def test_stage_rates_follow_the_model_for_contacts_old_enough_to_have_moved() -> None:
    build(contacts=1500)
    settled = Contact.objects.filter(created_at__lt=datetime(2025, 9, 1, tzinfo=UTC))
    total = settled.count()
    reached = dict(
        LifecycleChange.objects.filter(contact__in=settled)
        .exclude(reason=RECYCLE_REASON)
        .values("to_stage")
        .annotate(n=Count("contact", distinct=True))
        .values_list("to_stage", "n")
    )
    assert total > 700
    assert 0.27 <= reached["mql"] / total <= 0.43
    assert 0.38 <= reached["sql"] / reached["mql"] <= 0.62
    assert 0.45 <= reached["opportunity"] / reached["sql"] <= 0.75
    assert 0.12 <= reached["customer"] / reached["opportunity"] <= 0.38
    assert 0.04 <= reached["disqualified"] / total <= 0.12
    assert reached.get("evangelist", 0) < reached["customer"] / 4
    # Most early-stage contacts are unassigned; everyone from SQL on has an owner
    leads = Contact.objects.filter(lifecycle_stage__in=["subscriber", "lead"], owner__isnull=True)
    assert (
        leads.count()
        > Contact.objects.filter(lifecycle_stage__in=["subscriber", "lead"]).count() / 2
    )
    assert not Contact.objects.filter(
        lifecycle_stage__in=["sql", "opportunity", "customer", "evangelist"], owner__isnull=True
    ).exists()


@pytest.mark.django_db
def test_a_database_with_contacts_is_refused_unless_reset() -> None:
    build(contacts=20)
    with pytest.raises(Conflict, match="--reset"):
        build(contacts=20)
    with pytest.raises(CommandError, match="already holds 20 contacts; pass --reset"):
        call_command("demo", "--no-serve", "--contacts", "25", stdout=io.StringIO())

    call_command("demo", "--no-serve", "--contacts", "25", "--reset", stdout=io.StringIO())

    assert Contact.objects.count() == 25
    assert User.objects.filter(username="admin").count() == 1


@pytest.mark.django_db
def test_command_refuses_when_debug_is_off_unless_forced(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("demo", "--no-serve", "--contacts", "10", stdout=io.StringIO())
    assert not User.objects.exists()

    call_command("demo", "--no-serve", "--contacts", "10", "--force", stdout=io.StringIO())
    assert Contact.objects.count() == 10


@pytest.mark.django_db
def test_command_prints_the_logins_then_serves_on_the_port(monkeypatch: Any) -> None:
    from tandem.demo.management.commands import demo as command

    served: list[dict[str, Any]] = []
    real_call_command = command.call_command

    def fake_call_command(name: str, *args: Any, **kwargs: Any) -> None:
        if name == "serve":
            served.append(kwargs)
        else:
            real_call_command(name, *args, **kwargs)

    monkeypatch.setattr(command, "call_command", fake_call_command)
    out = io.StringIO()
    call_command("demo", "--contacts", "15", "--port", "8123", stdout=out)

    text = out.getvalue()
    assert served == [{"port": 8123}]
    assert "http://127.0.0.1:8123/" in text
    assert DEMO_PASSWORD in text
    assert all(name in text for name in DEMO_LOGINS)
    assert "contacts" in text  # the per-step progress lines


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--contacts", "0"], ["--port", "70000"]])
def test_command_rejects_bad_arguments_with_one_line(args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("demo", "--no-serve", *args, stdout=io.StringIO())
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_a_later_generator_step_sees_what_the_earlier_ones_made(monkeypatch: Any) -> None:
    seen: dict[str, int] = {}

    def deals(ctx: DemoContext) -> None:
        seen["opportunities"] = sum(
            1
            for c in ctx.contact_rows
            if any(h.to_stage == "opportunity" for h in ctx.history[c.pk])
        )
        ctx.counts.update(deals=seen["opportunities"])

    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS, deals])
    reports: list[tuple[str, dict[str, int]]] = []
    build(contacts=100, on_step=lambda name, seconds, counts: reports.append((name, counts)))

    assert seen["opportunities"] > 0
    # A step called `run` is named after its module; any other function adds its own name.
    assert ("test demo deals", {"deals": seen["opportunities"]}) in reports
    assert [name for name, _ in reports][:10] == [
        "users and teams",
        "companies",
        "contacts",
        "marketing",
        "journeys plan",
        "lifecycle",
        "sales deals",
        "activities",
        "journeys",
        "marketing costs",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 7, 40])
def test_tiny_builds_work(size: int) -> None:
    build(contacts=size)
    assert Contact.objects.count() == size
    assert Company.objects.count() == max(1, size // 5)
