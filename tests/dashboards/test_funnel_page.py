"""The funnel page: cohort and period modes, breakdowns, cohorts heatmap, weekly throughput."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from tandem.analytics.queries.funnel import cohorts, funnel, throughput
from tandem.dashboards.charts import cell
from tandem.sales.periods import parse_period
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.marketing.factories import CampaignFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

URL = "/dashboards/funnel/?period=2026-Q2"
SCRIPT = "<script>alert(1)</script>"
ROLES = ["admin", "marketing", "manager", "rep1", "rep2", "rep3"]
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer"]


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)


@pytest.fixture
def contacts(world: World) -> None:
    """Created in Q2 2026: an email lead that went to SQL in 10 + 10 days (first touch the
    <script> campaign), a paid-search lead that became an MQL, a paid-search subscriber; and a
    March email contact who became an MQL in April."""
    script = CampaignFactory(name=SCRIPT, channel="email")
    one = ContactFactory(
        email="one@example.com",
        original_source="email",
        created_at=at("2026-04-06"),
        lifecycle_stage="sql",
        became_lead_at=at("2026-04-06"),
        became_mql_at=at("2026-04-16"),
        became_sql_at=at("2026-04-26"),
    )
    TouchpointFactory(contact=one, campaign=script, channel="email", occurred_at=at("2026-04-05"))
    ContactFactory(
        email="two@example.com",
        original_source="paid_search",
        created_at=at("2026-04-08"),
        lifecycle_stage="mql",
        became_lead_at=at("2026-04-08"),
        became_mql_at=at("2026-05-04"),
    )
    ContactFactory(
        email="three@example.com",
        original_source="paid_search",
        created_at=at("2026-05-20"),
        lifecycle_stage="subscriber",
        became_subscriber_at=at("2026-05-20"),
    )
    ContactFactory(
        email="four@example.com",
        original_source="email",
        created_at=at("2026-03-10"),
        lifecycle_stage="mql",
        became_lead_at=at("2026-03-10"),
        became_mql_at=at("2026-04-07"),
    )


def table(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("name", ROLES)
def test_every_role_gets_the_funnel_page(contacts: None, client_as: Any, name: str) -> None:
    response = client_as(name).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Funnel · Q2 2026" in html
    for key in ("funnel", "cohorts", "throughput"):
        assert f'id="chart-{key}"' in html
    assert 'id="chart-breakdown"' not in html


def test_cohort_funnel_is_hand_computed_and_equals_the_query(
    contacts: None, client_as: Any
) -> None:
    rows = table(client_as("rep1").get(URL + "&csv=funnel"))
    assert rows[0] == [
        "Stage",
        "Entered",
        "Conversion to next (%)",
        "Median days to next",
        "p75 days to next",
    ]
    # three contacts created in Q2: all reached subscriber (skipped stages count), two reached
    # lead and MQL, one SQL; one MQL→SQL step of 10 days
    entered = [r[1] for r in rows[1:]]
    assert entered == ["3", "2", "2", "1", "0", "0"]
    assert [r[2] for r in rows[1:4]] == ["66.7", "100", "50"]
    assert rows[3][3] == "10"  # MQL → SQL median days
    q2 = parse_period("2026-Q2")
    for row, s in zip(rows[1:], funnel(start=q2.start, end=q2.end).stages, strict=True):
        conversion = None if s.conversion_to_next is None else round(s.conversion_to_next * 100, 1)
        assert row == [
            s.label,
            str(s.entered),
            cell(conversion),
            cell(s.median_days_to_next),
            cell(s.p75_days_to_next),
        ]


def test_period_mode_counts_entries_in_the_period(contacts: None, client_as: Any) -> None:
    rows = table(client_as("admin").get(URL + "&mode=period&csv=funnel"))
    # MQL entries in Q2: one@, two@ and four@ (created in March)
    assert rows[1 + STAGES.index("mql")][1] == "3"
    q2 = parse_period("2026-Q2")
    stages = funnel(start=q2.start, end=q2.end, mode="period").stages
    assert [r[1] for r in rows[1:]] == [str(s.entered) for s in stages]
    html = client_as("admin").get(URL + "&mode=period").content.decode()
    assert '<option value="period" selected>' in html


def test_breakdown_by_channel_groups_the_funnel(contacts: None, client_as: Any) -> None:
    client = client_as("marketing")
    html = client.get(URL + "&breakdown=channel").content.decode()
    assert 'id="chart-breakdown"' in html
    rows = table(client.get(URL + "&breakdown=channel&csv=breakdown"))
    assert rows[0][:3] == ["Channel", "Stage", "Entered"]
    q2 = parse_period("2026-Q2")
    result = funnel(start=q2.start, end=q2.end, breakdown="channel")
    expected = [[g.label, s.label, str(s.entered)] for g in result.groups for s in g.stages]
    assert [r[:3] for r in rows[1:]] == expected
    by_group: dict[str, list[str]] = {}
    for r in rows[1:]:
        by_group.setdefault(r[0], []).append(r[2])
    # email: one@ (to SQL); paid search: two@ (MQL) and three@ (subscriber)
    assert by_group["Email marketing"] == ["1", "1", "1", "1", "0", "0"]
    assert by_group["Paid search"] == ["2", "1", "1", "0", "0", "0"]


def test_a_campaign_named_script_is_escaped(contacts: None, client_as: Any) -> None:
    client = client_as("admin")
    html = client.get(URL + "&breakdown=campaign").content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    rows = table(client.get(URL + "&breakdown=campaign&csv=breakdown"))
    assert SCRIPT in {r[0] for r in rows[1:]}


def test_unknown_choices_are_named_and_ignored(contacts: None, client_as: Any) -> None:
    client = client_as("admin")
    html = client.get(URL + "&breakdown=planet&mode=sideways").content.decode()
    assert "breakdown &quot;planet&quot; is unknown" in html
    assert "mode &quot;sideways&quot; is unknown" in html
    assert 'id="chart-breakdown"' not in html
    assert client.get(URL + "&csv=unknown").status_code == 404
    assert client.get(URL + "&csv=breakdown").status_code == 404  # no breakdown asked for
    # a segment breakdown without any segment says so instead of failing
    html = client.get(URL + "&breakdown=segment").content.decode()
    assert "no such segment to break the funnel down by" in html


def test_cohorts_csv_equals_the_cohort_query(contacts: None, client_as: Any) -> None:
    rows = table(client_as("admin").get(URL + "&csv=cohorts"))
    assert rows[0][:3] == ["Month created", "Contacts", "Reached subscriber (%)"]
    # twelve months up to June 2026
    start = datetime(2025, 7, 1).date()
    result = cohorts(start=start, end=parse_period("2026-Q2").end)
    assert [r[0] for r in rows[1:]] == [r.month for r in result.rows]
    by_month = {r[0]: r for r in rows[1:]}
    assert by_month["2026-04"][:5] == ["2026-04", "2", "100", "100", "100"]
    assert by_month["2026-03"][1] == "1"


def test_throughput_csv_lists_every_week(contacts: None, client_as: Any) -> None:
    rows = table(client_as("admin").get(URL + "&csv=throughput"))
    assert rows[0] == ["Week starting", "MQLs", "SQLs"]
    q2 = parse_period("2026-Q2")
    weeks = throughput(start=q2.start, end=q2.end)
    assert [r for r in rows[1:]] == [[w.week.isoformat(), str(w.mqls), str(w.sqls)] for w in weeks]
    by_week = {r[0]: r[1:] for r in rows[1:]}
    assert by_week["2026-04-06"] == ["1", "0"]  # four@ on 7 April
    assert by_week["2026-04-13"] == ["1", "0"]  # one@ on 16 April
    assert by_week["2026-04-20"] == ["0", "1"]  # one@ to SQL on 26 April
    assert by_week["2026-05-04"] == ["1", "0"]  # two@ on 4 May


def test_query_ceiling(contacts: None, client_as: Any, django_assert_max_num_queries: Any) -> None:
    client = client_as("rep1")
    client.get(URL + "&breakdown=segment")
    with django_assert_max_num_queries(25):
        assert client.get(URL + "&breakdown=channel").status_code == 200
