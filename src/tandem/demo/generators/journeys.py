"""Steps: journeys — every contact's marketing touches, and what a tracked website records.

`plan` runs before the lifecycle step: each contact gets 1 to 12 touches whose channels follow the
channel model (demo.data.CHANNELS; the first touch is the contact's original source), and the
touches' effects give it a propensity, (mean effect)^2 * (number of touches)^0.6, by which the
lifecycle step scales its chances of moving on (docs/demo.md, "The channel model").

`run` runs after it: the touches are placed in time around the contact's history (visits
before its sign-up, the sign-up itself, the rest before its furthest stage; a subscriber's move
to lead is a form fill), each gets a campaign of its channel running at that moment, and the
step writes what the tracking would have recorded: touchpoints, page views, form submissions
with consent proof, content views and link clicks on the timeline, visitors (three anonymous
ones per contact, who never convert) and the raw events of the last seven days.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tandem.crm.importing.sql import insert_rows
from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
from tandem.demo.context import CampaignWindow, DemoContext, PlannedTouch, insert
from tandem.demo.data import (
    AD_VARIANTS,
    CHANNELS,
    CONTACT_MESSAGES,
    DOCS_PAGES,
    DOCS_SITE,
    FORMS,
    LANDING_PAGES,
    SEARCH_TERMS,
    SITE,
    SITE_PAGES,
    USER_AGENTS,
)
from tandem.demo.generators.lifecycle import RECYCLE_REASON
from tandem.demo.generators.marketing import consent_change
from tandem.demo.sampling import Weighted, at_business_time, between, sample_day
from tandem.marketing.models import Campaign, ContentAsset, FormSubmission, Touchpoint
from tandem.marketing.utm import host_of, tag_url
from tandem.tracking.models import Event, Visitor

MAX_TOUCHES = 12
EXTRA_TOUCHES_MEAN = 2.6  # touches beyond the first: exponential, so most journeys are short
PRE_FIRST_SHARE = 0.8  # web sign-ups whose first touch is an earlier visit
PRE_SHARE = 0.3  # of a web sign-up's further touches, the share before it signed up
EFFECT_POWER, COUNT_POWER = 2.0, 0.6
PRE_WINDOW_DAYS = 60
QUIET_DAYS = 120  # a contact that never moved on is touched in its first months only
LIVE_SHARE = 0.6  # event and webinar touches that happen on a conference or live-session day
ANONYMOUS_PER_CONTACT = 3
DOCS_VISITORS_PER_CONTACT = 0.02  # anonymous docs readers in the last week
RAW_EVENT_DAYS = 7
FLUSH_ROWS = 50_000  # rows are written in chunks, so a 200,000-contact build stays in memory
GROWTH = 0.6
FORWARD = frozenset({"lead", "mql", "sql", "opportunity", "customer"})
# Channels an unknown visitor can arrive through (no address needed, a visit to our site).
ANONYMOUS_CHANNELS = tuple(
    c for c, p in CHANNELS.items() if p.web and not p.known_only and p.anonymous
)
# Customer marketing after the last forward move: outside the propensity.
AFTER_MIX = (("email", 5), ("webinar", 2), ("content", 2), ("events", 1))
SOURCE_CHANNEL = {
    "organic_search": "organic_search",
    "paid_search": "paid_search",
    "email": "email",
    "organic_social": "organic_social",
    "paid_social": "paid_social",
    "referral": "referral",
    "events": "events",
    "outbound": "outbound",
}
FORM_FIELDS = {plan.key: plan.fields for plan in FORMS}
FORM_PATHS = {plan.key: plan.path for plan in FORMS}
UNGATED = ("blog_post", "case_study", "product_sheet", "video", "faq", "webinar_recording")
# The big tables are written as plain rows with one executemany each (crm.importing.sql):
# bulk_create compiles every value through the ORM, which was most of this step's time.
TOUCH_COLUMNS = (
    "occurred_at",
    "channel",
    "campaign_id",
    "kind",
    "contact_id",
    "anonymous_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer_host",
    "idempotency_key",
)
TIMELINE_COLUMNS = (
    "type",
    "occurred_at",
    "recorded_at",
    "actor_label",
    "contact_id",
    "company_id",
    "campaign_id",
    "properties",
    "idempotency_key",
)
VISITOR_COLUMNS = ("anonymous_id", "contact_id", "first_seen_at", "last_seen_at", "identified_at")
EVENT_COLUMNS = (
    "source_id",
    "event_id",
    "type",
    "occurred_at",
    "received_at",
    "anonymous_id",
    "email",
    "properties",
    "context",
    "processed_at",
)
Row = tuple[Any, ...]


def propensity(channels: Sequence[str]) -> float:
    """What a journey's touches are worth: (mean effect)^2 * (number of touches)^0.6."""
    mean = sum(CHANNELS[c].effect for c in channels) / len(channels)
    return float(mean**EFFECT_POWER * len(channels) ** COUNT_POWER)


