"""Campaign page forms: they only parse types; the services own every rule and its message."""

from __future__ import annotations

from typing import Any

from django import forms

from tandem.crm.forms import BLANK, IdPrefixed
from tandem.marketing import utm
from tandem.marketing.models import Campaign, CampaignStatus, Channel, JourneyStage

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignFilterForm(forms.Form):
    """The campaign list's query string (invalid values are dropped, never trusted)."""

    q = forms.CharField(required=False, max_length=100)
    channel = forms.ChoiceField(required=False, choices=BLANK + list(Channel.choices))
    status = forms.ChoiceField(required=False, choices=BLANK + list(CampaignStatus.choices))
    stage = forms.ChoiceField(required=False, choices=BLANK + list(JourneyStage.choices))
    sort = forms.CharField(required=False, max_length=40)


def _default_tags_hint() -> str:
    pairs = ", ".join(
        f"{label.lower()}: {utm.DEFAULT_TAGS[value][0]} / {utm.DEFAULT_TAGS[value][1]}"
        for value, label in Channel.choices[:3]
    )
    return f"Blank: the channel's default ({pairs}, …)."


class CampaignForm(IdPrefixed):
    """A campaign's fields; blank UTM tags get their defaults from the service."""

    id_prefix = "campaign"

    name = forms.CharField(max_length=200)
    channel = forms.ChoiceField(choices=Channel.choices)
    objective = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    personas = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Target personas"
    )
    journey_stage = forms.ChoiceField(
        label="Journey stage", choices=JourneyStage.choices, initial=JourneyStage.AWARENESS
    )
    starts_on = forms.DateField(label="Starts on", required=False, widget=DATE)
    ends_on = forms.DateField(label="Ends on", required=False, widget=DATE)
    status = forms.ChoiceField(choices=CampaignStatus.choices, initial=CampaignStatus.PLANNED)
    # Text, so that the service can accept "$12,000" and name what is wrong with a value.
    budget = forms.CharField(required=False, max_length=40)
    currency = forms.CharField(required=False, max_length=40, initial="USD")
    utm_source = forms.CharField(
        label="utm_source", required=False, max_length=300, help_text=_default_tags_hint()
    )
    utm_medium = forms.CharField(label="utm_medium", required=False, max_length=300)
    utm_campaign = forms.CharField(
        label="utm_campaign",
        required=False,
        max_length=300,
        help_text="Blank: made from the name (spring_launch, then spring_launch_2, …).",
    )

    def __init__(self, *args: Any, persona_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        personas = self.fields["personas"]
        assert isinstance(personas, forms.MultipleChoiceField)
        personas.choices = persona_choices


def campaign_initial(campaign: Campaign) -> dict[str, Any]:
    """The edit form's starting values, in the types the form compares changes against."""
    return {
        "name": campaign.name,
        "channel": campaign.channel,
        "objective": campaign.objective,
        "personas": [str(p.pk) for p in campaign.personas.all()],
        "journey_stage": campaign.journey_stage,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "status": campaign.status,
        "budget": "" if campaign.budget is None else str(campaign.budget),
        "currency": campaign.currency,
        "utm_source": campaign.utm_source,
        "utm_medium": campaign.utm_medium,
        "utm_campaign": campaign.utm_campaign,
    }


class CostForm(IdPrefixed):
    """A dated spend entry typed in."""

    id_prefix = "cost"

    incurred_on = forms.DateField(label="Day", widget=DATE)
    amount = forms.CharField(max_length=40)
    currency = forms.CharField(
        required=False, max_length=40, help_text="Blank: the campaign's currency."
    )
    description = forms.CharField(required=False, max_length=255)


class LinkForm(IdPrefixed):
    """A destination to register for click tracking."""

    id_prefix = "link"

    url = forms.CharField(label="Destination URL", max_length=2100)
    label = forms.CharField(required=False, max_length=200)


class UtmBuilderForm(IdPrefixed):
    """A landing page to tag with the campaign's UTM tags."""

    id_prefix = "utm"

    url = forms.CharField(label="Landing page URL", max_length=2100)
    content = forms.CharField(
        label="utm_content", required=False, max_length=150, help_text="Optional: which ad or link."
    )
    term = forms.CharField(
        label="utm_term", required=False, max_length=150, help_text="Optional: the keyword."
    )


class CostImportForm(IdPrefixed):
    """An ad-spend CSV upload."""

    id_prefix = "costs"

    file = forms.FileField(label="Ad-spend CSV")
