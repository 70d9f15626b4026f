"""Campaign writes: campaigns, their cost entries, tracked links and ad-spend imports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tandem.accounts.models import User
from tandem.crm.models import TimelineEvent
from tandem.crm.normalise import (
    check_characters,
    clean_choice,
    clean_currency,
    clean_date,
    clean_decimal,
    clean_text,
)
from tandem.errors import Conflict, DomainError, InvalidInput, refuse_taken
from tandem.marketing import costs_import, links, utm
from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignStatus,
    Channel,
    CostOrigin,
    JourneyStage,
    Persona,
    TrackedLink,
)

# NUMERIC(14, 2): the largest amount a budget or cost column holds.
MAX_MONEY = Decimal("999999999999.99")
CAMPAIGN_EDITABLE = (
    "name",
    "channel",
    "objective",
    "personas",
    "journey_stage",
    "starts_on",
    "ends_on",
    "status",
    "budget",
    "currency",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "owner",
)
MAX_OBJECTIVE = 5000
# A generated utm_campaign that collides with a concurrent create is retried this many times.
TAG_ATTEMPTS = 5


# ---------------------------------------------------------------- value cleaning


def clean_money(value: Any, *, field: str, positive: bool = False) -> Decimal | None:
    """An optional amount (≥ 0, or > 0 when positive) that a NUMERIC(14, 2) column holds."""
    if isinstance(value, float):
        value = str(value)
    amount = clean_decimal(value, field=field)
    if amount is None:
        return None
    if amount > MAX_MONEY:
        raise InvalidInput(f"{field} must be at most {MAX_MONEY:,}", field=field)
    if positive and amount <= 0:
        raise InvalidInput(f"{field} must be greater than zero", field=field)
    return amount


def required_date(value: Any, *, field: str) -> date:
    """A calendar day that must be given."""
    day = clean_date(value, field=field)
    if day is None:
        raise InvalidInput(f"{field} is required", field=field)
    return day


def clean_user_tag(value: Any, *, key: str) -> str:
    """A UTM tag typed by a user: trimmed, lower case, inner spaces collapsed; too long is refused."""
    field = f"utm_{key}"
    text = "" if value is None else str(value)
    check_characters(text, field=field)
    tag = utm.clean_tag(text, key=key)
    if len(" ".join(text.split())) > len(tag):
        raise InvalidInput(f"{field} is longer than {utm.MAX_TAG[key]} characters", field=field)
    return tag


def _personas(ids: Iterable[Any]) -> list[Persona]:
    """The personas with these ids; an id that names no persona is refused."""
    wanted: set[int] = set()
    for raw in ids:
        if isinstance(raw, Persona):
            wanted.add(raw.pk)
            continue
        try:
            wanted.add(int(raw))
        except (TypeError, ValueError):
            raise InvalidInput(
                f"persona id {str(raw)[:40]!r} is not a number", field="personas"
            ) from None
    found = list(Persona.objects.filter(pk__in=wanted))
    missing = wanted - {p.pk for p in found}
    if missing:
        listed = ", ".join(str(i) for i in sorted(missing)[:10])
        raise InvalidInput(f"no persona has the id {listed}", field="personas")
    return found


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise InvalidInput(
            f"ends_on ({ends_on}) is before starts_on ({starts_on})", field="ends_on"
        )


# ---------------------------------------------------------------- utm_campaign uniqueness


def unique_campaign_tag(base: str, *, exclude_pk: int | None = None) -> str:
    """`base`, or `base_2`, `base_3`… : the first that no other campaign uses."""
    taken_qs = Campaign.objects.filter(
        Q(utm_campaign=base) | Q(utm_campaign__startswith=f"{base}_")
    )
    if exclude_pk is not None:
        taken_qs = taken_qs.exclude(pk=exclude_pk)
    taken = set(taken_qs.values_list("utm_campaign", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _refuse_taken_tag(tag: str, *, exclude_pk: int | None = None) -> None:
    refuse_taken(
        Campaign.objects.filter(utm_campaign=tag).only("pk"),
        message=lambda existing: f"utm_campaign {tag!r} is already used by campaign {existing.pk}",
        exclude_pk=exclude_pk,
    )


def _save_with_tag(campaign: Campaign, *, typed: bool, **save_kwargs: Any) -> None:
    """Save; a tag taken meanwhile is a 409 when typed, and the next free suffix when generated."""
    for _ in range(TAG_ATTEMPTS):
        try:
            with transaction.atomic():
                campaign.save(**save_kwargs)
            return
        except IntegrityError:
            exclude = campaign.pk if not campaign._state.adding else None
            if typed:
                _refuse_taken_tag(campaign.utm_campaign, exclude_pk=exclude)
                raise
            base = utm.campaign_tag_for(campaign.name)
            campaign.utm_campaign = unique_campaign_tag(base, exclude_pk=exclude)
    raise Conflict("could not find a free utm_campaign tag; type one")


# ---------------------------------------------------------------- campaigns


@transaction.atomic
def create_campaign(
    *,
    name: str,
    channel: str,
    objective: str = "",
    personas: Iterable[Any] = (),
    journey_stage: str = JourneyStage.AWARENESS,
    starts_on: Any = None,
    ends_on: Any = None,
    status: str = CampaignStatus.PLANNED,
    budget: Any = None,
    currency: str | None = "USD",
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    owner: User | None = None,
    by: User | None = None,
    created_at: datetime | None = None,
) -> Campaign:
    """Create a campaign; blank UTM tags default from its channel and name (made unique)."""
    clean_name = clean_text(name, field="name", max_length=200, required=True)
    clean_channel = clean_choice(channel, field="channel", choices=list(Channel.values))
    start = clean_date(starts_on, field="starts_on")
    end = clean_date(ends_on, field="ends_on")
    _check_dates(start, end)
    default_source, default_medium = utm.DEFAULT_TAGS[clean_channel]
    typed_tag = clean_user_tag(utm_campaign, key="campaign")
    if typed_tag:
        _refuse_taken_tag(typed_tag)
    campaign = Campaign(
        name=clean_name,
        channel=clean_channel,
        objective=clean_text(objective, field="objective", max_length=MAX_OBJECTIVE),
        journey_stage=clean_choice(
            journey_stage, field="journey_stage", choices=list(JourneyStage.values)
        ),
        starts_on=start,
        ends_on=end,
        status=clean_choice(status, field="status", choices=list(CampaignStatus.values)),
        budget=clean_money(budget, field="budget"),
        currency=clean_currency(currency),
        utm_source=clean_user_tag(utm_source, key="source") or default_source,
        utm_medium=clean_user_tag(utm_medium, key="medium") or default_medium,
        utm_campaign=typed_tag or unique_campaign_tag(utm.campaign_tag_for(clean_name)),
        owner=owner if owner is not None else by,
        created_at=created_at or timezone.now(),
    )
    chosen = _personas(personas)
    _save_with_tag(campaign, typed=bool(typed_tag))
    if chosen:
        campaign.personas.set(chosen)
    return campaign


@transaction.atomic
def update_campaign(
    *, campaign: Campaign, changes: dict[str, Any], by: User | None = None
) -> Campaign:
    """Change a campaign's fields (only those in CAMPAIGN_EDITABLE).

    A blank utm_source/utm_medium goes back to the channel's default, and so do tags that
    were the old channel's defaults when the channel changes; a blank utm_campaign is made
    again from the name. A renamed campaign keeps its utm_campaign: traffic already carries it.
    """
    unknown = set(changes).difference(CAMPAIGN_EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown campaign field(s): {', '.join(sorted(unknown))}")
    try:
        _apply_changes(campaign, changes)
    except DomainError:
        # The caller's object shows what is stored, not the half-applied refused change.
        campaign.refresh_from_db()
        raise
    return campaign


def _apply_changes(campaign: Campaign, changes: dict[str, Any]) -> None:
    fields: set[str] = set()
    old_defaults = utm.DEFAULT_TAGS.get(campaign.channel, ("", ""))
    typed_tag = False
    for field, value in changes.items():
        if field == "name":
            campaign.name = clean_text(value, field="name", max_length=200, required=True)
        elif field == "channel":
            campaign.channel = clean_choice(value, field="channel", choices=list(Channel.values))
        elif field == "objective":
            campaign.objective = clean_text(value, field="objective", max_length=MAX_OBJECTIVE)
        elif field == "journey_stage":
            campaign.journey_stage = clean_choice(
                value, field="journey_stage", choices=list(JourneyStage.values)
            )
        elif field == "status":
            campaign.status = clean_choice(
                value, field="status", choices=list(CampaignStatus.values)
            )
        elif field in ("starts_on", "ends_on"):
            setattr(campaign, field, clean_date(value, field=field))
        elif field == "budget":
            campaign.budget = clean_money(value, field="budget")
        elif field == "currency":
            campaign.currency = clean_currency(value)
        elif field in ("utm_source", "utm_medium"):
            key = field.removeprefix("utm_")
            tag = clean_user_tag(value, key=key)
            setattr(campaign, field, tag or "")  # blank: the channel default, set below
        elif field == "utm_campaign":
            tag = clean_user_tag(value, key="campaign")
            typed_tag = bool(tag)
            if tag:
                _refuse_taken_tag(tag, exclude_pk=campaign.pk)
            campaign.utm_campaign = tag
        elif field == "owner":
            if value is not None and not isinstance(value, User):
                raise InvalidInput("owner must be a user", field="owner")
            campaign.owner = value
        if field != "personas":
            fields.add(field)
    _check_dates(campaign.starts_on, campaign.ends_on)
    source, medium = utm.DEFAULT_TAGS[campaign.channel]
    channel_changed = "channel" in changes
    if not campaign.utm_source or (
        channel_changed and "utm_source" not in changes and campaign.utm_source == old_defaults[0]
    ):
        campaign.utm_source = source
        fields.add("utm_source")
    if not campaign.utm_medium or (
        channel_changed and "utm_medium" not in changes and campaign.utm_medium == old_defaults[1]
    ):
        campaign.utm_medium = medium
        fields.add("utm_medium")
    if not campaign.utm_campaign:
        base = utm.campaign_tag_for(campaign.name)
        campaign.utm_campaign = unique_campaign_tag(base, exclude_pk=campaign.pk)
    chosen = _personas(changes["personas"] or ()) if "personas" in changes else None
    if fields:
        _save_with_tag(campaign, typed=typed_tag, update_fields=[*fields, "updated_at"])
    if chosen is not None:
        campaign.personas.set(chosen)


@transaction.atomic
def delete_campaign(*, campaign: Campaign, by: User | None = None) -> None:
    """Delete a campaign with its costs and links; one with recorded traffic is refused.

    Touches and form submissions are attribution history: deleting their campaign would
    silently move their results to "no campaign", so such a campaign is completed instead.
    """
    touches = campaign.touchpoints.count()
    submissions = campaign.submissions.count()
    if touches or submissions:
        raise InvalidInput(
            f"campaign {campaign.name!r} has {touches} touchpoint(s) and {submissions} form "
            "submission(s); set its status to completed instead of deleting it",
            field="campaign",
        )
    # crm keeps campaign ids as plain columns (it sits below marketing): clear them here.
    TimelineEvent.objects.filter(campaign_id=campaign.pk).update(campaign_id=None)
    campaign.delete()


# ---------------------------------------------------------------- costs


@transaction.atomic
def add_cost(
    *,
    campaign: Campaign,
    incurred_on: Any,
    amount: Any,
    currency: str | None = None,
    description: str = "",
    by: User | None = None,
) -> CampaignCost:
    """Record a dated spend entry (amount > 0; currency defaults to the campaign's)."""
    value = clean_money(amount, field="amount", positive=True)
    if value is None:
        raise InvalidInput("amount is required", field="amount")
    return CampaignCost.objects.create(
        campaign=campaign,
        incurred_on=required_date(incurred_on, field="incurred_on"),
        amount=value,
        currency=clean_currency(currency or campaign.currency),
        description=clean_text(description, field="description", max_length=255),
        origin=CostOrigin.MANUAL,
        created_by=by,
    )


@transaction.atomic
def delete_cost(*, cost: CampaignCost, by: User | None = None) -> None:
    """Remove a spend entry (an imported one comes back if its file is imported again)."""
    cost.delete()


@transaction.atomic
def import_costs(*, file: Any, by: User | None = None) -> costs_import.CostImportReport:
    """Import an ad-spend CSV (Google Ads, Meta, LinkedIn or date,campaign,amount,currency).

    The whole file is read and checked first: an unreadable file (encoding, CSV syntax, no
    known header) writes nothing. Then the good rows are written, one entry per (campaign,
    day, platform), so importing the same file again updates those entries.
    """
    parsed = costs_import.read_costs(costs_import.read_bytes(file))
    report = parsed.report
    if not parsed.entries:
        return report
    key = parsed.platform.key
    days = [day for _, day in parsed.entries]
    existing = {
        (c.campaign_id, c.incurred_on): c
        for c in CampaignCost.objects.filter(
            import_key=key,
            campaign_id__in={cid for cid, _ in parsed.entries},
            incurred_on__gte=min(days),
            incurred_on__lte=max(days),
        )
    }
    new: list[CampaignCost] = []
    changed: list[CampaignCost] = []
    description = f"{parsed.platform.label} import"
    for (campaign_id, day), (amount, currency) in parsed.entries.items():
        cost = existing.get((campaign_id, day))
        if cost is None:
            if amount > 0:
                new.append(
                    CampaignCost(
                        campaign_id=campaign_id,
                        incurred_on=day,
                        amount=amount,
                        currency=currency,
                        description=description,
                        origin=CostOrigin.IMPORT,
                        import_key=key,
                        created_by=by,
                    )
                )
            else:
                report.skipped += 1  # a day without spend needs no entry
        elif cost.amount != amount or cost.currency != currency:
            cost.amount, cost.currency = amount, currency
            changed.append(cost)
        else:
            report.unchanged += 1
    try:
        with transaction.atomic():
            CampaignCost.objects.bulk_create(new, batch_size=1000)
    except IntegrityError:
        raise Conflict(
            "another import wrote the same entries at the same time; import the file again"
        ) from None
    CampaignCost.objects.bulk_update(changed, ["amount", "currency"], batch_size=1000)
    report.created, report.updated = len(new), len(changed)
    return report


# ---------------------------------------------------------------- tracked links


@transaction.atomic
def register_link(
    *, campaign: Campaign, url: str, label: str = "", by: User | None = None
) -> TrackedLink:
    """Register a destination for click tracking, tagged with the campaign's UTM tags.

    The same tagged destination registered twice for a campaign is one link.
    """
    tagged = links.campaign_url(campaign, url)
    existing = TrackedLink.objects.filter(campaign=campaign, url=tagged).first()
    if existing is not None:
        return existing
    return TrackedLink.objects.create(
        campaign=campaign,
        url=tagged,
        label=clean_text(label, field="label", max_length=200),
        created_by=by,
    )