# ---------------------------------------------------------------- plan (before lifecycle)


def plan(ctx: DemoContext) -> None:
    """Choose every contact's touches (channels and phases) and derive its propensity."""
    rng = ctx.rng("journeys")
    web = Weighted((c, CHANNELS[c].reach) for c in ANONYMOUS_CHANNELS)
    later = {
        (email, postal): Weighted(
            (c, p.reach)
            for c, p in CHANNELS.items()
            if (email or c != "email") and (postal or c not in ("outbound", "direct_mail"))
        )
        for email in (False, True)
        for postal in (False, True)
    }
    for contact in ctx.contact_rows:
        post = later[
            (contact.subscription_status != "not_subscribed", contact.company_id is not None)
        ]
        touches = _plan_contact(rng, contact, web, post)
        ctx.journeys[contact.pk] = touches
        ctx.propensity[contact.pk] = propensity([t.channel for t in touches])
    ctx.counts.update(journeys=len(ctx.journeys))


def _first_channel(contact: Contact) -> str | None:
    """The channel of the contact's original source (None for direct)."""
    detail = contact.original_source_detail
    if contact.original_source == "referral" and detail == "partner referral":
        return "partner"
    if contact.original_source == "events" and detail.startswith("Webinar"):
        return "webinar"
    return SOURCE_CHANNEL.get(contact.original_source)


def _plan_contact(
    rng: random.Random, contact: Contact, web: Weighted[str], post: Weighted[str]
) -> list[PlannedTouch]:
    count = min(MAX_TOUCHES, 1 + int(rng.expovariate(1 / EXTRA_TOUCHES_MEAN)))
    first = _first_channel(contact)
    touches: list[PlannedTouch] = []
    source = contact.original_source
    if source == "outbound":
        touches.append(PlannedTouch("outbound", "create", "other"))
    elif source == "events":
        assert first is not None
        kind = "form_submit" if first == "webinar" else "event"
        touches.append(PlannedTouch(first, "create", kind))
    elif first is not None:
        if count >= 2 and rng.random() < PRE_FIRST_SHARE:
            touches.append(PlannedTouch(first, "pre", ""))
            second = first if rng.random() < 0.5 else web.pick(rng)
            touches.append(PlannedTouch(second, "create", "form_submit"))
        else:
            touches.append(PlannedTouch(first, "create", "form_submit"))
    # Direct sign-ups came in a direct session: no marketing touch, and none before it.
    early = first is not None and source not in ("events", "outbound")
    while len(touches) < count:
        if early and rng.random() < PRE_SHARE:
            touches.append(PlannedTouch(web.pick(rng), "pre", ""))
        else:
            touches.append(PlannedTouch(post.pick(rng), "post", ""))
    return touches


# ---------------------------------------------------------------- run (after lifecycle)


def run(ctx: DemoContext) -> None:
    """Place the touches in time and write what the tracking recorded."""
    writer = _Writer(ctx, ctx.rng("touches"))
    for contact in ctx.contact_rows:
        writer.contact(contact)
        writer.flush()
    writer.anonymous_visitors()
    writer.docs_readers()
    writer.save()


