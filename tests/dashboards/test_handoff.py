"""The hand-off panel: SLA met per week, acceptance, rejection reasons, time to first touch."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tandem.analytics.queries import marketing as analytics
from tandem.dashboards.views.handoff import touch_histogram
from tandem.leads.models import LeadAssignment, RejectionReason
from tandem.leads.queries import handoff as handoff_queries
from tests.crm.factories import ContactFactory
from tests.marketing.factories import CampaignFactory

Q3 = "2026-Q3"
START, END = date(2026, 7, 1), date(2026, 9, 30)
URL = "/dashboards/handoff/"
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def rows_of(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def handoff(
    world: Any, *, assigned: datetime, status: str, source: str = "paid_search", **extra: Any
) -> LeadAssignment:
    contact = extra.pop("contact", None) or ContactFactory(original_source=source)
    return LeadAssignment.objects.create(
        contact=contact,
        rep=extra.pop("rep", world.rep1),
        team=world.east,
        status=status,
        qualified_by="score ≥ 50",
        attempt=extra.pop("attempt", 1),
        source=source,
        assigned_at=assigned,
        accept_due_at=assigned + timedelta(hours=4),
        first_touch_due_at=assigned + timedelta(hours=24),
        **extra,
    )


@pytest.fixture
def handoffs(world: Any) -> dict[str, Any]:
    """Given five MQL hand-offs in Q3 2026:
    week of July 6: A accepted in time, touched after 2 h; B accepted, touch breached (touched after 30 h);
      C rejected "no budget" in time;
    week of July 13: D rejected "not a fit" after an accept breach;
    week of August 3: E still pending long past its deadline (not flagged yet).
    """
    reasons = {r.code: r for r in RejectionReason.objects.all()}
    a = at("2026-07-06")
    handoff(
        world,
        assigned=a,
        status="accepted",
        decided_at=a + timedelta(hours=1),
        first_touch_at=a + timedelta(hours=2),
    )
    b = at("2026-07-07")
    handoff(
        world,
        assigned=b,
        status="accepted",
        source="events",
        decided_at=b + timedelta(hours=1),
        first_touch_at=b + timedelta(hours=30),
        touch_breached_at=b + timedelta(hours=24),
    )
    c = at("2026-07-08")
    handoff(
        world,
        assigned=c,
        status="rejected",
        decided_at=c + timedelta(hours=2),
        reason=reasons["no_budget"],
    )
    d = at("2026-07-14")
    handoff(
        world,
        assigned=d,
        status="rejected",
        source="events",
        decided_at=d + timedelta(hours=6),
        accept_breached_at=d + timedelta(hours=4),
        reason=reasons["not_a_fit"],
    )
    handoff(world, assigned=at("2026-08-04"), status="pending")
    # Outside the window
    handoff(world, assigned=at("2026-10-05"), status="accepted", decided_at=at("2026-10-05", 10))
    return {}


def test_sla_per_week(handoffs):
    result = analytics.handoff_sla(start=START, end=END, now=NOW)
    by_week = {w.week: (w.handoffs, w.met, w.rate) for w in result.weeks if w.handoffs}
    assert by_week == {
        date(2026, 7, 6): (3, 2, 0.6667),
        date(2026, 7, 13): (1, 0, 0.0),
        date(2026, 8, 3): (1, 0, 0.0),
    }
    assert (result.handoffs, result.met, result.rate) == (5, 2, 0.4)
    assert len(result.weeks) == 14


def test_a_pending_lead_inside_its_deadline_is_left_out(world):
    now = at("2026-08-04", 10)
    handoff(world, assigned=at("2026-08-04", 9), status="pending")
    assert analytics.handoff_sla(start=START, end=END, now=now).handoffs == 0


def test_touch_histogram_buckets():
    assert touch_histogram([0.5, 1.0, 3.9, 30, 200]) == [
        ("Under 1 h", 1),
        ("1 to 4 h", 2),
        ("4 to 24 h", 0),
        ("1 to 3 days", 1),
        ("3 to 7 days", 0),
        ("Over 7 days", 1),
    ]


@pytest.mark.parametrize(
    "role,status", [("admin", 200), ("marketing", 200), ("manager", 200), ("rep1", 403)]
)
def test_who_may_see_the_panel(client_as, handoffs, role, status):
    assert client_as(role).get(URL, {"period": Q3}).status_code == status
    assert client_as(role).get(URL, {"period": Q3, "csv": "sla"}).status_code == status


def test_the_figures_are_the_lead_quality_numbers(client_as, handoffs):
    client = client_as("manager")
    body = client.get(URL, {"period": Q3}).content.decode()
    report = handoff_queries.lead_quality(start=START, end=END, group_by="source")
    # 5 MQLs; 2 accepted of 4 decided; median of 2 h and 30 h first touches
    assert (report.total.mqls, report.total.acceptance_rate) == (5, 0.5)
    assert report.total.median_hours_to_first_touch == 16.0
    assert '<span class="figure">5</span>MQLs handed off' in body
    assert '<span class="figure">50.0%</span>Accepted of decided' in body
    assert '<span class="figure">16.0 h</span>Median time to first touch' in body
    # SLA: 2 of 5 hand-offs (the pending one is past its deadline at any "now" after August)
    assert '<span class="figure">40.0%</span>Hand-offs within SLA' in body

    acceptance = rows_of(client.get(URL, {"period": Q3, "csv": "acceptance"}))
    assert acceptance == [
        ["Source", "MQLs", "Accepted", "Rejected", "Pending", "Unrouted", "Accepted (%)"],
        ["Paid search", "3", "1", "1", "1", "0", "50"],
        ["Events", "2", "1", "1", "0", "0", "50"],
    ]
    reasons = rows_of(client.get(URL, {"period": Q3, "csv": "reasons"}))
    assert reasons[0] == ["Reason", "Rejected leads"]
    assert sorted(reasons[1:]) == [["No budget", "1"], ["Not a fit", "1"]]
    touch = rows_of(client.get(URL, {"period": Q3, "csv": "first_touch"}))
    assert touch[1:] == [
        ["Under 1 h", "0"],
        ["1 to 4 h", "1"],
        ["4 to 24 h", "0"],
        ["1 to 3 days", "1"],
        ["3 to 7 days", "0"],
        ["Over 7 days", "0"],
    ]
    sla = rows_of(client.get(URL, {"period": Q3, "csv": "sla"}))
    assert sla[0] == ["Week", "Hand-offs", "Met SLA", "Met (%)"]
    assert sla[2] == ["2026-07-06", "3", "2", "66.7"]


def test_group_by_campaign_and_escaping(client_as, world):
    evil = CampaignFactory(name="<script>alert(1)</script>")
    handoff(
        world,
        assigned=at("2026-07-06"),
        status="accepted",
        campaign_id=evil.pk,
        decided_at=at("2026-07-06", 10),
    )
    client = client_as("marketing")
    body = client.get(URL, {"period": Q3, "group_by": "campaign"}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    rows = rows_of(client.get(URL, {"period": Q3, "group_by": "campaign", "csv": "acceptance"}))
    assert rows[0][0] == "Campaign"
    assert rows[1][:3] == ["<script>alert(1)</script>", "1", "1"]


def test_unknown_csv_is_404(client_as, handoffs):
    assert client_as("admin").get(URL, {"csv": "nope"}).status_code == 404


@pytest.mark.parametrize(
    "params,message",
    [
        ({"period": "2026-13"}, "is not a period"),
        ({"group_by": "rep"}, "group_by must be one of: source, campaign, persona"),
    ],
)
def test_bad_controls_give_a_message(client_as, params, message):
    response = client_as("admin").get(URL, params)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_query_count_is_bounded(client_as, handoffs, django_assert_max_num_queries):
    client = client_as("manager")
    client.get(URL, {"period": Q3})
    with django_assert_max_num_queries(10):
        assert client.get(URL, {"period": Q3}).status_code == 200
