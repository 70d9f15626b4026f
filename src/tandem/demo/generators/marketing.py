"""Step: marketing — personas, the campaign calendar, content, tracking sources, forms, links.

The handful of personas, campaigns, sources and forms go through tandem.marketing.services, so
they are exactly what the app would have written (criteria and tags validated, personas assigned
by the same compiled filter). Costs come in a later step (`costs`), once the journeys step has
placed every campaign touch: a campaign's spend is its touches times its channel's cost per
touch, so the app's cost per lead agrees with the channel model in docs/demo.md.
"""

from __future__ import annotations

import base64
import math
import random
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from tandem.accounts.models import User
from tandem.crm.models import Contact
from tandem.demo.context import CampaignWindow, DemoContext, insert, update_grouped
from tandem.demo.data import (
    ASSETS,
    CAMPAIGNS,
    CHANNELS,
    CONSENT_CHANGE_DAY,
    CONSENT_TEXTS,
    DOCS_SITE,
    FORMS,
    PERSONAS,
    SITE,
    WEBINAR_TOPICS,
    CampaignPlan,
)
from tandem.demo.sampling import slug
from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignStatus,
    ConsentText,
    ContentAsset,
    CostOrigin,
    Form,
    FormStatus,
    Persona,
    Source,
    TrackedLink,
)
from tandem.marketing.services.campaigns import create_campaign, register_link
from tandem.marketing.services.forms import (
    add_field,
    create_form,
    set_consent_text,
    set_form_status,
)
from tandem.marketing.services.personas import assign_persona, create_persona
from tandem.marketing.services.sources import create_source

SEASONS = ("Winter", "Winter", "Spring", "Spring", "Spring", "Summer", "Summer", "Summer",
           "Autumn", "Autumn", "Autumn", "Winter")  # fmt: skip
# Links each email campaign's messages carry (registered for click tracking).
EMAIL_LINKS: tuple[tuple[str, str], ...] = (
    ("/blog/five-funnel-metrics", "Read: five funnel metrics"),
    ("/resources/revenue-funnel-playbook", "Get the playbook"),
    ("/webinars", "Upcoming webinars"),
    ("/pricing", "See pricing"),
    ("/demo", "Book a demo"),
)
# Typed-in monthly costs: what the invoice is for.
MONTHLY_COSTS = {
    "organic_search": "Freelance writers and SEO tools",
    "organic_social": "Scheduling tool and design",
    "email": "Email platform",
    "content": "Syndication and production invoice",
    "referral": "Referral credits paid",
    "partner": "Partner market development funds",
    "outbound": "Sales engagement tool and contact data",
    "direct_mail": "Gift boxes, print and postage",
    "events": "Venues and dinners",
}
PLATFORM_LABELS = {"google_ads": "Google Ads", "linkedin": "LinkedIn", "meta": "Meta", "csv": "CSV"}


def run(ctx: DemoContext) -> None:
    """Create personas (and assign them), campaigns, content, sources, forms and tracked links."""
    rng = ctx.rng("marketing")
    marketer = ctx.users["marketing"]
    assigned = _personas(ctx, marketer)
    _campaigns(ctx, rng, marketer)
    _assets(ctx, rng, marketer)
    _sources(ctx, marketer)
    _forms(ctx, marketer)
    links = _links(ctx, marketer)
    ctx.counts.update(
        personas=len(ctx.personas),
        contacts_with_persona=assigned,
        campaigns=len(ctx.campaigns),
        content_assets=len(ctx.assets),
        sources=len(ctx.sources),
        forms=len(ctx.forms),
        tracked_links=links,
    )


# ---------------------------------------------------------------- personas


def _personas(ctx: DemoContext, marketer: User) -> int:
    """Create the personas and give each contact the first one whose criteria it fits."""
    assigned = 0
    for plan in PERSONAS:
        persona = create_persona(
            name=plan.name,
            description=plan.description,
            pains=plan.pains,
            goals=plan.goals,
            objections=plan.objections,
            criteria=[{"field": f, "op": op, "value": value} for f, op, value in plan.criteria],
            by=marketer,
        )
        ctx.personas[plan.key] = persona
        assigned += assign_persona(persona=persona, by=marketer)
    Persona.objects.update(created_at=ctx.start - timedelta(days=30), updated_at=ctx.start)
    personas = dict(
        Contact.objects.filter(persona_id__isnull=False).values_list("pk", "persona_id")
    )
    for contact in ctx.contact_rows:
        contact.persona_id = personas.get(contact.pk)
    return assigned


