"""Campaign pages: who may open and change what, forms, htmx swaps, escaping and query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tandem.marketing import costs_import
from tandem.marketing.models import Campaign, CampaignCost, FormSubmission, TrackedLink
from tests.crm.factories import ContactFactory
from tests.marketing.factories import (
    CampaignCostFactory,
    CampaignFactory,
    FormFactory,
    PersonaFactory,
    TouchpointFactory,
)
from tests.web.conftest import htmx

ROLES = ["admin", "marketing", "manager", "rep1"]
XSS = "<script>alert(1)</script>"
BASE = "/marketing/campaigns/"


@pytest.fixture
def campaign(world):
    return CampaignFactory(name="Spring Launch", utm_campaign="spring_launch", budget=1000)


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("path", ["", "new/", "costs/import/", "1/", "1/edit/"])
def test_anonymous_users_are_sent_to_sign_in(db, path):
    response = Client().get(BASE + path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ROLES)
def test_everyone_signed_in_reads(client_as, campaign, role):
    client = client_as(role)
    assert client.get(BASE).status_code == 200
    page = client.get(f"{BASE}{campaign.pk}/")
    assert page.status_code == 200
    manages = role in ("admin", "marketing")
    body = page.content.decode()
    assert ("Edit campaign" in body) is manages
    assert ("Add a cost" in body) is manages
    assert ("Register a link" in body) is manages
    assert ("New campaign" in client.get(BASE).content.decode()) is manages


@pytest.mark.parametrize("role", ["manager", "rep1"])
def test_sales_may_not_change_campaigns(client_as, campaign, role):
    client = client_as(role)
    pk = campaign.pk
    assert client.get(f"{BASE}new/").status_code == 403
    assert client.post(f"{BASE}new/", {"name": "X", "channel": "email"}).status_code == 403
    assert client.get(f"{BASE}{pk}/edit/").status_code == 403
    assert client.post(f"{BASE}{pk}/edit/", {"name": "Hacked"}).status_code == 403
    assert client.post(f"{BASE}{pk}/delete/").status_code == 403
    cost = {"incurred_on": "2025-01-01", "amount": "5"}
    assert client.post(f"{BASE}{pk}/costs/", cost).status_code == 403
    assert client.post(f"{BASE}{pk}/links/", {"url": "https://example.com/"}).status_code == 403
    assert client.get(f"{BASE}costs/import/").status_code == 403
    entry = CampaignCostFactory(campaign=campaign)
    assert client.post(f"{BASE}{pk}/costs/{entry.pk}/delete/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Spring Launch"
    assert Campaign.objects.count() == 1
    assert CampaignCost.objects.count() == 1
    assert TrackedLink.objects.count() == 0


def test_unknown_campaign_is_404(client_as, world):
    client = client_as("marketing")
    assert client.get(f"{BASE}999999/").status_code == 404
    assert client.get(f"{BASE}99999999999999999999999/").status_code == 404


# ---------------------------------------------------------------- list


def test_list_filters_sorts_and_pages(client_as, world):
    for i in range(55):
        CampaignFactory(name=f"Email {i:02d}", channel="email")
    CampaignFactory(name="Big spender", channel="paid_search", status="paused")
    CampaignCostFactory(campaign=Campaign.objects.get(name="Email 07"), amount=Decimal("70"))
    CampaignCostFactory(campaign=Campaign.objects.get(name="Big spender"), amount=Decimal("900"))
    client = client_as("rep1")
    first = client.get(BASE).content.decode()
    assert "56 campaigns · page 1 of 2" in first
    assert len(client.get(BASE + "?page=2").context["page_obj"].object_list) == 6
    by_spend = client.get(BASE + "?sort=-spent").context["page_obj"].object_list
    assert [c.name for c in by_spend[:2]] == ["Big spender", "Email 07"]
    assert by_spend[0].spent == Decimal("900.00")
    paused = client.get(BASE + "?status=paused&channel=paid_search").context["page_obj"]
    assert [c.name for c in paused] == ["Big spender"]
    assert [c.name for c in client.get(BASE + "?q=email 0").context["page_obj"]][:2] == [
        "Email 09",
        "Email 08",
    ]


def test_an_unknown_sort_falls_back_to_the_default(client_as, world):
    CampaignFactory(name="B")
    CampaignFactory(name="A")
    response = client_as("rep1").get(BASE + "?sort=password&channel=bogus")
    assert response.status_code == 200
    assert response.context["sort"] == "-created_at"
    assert [c.name for c in response.context["page_obj"]] == ["A", "B"]


def test_htmx_swaps_only_the_table_and_pushes_a_clean_address(client_as, world):
    CampaignFactory(name="Alpha", channel="email")
    response = client_as("rep1").get(BASE + "?channel=email&junk=1&sort=name", **htmx())
    body = response.content.decode()
    assert body.startswith('<div id="campaigns-table"')
    assert "<html" not in body
    assert response["HX-Push-Url"] == "/marketing/campaigns/?channel=email&sort=name"
    assert "HX-Request" in response["Vary"]


def test_names_are_escaped(client_as, world):
    campaign = CampaignFactory(name=XSS, objective=XSS)
    client = client_as("marketing")
    for url in (BASE, f"{BASE}{campaign.pk}/", f"{BASE}{campaign.pk}/edit/"):
        body = client.get(url).content.decode()
        assert XSS not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


# ---------------------------------------------------------------- new and edit


def test_marketing_creates_a_campaign_with_default_tags(client_as, world):
    persona = PersonaFactory(name="Ops lead")
    response = client_as("marketing").post(
        f"{BASE}new/",
        {
            "name": "Autumn Webinar",
            "channel": "webinar",
            "journey_stage": "consideration",
            "status": "planned",
            "personas": [str(persona.pk)],
            "starts_on": "2025-09-01",
            "ends_on": "2025-09-30",
            "budget": "$2,500",
            "currency": "usd",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{campaign.pk}/"
    assert (campaign.utm_source, campaign.utm_medium, campaign.utm_campaign) == (
        "webinar",
        "webinar",
        "autumn_webinar",
    )
    assert (campaign.budget, campaign.currency, campaign.owner) == (
        Decimal("2500.00"),
        "USD",
        world.marketer,
    )
    assert list(campaign.personas.all()) == [persona]


def test_bad_input_is_shown_on_the_form(client_as, campaign):
    client = client_as("marketing")
    base = {"name": "X", "channel": "email", "journey_stage": "awareness", "status": "planned"}
    response = client.post(f"{BASE}new/", {**base, "budget": "lots"})
    assert response.status_code == 422
    assert "budget &#x27;lots&#x27; is not a number" in response.content.decode()
    response = client.post(
        f"{BASE}new/", {**base, "starts_on": "2025-02-02", "ends_on": "2025-02-01"}
    )
    assert response.status_code == 422
    assert "ends_on (2025-02-01) is before starts_on (2025-02-02)" in response.content.decode()
    response = client.post(f"{BASE}new/", {**base, "utm_campaign": " Spring_Launch"})
    assert response.status_code == 422
    assert f"is already used by campaign {campaign.pk}" in response.content.decode()
    assert Campaign.objects.count() == 1


def test_edit_sends_only_changed_fields(client_as, world):
    """Given a paid-search campaign on default tags, when only the channel changes on the edit
    form, then its tags move to the new channel's defaults."""
    campaign = CampaignFactory(
        name="Retarget", channel="paid_search", utm_source="google", utm_medium="cpc"
    )
    client = client_as("marketing")
    form = client.get(f"{BASE}{campaign.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["channel"] = "display"
    response = client.post(f"{BASE}{campaign.pk}/edit/", data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.channel, campaign.utm_source, campaign.utm_medium) == (
        "display",
        "display_network",
        "display",
    )


def test_delete_without_traffic_and_refusal_with_it(client_as, world):
    client = client_as("marketing")
    quiet = CampaignFactory()
    assert client.post(f"{BASE}{quiet.pk}/delete/")["Location"] == BASE
    busy = CampaignFactory()
    TouchpointFactory(campaign=busy)
    response = client.post(f"{BASE}{busy.pk}/delete/", follow=True)
    assert "set its status to completed instead" in response.content.decode()
    assert list(Campaign.objects.values_list("pk", flat=True)) == [busy.pk]


# ---------------------------------------------------------------- the campaign page


def test_page_shows_figures_tags_and_definitions(client_as, campaign):
    contact = ContactFactory()
    TouchpointFactory(campaign=campaign, kind="visit", contact=contact)
    TouchpointFactory(campaign=campaign, kind="form_submit", contact=contact)
    FormSubmission.objects.create(
        form=FormFactory(), contact=contact, submitted_at=campaign.created_at, campaign=campaign
    )
    CampaignCostFactory(campaign=campaign, amount=Decimal("250"))
    response = client_as("rep1").get(f"{BASE}{campaign.pk}/")
    stats = response.context["stats"]
    assert (stats.reach, stats.visits, stats.leads, stats.cost_per_lead) == (
        1,
        1,
        1,
        Decimal("250.00"),
    )
    body = response.content.decode()
    assert "spring_launch" in body
    assert (
        'title="Distinct contacts captured: a form submitted for this campaign, or attendance at it"'
        in body
    )
    assert "25.0 %" in body  # 250 of a 1,000 budget


def test_utm_builder_tags_a_url_server_side(client_as, campaign):
    client = client_as("rep1")
    url = f"{BASE}{campaign.pk}/utm/"
    response = client.get(
        url, {"url": "https://example.com/a?x=1&y=<b>", "content": "Hero Banner"}, **htmx()
    )
    body = response.content.decode()
    assert body.startswith('<div id="utm-result"')
    assert (
        'value="https://example.com/a?x=1&amp;y=%3Cb%3E&amp;utm_source=google&amp;utm_medium=cpc'
        '&amp;utm_campaign=spring_launch&amp;utm_content=hero+banner"'
    ) in body
    bad = client.get(url, {"url": "javascript:alert(1)"}, **htmx()).content.decode()
    assert "url must be an absolute http:// or https:// address" in bad
    full = client.get(url, {"url": "https://example.com/"})
    assert full.status_code == 200
    assert full.context["tagged_url"].endswith("utm_campaign=spring_launch")


def test_costs_are_added_listed_paged_and_removed(client_as, campaign):
    client = client_as("marketing")
    response = client.post(
        f"{BASE}{campaign.pk}/costs/",
        {"incurred_on": "2025-04-02", "amount": "1,250.00", "description": XSS},
    )
    assert response.status_code == 302
    cost = CampaignCost.objects.get()
    assert (cost.amount, cost.currency, cost.created_by.username) == (
        Decimal("1250.00"),
        "USD",
        "marketing",
    )
    bad = client.post(f"{BASE}{campaign.pk}/costs/", {"incurred_on": "2025-04-02", "amount": "0"})
    assert bad.status_code == 422
    assert "amount must be greater than zero" in bad.content.decode()
    for i in range(25):
        CampaignCostFactory(campaign=campaign, incurred_on=date(2024, 1, 1 + i))
    page = client.get(f"{BASE}{campaign.pk}/")
    assert XSS not in page.content.decode()
    assert "26 entries · page 1 of 2" in page.content.decode()
    second = client.get(f"{BASE}{campaign.pk}/?costs_page=2", **htmx())
    assert second.content.decode().startswith('<div id="campaign-costs"')
    assert len(second.context["costs"].object_list) == 6
    assert client.post(f"{BASE}{campaign.pk}/costs/{cost.pk}/delete/").status_code == 302
    assert not CampaignCost.objects.filter(pk=cost.pk).exists()
    other = CampaignCostFactory(campaign=CampaignFactory())
    assert client.post(f"{BASE}{campaign.pk}/costs/{other.pk}/delete/").status_code == 404


def test_registered_link_shows_its_tracked_url(client_as, campaign):
    client = client_as("marketing")
    response = client.post(
        f"{BASE}{campaign.pk}/links/", {"url": "https://example.com/offer", "label": XSS}
    )
    assert response.status_code == 302
    link = TrackedLink.objects.get()
    assert link.url.endswith("utm_campaign=spring_launch")
    body = client.get(f"{BASE}{campaign.pk}/").content.decode()
    assert "http://testserver/t/c/" in body
    assert XSS not in body
    bad = client.post(f"{BASE}{campaign.pk}/links/", {"url": "//evil.example/"})
    assert bad.status_code == 422
    assert "must be an absolute http:// or https:// address" in bad.content.decode()


# ---------------------------------------------------------------- cost import page


def test_import_page_reports_created_and_rejected_rows(client_as, campaign):
    csv = b"date,campaign,amount\n2025-01-01,Spring Launch,10\n2025-01-02,Nope,5\n"
    response = client_as("marketing").post(
        f"{BASE}costs/import/", {"file": SimpleUploadedFile("spend.csv", csv)}
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.rejected_count) == (1, 1)
    body = response.content.decode()
    assert "campaign &#x27;Nope&#x27; is not a campaign" in body


def test_import_page_refuses_big_and_unreadable_files(client_as, campaign, monkeypatch):
    client = client_as("admin")
    unreadable = client.post(
        f"{BASE}costs/import/", {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\xfa\x00bad")}
    )
    assert unreadable.status_code == 422
    monkeypatch.setattr(costs_import, "MAX_BYTES", 10)
    big = client.post(
        f"{BASE}costs/import/",
        {"file": SimpleUploadedFile("big.csv", b"date,campaign,amount\n" * 3)},
    )
    assert big.status_code == 422
    assert "big.csv is 0.0 MB; ad-spend files are limited to 0 MB" in big.content.decode()
    assert CampaignCost.objects.count() == 0


# ---------------------------------------------------------------- query counts

LIST_CEILING = 5  # measured 4: session, user, count, rows (+1)
PAGE_CEILING = 14  # measured 13: session, user, campaign, personas, links, 6 figures, costs (+1)


def _busy_campaigns(n: int) -> None:
    form = FormFactory()
    for _ in range(n):
        c = CampaignFactory(budget=100)
        CampaignCostFactory(campaign=c)
        c.personas.add(PersonaFactory())
        contact = ContactFactory()
        FormSubmission.objects.create(
            form=form, contact=contact, submitted_at=c.created_at, campaign=c
        )
        TouchpointFactory(campaign=c, contact=contact, kind="form_submit")


def _count(client: Client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **headers).status_code == 200
    return len(ctx.captured_queries)


def test_list_costs_the_same_queries_for_10_or_60_rows(client_as, world):
    client = client_as("manager")
    counts = []
    for n in (10, 50):
        _busy_campaigns(n)
        counts.append(
            (_count(client, BASE + "?sort=-spent"), _count(client, BASE + "?page=2", **htmx()))
        )
    assert counts[0] == counts[1]
    assert max(max(c) for c in counts) <= LIST_CEILING


def test_campaign_page_costs_the_same_for_few_or_many_records(client_as, campaign):
    client = client_as("marketing")
    counts = []
    for n in (5, 40):
        for i in range(n):
            CampaignCostFactory(campaign=campaign)
            TrackedLink.objects.create(campaign=campaign, url=f"https://example.com/{n}/{i}")
            campaign.personas.add(PersonaFactory())
            TouchpointFactory(campaign=campaign, anonymous_id=f"a{n}-{i}")
        counts.append(_count(client, f"{BASE}{campaign.pk}/"))
    assert counts[0] == counts[1]
    assert counts[1] <= PAGE_CEILING
