"""Enablement, insights and after-sale pages: what each role sees and may do, and query ceilings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.urls import reverse

from tandem.sales.models import ContentRating, ContentUse, DealContact, Insight, OnboardingStep
from tandem.sales.services import deals
from tandem.sales.services import enablement as enablement_services
from tandem.sales.services import insights as insight_services
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.marketing.factories import ContentAssetFactory, PersonaFactory
from tests.sales.factories import DealFactory, stage

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def asset(**fields: Any) -> Any:
    fields.setdefault("audience", "enablement")
    fields.setdefault("type", "case_study")
    fields.setdefault("journey_stage", "decision")
    return ContentAssetFactory(**fields)


# ---------------------------------------------------------------- library


def test_the_library_searches_and_shows_ratings(world: World, client_as: Any) -> None:
    cfo = PersonaFactory(name="CFO")
    study = asset(title="Acme ROI <case> study")
    study.personas.add(cfo)
    asset(title="Buyer guide", journey_stage="consideration", type="ebook")
    asset(title="Market-only teaser", audience="market")
    enablement_services.rate_content(asset=study, by=world.rep1, rating=4)
    client = client_as("marketing")
    page = client.get(reverse("web:enablement")).content.decode()
    assert "Acme ROI &lt;case&gt; study" in page and "Buyer guide" in page
    assert "Market-only teaser" not in page
    assert "★ 4.0" in page
    filtered = client.get(reverse("web:enablement"), {"stage": "consideration"}).content.decode()
    assert "Buyer guide" in filtered and "Acme ROI" not in filtered
    by_persona = client.get(reverse("web:enablement"), {"persona": cfo.pk}).content.decode()
    assert "Acme ROI" in by_persona and "Buyer guide" not in by_persona
    assert client.get(reverse("web:enablement"), {"type": "bogus"}).status_code == 400


def test_the_library_query_ceiling(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    personas = [PersonaFactory() for _ in range(3)]
    for i in range(30):
        a = asset(title=f"Asset {i}")
        a.personas.add(*personas)
        enablement_services.rate_content(asset=a, by=world.rep1, rating=1 + i % 5)
    client = client_as("rep1")
    with django_assert_max_num_queries(10):
        assert client.get(reverse("web:enablement")).status_code == 200


def test_the_asset_page_rates_and_records_a_use(world: World, client_as: Any) -> None:
    a = asset(title="Acme ROI case study")
    deal = DealFactory(owner=world.rep1, name="Acme expansion")
    client = client_as("rep1")
    page = client.get(reverse("web:enablement_asset", args=[a.pk])).content.decode()
    assert "Rate this asset" in page and "Acme expansion" in page
    url = reverse("web:enablement_asset", args=[a.pk])
    response = client.post(
        url, {"action": "rate", "rate-rating": "5", "rate-comment": "Won us Acme"}
    )
    assert response.status_code == 302
    assert ContentRating.objects.get().comment == "Won us Acme"
    assert "Won us Acme" in client.get(url).content.decode()
    assert client.post(url, {"action": "rate", "rate-rating": "7"}).status_code == 422
    response = client.post(url, {"action": "use", "use-kind": "attached", "use-deal": deal.pk})
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:deal", args=[deal.pk]
    )
    response = client.post(
        url, {"action": "use", "use-kind": "sent", "use-contact_email": "ann@acme.com"}
    )
    assert response.status_code == 302
    assert sorted(ContentUse.objects.values_list("kind", "deal_id", "contact_id")) == [
        ("attached", deal.pk, None),
        ("sent", None, world.rep1_contact.pk),
    ]


def test_marketing_sees_the_asset_but_cannot_rate_or_use_it(world: World, client_as: Any) -> None:
    a = asset()
    client = client_as("marketing")
    url = reverse("web:enablement_asset", args=[a.pk])
    page = client.get(url).content.decode()
    assert "Rate this asset" not in page
    assert client.post(url, {"action": "rate", "rate-rating": "3"}).status_code == 403
    market = asset(audience="market")
    assert client.get(reverse("web:enablement_asset", args=[market.pk])).status_code == 404


def test_the_report_page_for_marketing(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    a = asset(title="Battlecard")
    won = DealFactory(owner=world.rep1, status="won", stage=stage("Closed Won"), closed_at=NOW)
    DealFactory(owner=world.rep1, status="lost", stage=stage("Closed Lost"), closed_at=NOW)
    ContentUse.objects.create(asset=a, deal=won, kind="attached", used_at=NOW)
    for i in range(10):
        asset(title=f"Other {i}")
    client = client_as("marketing")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("web:enablement_report"), {"period": "2026-Q4"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Battlecard" in page and "Q4 2026" in page
    assert 'data-rate="1.0000"' in page and 'data-rate="0.0000"' in page
    assert "+100 pts" in page
    assert client.get(reverse("web:enablement_report"), {"period": "nope"}).status_code == 400
    assert client_as("rep3").get(reverse("web:enablement_report")).status_code == 200


# ---------------------------------------------------------------- deal panels


def test_the_deal_content_panel_suggests_and_attaches(world: World, client_as: Any) -> None:
    deal = DealFactory(owner=world.rep1, stage=stage("Proposal"))
    DealContact.objects.create(
        deal=deal, contact=world.rep1_contact, role="champion", is_primary=True, added_at=NOW
    )
    decide = asset(title="ROI calculator", journey_stage="decision")
    asset(title="Buyer guide", journey_stage="consideration")
    client = client_as("rep1")
    url = reverse("web:deal_content", args=[deal.pk])
    panel = client.get(url).content.decode()
    assert "Suggested for decision" in panel and "ROI calculator" in panel
    response = client.post(
        url, {"content-asset": decide.pk, "content-kind": "attached"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert ContentUse.objects.get().asset_id == decide.pk
    assert "content-use-" in response.content.decode()


def test_deal_panels_permissions(world: World, client_as: Any) -> None:
    deal = DealFactory(owner=world.rep3)
    a = asset()
    for name in ("deal_content", "deal_insights", "deal_onboarding"):
        url = reverse(f"web:{name}", args=[deal.pk])
        assert client_as("rep1").get(url).status_code == 404, name
        assert client_as("marketing").get(url).status_code == 200, name
        assert client_as("rep3").get(url).status_code == 200, name
    content = reverse("web:deal_content", args=[deal.pk])
    assert client_as("marketing").post(content, {"content-asset": a.pk}).status_code == 403
    assert client_as("rep1").post(content, {"content-asset": a.pk}).status_code == 404
    insights = reverse("web:deal_insights", args=[deal.pk])
    body = {"insight-kind": "praise", "insight-text": "x"}
    assert client_as("marketing").post(insights, body).status_code == 403
    assert client_as("rep1").post(insights, body).status_code == 404
    assert "Record an objection" not in client_as("marketing").get(insights).content.decode()
    assert ContentUse.objects.count() == 0 and Insight.objects.count() == 0


def test_the_deal_insights_panel_records_tagged_insights(world: World, client_as: Any) -> None:
    deal = DealFactory(owner=world.rep1)
    client = client_as("rep1")
    url = reverse("web:deal_insights", args=[deal.pk])
    response = client.post(
        url,
        {
            "insight-kind": "competitor",
            "insight-text": "Initech quoted 20 % less",
            "insight-competitor": "Initech",
            "insight-tags": "Pricing, Discount",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Initech quoted 20 % less" in page and "#discount" in page and "#pricing" in page
    bad = client.post(
        url, {"insight-kind": "competitor", "insight-text": "x"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 422
    assert "competitor" in bad.content.decode()
    assert Insight.objects.count() == 1


def test_the_onboarding_panel_ticks_steps(world: World, client_as: Any) -> None:
    deal = DealFactory(owner=world.rep1)
    deals.mark_won(deal=deal, by=world.rep1, at=NOW)
    step = OnboardingStep.objects.filter(deal=deal).first()
    assert step is not None
    client = client_as("rep1")
    panel = client.get(reverse("web:deal_onboarding", args=[deal.pk])).content.decode()
    assert "0 of 5 done" in panel and "Kick-off call" in panel
    done = reverse("web:onboarding_step_done", args=[step.pk])
    assert client_as("rep3").post(done).status_code == 404
    assert client_as("marketing").post(done).status_code == 403
    response = client.post(done, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "1 of 5 done" in response.content.decode()
    step.refresh_from_db()
    assert step.done_by_id == world.rep1.pk
    assert client.get(done).status_code == 405
    open_deal = DealFactory(owner=world.rep1)
    panel = client.get(reverse("web:deal_onboarding", args=[open_deal.pk])).content.decode()
    assert "starts when the deal is won" in panel


# ---------------------------------------------------------------- insights feed and referrals


def test_the_insights_feed_filters_and_aggregates(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    deal = DealFactory(owner=world.rep1)
    for i in range(20):
        insight_services.record_insight(
            by=world.rep1,
            kind="competitor" if i % 2 else "objection",
            text=f"Heard <b>{i}</b>",
            competitor="Initech" if i % 2 else "",
            tags=["pricing", f"t{i % 3}"],
            deal=deal,
        )
    client = client_as("marketing")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("web:insights"))
    page = response.content.decode()
    assert "Heard &lt;b&gt;3&lt;/b&gt;" in page
    assert "#pricing" in page and "Initech" in page
    filtered = client.get(reverse("web:insights"), {"kind": "objection"}).content.decode()
    assert "10 insights" in filtered
    tagged = client.get(reverse("web:insights"), {"tag": "t0"}).content.decode()
    assert "7 insights" in tagged
    assert client.get(reverse("web:insights"), {"period": "2026-Q9"}).status_code == 400
    assert "0 insights" in client_as("rep3").get(reverse("web:insights")).content.decode()


def test_the_referrals_page(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    fans = []
    for i in range(5):
        fan = ContactFactory(email=f"fan{i}@initech.com", lifecycle_stage="customer")
        fans.append(fan)
        deal = DealFactory(owner=world.rep1, referred_by=fan, name=f"Referred {i}")
        deals.mark_won(deal=deal, by=world.rep1, at=NOW)
    client = client_as("marketing")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("web:referrals"))
    page = response.content.decode()
    assert response.status_code == 200
    assert all(f'id="referrer-{fan.pk}"' in page for fan in fans)
    assert all(f"Referred {i}" in page for i in range(5))
    assert page.count("Evangelist") == 5


def test_pages_need_signing_in(world: World) -> None:
    from django.test import Client

    for name in ("enablement", "enablement_report", "insights", "referrals"):
        response = Client().get(reverse(f"web:{name}"))
        assert response.status_code == 302, name


@pytest.mark.parametrize("role", ["admin", "manager", "rep1", "marketing"])
def test_every_role_reads_the_library_report_feed_and_referrals(
    world: World, client_as: Any, role: str
) -> None:
    for name in ("enablement", "enablement_report", "insights", "referrals"):
        assert client_as(role).get(reverse(f"web:{name}")).status_code == 200, name


def test_deal_panels_query_ceilings(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    deal = DealFactory(owner=world.rep1, stage=stage("Proposal"))
    for i in range(4):
        contact = ContactFactory(email=f"c{i}@acme.com", owner=world.rep1, team=world.east)
        DealContact.objects.create(deal=deal, contact=contact, role="user", added_at=NOW)
    for i in range(15):
        a = asset(title=f"Asset {i}")
        ContentUse.objects.create(
            asset=a, deal=deal, kind="sent", used_at=NOW, user=world.rep1, contact=contact
        )
        insight_services.record_insight(
            by=world.rep1, kind="praise", text=f"n{i}", deal=deal, tags=[f"t{i}", "common"]
        )
    client = client_as("rep1")
    for name in ("deal_content", "deal_insights", "deal_onboarding"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"web:{name}", args=[deal.pk])).status_code == 200


def test_api_lists_take_a_fixed_number_of_queries(
    world: World, api_as: Any, django_assert_max_num_queries: Any
) -> None:
    deal = DealFactory(owner=world.rep1)
    persona = PersonaFactory()
    for i in range(20):
        a = asset(title=f"Asset {i}")
        a.personas.add(persona)
        enablement_services.rate_content(asset=a, by=world.rep1, rating=3)
        insight_services.record_insight(
            by=world.rep1, kind="praise", text=f"n{i}", deal=deal, tags=[f"t{i}"]
        )
    api = api_as("marketing")
    for path in ("/enablement/assets", "/insights", "/insights/summary", "/enablement/report"):
        with django_assert_max_num_queries(10):
            assert api.get(path).status_code == 200, path