class _Calendar:
    """Which campaigns of a channel run at a moment, and its live days (events, webinars)."""

    def __init__(self, windows: list[CampaignWindow]) -> None:
        self.by_channel: dict[str, list[CampaignWindow]] = {}
        for window in windows:
            if window.end > window.start:
                self.by_channel.setdefault(window.plan.channel, []).append(window)

    def live_days(
        self, channel: str, low: datetime, high: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The parts of [low, high] that are live days of a running campaign of the channel."""
        spans = []
        for w in self.by_channel.get(channel, []):
            if w.live is not None:
                start, stop = max(w.live[0], w.start, low), min(w.live[1], w.end, high)
                if stop > start:
                    spans.append((start, stop))
        return spans

    def pick(self, rng: random.Random, channel: str, at: datetime) -> Campaign | None:
        """A campaign of the channel running at `at` (live ones likelier), or None."""
        running = [w for w in self.by_channel.get(channel, []) if w.start <= at < w.end]
        if not running:
            return None
        weights = [
            w.plan.weight * (5 if w.live is not None and w.live[0] <= at < w.live[1] else 1)
            for w in running
        ]
        return rng.choices(running, weights=weights)[0].campaign


class _Writer:
    """Accumulates the rows of every journey, then writes them in bulk."""

    def __init__(self, ctx: DemoContext, rng: random.Random) -> None:
        self.ctx, self.rng = ctx, rng
        self.calendar = _Calendar(ctx.calendar)
        self.recent = ctx.now - timedelta(days=RAW_EVENT_DAYS)
        self.v2_from = consent_change(ctx)
        self.after_mix = Weighted(AFTER_MIX)
        self.pages = Weighted(SITE_PAGES)
        self.agents = Weighted(USER_AGENTS)
        self.referrers = {c: Weighted(p.referrers) for c, p in CHANNELS.items() if p.referrers}
        self.touchpoints: list[Row] = []
        self.timeline: list[Row] = []
        self.submissions: list[tuple[FormSubmission, Contact, str, int | None]] = []
        self.visitors: list[Row] = []
        self.events: list[Row] = []
        self.times: dict[datetime, Any] = {}  # prepared datetimes, shared by the inserts
        self.made: Counter[str] = Counter()
        self.sequence = 0
        self.content = [
            a for a in ctx.assets.values() if a.type in UNGATED and a.audience != "enablement"
        ]
        self.blog = [a for a in self.content if a.type == "blog_post"]
        # Per contact being written: its visitor's id and the times the site saw it.
        self.visitor_id = ""
        self.seen: list[datetime] = []

    # ------------------------------------------------------------ one contact

    def contact(self, contact: Contact) -> None:
        ctx, rng = self.ctx, self.rng
        touches = ctx.journeys.get(contact.pk, [])
        history = ctx.history[contact.pk]
        created = contact.created_at
        end, to_lead, customer_at = _milestones(ctx, history, created)
        self.visitor_id, self.seen = _hex(rng), []
        self._place_pre(touches, created)
        lead_form = None
        if to_lead is not None:
            lead_form = next(
                (t for t in touches if t.phase == "post" and CHANNELS[t.channel].web), None
            )
        for touch in touches:
            if touch.phase == "create":
                touch.at = self._creation_time(touch, created)
            elif touch is lead_form:
                touch.at, touch.kind, touch.phase = to_lead, "form_submit", "lead"
            elif touch.phase == "post":
                touch.at = self._within(touch.channel, created, end)
        if customer_at is not None:
            room = MAX_TOUCHES - len(touches)
            for _ in range(min(room, rng.randint(1, 3))):
                channel = self.after_mix.pick(rng)
                at = self._within(channel, customer_at, ctx.now)
                touches.append(PlannedTouch(channel, "after", "", at))
        touches.sort(key=lambda t: t.at or created)
        signed_up = any(t.phase == "create" and t.kind == "form_submit" for t in touches)
        if contact.original_source == "direct":
            self._direct_form(contact, created, "create")
            signed_up = True
        if to_lead is not None and lead_form is None:
            self._direct_form(contact, to_lead, "lead")
        for touch in touches:
            self._touch(contact, touch)
        if customer_at is not None:
            self._docs_visits(contact, customer_at)
        if self.seen:
            later = [t for t in self.seen if t >= created]
            identified = created if signed_up else min(later, default=max(self.seen))
            self.visitors.append(
                (self.visitor_id, contact.pk, min(self.seen), max(self.seen), identified)
            )

    def _place_pre(self, touches: list[PlannedTouch], created: datetime) -> None:
        """Visits before the sign-up: the first some weeks earlier, the others in between."""
        pre = [t for t in touches if t.phase == "pre"]
        if not pre:
            return
        floor = max(self.ctx.start, created - timedelta(days=PRE_WINDOW_DAYS))
        latest = created - timedelta(minutes=10)
        first = created - timedelta(days=self.rng.gammavariate(2.0, 10.0), minutes=30)
        first = min(max(first, floor), latest)
        pre[0].at = first
        for touch in pre[1:]:
            touch.at = between(self.rng, first, latest)

    def _creation_time(self, touch: PlannedTouch, created: datetime) -> datetime:
        """The creating touch: the sign-up itself, a booth scan before it, a rep's first email."""
        rng = self.rng
        if touch.channel == "outbound":
            return min(created + timedelta(minutes=rng.uniform(5, 90)), self._last_moment())
        if touch.kind == "event":
            low = max(self.ctx.start, created - timedelta(days=14))
            conferences = self.calendar.live_days("events", low, created)
            if conferences:
                return between(rng, *rng.choice(conferences))
            return max(self.ctx.start, created - timedelta(days=rng.uniform(0, 3)))
        return created

    def _within(self, channel: str, low: datetime, high: datetime) -> datetime:
        """A moment in (low, high) for a touch; events and webinars gather on their live days."""
        rng = self.rng
        high = min(high, self.ctx.now - timedelta(minutes=1))
        if high <= low:
            return min(low + timedelta(minutes=rng.uniform(1, 60)), self._last_moment())
        if channel in ("events", "webinar") and rng.random() < LIVE_SHARE:
            spans = self.calendar.live_days(channel, low, high)
            if spans:
                return between(rng, *rng.choice(spans))
        return between(rng, low, high)

    def _last_moment(self) -> datetime:
        return self.ctx.now - timedelta(seconds=1)

    # ------------------------------------------------------------ rows of one touch

    def _touch(self, contact: Contact, touch: PlannedTouch) -> None:
        rng, plan = self.rng, CHANNELS[touch.channel]
        at = touch.at
        assert at is not None
        campaign = (
            None if rng.random() < plan.untagged else self.calendar.pick(rng, touch.channel, at)
        )
        touch.campaign = campaign
        # Before signing up nobody attends a webinar: they visit its page.
        unknown = touch.phase == "pre" and touch.channel == "webinar"
        kind = touch.kind or ("visit" if unknown else self._kind(touch.channel))
        # Attendance and sales touches happen off our site: no visit, no tags, no referrer.
        web = plan.web and kind not in ("event", "other")
        utm, term, content = _tags(rng, touch.channel, campaign if web else None)
        referrer = self._referrer(touch.channel, campaign) if web else ""
        self.touchpoints.append(
            _touchpoint(
                self._key("touch"),
                at,
                touch.channel,
                campaign,
                kind,
                contact_id=contact.pk,
                anonymous_id=self.visitor_id if web else "",
                utm=utm,
                term=term,
                content=content,
                referrer=referrer,
            )
        )
        if campaign is not None:
            self.ctx.campaign_touches[campaign.pk].append(at)
        if not web:
            return
        campaign_id = campaign.pk if campaign is not None else None
        if kind == "form_submit":
            self._form(contact, at, touch, campaign, utm, referrer)
        elif kind == "click" and campaign is not None and self.ctx.links.get(campaign.pk):
            link = rng.choice(self.ctx.links[campaign.pk])
            self._row(
                "link_click",
                at,
                contact,
                campaign_id,
                {"link_id": link.pk, "label": link.label, "url": link.url},
            )
            self._session(contact, at, link.url, "", utm, campaign_id)
        elif kind == "content_view":
            asset = self._asset(touch.channel, at)
            if asset is None:
                self._session(
                    contact, at, self._landing(touch.channel, utm), referrer, utm, campaign_id
                )
                return
            url = _tagged(asset.url, utm)
            self._session(contact, at, url, referrer, utm, campaign_id)
            self._row(
                "content_view",
                at + timedelta(seconds=2),
                contact,
                campaign_id,
                _asset_properties(asset, url),
            )
            self._event(
                "content_view",
                at + timedelta(seconds=2),
                url,
                referrer,
                utm,
                {"asset_id": asset.pk, "title": asset.title, "asset_type": asset.type},
            )
        else:
            self._session(
                contact, at, self._landing(touch.channel, utm), referrer, utm, campaign_id
            )

    def _kind(self, channel: str) -> str:
        kind = CHANNELS[channel].kind
        if channel in ("organic_search", "organic_social") and self.rng.random() < 0.25:
            return "content_view"
        return kind

    def _asset(self, channel: str, at: datetime) -> ContentAsset | None:
        pool = self.blog if channel != "content" else self.content
        ready = [a for a in pool if a.created_at <= at]
        return self.rng.choice(ready) if ready else None

    def _referrer(self, channel: str, campaign: Campaign | None) -> str:
        if campaign is not None and campaign.utm_source in ("bing", "facebook"):
            return {"bing": "https://www.bing.com/", "facebook": "https://www.facebook.com/"}[
                campaign.utm_source
            ]
        chooser = self.referrers.get(channel)
        return chooser.pick(self.rng) if chooser is not None else ""

    def _landing(self, channel: str, utm: dict[str, str]) -> str:
        path = self.rng.choice(LANDING_PAGES.get(channel, ("/",)))
        return _tagged(SITE + path, utm)

    # ------------------------------------------------------------ forms

    def _form(
        self,
        contact: Contact,
        at: datetime,
        touch: PlannedTouch,
        campaign: Campaign | None,
        utm: dict[str, str],
        referrer: str,
    ) -> None:
        key = self._form_key(contact, touch.phase, touch.channel)
        self._submission(contact, at, key, touch.phase, campaign, utm, referrer)

    def _direct_form(self, contact: Contact, at: datetime, phase: str) -> None:
        """A sign-up in a direct session (typed address, bookmark): no touch, no campaign."""
        key = self._form_key(contact, phase, "")
        self._submission(contact, at, key, phase, None, {}, "")

    def _form_key(self, contact: Contact, phase: str, channel: str) -> str:
        """Which form: the newsletter for a subscriber's sign-up, else by channel and chance."""
        if phase == "create" and self._entry_stage(contact) == "subscriber":
            return "newsletter"
        if channel == "webinar":
            return "webinar"
        roll = self.rng.random()
        hand_raise = 0.22 if channel in ("paid_search", "referral", "partner") else 0.10
        if roll < hand_raise:
            return "demo"
        if roll < hand_raise + 0.08:
            return "contact"
        return "ebook"

    def _entry_stage(self, contact: Contact) -> str:
        return self.ctx.history[contact.pk][0].to_stage

    def _submission(
        self,
        contact: Contact,
        at: datetime,
        key: str,
        phase: str,
        campaign: Campaign | None,
        utm: dict[str, str],
        referrer: str,
    ) -> None:
        rng, ctx = self.rng, self.ctx
        form = ctx.forms[key]
        page = _tagged(SITE + FORM_PATHS[key], utm)
        landed = at - timedelta(minutes=rng.uniform(1, 8))
        self._session(
            contact, landed, page, referrer, utm, campaign.pk if campaign else None, until=at
        )
        versions = ctx.consent[key]
        consent = versions[-1] if at >= self.v2_from else versions[0]
        submission = FormSubmission(
            form_id=form.pk,
            contact_id=contact.pk,
            submitted_at=at,
            values=self._values(contact, key),
            created_contact=phase == "create",
            anonymous_id=self.visitor_id,
            ip=_ip(rng),
            user_agent=self.agents.pick(rng),
            page_url=page,
            referrer=referrer,  # what brought the visitor to the form's page
            origin=SITE,
            utm=utm,
            campaign_id=campaign.pk if campaign else None,
            consent_given=True,
            consent_text_id=consent.pk,
        )
        self.submissions.append((submission, contact, key, campaign.pk if campaign else None))
        self._event(
            "form_submit", at, page, referrer, utm, {"form_id": form.pk}, email=contact.email
        )

    def _values(self, contact: Contact, key: str) -> dict[str, str]:
        company = contact.company
        known = {
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "company_name": company.name if company is not None else "",
            "title": contact.title,
            "phone": contact.phone,
            "message": self.rng.choice(CONTACT_MESSAGES) if key == "contact" else "",
        }
        return {target: known[target] for target in FORM_FIELDS[key] if known[target]}

    # ------------------------------------------------------------ page views and raw events

    def _session(
        self,
        contact: Contact | None,
        at: datetime,
        landing: str,
        referrer: str,
        utm: dict[str, str],
        campaign_id: int | None,
        *,
        until: datetime | None = None,
        site: str = SITE,
    ) -> str:
        """One visit's page views from `at` (ending on `landing` at `until` for a form fill).

        Returns the last page's URL (a form's referrer). Page views join the contact's
        timeline; those of the last seven days are raw events too.
        """
        rng = self.rng
        if until is not None:
            urls = [landing]
            times = [at]
        else:
            count = 1
            while count < 4 and rng.random() < 0.5:
                count += 1
            urls = [landing]
            for _ in range(count - 1):
                page = self.pages.pick(rng) if site == SITE else rng.choice(DOCS_PAGES)
                urls.append(site + page)
            times = [at]
            for _ in urls[1:]:
                times.append(times[-1] + timedelta(seconds=rng.uniform(15, 180)))
        previous = referrer
        for i, (url, when) in enumerate(zip(urls, times, strict=True)):
            if when >= self.ctx.now:
                break
            tags = utm if i == 0 else {}
            self.seen.append(when)
            if contact is not None:
                self._row(
                    "page_view",
                    when,
                    contact,
                    campaign_id,
                    {"url": url, "referrer": previous, "utm": tags},
                )
            self._event(
                "page_view",
                when,
                url,
                previous,
                tags,
                {},
                source="docs" if site == DOCS_SITE else "website",
            )
            previous = url
        return previous

    def _event(
        self,
        kind: str,
        at: datetime,
        url: str,
        referrer: str,
        utm: dict[str, str],
        properties: dict[str, Any],
        *,
        email: str = "",
        source: str = "website",
    ) -> None:
        """The raw tracking event, for what happened in the last seven days."""
        if at < self.recent or at >= self.ctx.now:
            return
        received = at + timedelta(milliseconds=self.rng.uniform(40, 900))
        self.events.append(
            (
                self.ctx.sources[source].pk,
                _hex(self.rng),
                kind,
                at,
                received,
                self.visitor_id,
                email,
                properties,
                {"url": url, "referrer": referrer, "utm": utm},
                received + timedelta(seconds=self.rng.uniform(1, 20)),
            )
        )

    def _row(
        self,
        kind: str,
        at: datetime,
        contact: Contact,
        campaign_id: int | None,
        properties: dict[str, Any],
    ) -> None:
        if kind == "page_view":
            self.made["page_views"] += 1
        # Backfilled rows look recorded when they happened (as pipeline.finish makes them), and
        # written by the tracking, as its processing labels them.
        self.timeline.append(
            (
                kind,
                at,
                at,
                "tracking",
                contact.pk,
                contact.company_id,
                campaign_id,
                properties,
                self._key(kind),
            )
        )

    def _key(self, kind: str) -> str:
        self.sequence += 1
        return f"demo:{kind}:{self.sequence}"

    # ------------------------------------------------------------ docs and anonymous visitors

    def _docs_visits(self, contact: Contact, customer_at: datetime) -> None:
        """Customers read the docs: a few visits since they bought."""
        rng = self.rng
        months = max(0.0, (self.ctx.now - customer_at).days / 30.44)
        for _ in range(min(6, int(rng.expovariate(1.0) * (1 + months * 0.7)))):
            at = between(rng, customer_at, self.ctx.now - timedelta(minutes=30))
            page = DOCS_SITE + rng.choice(DOCS_PAGES)
            self._session(contact, at, page, "", {}, None, site=DOCS_SITE)

    def anonymous_visitors(self) -> None:
        """Visitors who never converted: one to three touches each, their raw events if recent."""
        ctx, rng = self.ctx, self.rng
        web = Weighted((c, CHANNELS[c].anonymous) for c in ANONYMOUS_CHANNELS)
        for _ in range(ANONYMOUS_PER_CONTACT * ctx.contacts):
            self.visitor_id, self.seen = _hex(rng), []
            at = at_business_time(rng, sample_day(rng, ctx.start, ctx.now, growth=GROWTH), None)
            roll = rng.random()
            count = 1 if roll < 0.7 else 2 if roll < 0.9 else 3
            for i in range(count):
                if i:
                    at += timedelta(days=rng.gammavariate(2.0, 2.5))
                if at >= ctx.now:
                    break
                self._anonymous_touch(web.pick(rng), at)
            self.visitors.append((self.visitor_id, None, min(self.seen), max(self.seen), None))
            self.flush()

    def _anonymous_touch(self, channel: str, at: datetime) -> None:
        rng, plan = self.rng, CHANNELS[channel]
        campaign = None if rng.random() < plan.untagged else self.calendar.pick(rng, channel, at)
        kind = "visit" if channel == "webinar" else self._kind(channel)
        utm, term, content = _tags(rng, channel, campaign)
        referrer = self._referrer(channel, campaign)
        self.touchpoints.append(
            _touchpoint(
                self._key("touch"),
                at,
                channel,
                campaign,
                kind,
                contact_id=None,
                anonymous_id=self.visitor_id,
                utm=utm,
                term=term,
                content=content,
                referrer=referrer,
            )
        )
        if campaign is not None:
            self.ctx.campaign_touches[campaign.pk].append(at)
        self.seen.append(at)
        if at >= self.recent:
            self._session(None, at, self._landing(channel, utm), referrer, utm, None)

    def docs_readers(self) -> None:
        """Developers evaluating us read the docs anonymously: raw events of the last week."""
        ctx, rng = self.ctx, self.rng
        for _ in range(round(ctx.contacts * DOCS_VISITORS_PER_CONTACT)):
            self.visitor_id, self.seen = _hex(rng), []
            at = between(rng, self.recent, ctx.now - timedelta(hours=1))
            referrer = rng.choice(("https://www.google.com/", "https://github.com/", ""))
            self._session(
                None, at, DOCS_SITE + rng.choice(DOCS_PAGES), referrer, {}, None, site=DOCS_SITE
            )
            seen = self.seen or [at]
            self.visitors.append((self.visitor_id, None, min(seen), max(seen), None))

    # ------------------------------------------------------------ writing

    def flush(self, *, final: bool = False) -> None:
        """Write each table's rows once there are many of them (all that is left when final)."""
        tables = (
            ("touchpoints", Touchpoint, TOUCH_COLUMNS, self.touchpoints),
            ("events", TimelineEvent, TIMELINE_COLUMNS, self.timeline),
            ("visitors", Visitor, VISITOR_COLUMNS, self.visitors),
            ("tracking_events", Event, EVENT_COLUMNS, self.events),
        )
        for name, model, columns, rows in tables:
            if name == "tracking_events":
                # The raw log's ids grow with arrival, as in a live system (the sources page
                # counts recent events by walking ids back), so its few rows go in at the end, in order.
                if not (final and rows):
                    continue
                rows.sort(key=lambda row: row[EVENT_COLUMNS.index("received_at")])
            if rows and (final or len(rows) >= FLUSH_ROWS):
                insert_rows(model, columns, rows, self.times)
                self.made[name] += len(rows)
                rows.clear()
                self.times.clear()

    def save(self) -> None:
        """Write the form submissions, their timeline rows, and whatever rows are left."""
        ctx = self.ctx
        insert([submission for submission, *_ in self.submissions])
        for submission, contact, key, campaign_id in self.submissions:
            form = ctx.forms[key]
            self._row(
                "form_submit",
                submission.submitted_at,
                contact,
                campaign_id,
                {
                    "form_id": form.pk,
                    "form_name": form.name,
                    "submission_id": submission.pk,
                    "url": submission.page_url,
                    "referrer": submission.referrer,
                    "utm": submission.utm,
                },
            )
            asset = form.asset
            if asset is not None:
                self._row(
                    "content_download",
                    submission.submitted_at + timedelta(seconds=3),
                    contact,
                    campaign_id,
                    _asset_properties(asset, asset.url),
                )
        self.flush(final=True)
        ctx.counts.update(self.made, form_submissions=len(self.submissions))


# ---------------------------------------------------------------- helpers


def _milestones(
    ctx: DemoContext, history: list[LifecycleChange], created: datetime
) -> tuple[datetime, datetime | None, datetime | None]:
    """(end of the touch window, move to lead of a subscriber, becoming a customer)."""
    forward = [
        c.changed_at for c in history[1:] if c.to_stage in FORWARD and c.reason != RECYCLE_REASON
    ]
    to_lead = next(
        (c.changed_at for c in history if c.from_stage == "subscriber" and c.to_stage == "lead"),
        None,
    )
    customer_at = next((c.changed_at for c in history if c.to_stage == "customer"), None)
    if forward:
        end = max(forward)
    else:
        stopped = next((c.changed_at for c in history if c.to_stage == "disqualified"), ctx.now)
        end = min(created + timedelta(days=QUIET_DAYS), stopped, ctx.now)
    return end, to_lead, customer_at


def _tags(
    rng: random.Random, channel: str, campaign: Campaign | None
) -> tuple[dict[str, str], str, str]:
    """The UTM tags a visit carries: its campaign's, plus a search term or ad variant."""
    if campaign is None:
        return {}, "", ""
    utm = {
        "source": campaign.utm_source,
        "medium": campaign.utm_medium,
        "campaign": campaign.utm_campaign,
    }
    term = rng.choice(SEARCH_TERMS) if channel == "paid_search" else ""
    content = rng.choice(AD_VARIANTS) if channel in ("paid_social", "display") else ""
    if term:
        utm["term"] = term
    if content:
        utm["content"] = content
    return utm, term, content


def _tagged(url: str, utm: dict[str, str]) -> str:
    if not utm:
        return url
    return tag_url(
        url,
        source=utm["source"],
        medium=utm["medium"],
        campaign=utm["campaign"],
        term=utm.get("term", ""),
        content=utm.get("content", ""),
    )


def _touchpoint(
    key: str,
    at: datetime,
    channel: str,
    campaign: Campaign | None,
    kind: str,
    *,
    contact_id: int | None,
    anonymous_id: str,
    utm: dict[str, str],
    term: str,
    content: str,
    referrer: str,
) -> Row:
    """A Touchpoint row in TOUCH_COLUMNS order."""
    return (
        at,
        channel,
        campaign.pk if campaign is not None else None,
        kind,
        contact_id,
        anonymous_id,
        utm.get("source", ""),
        utm.get("medium", ""),
        utm.get("campaign", ""),
        term,
        content,
        host_of(referrer),
        key,
    )


def _asset_properties(asset: ContentAsset, url: str) -> dict[str, Any]:
    """A content view's or download's timeline properties, as the tracking writes them."""
    return {"asset_id": asset.pk, "title": asset.title, "asset_type": asset.type, "url": url}


def _hex(rng: random.Random) -> str:
    """A random 128-bit id in 32 hex characters (the tracking script's anonymous id format)."""
    return f"{rng.getrandbits(128):032x}"


def _ip(rng: random.Random) -> str:
    """A visitor address from the documentation ranges (RFC 5737 / RFC 3849): never a real one."""
    if rng.random() < 0.15:
        return f"2001:db8:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"
    prefix = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{prefix}.{rng.randint(1, 254)}"
