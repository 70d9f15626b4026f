"""Campaign figures on a hand-built fixture, with every expected value worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tandem.marketing.models import FormSubmission
from tandem.marketing.queries import campaigns as queries
from tests.crm.factories import ContactFactory
from tests.marketing.factories import (
    CampaignCostFactory,
    CampaignFactory,
    FormFactory,
    TouchpointFactory,
)

TODAY = date(2025, 6, 18)  # a Wednesday: the current week starts Monday June 16
FIRST_WEEK = date(2025, 3, 31)  # 11 weeks before June 16


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def fixture(db):
    """One campaign with touches, submissions and costs, and a second campaign's noise."""
    campaign = CampaignFactory(currency="USD", budget=Decimal("1000.00"))
    other = CampaignFactory()
    ann, bob, cy = ContactFactory(), ContactFactory(), ContactFactory()

    def touch(kind: str, when: datetime, contact=None, anon: str = "", on=campaign) -> None:
        TouchpointFactory(
            campaign=on, kind=kind, occurred_at=when, contact=contact, anonymous_id=anon
        )

    touch("visit", at("2025-06-16", 10), ann, "anon-a")  # week 11
    touch("click", at("2025-06-17"), ann, "anon-a")
    touch("visit", at("2025-06-10"), None, "anon-a")  # ann before she was identified; week 10
    touch("form_submit", at("2025-06-02"), bob)  # bob captured: week 9
    touch("event", at("2025-06-12"), cy)  # cy captured at the event (week 10); not engagement
    touch("visit", at("2025-06-10"), None, "anon-x")  # week 10
    touch("visit", at("2025-06-11"), None, "anon-x")  # week 10
    touch("content_view", at("2025-05-01"), None, "anon-x")
    touch("email_open", at("2025-01-01"), None, "anon-y")
    touch("visit", at("2025-03-30", 23), None, "anon-z")  # the day before the window
    touch("visit", at("2025-03-31", 0), None, "anon-z")  # the window's first hour; week 0
    touch("visit", at("2025-06-16"), None, "")  # no one to count in reach; week 11
    touch("visit", at("2025-06-16"), None, "anon-q", on=other)
    touch("visit", at("2025-06-16"), ContactFactory(), "", on=other)

    form = FormFactory(campaign=campaign)

    def submit(when: datetime, contact=None, on=campaign) -> None:
        FormSubmission.objects.create(form=form, contact=contact, submitted_at=when, campaign=on)

    # Submissions alone (no form_submit touch for this campaign) do not make a lead.
    submit(at("2025-06-17"), ann)
    submit(at("2025-06-18"), ann)
    submit(at("2025-05-01"), bob)
    submit(at("2025-06-03"), bob)
    submit(at("2025-06-05"), None)  # anonymous: not a lead
    submit(at("2025-06-05"), cy, on=other)

    CampaignCostFactory(campaign=campaign, incurred_on=date(2025, 5, 3), amount=Decimal("300"))
    CampaignCostFactory(campaign=campaign, incurred_on=date(2025, 6, 1), amount=Decimal("200.50"))
    CampaignCostFactory(
        campaign=campaign, incurred_on=date(2025, 6, 2), amount=Decimal("50"), currency="EUR"
    )
    CampaignCostFactory(campaign=other, incurred_on=date(2025, 6, 2), amount=Decimal("999"))
    return campaign


def test_campaign_figures(fixture):
    stats = queries.campaign_stats(fixture, today=TODAY)
    # contacts ann, bob, cy + anonymous anon-x, anon-y, anon-z (anon-a is ann)
    assert stats.reach == 6
    # ann's, anon-a's, anon-x's two, anon-z's two, the nameless one
    assert stats.visits == 7
    # ann's click, bob's form, anon-x's content view, anon-y's email open
    assert stats.engagement == 4
    # captured: bob by a form, cy by attending
    assert stats.leads == 2
    assert stats.cost == Decimal("500.50")
    assert stats.currency == "USD"
    assert stats.other_costs == [("EUR", Decimal("50.00"))]
    assert stats.cost_per_lead == Decimal("250.25")
    assert stats.budget_used_pct == Decimal("50.1")  # 50.05 rounded half up


def test_weekly_series(fixture):
    stats = queries.campaign_stats(fixture, today=TODAY)
    weeks = [(w.starts_on, w.visits, w.leads) for w in stats.weekly]
    assert len(weeks) == 12
    assert weeks[0] == (FIRST_WEEK, 1, 0)
    assert weeks[4] == (date(2025, 4, 28), 0, 0)
    assert weeks[9] == (date(2025, 6, 2), 0, 1)
    assert weeks[10] == (date(2025, 6, 9), 3, 1)
    assert weeks[11] == (date(2025, 6, 16), 2, 0)
    assert sum(w[1] for w in weeks) == 6  # every visit but the one before the window
    assert sum(w[2] for w in weeks) == 2
    assert (stats.visits_max, stats.leads_max) == (3, 1)


def test_spend_by_month(fixture):
    stats = queries.campaign_stats(fixture, today=TODAY)
    assert [(m.month, m.currency, m.amount) for m in stats.monthly_spend] == [
        (date(2025, 5, 1), "USD", Decimal("300.00")),
        (date(2025, 6, 1), "EUR", Decimal("50.00")),
        (date(2025, 6, 1), "USD", Decimal("200.50")),
    ]


def test_an_empty_campaign_has_no_cost_per_lead_or_budget_share(db):
    stats = queries.campaign_stats(CampaignFactory(budget=None), today=TODAY)
    assert (stats.reach, stats.visits, stats.engagement, stats.leads) == (0, 0, 0, 0)
    assert (stats.cost, stats.cost_per_lead, stats.budget_used_pct) == (Decimal("0.00"), None, None)
    assert [w.visits + w.leads for w in stats.weekly] == [0] * 12
    assert stats.monthly_spend == []
    zero_budget = queries.campaign_stats(CampaignFactory(budget=Decimal(0)), today=TODAY)
    assert zero_budget.budget_used_pct is None


def test_list_annotations_match_the_figures(fixture):
    """The list's spent and leads (subqueries) agree with the campaign page's figures."""
    rows = {c.pk: (c.spent, c.leads) for c in queries.campaigns_for()}
    assert rows[fixture.pk] == (Decimal("500.50"), 2)
    # the other campaign only has a submission without a capture touch, and a visit
    assert sorted(rows.values()) == [(Decimal("500.50"), 2), (Decimal("999.00"), 0)]


def test_list_filters_and_prefix_search(db):
    CampaignFactory(
        name="Spring launch", channel="email", status="active", journey_stage="decision"
    )
    CampaignFactory(name="Summer", channel="email", status="planned")
    CampaignFactory(name="Spring webinar", channel="webinar", status="active")
    names = lambda flt: sorted(c.name for c in queries.campaigns_for(flt))  # noqa: E731
    assert names(queries.CampaignFilter(q="spr")) == ["Spring launch", "Spring webinar"]
    assert names(queries.CampaignFilter(q="launch")) == []  # a prefix, not a substring
    assert names(queries.CampaignFilter(channel="email")) == ["Spring launch", "Summer"]
    assert names(queries.CampaignFilter(channel="email", status="active")) == ["Spring launch"]
    assert names(queries.CampaignFilter(journey_stage="decision")) == ["Spring launch"]
    # a value outside the choices is ignored, not passed to SQL
    assert len(names(queries.CampaignFilter(channel="tv'; drop table x"))) == 3