# ---------------------------------------------------------------- campaigns


def _day(ctx: DemoContext, plan: CampaignPlan, offset: float) -> datetime:
    return (ctx.now if plan.from_now else ctx.start) + timedelta(days=offset)


def _name(plan: CampaignPlan, when: datetime, topic: str, taken: set[str]) -> str:
    name = plan.name.format(
        year=when.year,
        quarter=f"Q{(when.month - 1) // 3 + 1} {when.year}",
        season=SEASONS[when.month - 1],
        topic=topic,
    )
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name} ({n})", n + 1
    taken.add(unique)
    return unique


def _status(ctx: DemoContext, plan: CampaignPlan, starts: date, ends: date | None) -> str:
    today = ctx.now.date()
    if plan.paused_days_ago:
        return CampaignStatus.PAUSED
    if starts > today:
        return CampaignStatus.PLANNED
    if ends is not None and ends < today:
        return CampaignStatus.COMPLETED
    return CampaignStatus.ACTIVE


def _campaigns(ctx: DemoContext, rng: random.Random, marketer: User) -> None:
    """The calendar: always-on programmes, bursts, quarterly webinars and conferences."""
    taken: set[str] = set()
    webinars = 0
    for plan in CAMPAIGNS:
        start = _day(ctx, plan, plan.start)
        end = _day(ctx, plan, plan.end + 1) if plan.end is not None else None
        live = None
        if plan.live is not None:
            live_start = start + timedelta(days=plan.live[0])
            live = (live_start, live_start + timedelta(days=plan.live[1]))
        topic = ""
        if plan.channel == "webinar":
            topic = WEBINAR_TOPICS[webinars % len(WEBINAR_TOPICS)]
            webinars += 1
        starts_on = start.date()
        ends_on = end.date() - timedelta(days=1) if end is not None else None
        status = _status(ctx, plan, starts_on, ends_on)
        created = min(start - timedelta(days=rng.uniform(10, 40)), ctx.now - timedelta(days=2))
        campaign = create_campaign(
            name=_name(plan, live[0] if live else start, topic, taken),
            channel=plan.channel,
            objective=plan.objective,
            personas=[ctx.personas[key].pk for key in plan.personas],
            journey_stage=plan.stage,
            starts_on=starts_on,
            ends_on=ends_on,
            status=status,
            utm_source=plan.source,
            utm_medium=plan.medium,
            owner=ctx.users["manager"] if plan.channel == "outbound" else marketer,
            by=marketer,
            created_at=created,
        )
        # Touches happen while it runs: from its first day to its end, its pause, or now.
        stop = ctx.now if end is None else min(end, ctx.now)
        if plan.paused_days_ago:
            stop = min(stop, ctx.now - timedelta(days=plan.paused_days_ago))
        ctx.campaigns.append(campaign)
        ctx.calendar.append(CampaignWindow(campaign, plan, start, stop, live))


# ---------------------------------------------------------------- content


def public_token(rng: random.Random) -> str:
    """22 url-safe characters carrying 128 random bits (the seed's, so the demo repeats)."""
    return base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode()[:22]


