"""Customer insights: recording tagged insights, the feed, its summary, and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import Insight, InsightTag
from tandem.sales.queries import insights as queries
from tandem.sales.services import insights as services
from tests.conftest import World
from tests.sales.factories import DealFactory


def test_an_insight_is_recorded_with_normalised_tags(world: World) -> None:
    # given rep1's deal and an existing tag
    deal = DealFactory(owner=world.rep1)
    InsightTag.objects.create(name="pricing")
    # when rep1 records an objection with messy tags
    insight = services.record_insight(
        by=world.rep1,
        kind="objection",
        text="  Too expensive for a team of five  ",
        deal=deal,
        contact=world.rep1_contact,
        tags=[" Pricing ", "SMALL   Team", "pricing", ""],
    )
    # then the tags are lower-case, trimmed, once each, and the existing tag is reused
    assert insight.text == "Too expensive for a team of five"
    assert (insight.kind, insight.deal_id, insight.author_id) == (
        "objection",
        deal.pk,
        world.rep1.pk,
    )
    assert sorted(t.name for t in insight.tags.all()) == ["pricing", "small team"]
    assert InsightTag.objects.count() == 2


def test_more_than_ten_tags_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="at most 10") as err:
        services.record_insight(
            by=world.rep1, kind="praise", text="Love it", tags=[f"t{i}" for i in range(11)]
        )
    assert err.value.field == "tags"
    assert Insight.objects.count() == 0


def test_a_competitor_mention_needs_the_competitor(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        services.record_insight(by=world.rep1, kind="competitor", text="They compared us")
    assert err.value.field == "competitor"


def test_bad_kind_and_empty_text_are_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        services.record_insight(by=world.rep1, kind="rumour", text="x")
    assert err.value.field == "kind"
    with pytest.raises(InvalidInput) as err:
        services.record_insight(by=world.rep1, kind="praise", text="   ")
    assert err.value.field == "text"


def test_recording_on_a_deal_needs_the_right_to_edit_it(world: World) -> None:
    deal = DealFactory(owner=world.rep3)
    for user in (world.rep1, world.marketer):
        with pytest.raises(Forbidden):
            services.record_insight(by=user, kind="praise", text="x", deal=deal)
    with pytest.raises(Forbidden):
        services.record_insight(by=world.marketer, kind="praise", text="x")
    assert services.record_insight(
        by=world.manager, kind="praise", text="x", deal=DealFactory(owner=world.rep1)
    )


def _seed(world: World) -> None:
    east = DealFactory(owner=world.rep1)
    west = DealFactory(owner=world.rep3)
    for text, kind, competitor, tags, deal, at in [
        ("Too pricey", "objection", "", ["pricing"], east, datetime(2026, 10, 2, tzinfo=UTC)),
        (
            "Initech is cheaper",
            "competitor",
            "Initech",
            ["pricing"],
            west,
            datetime(2026, 11, 2, tzinfo=UTC),
        ),
        (
            "initech again",
            "competitor",
            "initech",
            ["pricing", "sso"],
            east,
            datetime(2026, 11, 3, tzinfo=UTC),
        ),
        ("Hooli demoed well", "competitor", "Hooli", [], west, datetime(2026, 9, 30, tzinfo=UTC)),
        ("Need SSO", "feature_request", "", ["sso"], None, datetime(2026, 12, 1, tzinfo=UTC)),
    ]:
        services.record_insight(
            by=world.admin, kind=kind, text=text, competitor=competitor, tags=tags, deal=deal, at=at
        )


def test_the_feed_filters_by_kind_tag_competitor_and_period(world: World) -> None:
    _seed(world)
    texts = lambda **f: [i.text for i in queries.feed(user=world.marketer, **f)]  # noqa: E731
    assert texts() == [
        "Need SSO",
        "initech again",
        "Initech is cheaper",
        "Too pricey",
        "Hooli demoed well",
    ]
    assert texts(kind="competitor") == ["initech again", "Initech is cheaper", "Hooli demoed well"]
    assert texts(tag="SSO") == ["Need SSO", "initech again"]
    assert texts(competitor="INITECH") == ["initech again", "Initech is cheaper"]
    q4 = queries.clean_filters({"period": "2026-Q4"})
    assert texts(start=q4["start"], end=q4["end"]) == [
        "Need SSO",
        "initech again",
        "Initech is cheaper",
        "Too pricey",
    ]


def test_a_rep_reads_insights_of_deals_they_see(world: World) -> None:
    _seed(world)
    assert [i.text for i in queries.feed(user=world.rep1)] == [
        "Need SSO",
        "initech again",
        "Too pricey",
    ]


def test_the_summary_counts_by_tag_kind_and_competitor(world: World) -> None:
    _seed(world)
    summary = queries.summary(user=world.marketer)
    assert summary["by_tag"] == [{"tag": "pricing", "count": 3}, {"tag": "sso", "count": 2}]
    assert [(k["kind"], k["count"]) for k in summary["by_kind"]] == [
        ("competitor", 3),
        ("feature_request", 1),
        ("objection", 1),
    ]
    assert summary["competitors"] == [
        {"competitor": "Initech", "count": 2},
        {"competitor": "Hooli", "count": 1},
    ]
    q4 = queries.clean_filters({"period": "2026-Q4"})
    assert queries.summary(user=world.marketer, start=q4["start"], end=q4["end"])[
        "competitors"
    ] == [{"competitor": "Initech", "count": 2}]


# ---------------------------------------------------------------- API


def test_api_records_and_lists_insights(world: World, api_as: Any) -> None:
    deal = DealFactory(owner=world.rep1)
    response = api_as("rep1").post(
        "/insights",
        {"kind": "pain_point", "text": "Manual reports", "deal_id": deal.pk, "tags": ["Reporting"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["tags"], body["author"], body["deal_id"]) == (
        "pain_point",
        ["reporting"],
        "rep1",
        deal.pk,
    )
    listed = api_as("marketing").get("/insights", tag="reporting").json()
    assert [i["text"] for i in listed["items"]] == ["Manual reports"]
    summary = api_as("marketing").get("/insights/summary").json()
    assert summary["by_tag"] == [{"tag": "reporting", "count": 1}]
    assert summary["by_kind"] == [{"kind": "pain_point", "label": "Pain point", "count": 1}]


def test_api_insight_permissions(world: World, api_as: Any) -> None:
    west = DealFactory(owner=world.rep3)
    body = {"kind": "praise", "text": "x", "deal_id": west.pk}
    assert api_as("rep1").post("/insights", body).status_code == 404
    assert api_as("marketing").post("/insights", body).status_code == 403
    assert api_as("rep3").post("/insights", body).status_code == 201
    assert (
        api_as("rep1")
        .post(
            "/insights",
            {"kind": "praise", "text": "x", "tags": ["a"] * 0 + [str(i) for i in range(11)]},
        )
        .status_code
        == 400
    )
    assert api_as("rep1").get("/insights", kind="rumour").status_code == 400
    assert api_as("rep1").get("/insights", period="2026-Q9").status_code == 400
    assert api_as("rep1").get("/insights").json()["items"] == []


def test_api_feed_pages_with_a_cursor(world: World, api_as: Any) -> None:
    for i in range(5):
        services.record_insight(
            by=world.admin, kind="praise", text=f"n{i}", at=datetime(2026, 11, 1 + i, tzinfo=UTC)
        )
    api = api_as("marketing")
    first = api.get("/insights", limit=3).json()
    second = api.get("/insights", limit=3, cursor=first["next_cursor"]).json()
    assert [i["text"] for i in first["items"] + second["items"]] == ["n4", "n3", "n2", "n1", "n0"]
    assert second["next_cursor"] is None
