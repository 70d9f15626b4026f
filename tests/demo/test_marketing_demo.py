"""The demo's marketing world: campaigns, costs, personas, forms, journeys and the channel truth."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

import pytest
from django.db.models import Count, Q, Sum

from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
from tandem.demo import pipeline
from tandem.demo.context import DemoContext
from tandem.demo.data import CAMPAIGNS, CHANNELS, CONSENT_CHANGE_DAY, PERSONAS, SITE
from tandem.demo.generators.journeys import MAX_TOUCHES, propensity
from tandem.errors import Conflict
from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    Channel,
    Form,
    FormSubmission,
    Persona,
    Source,
    Touchpoint,
    TrackedLink,
)
from tandem.marketing.utm import clean_tag
from tandem.tracking.models import Event, Visitor

ANCHOR = datetime(2026, 3, 2, tzinfo=UTC)
START = ANCHOR - timedelta(days=548)
HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(autouse=True)
def demo_mode(settings: Any) -> None:
    settings.DEBUG = True


def build(seed: int = 7, contacts: int = 300, reset: bool = False) -> DemoContext:
    return pipeline.build(seed=seed, contacts=contacts, now=ANCHOR, reset=reset)


def criteria_q(criteria: list[dict[str, Any]]) -> Q:
    """Persona criteria compiled independently of marketing.personas (text matches ignore case)."""
    lookups = {
        "contact.title": "title",
        "company.industry": "company__industry",
        "company.employees": "company__employees",
    }
    q = Q()
    for c in criteria:
        lookup, op, value = lookups[c["field"]], c["op"], c["value"]
        if op == "contains":
            q &= Q(**{f"{lookup}__icontains": value})
        elif op == "in":
            q &= reduce(or_, (Q(**{f"{lookup}__iexact": v}) for v in value))
        else:
            q &= Q(**{f"{lookup}__{op}": value})
    return q


@pytest.mark.django_db
def test_campaigns_cover_every_channel_with_dated_statuses_tags_and_costs() -> None:
    build()
    campaigns = list(Campaign.objects.prefetch_related("personas"))
    today = ANCHOR.date()

    assert len(campaigns) == len(CAMPAIGNS) == 52
    assert {c.channel for c in campaigns} == set(Channel.values)  # all 13
    for c in campaigns:
        # Status follows the dates (the Meta test was paused three weeks ago)
        if c.status == "completed":
            assert c.ends_on is not None and c.ends_on < today
        elif c.status == "planned":
            assert c.starts_on is not None and c.starts_on > today
        elif c.status == "active":
            assert c.starts_on <= today and (c.ends_on is None or c.ends_on >= today)
        else:
            assert c.status == "paused" and c.name == "Meta — Lookalike audience test"
        assert c.utm_campaign == clean_tag(c.utm_campaign) and " " not in c.utm_campaign
        assert c.utm_source == clean_tag(c.utm_source) and c.utm_medium == clean_tag(c.utm_medium)
        assert c.personas.exists()
        assert c.created_at <= ANCHOR
    assert len({c.utm_campaign for c in campaigns}) == 52
    assert {"completed", "active", "planned", "paused"} == {c.status for c in campaigns}
    names = {c.name for c in campaigns}
    assert "Google Ads — Brand" in names
    assert any(re.fullmatch(r"Q[1-4] 20\d\d Webinar: .+", n) for n in names)
    assert any(re.fullmatch(r"SaaStr Annual 20\d\d booth", n) for n in names)

    costs = CampaignCost.objects.select_related("campaign")
    assert not costs.filter(incurred_on__gt=today).exists()
    assert not costs.filter(amount__lte=0).exists()
    # Ad platforms are imported per platform; events are typed in
    imported = costs.filter(origin="import")
    assert set(imported.values_list("import_key", flat=True)) == {
        "google_ads",
        "linkedin",
        "meta",
        "csv",
    }
    assert set(imported.values_list("campaign__channel", flat=True)) <= {
        "paid_search",
        "paid_social",
        "display",
    }
    assert not costs.filter(origin="manual", import_key__isnull=False).exists()
    assert costs.filter(campaign__channel="events", origin="manual").exists()
    # Spend follows the touches: every completed campaign that touched people cost about
    # its touches times its channel's cost per touch, and stayed within its budget
    spent = dict(costs.values_list("campaign").annotate(s=Sum("amount")))
    touches = dict(
        Touchpoint.objects.filter(campaign__isnull=False)
        .values_list("campaign")
        .annotate(n=Count("id"))
    )
    checked = 0
    for c in campaigns:
        if c.status == "completed" and c.channel not in ("events", "webinar") and touches.get(c.pk):
            expected = touches[c.pk] * CHANNELS[c.channel].cost_per_touch
            if expected < 1.2:
                # The generator books no spend under one unit of money (a handful of emails).
                assert c.pk not in spent
                continue
            assert 0.85 * expected <= float(spent[c.pk]) <= 1.12 * expected, c.name
            assert c.budget is not None and c.budget >= spent[c.pk]
            checked += 1
    assert checked >= 5
    # Nobody spends on a campaign that has not started, except a booth deposit
    planned = [c for c in campaigns if c.status == "planned"]
    assert {c.channel for c in planned} == {"webinar", "events", "email"}
    deposits = costs.filter(campaign__status="planned")
    assert list(deposits.values_list("campaign__channel", "description")) in (
        [("events", "Booth deposit")],
        [],
    )


@pytest.mark.django_db
def test_personas_are_assigned_to_exactly_the_contacts_their_criteria_select_first() -> None:
    build()
    personas = {p.name: p for p in Persona.objects.all()}
    assert [p.name for p in PERSONAS] and 5 <= len(personas) <= 6
    taken = Q(pk__in=[])
    for plan in PERSONAS:
        persona = personas[plan.name]
        assert persona.pains and persona.goals and persona.objections
        fits = Contact.objects.filter(criteria_q(persona.criteria))
        assigned = set(Contact.objects.filter(persona_id=persona.pk).values_list("pk", flat=True))
        # Every assigned contact fits; every fitting contact not taken by an earlier persona has it
        assert assigned <= set(fits.values_list("pk", flat=True)), plan.name
        assert assigned == set(fits.exclude(taken).values_list("pk", flat=True)), plan.name
        taken |= criteria_q(persona.criteria)
    assert Contact.objects.filter(persona_id__isnull=False).count() > 300 * 0.2
    assert (
        Contact.objects.filter(persona_id__isnull=False).values("persona_id").distinct().count()
        >= 4
    )


@pytest.mark.django_db
def test_every_form_submission_carries_consent_proof_of_its_own_form() -> None:
    build()
    change = START + timedelta(days=CONSENT_CHANGE_DAY, hours=10)
    forms = list(Form.objects.prefetch_related("consent_texts", "fields"))
    assert len(forms) == 5
    assert [f.name for f in forms if f.is_hand_raise] == ["Request a demo"]
    assert all(f.status == "published" and f.source is not None for f in forms)
    for form in forms:
        versions = sorted(form.consent_texts.all(), key=lambda t: t.version)
        assert [v.version for v in versions] == [1, 2]
        assert versions[1].created_at == change and versions[0].created_at < change
        assert "email" in {field.target for field in form.fields.all()}
    ebook = next(f for f in forms if f.asset is not None)
    assert ebook.asset.title == "The Revenue Funnel Playbook"

    submissions = list(FormSubmission.objects.select_related("consent_text", "contact"))
    assert len(submissions) > 150
    visitors = dict(
        Visitor.objects.filter(contact__isnull=False).values_list("contact", "anonymous_id")
    )
    for s in submissions:
        assert s.consent_given and s.consent_text is not None
        assert s.consent_text.form_id == s.form_id
        assert s.consent_text.version == (1 if s.submitted_at < change else 2)
        assert s.ip and s.user_agent and s.page_url.startswith(SITE) and s.origin == SITE
        assert s.anonymous_id == visitors[s.contact_id]
        assert s.values["email"] == s.contact.email
        assert s.submitted_at <= ANCHOR
        if s.campaign_id is not None:
            assert s.utm["campaign"] == Campaign.objects.get(pk=s.campaign_id).utm_campaign
    assert {s.consent_text.version for s in submissions} == {1, 2}
    # One form_submit timeline row per submission, pointing at it
    rows = {
        e.properties["submission_id"]: e for e in TimelineEvent.objects.filter(type="form_submit")
    }
    assert set(rows) == {s.pk for s in submissions}
    for s in submissions:
        row = rows[s.pk]
        assert (row.contact_id, row.occurred_at, row.campaign_id) == (
            s.contact_id,
            s.submitted_at,
            s.campaign_id,
        )
        assert row.properties["form_id"] == s.form_id and row.idempotency_key.startswith("demo:")
    # A campaign's form fill is also a form_submit touchpoint of that campaign, at that moment
    touch_keys = set(
        Touchpoint.objects.filter(kind="form_submit").values_list(
            "contact_id", "occurred_at", "campaign_id"
        )
    )
    for s in submissions:
        if s.campaign_id is not None:
            assert (s.contact_id, s.submitted_at, s.campaign_id) in touch_keys
    # Contacts became leads by a form: a web sign-up at creation, a subscriber's move to lead
    created = {s.contact_id: s for s in submissions if s.created_contact}
    for contact in Contact.objects.exclude(original_source__in=["events", "outbound"]):
        assert created[contact.pk].submitted_at == contact.created_at
    moves = LifecycleChange.objects.filter(from_stage="subscriber", to_stage="lead")
    filled = {(s.contact_id, s.submitted_at) for s in submissions if not s.created_contact}
    assert moves.exists()
    assert {(m.contact_id, m.changed_at) for m in moves} <= filled


@pytest.mark.django_db
def test_journeys_touch_contacts_before_and_after_creation_through_running_campaigns() -> None:
    build()
    contacts = {c.pk: c for c in Contact.objects.all()}
    touches = list(Touchpoint.objects.select_related("campaign").order_by("occurred_at", "id"))
    by_contact: dict[int, list[Touchpoint]] = defaultdict(list)
    for t in touches:
        if t.contact_id is not None:
            by_contact[t.contact_id].append(t)
    # Every contact has 1 to 12 touches (customers a few more after buying); many start before
    # the contact existed
    assert set(by_contact) == set(contacts)
    assert all(1 <= len(ts) <= MAX_TOUCHES for ts in by_contact.values())
    before = [
        t for t in touches if t.contact_id and t.occurred_at < contacts[t.contact_id].created_at
    ]
    assert len(before) > 100
    assert {t.channel for t in touches} == set(Channel.values)
    assert all(t.occurred_at < ANCHOR and t.occurred_at >= START for t in touches)
    assert len({t.idempotency_key for t in touches}) == len(touches)
    assert all(t.idempotency_key.startswith("demo:") for t in touches)
    for t in touches:
        if t.campaign is None:
            # Only organic and referral traffic comes untagged
            assert CHANNELS[t.channel].untagged > 0, t.channel
            continue
        c = t.campaign
        assert c.channel == t.channel
        assert c.starts_on <= t.occurred_at.date() and (
            c.ends_on is None or t.occurred_at.date() <= c.ends_on
        )
        assert c.status != "planned"
        if t.kind in ("event", "other"):
            # Attendance and sales touches happen off the site: no tags, no referrer
            assert (t.utm_campaign, t.referrer_host, t.anonymous_id) == ("", "", "")
        else:
            assert (t.utm_source, t.utm_medium, t.utm_campaign) == (
                c.utm_source,
                c.utm_medium,
                c.utm_campaign,
            )
    # Anonymous visitors: three per contact, a few touches each, never a contact
    anonymous = [t for t in touches if t.contact_id is None]
    assert all(HEX32.match(t.anonymous_id) for t in anonymous)
    visitors = {v.anonymous_id: v for v in Visitor.objects.all()}
    assert Visitor.objects.filter(contact__isnull=True).count() >= 900
    assert {t.anonymous_id for t in anonymous} <= set(visitors)
    assert not {t.channel for t in anonymous} & {"email", "outbound", "direct_mail", "events"}
    # Known visitors were identified once they signed up (or first came back after creation)
    for v in visitors.values():
        assert HEX32.match(v.anonymous_id) and v.first_seen_at <= v.last_seen_at <= ANCHOR
        if v.contact_id is not None:
            assert (
                v.identified_at is not None and v.identified_at >= contacts[v.contact_id].created_at
            )
    # Timeline rows of tracked behaviour, with their campaigns
    rows = TimelineEvent.objects.filter(idempotency_key__startswith="demo:")
    kinds = set(rows.values_list("type", flat=True))
    assert kinds == {"page_view", "form_submit", "content_view", "content_download", "link_click"}
    view = rows.filter(type="page_view", campaign_id__isnull=False).first()
    assert view is not None and view.properties["url"].startswith(SITE)
    assert set(view.properties) == {"url", "referrer", "utm"}
    click = rows.filter(type="link_click").first()
    assert click is not None
    link = TrackedLink.objects.get(pk=click.properties["link_id"])
    assert (link.url, link.campaign_id) == (click.properties["url"], click.campaign_id)
    assert not rows.filter(occurred_at__gte=ANCHOR).exists()
    # Raw events only for the last seven days, processed, from the two sources
    events = Event.objects.all()
    assert events.exists()
    assert not events.filter(occurred_at__lt=ANCHOR - timedelta(days=7)).exists()
    assert not events.filter(processed_at__isnull=True).exists()
    assert set(events.values_list("source__name", flat=True)) == {"Website", "Docs site"}
    assert set(Source.objects.values_list("name", flat=True)) == {"Website", "Docs site"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", s.key_digest) for s in Source.objects.all())
    recent_views = rows.filter(type="page_view", occurred_at__gte=ANCHOR - timedelta(days=7))
    assert recent_views.count() <= events.filter(type="page_view").count()


@pytest.mark.django_db
def test_same_seed_same_marketing_data_another_seed_different() -> None:
    def snapshot() -> list[Any]:
        names = dict(Persona.objects.values_list("pk", "name"))
        return [
            list(
                Campaign.objects.order_by("utm_campaign").values_list(
                    "name", "status", "budget", "starts_on"
                )
            ),
            list(
                CampaignCost.objects.order_by(
                    "campaign__utm_campaign", "incurred_on", "amount"
                ).values_list(
                    "campaign__name", "incurred_on", "amount", "origin", "import_key", "created_at"
                )
            ),
            list(
                Touchpoint.objects.order_by("occurred_at", "idempotency_key").values_list(
                    "occurred_at",
                    "channel",
                    "campaign__name",
                    "kind",
                    "contact__email",
                    "anonymous_id",
                    "utm_term",
                    "referrer_host",
                )
            ),
            list(
                FormSubmission.objects.order_by("submitted_at", "contact__email").values_list(
                    "form__name",
                    "contact__email",
                    "submitted_at",
                    "ip",
                    "consent_text__version",
                    "utm",
                )
            ),
            list(
                Visitor.objects.order_by("anonymous_id").values_list(
                    "anonymous_id", "contact__email", "first_seen_at"
                )
            ),
            list(Event.objects.order_by("event_id").values_list("event_id", "type", "occurred_at")),
            [
                (email, names.get(persona_id))
                for email, persona_id in Contact.objects.order_by("email").values_list(
                    "email", "persona_id"
                )
            ],
            sorted(Persona.objects.values_list("name", flat=True)),
        ]

    build(seed=7)
    first = snapshot()
    pipeline.wipe()
    build(seed=7)
    again = snapshot()
    pipeline.wipe()
    build(seed=8)
    other = snapshot()

    assert len(first[2]) > 1000
    assert again == first
    assert other[2] != first[2] and other[4] != first[4]


def test_propensity_is_mean_effect_squared_times_touches_to_the_power_0_6() -> None:
    assert propensity(["referral"]) == 9.0
    assert propensity(["display", "display"]) == pytest.approx(0.01 * 2**0.6)
    assert propensity(["referral", "display"]) == pytest.approx(1.55**2 * 2**0.6)
    # Strong channels are worth more than weak ones however many touches
    assert propensity(["webinar"]) > propensity(["organic_social"] * 12)


@pytest.mark.django_db
def test_contacts_touched_by_strong_channels_convert_more_than_those_touched_by_weak_ones() -> None:
    build(contacts=1500)
    reached: dict[str, set[int]] = defaultdict(set)
    for contact_id, stage in LifecycleChange.objects.values_list("contact_id", "to_stage"):
        reached[stage].add(contact_id)
    touched: dict[str, set[int]] = defaultdict(set)
    for contact_id, channel in Touchpoint.objects.filter(contact__isnull=False).values_list(
        "contact_id", "channel"
    ):
        touched[channel].add(contact_id)

    def share(channel: str, stage: str) -> float:
        return len(touched[channel] & reached[stage]) / len(touched[channel])

    strongest = max(CHANNELS, key=lambda c: CHANNELS[c].effect)
    weakest = min(CHANNELS, key=lambda c: CHANNELS[c].effect)
    assert (strongest, weakest) == ("referral", "display")
    assert len(touched[weakest]) > 100 and len(touched[strongest]) > 50
    assert share(strongest, "customer") > share(weakest, "customer")
    # The four strong channels beat the three weak ones at every later stage
    strong = ("referral", "events", "webinar", "paid_search")
    weak = ("display", "organic_social", "paid_social")
    for stage in ("mql", "opportunity"):
        assert min(share(c, stage) for c in strong) > max(share(c, stage) for c in weak), stage


def test_the_channel_model_covers_every_channel_with_distinct_effects() -> None:
    assert set(CHANNELS) == set(Channel.values)
    effects = [plan.effect for plan in CHANNELS.values()]
    assert len(set(effects)) == len(effects)
    assert effects == sorted(effects, reverse=True)  # documented strongest first
    assert all(plan.reach > 0 and plan.cost_per_touch > 0 for plan in CHANNELS.values())


@pytest.mark.django_db
def test_a_database_with_campaigns_is_refused_and_a_reset_wipes_the_marketing_data() -> None:
    build(contacts=20)
    Contact.objects.all().delete()  # campaigns alone still make it a database in use
    with pytest.raises(Conflict, match="already holds 52 campaigns; pass --reset"):
        build(contacts=20)

    build(contacts=20, reset=True)

    assert Campaign.objects.count() == 52
    assert Persona.objects.count() == len(PERSONAS)
    assert Source.objects.count() == 2
    # Only the new build's journeys are left
    assert (
        Touchpoint.objects.filter(contact__isnull=False).values("contact").distinct().count() == 20
    )
    assert Visitor.objects.filter(contact__isnull=True).count() == 3 * 20