def _assets(ctx: DemoContext, rng: random.Random, marketer: User) -> None:
    """The content library, plus a recording of every webinar that has taken place."""
    by_name = {window.campaign.name: window for window in ctx.calendar}
    campaign_of = {
        "The Revenue Funnel Playbook": "Content syndication — The Revenue Funnel Playbook",
        "State of B2B Funnels Report": next(
            (name for name in by_name if name.startswith("State of B2B Funnels")), ""
        ),
    }
    rows: list[tuple[ContentAsset, tuple[str, ...]]] = []
    for plan in ASSETS:
        window = by_name.get(campaign_of.get(plan.title, ""))
        # The evergreen library predates the demo's period; campaign assets launch with them.
        created = (
            window.start - timedelta(days=7)
            if window is not None
            else ctx.start - timedelta(days=rng.uniform(30, 400))
        )
        asset = ContentAsset(
            title=plan.title,
            type=plan.type,
            journey_stage=plan.stage,
            audience=plan.audience,
            description=plan.description,
            url=SITE + plan.path,
            public_token=public_token(rng),
            campaign=window.campaign if window is not None else None,
            created_by=marketer,
            created_at=min(created, ctx.now - timedelta(days=1)),
        )
        rows.append((asset, plan.personas))
    for window in ctx.calendar:
        if window.plan.channel != "webinar" or window.live is None:
            continue
        recorded = window.live[0] + timedelta(days=2)
        if recorded >= ctx.now:
            continue
        topic = window.campaign.name.split(": ", 1)[-1]
        asset = ContentAsset(
            title=f"Webinar recording: {topic}",
            type="webinar_recording",
            journey_stage=window.campaign.journey_stage,
            audience="both",
            description=f"The recording of {window.campaign.name}.",
            url=f"{SITE}/webinars/{slug(topic.replace(' ', '-'))}/recording",
            public_token=public_token(rng),
            campaign=window.campaign,
            created_by=marketer,
            created_at=recorded,
        )
        rows.append((asset, tuple(p.key for p in PERSONAS if p.key in window.plan.personas)))
    insert([asset for asset, _ in rows])
    through = ContentAsset.personas.through
    insert(
        [
            through(contentasset_id=asset.pk, persona_id=ctx.personas[key].pk)
            for asset, keys in rows
            for key in keys
        ]
    )
    ctx.assets = {asset.title: asset for asset, _ in rows}


# ---------------------------------------------------------------- sources and forms


def _sources(ctx: DemoContext, marketer: User) -> None:
    """The marketing website and the docs site; their write keys are made and thrown away."""
    for key, name, origin in (("website", "Website", SITE), ("docs", "Docs site", DOCS_SITE)):
        source, _raw_key = create_source(name=name, origins=[origin], by=marketer)
        ctx.sources[key] = source
    Source.objects.filter(pk__in=[s.pk for s in ctx.sources.values()]).update(
        created_at=ctx.start - timedelta(days=20)
    )


def _forms(ctx: DemoContext, marketer: User) -> None:
    """The website's forms with their fields; consent wording v1, then v2 from mid-period."""
    default_campaign = {
        "ebook": next(w.campaign for w in ctx.calendar if w.plan.channel == "content"),
    }
    for plan in FORMS:
        form = create_form(
            name=plan.name,
            slug=plan.slug,
            headline=plan.headline,
            submit_label=plan.submit_label,
            campaign=default_campaign.get(plan.key),
            source=ctx.sources["website"],
            asset=ctx.assets[plan.asset] if plan.asset else None,
            is_hand_raise=plan.hand_raise,
            consent_text=CONSENT_TEXTS[0],
            by=marketer,
        )
        for target in plan.fields:
            if target != "email":  # every form starts with its email field
                add_field(
                    form=form,
                    target=target,
                    required=target in ("last_name", "company_name", "message")
                    or (target == "first_name" and plan.key != "newsletter"),
                    by=marketer,
                )
        set_consent_text(form=form, text=CONSENT_TEXTS[1], by=marketer)
        set_form_status(form=form, status=FormStatus.PUBLISHED, by=marketer)
        ctx.forms[plan.key] = form
    created = ctx.start - timedelta(days=14)
    Form.objects.filter(pk__in=[f.pk for f in ctx.forms.values()]).update(created_at=created)
    texts = ConsentText.objects.filter(form__in=ctx.forms.values()).order_by("form", "version")
    ConsentText.objects.filter(pk__in=[t.pk for t in texts if t.version == 1]).update(
        created_at=created
    )
    ConsentText.objects.filter(pk__in=[t.pk for t in texts if t.version == 2]).update(
        created_at=consent_change(ctx)
    )
    by_form: dict[int, list[ConsentText]] = {}
    for text in ConsentText.objects.filter(form__in=ctx.forms.values()).order_by("version"):
        by_form.setdefault(text.form_id, []).append(text)
    ctx.consent = {key: by_form[form.pk] for key, form in ctx.forms.items()}


