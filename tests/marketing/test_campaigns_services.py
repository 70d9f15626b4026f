"""Campaign services: UTM defaults and uniqueness, tolerant tags, conflicts, costs and links."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tandem.crm.models import TimelineEvent
from tandem.errors import Conflict, InvalidInput
from tandem.marketing.models import Campaign, CampaignCost, TrackedLink
from tandem.marketing.services import campaigns as services
from tests.marketing.factories import (
    CampaignFactory,
    PersonaFactory,
    TouchpointFactory,
)


@pytest.fixture
def marketer(world):
    return world.marketer


# ---------------------------------------------------------------- UTM tags


def test_tags_default_from_channel_and_name(marketer):
    """Given only a name and a channel, then source/medium come from the channel and the
    campaign tag from the name."""
    campaign = services.create_campaign(
        name="Spring Launch 2025", channel="paid_search", by=marketer
    )
    assert (campaign.utm_source, campaign.utm_medium, campaign.utm_campaign) == (
        "google",
        "cpc",
        "spring_launch_2025",
    )
    assert campaign.owner == marketer
    assert campaign.status == "planned"
    assert campaign.journey_stage == "awareness"


def test_generated_tags_get_a_numbered_suffix(marketer):
    """Given three campaigns with the same name, then their tags are x, x_2 and x_3."""
    tags = [
        services.create_campaign(name="Webinar Series", channel="webinar").utm_campaign
        for _ in range(3)
    ]
    assert tags == ["webinar_series", "webinar_series_2", "webinar_series_3"]


def test_suffix_skips_a_number_already_taken(marketer):
    """Given x and x_2 exist (x_2 typed by hand), then the next generated tag is x_3."""
    services.create_campaign(name="Promo", channel="email")
    services.create_campaign(name="Other", channel="email", utm_campaign="promo_2")
    assert services.create_campaign(name="Promo", channel="email").utm_campaign == "promo_3"


def test_typed_tags_are_trimmed_lowered_and_collapsed(marketer):
    campaign = services.create_campaign(
        name="Q3 push",
        channel="paid_social",
        utm_source="  LinkedIn ",
        utm_medium="Paid   Social",
        utm_campaign=" Q3  Push\t2025 ",
    )
    assert (campaign.utm_source, campaign.utm_medium, campaign.utm_campaign) == (
        "linkedin",
        "paid social",
        "q3 push 2025",
    )


def test_a_typed_tag_taken_by_another_campaign_is_a_conflict(marketer):
    """Given a campaign tagged spring_sale, when another is created with "Spring_Sale ", then
    409-style Conflict naming the existing id, and nothing is written."""
    first = services.create_campaign(name="A", channel="email", utm_campaign="spring_sale")
    with pytest.raises(Conflict) as error:
        services.create_campaign(name="B", channel="email", utm_campaign="Spring_Sale ")
    assert error.value.existing_id == first.pk
    assert str(error.value) == f"utm_campaign 'spring_sale' is already used by campaign {first.pk}"
    assert Campaign.objects.count() == 1


def test_update_to_a_taken_tag_is_a_conflict(marketer):
    first = services.create_campaign(name="A", channel="email")
    second = services.create_campaign(name="B", channel="email")
    with pytest.raises(Conflict) as error:
        services.update_campaign(campaign=second, changes={"utm_campaign": " A "})
    assert error.value.existing_id == first.pk
    second.refresh_from_db()
    assert second.utm_campaign == "b"


def test_too_long_tag_is_refused_by_name(marketer):
    with pytest.raises(InvalidInput) as error:
        services.create_campaign(name="A", channel="email", utm_source="x" * 101)
    assert str(error.value) == "utm_source is longer than 100 characters"


def test_channel_change_moves_default_tags_but_keeps_typed_ones(marketer):
    """Given a campaign on the paid-search defaults, when its channel becomes email, then its
    source/medium follow; a campaign with typed tags keeps them."""
    default = services.create_campaign(name="A", channel="paid_search")
    services.update_campaign(campaign=default, changes={"channel": "email"})
    default.refresh_from_db()
    assert (default.utm_source, default.utm_medium) == ("newsletter", "email")
    typed = services.create_campaign(name="B", channel="paid_search", utm_source="bing")
    services.update_campaign(campaign=typed, changes={"channel": "email"})
    typed.refresh_from_db()
    assert (typed.utm_source, typed.utm_medium) == ("bing", "email")


def test_rename_keeps_the_tag_and_blank_tag_is_made_again(marketer):
    campaign = services.create_campaign(name="Old name", channel="content")
    services.update_campaign(campaign=campaign, changes={"name": "New name"})
    campaign.refresh_from_db()
    assert (campaign.name, campaign.utm_campaign) == ("New name", "old_name")
    services.update_campaign(campaign=campaign, changes={"utm_campaign": "  "})
    campaign.refresh_from_db()
    assert campaign.utm_campaign == "new_name"


# ---------------------------------------------------------------- other fields


def test_personas_must_exist(marketer):
    persona = PersonaFactory()
    campaign = services.create_campaign(name="A", channel="email", personas=[persona.pk])
    assert list(campaign.personas.all()) == [persona]
    with pytest.raises(InvalidInput) as error:
        services.create_campaign(name="B", channel="email", personas=[persona.pk, 999_999])
    assert (str(error.value), error.value.field) == ("no persona has the id 999999", "personas")
    assert Campaign.objects.count() == 1


def test_end_before_start_is_refused(marketer):
    with pytest.raises(InvalidInput) as error:
        services.create_campaign(
            name="A", channel="email", starts_on="2025-03-10", ends_on=date(2025, 3, 9)
        )
    assert str(error.value) == "ends_on (2025-03-09) is before starts_on (2025-03-10)"
    campaign = services.create_campaign(
        name="A", channel="email", starts_on="2025-03-10", ends_on="2025-03-10"
    )
    with pytest.raises(InvalidInput):
        services.update_campaign(campaign=campaign, changes={"starts_on": date(2025, 4, 1)})


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("-1", "budget must be a non-negative amount below 10^16"),
        ("1000000000000", "budget must be at most 999,999,999,999.99"),
        ("ten", "budget 'ten' is not a number"),
    ],
)
def test_bad_budget_is_refused(marketer, budget, message):
    with pytest.raises(InvalidInput) as error:
        services.create_campaign(name="A", channel="email", budget=budget)
    assert str(error.value) == message


def test_budget_and_currency_are_normalised(marketer):
    campaign = services.create_campaign(
        name="A", channel="events", budget="$12,500.5", currency=" eur "
    )
    assert (campaign.budget, campaign.currency) == (Decimal("12500.50"), "EUR")


def test_unknown_channel_and_status_are_refused(marketer):
    with pytest.raises(InvalidInput) as error:
        services.create_campaign(name="A", channel="tv")
    assert error.value.field == "channel"
    with pytest.raises(InvalidInput) as error:
        services.create_campaign(name="A", channel="email", status="archived")
    assert error.value.field == "status"


def test_delete_refuses_a_campaign_with_traffic(marketer, world):
    """Given a campaign with a touchpoint, then deleting it is refused; without traffic, its
    costs and links go with it and timeline rows lose the dangling id."""
    busy = CampaignFactory()
    TouchpointFactory(campaign=busy)
    with pytest.raises(InvalidInput) as error:
        services.delete_campaign(campaign=busy)
    assert "1 touchpoint(s) and 0 form submission(s)" in str(error.value)

    quiet = CampaignFactory()
    services.add_cost(campaign=quiet, incurred_on="2025-01-02", amount="10")
    services.register_link(campaign=quiet, url="https://example.com/")
    event = TimelineEvent.objects.create(
        type="x", occurred_at=quiet.created_at, campaign_id=quiet.pk, idempotency_key="k1"
    )
    services.delete_campaign(campaign=quiet)
    assert not Campaign.objects.filter(pk=quiet.pk).exists()
    assert CampaignCost.objects.count() == 0
    assert TrackedLink.objects.count() == 0
    event.refresh_from_db()
    assert event.campaign_id is None


# ---------------------------------------------------------------- costs


def test_add_cost_defaults_to_the_campaign_currency(marketer):
    campaign = CampaignFactory(currency="GBP")
    cost = services.add_cost(
        campaign=campaign, incurred_on="2025-02-01", amount="1,200.456", by=marketer
    )
    assert (cost.amount, cost.currency, cost.origin, cost.import_key) == (
        Decimal("1200.46"),
        "GBP",
        "manual",
        None,
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "amount must be greater than zero"),
        ("0.001", "amount must be greater than zero"),
        ("-5", "amount must be a non-negative amount below 10^16"),
        ("", "amount is required"),
    ],
)
def test_cost_amount_must_be_positive(marketer, amount, message):
    with pytest.raises(InvalidInput) as error:
        services.add_cost(campaign=CampaignFactory(), incurred_on="2025-02-01", amount=amount)
    assert str(error.value) == message
    assert CampaignCost.objects.count() == 0


def test_cost_needs_a_day(marketer):
    with pytest.raises(InvalidInput) as error:
        services.add_cost(campaign=CampaignFactory(), incurred_on="", amount="5")
    assert str(error.value) == "incurred_on is required"
    with pytest.raises(InvalidInput) as error:
        services.add_cost(campaign=CampaignFactory(), incurred_on="02/01/2025", amount="5")
    assert str(error.value) == "incurred_on '02/01/2025' is not a date (YYYY-MM-DD)"


def test_delete_cost(marketer):
    cost = services.add_cost(campaign=CampaignFactory(), incurred_on="2025-02-01", amount="5")
    services.delete_cost(cost=cost)
    assert CampaignCost.objects.count() == 0


# ---------------------------------------------------------------- tracked links


def test_register_link_tags_the_destination(marketer):
    """Given a landing page with its own query, then the stored URL keeps it, replaces any old
    utm_source and adds the campaign's tags; registering it again returns the same link."""
    campaign = CampaignFactory(utm_source="google", utm_medium="cpc", utm_campaign="spring")
    link = services.register_link(
        campaign=campaign,
        url="https://www.example.com/pricing?plan=pro&utm_source=old&utm_content=hero#top",
        label="Pricing",
        by=marketer,
    )
    assert link.url == (
        "https://www.example.com/pricing?plan=pro&utm_source=google&utm_medium=cpc"
        "&utm_campaign=spring&utm_content=hero#top"
    )
    again = services.register_link(
        campaign=campaign,
        url="https://www.example.com/pricing?plan=pro&utm_content=hero#top",
    )
    assert again.pk == link.pk


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "//evil.example/path",
        "/relative/path",
        "ftp://example.com/file",
        "https://",
        "https://exa mple.com/",
        "http:///no-host",
        "https://example.com/" + "a" * 2000,
        "",
    ],
)
def test_register_link_refuses_anything_but_absolute_http(marketer, url):
    with pytest.raises(InvalidInput) as error:
        services.register_link(campaign=CampaignFactory(), url=url)
    assert error.value.field == "url"
    assert TrackedLink.objects.count() == 0


def test_a_refused_update_leaves_the_object_as_stored(marketer):
    campaign = services.create_campaign(name="Kept", channel="email", starts_on="2025-05-01")
    with pytest.raises(InvalidInput):
        services.update_campaign(
            campaign=campaign, changes={"name": "Changed", "ends_on": "2025-04-01"}
        )
    assert (campaign.name, campaign.ends_on) == ("Kept", None)
    campaign.refresh_from_db()
    assert campaign.name == "Kept"
