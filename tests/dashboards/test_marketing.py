"""The marketing page and its queries: traffic, reach, engagement, leads by source, CPL and ROI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tandem.analytics.queries import attribution as attribution_queries
from tandem.analytics.queries import marketing as queries
from tandem.errors import InvalidInput
from tests.crm.factories import ContactFactory
from tests.marketing.factories import CampaignCostFactory, CampaignFactory, TouchpointFactory

Q3 = "2026-Q3"
START, END = date(2026, 7, 1), date(2026, 9, 30)
URL = "/dashboards/marketing/"


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def rows_of(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def touches(world: Any) -> dict[str, Any]:
    """Given touches in and around Q3 2026 (July 1 is a Wednesday; its week starts June 29)."""
    ann, bob = world.rep1_contact, world.rep2_contact
    campaign = CampaignFactory(name="Summer search")
    TouchpointFactory(contact=ann, kind="visit", occurred_at=at("2026-07-06"), campaign=campaign)
    TouchpointFactory(contact=ann, kind="click", occurred_at=at("2026-07-07"))
    TouchpointFactory(contact=bob, kind="visit", occurred_at=at("2026-07-08"))
    TouchpointFactory(anonymous_id="anon-1", kind="visit", occurred_at=at("2026-07-09"))
    TouchpointFactory(anonymous_id="anon-1", kind="visit", occurred_at=at("2026-07-10"))
    TouchpointFactory(anonymous_id="anon-2", kind="content_view", occurred_at=at("2026-07-12", 23))
    TouchpointFactory(contact=ann, kind="form_submit", occurred_at=at("2026-07-13"))
    TouchpointFactory(contact=bob, kind="event", occurred_at=at("2026-09-30", 23))
    TouchpointFactory(contact=bob, kind="email_open", occurred_at=at("2026-09-29"))
    # Outside the window: June 30 (the first week's Tuesday) and October 1.
    TouchpointFactory(contact=bob, kind="visit", occurred_at=at("2026-06-30"))
    TouchpointFactory(contact=ann, kind="visit", occurred_at=at("2026-10-01", 0))
    return {"campaign": campaign}


@pytest.fixture
def leads(world: Any) -> None:
    """Given contacts entering the lead stage in and around Q3 (one skipped straight to MQL)."""
    ContactFactory(original_source="paid_search", became_lead_at=at("2026-07-07"))
    ContactFactory(original_source="paid_search", became_lead_at=at("2026-08-03"))
    ContactFactory(
        original_source="events",
        lifecycle_stage="mql",
        became_lead_at=None,
        became_mql_at=at("2026-08-04"),
        became_sql_at=at("2026-08-20"),
    )
    # Entered lead before the window (its later MQL date inside does not count it again).
    ContactFactory(
        original_source="events", became_lead_at=at("2026-06-20"), became_mql_at=at("2026-07-02")
    )
    ContactFactory(original_source="referral", became_lead_at=at("2026-10-02"))


# ---------------------------------------------------------------- queries


def test_traffic_counts_each_week_of_the_window(touches):
    # When the weekly traffic of Q3 is read
    result = queries.traffic(start=START, end=END)

    # Then every week from Monday June 29 to Monday September 28 is there, zeros included
    assert [w.week for w in result.weeks][:3] == [
        date(2026, 6, 29),
        date(2026, 7, 6),
        date(2026, 7, 13),
    ]
    assert len(result.weeks) == 14
    assert result.weeks[-1].week == date(2026, 9, 28)
    first, second, third = result.weeks[:3]
    # June 30 lies outside the window: the first week is empty
    assert (first.visits, first.reach, first.engaged) == (0, 0, 0)
    # Week of July 6: visits by Ann, Bob and anon-1 twice; 2 contacts + 2 anonymous visitors
    assert second.visits == 4
    assert (second.contacts, second.anonymous, second.reach) == (2, 2, 4)
    assert second.engagement == {
        "email_open": 0,
        "click": 1,
        "form_submit": 0,
        "content_view": 1,
        "event": 0,
    }
    assert third.engagement["form_submit"] == 1
    assert (third.contacts, third.anonymous) == (1, 0)
    last = result.weeks[-1]
    assert (last.engagement["event"], last.engagement["email_open"], last.contacts) == (1, 1, 1)
    assert result.visits == 4
    assert result.total("click") == 1


def test_leads_by_source_per_week_and_month(leads):
    # When Q3's new leads are read per month
    months = queries.leads_by_source(start=START, end=END, bucket="month")

    # Then July has one paid-search lead; August one more and the events contact that skipped lead
    assert months.buckets == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    assert [(s.key, s.label, s.leads) for s in months.sources] == [
        ("paid_search", "Paid search", 2),
        ("events", "Events", 1),
    ]
    assert months.count(date(2026, 7, 1), "paid_search") == 1
    assert months.count(date(2026, 8, 1), "paid_search") == 1
    assert months.count(date(2026, 8, 1), "events") == 1
    assert months.total == 3

    weeks = queries.leads_by_source(start=START, end=END, bucket="week")
    assert weeks.count(date(2026, 7, 6), "paid_search") == 1
    assert weeks.count(date(2026, 8, 3), "paid_search") == 1
    assert weeks.count(date(2026, 8, 3), "events") == 1
    assert weeks.total == 3


def test_queries_refuse_bad_input(db):
    with pytest.raises(InvalidInput, match="bucket must be one of: week, month"):
        queries.leads_by_source(start=START, end=END, bucket="day")
    with pytest.raises(InvalidInput, match="before start"):
        queries.traffic(start=END, end=START)


# ---------------------------------------------------------------- the page


@pytest.mark.parametrize("role", ["admin", "marketing", "manager", "rep1"])
def test_every_role_reads_the_page(client_as, touches, role):
    response = client_as(role).get(URL, {"period": Q3})
    assert response.status_code == 200
    body = response.content.decode()
    for key in ("traffic", "reach", "engagement", "leads", "cpl", "roi", "economics"):
        assert f'id="chart-{key}"' in body
    assert body.count("plotly.min.js") == 1


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_figures_and_csvs_are_the_query_values(client_as, touches, leads):
    client = client_as("marketing")
    page = client.get(URL, {"period": Q3}).content.decode()
    assert '<span class="figure">4</span>Visits' in page
    assert '<span class="figure">5</span>Engagement touches' in page
    assert '<span class="figure">3</span>New leads' in page

    traffic = rows_of(client.get(URL, {"period": Q3, "csv": "traffic"}))
    assert traffic[0] == ["Week", "Visits"]
    assert traffic[1:3] == [["2026-06-29", "0"], ["2026-07-06", "4"]]
    assert len(traffic) == 15

    reach = rows_of(client.get(URL, {"period": Q3, "csv": "reach"}))
    assert reach[0] == ["Week", "Known contacts", "Anonymous visitors", "People reached"]
    assert reach[2] == ["2026-07-06", "2", "2", "4"]

    engagement = rows_of(client.get(URL, {"period": Q3, "csv": "engagement"}))
    assert engagement[0] == [
        "Week",
        "Email open",
        "Link click",
        "Form submission",
        "Content view",
        "Event attendance",
        "All",
    ]
    assert engagement[2] == ["2026-07-06", "0", "1", "0", "1", "0", "2"]
    assert engagement[-1] == ["2026-09-28", "1", "0", "0", "0", "1", "2"]

    months = rows_of(client.get(URL, {"period": Q3, "bucket": "month", "csv": "leads"}))
    assert months == [
        ["Month", "Paid search", "Events", "All"],
        ["2026-07-01", "1", "0", "1"],
        ["2026-08-01", "1", "1", "2"],
        ["2026-09-01", "0", "0", "0"],
    ]


def test_cost_per_lead_and_roi_are_the_economics_query(client_as, touches):
    # Given two campaigns with spend in Q3 and one without
    big = CampaignFactory(name="Big spend", channel="paid_social")
    small = CampaignFactory(name="Small spend", channel="display")
    CampaignCostFactory(campaign=big, amount=Decimal("900.00"), incurred_on=date(2026, 7, 15))
    CampaignCostFactory(campaign=small, amount=Decimal("100.00"), incurred_on=date(2026, 8, 15))
    CampaignFactory(name="Unfunded")
    client = client_as("marketing")

    expected = attribution_queries.campaign_economics(start=START, end=END, model="linear")
    by_name = {r.name: r for r in expected}

    cpl = rows_of(client.get(URL, {"period": Q3, "csv": "cpl"}))
    assert cpl[0] == ["Campaign", "Channel", "Cost", "Leads", "Cost per lead"]
    # The costliest first; campaigns without spend are left out of the bars
    assert [r[0] for r in cpl[1:]] == ["Big spend", "Small spend"]
    for row in cpl[1:]:
        e = by_name[row[0]]
        assert row[2] == f"{e.cost:.2f}"
        assert row[3] == str(e.leads)
        assert row[4] == ("" if e.cost_per_lead is None else f"{e.cost_per_lead:.2f}")
    assert cpl[1][2] == "900.00"

    roi = rows_of(client.get(URL, {"period": Q3, "csv": "roi"}))
    assert roi[0] == ["Campaign", "Channel", "Cost", "Revenue", "ROI"]
    assert roi[1][:4] == [
        "Big spend",
        "Paid social",
        "900.00",
        f"{by_name['Big spend'].revenue:.2f}",
    ]

    economics = rows_of(client.get(URL, {"period": Q3, "csv": "economics"}))
    assert economics[0][:5] == ["Campaign", "Channel", "Cost", "Leads", "Cost per lead"]
    assert len(economics) == 1 + len(expected)


def test_unknown_csv_is_404(client_as, touches):
    assert client_as("rep1").get(URL, {"period": Q3, "csv": "nope"}).status_code == 404


@pytest.mark.parametrize(
    "params,message",
    [
        ({"period": "2026-Q9"}, "is not a period"),
        ({"period": "<b>x</b>"}, "is not a period"),
        ({"bucket": "hour"}, "bucket must be one of: week, month"),
    ],
)
def test_bad_controls_give_a_message(client_as, params, message):
    response = client_as("marketing").get(URL, params)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "<b>x</b>" not in body


def test_a_campaign_name_is_escaped(client_as, touches):
    evil = CampaignFactory(name="<script>alert(1)</script>")
    CampaignCostFactory(campaign=evil, amount=Decimal("50.00"), incurred_on=date(2026, 7, 20))
    body = client_as("marketing").get(URL, {"period": Q3}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_query_count_is_bounded(client_as, touches, leads, django_assert_max_num_queries):
    for i in range(5):
        c = CampaignFactory(name=f"Campaign {i}")
        CampaignCostFactory(campaign=c, amount=Decimal(10 * (i + 1)), incurred_on=date(2026, 8, 1))
    client = client_as("marketing")
    client.get(URL, {"period": Q3})  # warm the session and user caches
    with django_assert_max_num_queries(18):
        assert client.get(URL, {"period": Q3}).status_code == 200


def test_the_current_period_stops_at_this_week(client_as, world):
    # Future weeks would draw as a fall to zero: the weekly charts end with the current week
    today = timezone.localdate()
    TouchpointFactory(contact=world.rep1_contact, kind="visit", occurred_at=timezone.now())
    rows = rows_of(client_as("marketing").get(URL, {"csv": "traffic"}))
    assert rows[-1][0] == str(queries.monday(today))