def consent_change(ctx: DemoContext) -> datetime:
    """When consent wording v2 replaced v1 on every form."""
    return ctx.start + timedelta(days=CONSENT_CHANGE_DAY, hours=10)


def _links(ctx: DemoContext, marketer: User) -> int:
    """Two to four registered links per email campaign (the ones its messages carry)."""
    made: list[TrackedLink] = []
    for i, window in enumerate(ctx.calendar):
        if window.plan.channel != "email":
            continue
        count = 2 + i % 3
        ctx.links[window.campaign.pk] = [
            register_link(campaign=window.campaign, url=SITE + path, label=label, by=marketer)
            for path, label in EMAIL_LINKS[:count]
        ]
        made.extend(ctx.links[window.campaign.pk])
        TrackedLink.objects.filter(campaign=window.campaign).update(
            created_at=window.campaign.created_at
        )
    return len(made)


# ---------------------------------------------------------------- costs (after the journeys)


def costs(ctx: DemoContext) -> None:
    """Spend entries that follow each campaign's touches, and budgets that fit the spend."""
    rng = ctx.rng("costs")
    entries: list[CampaignCost] = []
    spent: dict[int, Decimal] = {}
    for window in ctx.calendar:
        touches = ctx.campaign_touches.get(window.campaign.pk, [])
        plan = window.plan
        total = len(touches) * CHANNELS[plan.channel].cost_per_touch * rng.uniform(0.92, 1.08)
        rows = _entries(ctx, rng, window, touches, total)
        entries.extend(rows)
        spent[window.campaign.pk] = sum((row.amount for row in rows), Decimal(0))
    # A planned conference already has its booth deposit paid.
    for window in ctx.calendar:
        if window.campaign.status == CampaignStatus.PLANNED and window.plan.channel == "events":
            similar = [
                spent[w.campaign.pk]
                for w in ctx.calendar
                if w.plan.source == window.plan.source and spent[w.campaign.pk] > 0
            ]
            if similar:
                deposit = _money(float(max(similar)) * 0.3)
                entries.append(
                    _cost(
                        window,
                        (ctx.now - timedelta(days=12)).date(),
                        deposit,
                        "Booth deposit",
                        ctx.users["marketing"],
                    )
                )
                spent[window.campaign.pk] = deposit
    insert(entries)
    for entry in entries:
        # Typed in the next working day; imports land the morning after.
        made = datetime.combine(entry.incurred_on, time(9), tzinfo=ctx.now.tzinfo)
        entry.created_at = min(made + timedelta(days=1), ctx.now - timedelta(hours=1))
    update_grouped(entries, ["created_at"])
    for window in ctx.calendar:
        budget = _budget(ctx, rng, window, spent)
        if budget is not None:
            Campaign.objects.filter(pk=window.campaign.pk).update(budget=budget)
            window.campaign.budget = budget
    ctx.counts.update(campaign_costs=len(entries))


def _money(amount: float) -> Decimal:
    return Decimal(str(round(amount, 2))).quantize(Decimal("0.01"))


def _cost(
    window: CampaignWindow,
    day: date,
    amount: Decimal,
    description: str,
    by: User | None,
    import_key: str | None = None,
) -> CampaignCost:
    return CampaignCost(
        campaign_id=window.campaign.pk,
        incurred_on=day,
        amount=amount,
        currency=window.campaign.currency,
        description=description,
        origin=CostOrigin.IMPORT if import_key else CostOrigin.MANUAL,
        import_key=import_key,
        created_by=by,
    )


def _spread(
    days: list[date], touches: list[datetime], total: float, key: Callable[[date], date]
) -> dict[date, float]:
    """Split a total over periods (weeks or months) by their touches, never leaving one empty."""
    per: Counter[date] = Counter(key(t.date()) for t in touches)
    weights = {day: per.get(day, 0) + 0.5 for day in days}
    whole = sum(weights.values())
    return {day: total * w / whole for day, w in weights.items()}


