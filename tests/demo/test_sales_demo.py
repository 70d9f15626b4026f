"""The demo's sales world: deals that agree with the lifecycle history, and the work around them."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

import pytest
from django.db.models import Avg

from tandem.accounts.models import User
from tandem.crm.models import Activity, LifecycleChange, TimelineEvent
from tandem.demo import pipeline
from tandem.demo.generators.sales import STAR_ASSET, WEAK_ASSET
from tandem.sales.models import (
    ContentRating,
    ContentUse,
    Deal,
    DealContact,
    ExchangeRate,
    ForecastSnapshot,
    Insight,
    LineItem,
    OnboardingStep,
    Quota,
    SequenceEnrollment,
    StageChange,
)
from tandem.sales.periods import period_containing

ANCHOR = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
CENT = Decimal("0.01")


@pytest.fixture(autouse=True)
def demo_mode(settings: Any) -> None:
    settings.DEBUG = True


@pytest.mark.django_db
def test_the_sales_world() -> None:
    # One build (enough contacts for a few hundred deals)
    pipeline.build(seed=11, contacts=2500, now=ANCHOR)
    deals_follow_the_lifecycle_history()
    stage_histories_are_consistent_chains()
    money_adds_up()
    win_rates_are_believable()
    open_deals_close_this_or_next_quarter()
    quotas_cover_every_rep_and_team()
    snapshots_are_weekly_and_match_the_history()
    reps_have_work_on_their_deals()
    sequences_run_and_stop_for_the_right_reasons()
    content_ratings_and_insights_tell_a_story()
    after_the_sale()
    nothing_happens_after_now()


def deals_follow_the_lifecycle_history() -> None:
    # Every contact that reached opportunity is on a new-business deal
    opportunities = set(
        LifecycleChange.objects.filter(to_stage="opportunity").values_list("contact_id", flat=True)
    )
    on_deals = set(
        DealContact.objects.filter(deal__kind="new_business").values_list("contact_id", flat=True)
    )
    assert opportunities and opportunities == on_deals
    # Every won deal's contacts are customers (or became evangelists since)
    won_contacts = DealContact.objects.filter(deal__status="won")
    assert won_contacts.exists()
    assert not won_contacts.exclude(
        contact__lifecycle_stage__in=["customer", "evangelist"]
    ).exists()
    customer_at = dict(
        LifecycleChange.objects.filter(to_stage="customer").values_list("contact_id", "changed_at")
    )
    for deal in Deal.objects.filter(kind="new_business", status="won"):
        primary = deal.deal_contacts.get(is_primary=True)
        # A won deal closes the day its primary contact became a customer, 30 to 120 days in
        assert deal.closed_at == customer_at[primary.contact_id]
        assert deal.closed_at is not None
        assert timedelta(days=30) <= deal.closed_at - deal.created_at <= timedelta(days=120)
        # ... and was created the day that contact became an opportunity
        assert LifecycleChange.objects.filter(
            contact_id=primary.contact_id, to_stage="opportunity", changed_at=deal.created_at
        ).exists()
    # Owner and team are the primary contact's
    for deal in Deal.objects.filter(kind="new_business").select_related("owner")[:200]:
        primary = deal.deal_contacts.select_related("contact").get(is_primary=True)
        assert deal.owner_id == primary.contact.owner_id
        assert deal.owner is not None and deal.team_id == deal.owner.team_id
    # Renewals and upsells continue a won deal in the renewals pipeline
    follow_ons = Deal.objects.exclude(kind="new_business").select_related("parent", "pipeline")
    assert follow_ons.filter(kind="renewal").exists() and follow_ons.filter(kind="upsell").exists()
    for deal in follow_ons:
        assert deal.parent is not None and deal.parent.status == "won"
        assert deal.pipeline.name == "Renewals and upsells"
        assert deal.parent.closed_at is not None and deal.created_at >= deal.parent.closed_at
    assert Deal.objects.filter(kind="renewal", status="won").exists()
    # (a small build has few renewals due yet: churned ones may be missing, lost upsells not)
    assert follow_ons.filter(status="lost").exists()
    # Referral deals credit someone who was an evangelist by then
    for deal in Deal.objects.filter(referred_by__isnull=False):
        assert deal.referred_by_id is not None
        assert LifecycleChange.objects.filter(
            contact_id=deal.referred_by_id, to_stage="evangelist", changed_at__lt=deal.created_at
        ).exists()
    # Every deal contact has its deal_created row on the timeline
    assert TimelineEvent.objects.filter(type="deal_created").count() == DealContact.objects.count()
    # Sources are the last touch before the deal
    assert Deal.objects.exclude(source_channel="").count() > Deal.objects.count() * 0.8


def stage_histories_are_consistent_chains() -> None:
    changes: dict[int, list[StageChange]] = defaultdict(list)
    for change in StageChange.objects.order_by("deal_id", "changed_at", "id"):
        changes[change.deal_id].append(change)
    deals = list(Deal.objects.select_related("stage"))
    assert len(changes) == len(deals)
    for deal in deals:
        chain = changes[deal.pk]
        # closed_at is set exactly when the deal is closed, and the stage says how it ended
        assert (deal.closed_at is None) == (deal.status == "open")
        assert deal.stage.outcome == deal.status
        assert deal.stage.pipeline_id == deal.pipeline_id
        first, last = chain[0], chain[-1]
        assert first.kind == "created" and first.from_stage_id is None
        assert first.changed_at == deal.created_at
        for before, after in pairwise(chain):
            assert after.from_stage_id == before.to_stage_id
            assert after.changed_at > before.changed_at
            seconds = (after.changed_at - before.changed_at).total_seconds()
            assert after.seconds_in_from_stage == int(seconds)
            assert after.kind in ("moved", "won", "lost")
        assert last.to_stage_id == deal.stage_id and last.to_status == deal.status
        assert last.changed_at == deal.stage_entered_at
        if deal.status != "open":
            assert last.kind == deal.status and last.changed_at == deal.closed_at
            assert all(c.kind in ("created", "moved") for c in chain[:-1])
        else:
            assert all(c.kind in ("created", "moved") for c in chain)
        if deal.status == "won" and deal.kind == "new_business":
            # won deals went through every stage of the pipeline in order
            names = [c.to_stage.name for c in chain]
            assert names == ["Discovery", "Demo", "Proposal", "Negotiation", "Closed Won"]
    lost = Deal.objects.filter(status="lost")
    assert not lost.filter(lost_reason__isnull=True).exists()
    assert not Deal.objects.exclude(status="lost").filter(lost_reason__isnull=False).exists()
    assert lost.exclude(competitor="").exists()


def money_adds_up() -> None:
    rates = dict(ExchangeRate.objects.values_list("currency", "rate"))
    currencies = Counter(Deal.objects.values_list("currency", flat=True))
    assert currencies["USD"] > currencies["EUR"] > 0 and currencies["GBP"] > 0
    items: dict[int, list[LineItem]] = defaultdict(list)
    for item in LineItem.objects.select_related("product"):
        items[item.deal_id].append(item)
    for deal in Deal.objects.all():
        expected = sum(
            (i.quantity * i.unit_price * (1 - i.discount_percent / 100) for i in items[deal.pk]),
            Decimal(0),
        ).quantize(CENT, rounding=ROUND_HALF_UP)
        assert deal.amount == expected > 0
        assert deal.amount_base == (deal.amount * rates[deal.currency]).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
    # Renewals are worth the parent's subscriptions (one-off items do not renew)
    for renewal in Deal.objects.filter(kind="renewal").select_related("parent")[:50]:
        assert renewal.parent is not None
        recurring = [i for i in items[renewal.parent.pk] if i.product and i.product.term_months]
        assert {i.product_id for i in items[renewal.pk]} == {i.product_id for i in recurring}


def win_rates_are_believable() -> None:
    closed = Counter(
        Deal.objects.filter(kind="new_business")
        .exclude(status="open")
        .values_list("status", flat=True)
    )
    rate = closed["won"] / (closed["won"] + closed["lost"])
    assert 0.18 <= rate <= 0.35, rate
    by_owner: dict[str, Counter[str]] = defaultdict(Counter)
    for owner, status in (
        Deal.objects.filter(kind="new_business")
        .exclude(status="open")
        .values_list("owner__username", "status")
    ):
        by_owner[owner][status] += 1
    rates = [c["won"] / (c["won"] + c["lost"]) for c in by_owner.values()]
    assert len(rates) == 6 and max(rates) - min(rates) > 0.05  # reps differ


def open_deals_close_this_or_next_quarter() -> None:
    today = ANCHOR.date()
    horizon = period_containing(today, kind="quarter").next().end
    open_deals = Deal.objects.filter(kind="new_business", status="open")
    assert open_deals.count() > 20
    for day in open_deals.values_list("expected_close_date", flat=True):
        assert day is not None and today <= day <= horizon
    stages = Counter(open_deals.values_list("stage__name", flat=True))
    assert set(stages) == {"Discovery", "Demo", "Proposal", "Negotiation"}


def quotas_cover_every_rep_and_team() -> None:
    quarter = period_containing(ANCHOR.date(), kind="quarter")
    reps = User.objects.filter(role="sales_rep")
    for rep in reps:
        for month in [*quarter.months(), *quarter.next().months()]:
            assert Quota.objects.filter(
                user=rep, period_kind="month", period_start=month.start, period_end=month.end
            ).exists(), (rep.username, month.key)
    teams = set(reps.values_list("team_id", flat=True))
    for team_id in teams:
        assert Quota.objects.filter(
            team_id=team_id, period_kind="quarter", period_start=quarter.start
        ).exists()
    # Past quarters: attainment mostly between 60 % and 130 %
    won: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for owner, closed, base in Deal.objects.filter(status="won").values_list(
        "owner_id", "closed_at", "amount_base"
    ):
        assert closed is not None
        won[(owner, period_containing(closed.date(), kind="quarter").start)] += base
    attainments = []
    for team_quota in Quota.objects.filter(team__isnull=False, period_end__lt=quarter.start):
        assert team_quota.team_id is not None
        members = reps.filter(team_id=team_quota.team_id).values_list("pk", flat=True)
        got = sum((won[(m, team_quota.period_start)] for m in members), Decimal(0))
        attainments.append(got / team_quota.amount)
    assert attainments
    inside = [a for a in attainments if Decimal("0.55") <= a <= Decimal("1.35")]
    assert len(inside) >= len(attainments) * 0.75, attainments


def snapshots_are_weekly_and_match_the_history() -> None:
    days = sorted(set(ForecastSnapshot.objects.values_list("taken_on", flat=True)))
    assert len(days) >= 70
    assert all(day.weekday() == 0 for day in days)
    assert all(b - a == timedelta(days=7) for a, b in pairwise(days))
    assert days[-1] == ANCHOR.date()
    # Each Monday: the month, the next month, the quarter and the next one, company-wide
    company = ForecastSnapshot.objects.filter(user__isnull=True, team__isnull=True)
    assert company.count() == 4 * len(days)
    # The closed-won figure of a past Monday is what had been won in that quarter by then
    monday = days[-10]
    quarter = period_containing(monday, kind="quarter")
    snap = company.get(taken_on=monday, period_kind="quarter", period_start=quarter.start)
    at = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    won = sum(
        Deal.objects.filter(
            status="won", closed_at__date__gte=quarter.start, closed_at__lte=at
        ).values_list("amount_base", flat=True),
        Decimal(0),
    )
    assert snap.closed_won == won
    assert snap.closed_won <= snap.commit <= snap.best_case
    assert snap.quota is not None and snap.quota > 0
    # that Monday, open deals were expected to close this quarter or the next
    that_day = company.filter(taken_on=monday, period_kind="quarter")
    assert sum(s.weighted for s in that_day) > 0


def reps_have_work_on_their_deals() -> None:
    on_deals = Activity.objects.filter(deal_id__isnull=False)
    assert on_deals.filter(kind="call").exists() and on_deals.filter(kind="meeting").exists()
    assert on_deals.filter(kind="email", direction="inbound").exists()
    # An activity on a deal is about one of its contacts, while it was open
    deal_contacts = set(DealContact.objects.values_list("deal_id", "contact_id"))
    windows = {d.pk: (d.created_at, d.closed_at) for d in Deal.objects.all()}
    for activity in on_deals.exclude(kind="task")[:500]:
        assert activity.deal_id is not None
        assert (activity.deal_id, activity.contact_id) in deal_contacts
        opened, closed = windows[activity.deal_id]
        assert opened <= activity.occurred_at and (closed is None or activity.occurred_at <= closed)
    # "My day" has something for every rep: tasks due today, and overdue ones
    end_of_today = ANCHOR + timedelta(days=1)
    for rep in User.objects.filter(role="sales_rep"):
        tasks = Activity.objects.filter(kind="task", owner=rep, done_at__isnull=True)
        assert tasks.filter(due_at__gte=ANCHOR, due_at__lt=end_of_today).exists(), rep.username
        assert tasks.filter(due_at__lt=ANCHOR).exists(), rep.username


def sequences_run_and_stop_for_the_right_reasons() -> None:
    enrollments = SequenceEnrollment.objects.all()
    assert enrollments.values("sequence").distinct().count() == 3
    statuses = Counter(enrollments.values_list("status", flat=True))
    assert statuses["active"] and statuses["finished"] and statuses["stopped"]
    reasons = set(enrollments.filter(status="stopped").values_list("stop_reason", flat=True))
    assert {"replied", "meeting", "opportunity"} <= reasons
    assert not enrollments.exclude(status="active").filter(ended_at__isnull=True).exists()
    # A working enrolment's current task is an open task of its owner on its contact
    working = enrollments.filter(status="active", current_task_id__isnull=False)
    assert working.exists()
    for enrollment in working:
        assert enrollment.current_task_id is not None
        task = Activity.objects.get(pk=enrollment.current_task_id)
        assert task.kind == "task" and task.done_at is None
        assert task.contact_id == enrollment.contact_id and task.owner_id == enrollment.owner_id


def content_ratings_and_insights_tell_a_story() -> None:
    uses = ContentUse.objects.all()
    assert not uses.exclude(asset__audience__in=["enablement", "both"]).exists()
    ratings = ContentRating.objects.values("asset__title").annotate(avg=Avg("rating"))
    by_title = {row["asset__title"]: row["avg"] for row in ratings}
    assert by_title[STAR_ASSET] > 4 > 3 > by_title[WEAK_ASSET]
    # Deals that used the battlecard win more often than those that did not
    with_star = set(uses.filter(asset__title=STAR_ASSET).values_list("deal_id", flat=True))
    closed = dict(
        Deal.objects.filter(kind="new_business").exclude(status="open").values_list("pk", "status")
    )

    def win_rate(ids: set[int]) -> float:
        statuses = [closed[i] for i in ids]
        return statuses.count("won") / len(statuses)

    used = {pk for pk in closed if pk in with_star}
    assert win_rate(used) > 1.5 * win_rate(set(closed) - used)
    # Sent content is on the contact's timeline
    assert TimelineEvent.objects.filter(type="content_shared").count() == (
        uses.filter(contact__isnull=False).count()
    )
    insights = Insight.objects.all()
    kinds = set(insights.values_list("kind", flat=True))
    assert {"objection", "pain_point", "competitor"} <= kinds
    assert not insights.filter(kind="competitor", competitor="").exists()
    assert insights.filter(tags__name="pricing").exists()


def after_the_sale() -> None:
    won = Deal.objects.filter(kind="new_business", status="won")
    steps = OnboardingStep.objects.filter(deal__in=won)
    assert {s.deal_id for s in steps} == set(won.values_list("pk", flat=True))
    done = steps.filter(done_at__isnull=False).select_related("deal")
    assert done.exists() and steps.filter(done_at__isnull=True).exists()
    for step in done:
        assert step.deal.closed_at is not None and step.deal.closed_at < step.done_at <= ANCHOR  # type: ignore[operator]


def nothing_happens_after_now() -> None:
    assert not Deal.objects.filter(created_at__gt=ANCHOR).exists()
    assert not Deal.objects.filter(closed_at__gt=ANCHOR).exists()
    assert not StageChange.objects.filter(changed_at__gt=ANCHOR).exists()
    assert not ContentUse.objects.filter(used_at__gt=ANCHOR).exists()
    assert not ContentRating.objects.filter(rated_at__gt=ANCHOR).exists()
    assert not Insight.objects.filter(created_at__gt=ANCHOR).exists()
    assert not Activity.objects.filter(occurred_at__gt=ANCHOR).exists()
    assert not TimelineEvent.objects.filter(occurred_at__gt=ANCHOR).exists()
    assert not ForecastSnapshot.objects.filter(taken_on__gt=ANCHOR.date()).exists()