def _periods(window: CampaignWindow, step: str) -> list[date]:
    """The Mondays (step "week") or month starts (step "month") the campaign ran in."""
    first, last = window.start.date(), (window.end - timedelta(seconds=1)).date()
    if last < first:
        return []
    if step == "week":
        day = first - timedelta(days=first.weekday())
        out = []
        while day <= last:
            out.append(day)
            day += timedelta(days=7)
        return out
    day = first.replace(day=1)
    out = []
    while day <= last:
        out.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month(day: date) -> date:
    return day.replace(day=1)


def _entries(
    ctx: DemoContext,
    rng: random.Random,
    window: CampaignWindow,
    touches: list[datetime],
    total: float,
) -> list[CampaignCost]:
    """One campaign's spend: weekly platform imports, monthly invoices, or event lump sums."""
    plan = window.plan
    if total < 1 or window.end <= window.start:
        return []
    marketer = ctx.users["marketing"]
    owner = ctx.users["manager"] if plan.channel == "outbound" else marketer
    today = ctx.now.date()
    if plan.cost.startswith("import:"):
        key = plan.cost.split(":", 1)[1]
        label = f"{PLATFORM_LABELS[key]} import"
        spread = _spread(_periods(window, "week"), touches, total, _week)
        return [
            _cost(window, max(day, window.start.date()), _money(amount), label, None, key)
            for day, amount in spread.items()
            if amount >= 0.01
        ]
    if plan.cost == "lump" and window.live is not None:
        live = window.live[0].date()
        if plan.channel == "webinar":
            parts = [
                (window.start.date(), 0.6, "Webinar platform and promotion"),
                (live, 0.4, "Speaker and production"),
            ]
        else:
            parts = [
                (live - timedelta(days=45), 0.55, "Booth and sponsorship"),
                (live - timedelta(days=10), 0.15, "Swag and printing"),
                (live, 0.30, "Travel and accommodation"),
            ]
        return [
            _cost(window, day, _money(total * share), text, marketer)
            for day, share, text in parts
            if day <= today
        ]
    # Monthly invoices, typed in on the last day of the month (or today, for this month).
    spread = _spread(_periods(window, "month"), touches, total, _month)
    rows = []
    for month, amount in spread.items():
        last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        day = min(last, today)
        if amount >= 0.01 and day >= window.start.date():
            rows.append(_cost(window, day, _money(amount), MONTHLY_COSTS[plan.channel], owner))
    return rows


def _budget(
    ctx: DemoContext, rng: random.Random, window: CampaignWindow, spent: dict[int, Decimal]
) -> Decimal | None:
    """A budget that fits the spend: the final cost with headroom, or a run-rate projection."""
    campaign, plan = window.campaign, window.plan
    cost = float(spent.get(campaign.pk, 0))
    if campaign.status == CampaignStatus.PLANNED:
        # Budgeted like the last ones of its kind (the same event, else the same channel).
        done = [
            w
            for w in ctx.calendar
            if w.campaign.status == CampaignStatus.COMPLETED and spent.get(w.campaign.pk, 0) > 0
        ]
        similar = [float(spent[w.campaign.pk]) for w in done if w.plan.source == plan.source] or [
            float(spent[w.campaign.pk]) for w in done if w.plan.channel == plan.channel
        ]
        if not similar:
            return None
        return _rounded(sum(similar) / len(similar) * rng.uniform(1.0, 1.15))
    if cost <= 0:
        return None
    if campaign.status == CampaignStatus.COMPLETED or window.end <= window.start:
        return _rounded(cost * rng.uniform(1.0, 1.12))
    if campaign.ends_on is None:
        # Always on: the budget approved so far, a little ahead of the spend.
        return _rounded(cost * rng.uniform(1.05, 1.2))
    ran = max(1.0, (window.end - window.start).total_seconds() / 86400)
    whole = (campaign.ends_on - campaign.starts_on).days + 1 if campaign.starts_on else ran
    return _rounded(cost / ran * whole * rng.uniform(1.0, 1.1))


def _rounded(amount: float) -> Decimal:
    """Budgets are round numbers: to 100 below 10,000, else to 500."""
    step = 100 if amount < 10_000 else 500
    return Decimal(max(step, math.ceil(amount / step) * step))
