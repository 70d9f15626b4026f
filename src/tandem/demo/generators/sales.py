"""Steps: sales — deals read off the lifecycle history, and the sales work around them.

`deals` runs right after the lifecycle step, so the activities step can link the work of each
opportunity window to its deal. Every contact that reached opportunity has a deal in the
"New business" pipeline, created at its opportunity date (contacts of one company whose
opportunities overlap and end alike share one deal, in different roles). The lifecycle decided
the outcome: a contact that became a customer won its deal that day (30 to 120 days later, see
lifecycle.CYCLE_MIN_DAYS); one disqualified with "lost: …" lost it then; one still at
opportunity has an open deal when the opportunity is recent or its win is already drawn for a
later date, else the deal went quiet and was lost. Won deals with subscriptions renew a year
later (most renew, some churn), a few grow with an upsell, and referral deals credit an
evangelist.

`run` runs last: the deals' sources (the last touch before them, known once the journeys are
placed), their timeline rows, the reps' tasks for today, three sequences with enrolments,
enablement content used and rated, insights, onboarding checklists, quotas per rep and team, and
weekly forecast snapshots recomputed from the history above (docs/demo.md, "Sales").
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tandem.crm.importing.sql import insert_rows
from tandem.crm.models import Activity, Contact, LifecycleChange, TimelineEvent
from tandem.demo.context import DemoContext, insert
from tandem.demo.sampling import Weighted, at_business_time, between
from tandem.marketing.models import ContentAsset
from tandem.sales.models import (
    ContentRating,
    ContentUse,
    Deal,
    DealContact,
    ExchangeRate,
    ForecastSnapshot,
    Insight,
    InsightTag,
    LineItem,
    LostReason,
    OnboardingStep,
    OnboardingTemplateStep,
    Pipeline,
    Product,
    Quota,
    Sequence,
    SequenceEnrollment,
    SequenceStep,
    Stage,
    StageChange,
)
from tandem.sales.periods import Period, period_containing

CENT = Decimal("0.01")
Event = tuple[Any, ...]  # a timeline row, in the order of EVENT_COLUMNS
EVENT_COLUMNS = (
    "type",
    "idempotency_key",
    "occurred_at",
    "recorded_at",
    "contact_id",
    "company_id",
    "actor_id",
    "actor_label",
    "properties",
)
OPEN_FOR_DAYS = 120  # an opportunity older than this, with no win drawn, has gone quiet: lost
MERGE_WITHIN_DAYS = 45  # a colleague's opportunity this soon after a deal's joins that deal
TERM_MONTHS = 12

# (sku, name, list price in USD, term in months or None for one-off)
PRODUCTS: tuple[tuple[str, str, int, int | None], ...] = (
    ("TND-GROWTH", "Tandem Growth (annual plan)", 9_600, TERM_MONTHS),
    ("TND-PRO", "Tandem Pro (annual plan)", 24_000, TERM_MONTHS),
    ("TND-ENT", "Tandem Enterprise (annual plan)", 60_000, TERM_MONTHS),
    ("TND-SEATS10", "Additional seats (pack of 10)", 3_600, TERM_MONTHS),
    ("TND-SUPPORT", "Premium support", 6_000, TERM_MONTHS),
    ("TND-ONBOARD", "Onboarding and data migration", 7_500, None),
)
# Deals of EMEA companies are often in their currency.
CURRENCY_BY_COUNTRY: dict[str, tuple[str, float]] = {
    "GB": ("GBP", 0.8),
    **{code: ("EUR", 0.65) for code in ["IE", "DE", "FR", "NL", "ES", "IT", "BE", "AT", "FI"]},
}
COMPETITORS = Weighted(
    [("PipeStack", 30), ("FunnelForge", 25), ("Leadwise", 20), ("Revvant", 15), ("Clarimetric", 10)]
)
# The lifecycle's "lost: …" reasons in the managed list's words.
LIFECYCLE_LOST = {
    "lost: chose a competitor": "Chose a competitor",
    "lost: no decision": "No decision (status quo)",
    "lost: price": "Price",
    "lost: missing features": "Missing feature",
}
# Why a deal that went quiet was closed lost.
QUIET_REASONS = Weighted(
    [
        ("No decision (status quo)", 30),
        ("Went dark", 22),
        ("Timing", 14),
        ("No budget", 12),
        ("Price", 8),
        ("Chose a competitor", 8),
        ("Not a fit", 6),
    ]
)
CHURN_REASONS = Weighted(
    [("No budget", 35), ("Price", 25), ("Chose a competitor", 25), ("Not a fit", 15)]
)
# The stage (Discovery, Demo, Proposal, Negotiation) a deal lost for this reason had reached.
LOST_AT: dict[str, tuple[float, float, float, float]] = {
    "Price": (0, 0.1, 0.5, 0.4),
    "Chose a competitor": (0.1, 0.3, 0.35, 0.25),
    "No decision (status quo)": (0.3, 0.3, 0.25, 0.15),
    "Timing": (0.3, 0.3, 0.25, 0.15),
    "Missing feature": (0.2, 0.5, 0.3, 0),
    "No budget": (0.4, 0.2, 0.3, 0.1),
    "Went dark": (0.45, 0.35, 0.2, 0),
    "Not a fit": (0.6, 0.4, 0, 0),
}
# The share of a won deal's cycle spent in each stage, on average.
STAGE_SHARE = (0.2, 0.25, 0.32, 0.23)
NEXT_STEPS = (
    "Book the demo with {first_name}'s team",
    "Send the proposal to {first_name}",
    "Walk the economic buyer through the proposal",
    "Chase the signed order form",
)
ROLE_BY_SENIORITY: dict[str, tuple[str, ...]] = {
    "c_level": ("decision_maker", "decision_maker", "economic_buyer"),
    "vp": ("decision_maker", "economic_buyer", "champion"),
    "director": ("champion", "economic_buyer", "decision_maker"),
    "manager": ("champion", "champion", "influencer"),
    "individual": ("champion", "user", "technical_buyer"),
}
SECOND_ROLES = ("influencer", "technical_buyer", "user", "economic_buyer")

# Enablement content (docs/demo.md "Sales"): the battlecard works, the SLA post does not.
STAR_ASSET = "Battlecard: Tandem vs. spreadsheets and point tools"
WEAK_ASSET = "How to run a sales and marketing SLA"
STAR_USE = {"won": 0.55, "lost": 0.18, "open": 0.3}
ASSET_RATINGS: dict[str, tuple[int, ...]] = {
    STAR_ASSET: (5, 5, 4, 5, 4),
    WEAK_ASSET: (2, 1, 2, 3, 2),
}
USUAL_RATINGS = (3, 4, 4, 3, 5, 2, 4)
RATING_COMMENTS: dict[int, tuple[str, ...]] = {
    5: (
        "Won me the Negotiation stage twice this quarter.",
        "Prospects forward this internally, which is the point.",
        "Exactly what a CFO wants to see.",
    ),
    4: ("Good, a little long.", "Useful; would love a version per industry."),
    3: ("Fine as a leave-behind.", "OK, but the numbers are from last year."),
    2: ("Too generic for late-stage deals.", "Nobody reads past page one."),
    1: ("Off-message for sales conversations.", "Confuses buyers about what we sell."),
}
# (kind, text, tags); {competitor} is filled in.
INSIGHTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("objection", "Price is above what they budgeted for the first year.", ("pricing", "budget")),
    ("objection", "IT worries about single sign-on and data residency.", ("security",)),
    ("objection", "Migrating five years of CRM data looks risky to them.", ("data-migration",)),
    ("objection", "Worried the reps will not adopt yet another tool.", ("adoption", "training")),
    ("objection", "Wants to wait for the next budget cycle.", ("timing", "budget")),
    ("pain_point", "Nobody trusts the attribution numbers in the board deck.", ("attribution",)),
    ("pain_point", "Leads sit for days before a rep calls them.", ("speed-to-lead",)),
    ("pain_point", "Marketing and sales argue about what an MQL is.", ("lead-handoff",)),
    ("pain_point", "The forecast is a spreadsheet rebuilt every Monday.", ("forecasting",)),
    ("pain_point", "Duplicate contacts everywhere after two acquisitions.", ("data-quality",)),
    ("pain_point", "Reporting takes a full day at the end of each month.", ("reporting",)),
    ("competitor", "Also evaluating {competitor}; they liked its dashboards.", ("competitor",)),
    ("competitor", "{competitor} offered a 30% first-year discount.", ("competitor", "pricing")),
    ("competitor", "Current contract with {competitor} renews in the spring.", ("competitor",)),
    ("feature_request", "Asked for a native Slack alert on new MQLs.", ("integrations",)),
    ("feature_request", "Wants forecast categories per product line.", ("forecasting",)),
    ("feature_request", "Needs a HubSpot form import.", ("integrations", "data-migration")),
    ("praise", "Loved how fast the lead routing demo was.", ("lead-routing",)),
    ("praise", "The funnel report answered their board's question in one screen.", ("reporting",)),
)
INSIGHT_KINDS = Weighted(
    [("objection", 30), ("pain_point", 35), ("competitor", 15), ("feature_request", 12),
     ("praise", 8)]
)  # fmt: skip

# Sequences: (name, description, steps as (kind, wait days, subject, instructions, asset title)).
SEQUENCES: tuple[tuple[str, str, tuple[tuple[str, int, str, str, str], ...]], ...] = (
    (
        "Outbound: mid-market first touch",
        "Cold outreach to mid-market operations and sales leaders.",
        (
            ("email", 0, "Intro email", "Personalise the first line with their last post.", ""),
            ("wait", 2, "", "", ""),
            ("call", 0, "First call", "Ask how they hand leads to sales today.", ""),
            ("wait", 3, "", "", ""),
            (
                "email",
                0,
                "Case study email",
                "Send the case study closest to their industry.",
                "How a 200-person logistics firm doubled its pipeline",
            ),
            ("social", 0, "Connect on LinkedIn", "A connection request, no pitch.", ""),
            ("wait", 4, "", "", ""),
            ("email", 0, "Break-up email", "Short and friendly; leave the door open.", ""),
        ),
    ),
    (
        "Inbound: demo request follow-up",
        "Speed to lead for MQLs: call first, then make booking easy.",
        (
            ("call", 0, "Call within the hour", "They asked for it: call now.", ""),
            ("email", 0, "Demo times", "Offer three slots and the product overview.", ""),
            ("wait", 1, "", "", ""),
            ("call", 0, "Second call", "Try a different time of day.", ""),
            ("wait", 2, "", "", ""),
            (
                "email",
                0,
                "Product overview",
                "Send the overview with a short note.",
                "Tandem product overview",
            ),
        ),
    ),
    (
        "SQL: book the demo",
        "Qualified leads who have not seen the product yet.",
        (
            ("email", 0, "Recap and demo invite", "Recap the discovery call.", ""),
            ("wait", 3, "", "", ""),
            ("call", 0, "Demo booking call", "Get the demo in the calendar.", ""),
            ("wait", 5, "", "", ""),
            (
                "email",
                0,
                "Objections answered",
                "Answer what they raised with the one-pager.",
                "Objection handling one-pager",
            ),
        ),
    ),
)
# Stop reasons for the lifecycle move that ended an enrolment (replied, met, became an
# opportunity); anything else ends it by hand.
STOP_ON = {"mql": "replied", "sql": "meeting", "opportunity": "opportunity"}


@dataclass
class DealPlan:
    """One deal before and after it is saved: who, what, and its way through the stages."""

    deal: Deal
    contacts: list[tuple[Contact, str, datetime]]  # (contact, role, added at); primary first
    items: list[LineItem]
    # (stage, entered at) for every stage it was in, in order; closing is `deal.closed_at`.
    path: list[tuple[Stage, datetime]]
    outcome: str  # "won" | "lost" | "open"
    initial_close: date  # the expected close date the rep first gave it
    team_key: str | None
    win_at: datetime | None = None  # a primary contact's customer date (merging compatible)


@dataclass
class SalesWorld:
    """What the two steps share."""

    products: dict[str, Product]
    rates: dict[str, Decimal]
    plans: list[DealPlan] = field(default_factory=list)
    assets: list[ContentAsset] = field(default_factory=list)


def _tl(
    *,
    type: str,  # TimelineEvent's own field names, so the call sites read like the model's
    idempotency_key: str,
    occurred_at: datetime,
    contact_id: int | None,
    properties: dict[str, Any],
    company_id: int | None = None,
    actor_id: int | None = None,
    actor_label: str = "",
) -> Event:
    """A timeline row as a tuple (written with one executemany, like the journeys step's)."""
    return (
        type,
        idempotency_key,
        occurred_at,
        occurred_at,
        contact_id,
        company_id,
        actor_id,
        actor_label,
        properties,
    )


def _base(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _midnight(day: date) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# ================================================================================ step 1: deals


def deals(ctx: DemoContext) -> None:
    """One deal per opportunity, with its contacts, items and stage history; renewals, upsells."""
    rng = ctx.rng("sales")
    products = _products()
    rates = {r.currency: r.rate for r in ExchangeRate.objects.all()}
    world = SalesWorld(products={p.sku: p for p in products}, rates=rates)
    ctx.sales = world
    builder = _Builder(ctx, rng, world)
    builder.new_business()
    builder.save(builder.plans)
    follow_ons = builder.follow_ons(builder.plans)
    world.plans = builder.plans + follow_ons
    for plan in builder.plans:
        for contact, _, _ in plan.contacts:
            ctx.deal_windows.setdefault(
                contact.pk, (plan.deal.pk, plan.deal.created_at, plan.deal.closed_at)
            )
    ctx.counts.update(
        products=len(products),
        deals=len(world.plans),
        **{"stage changes": StageChange.objects.count()},
    )


def _products() -> list[Product]:
    rows = [
        Product(
            sku=sku,
            name=name,
            unit_price=Decimal(price),
            currency="USD",
            term_months=term,
        )
        for sku, name, price, term in PRODUCTS
    ]
    existing = set(
        Product.objects.filter(sku__in=[r.sku for r in rows]).values_list("sku", flat=True)
    )
    insert([r for r in rows if r.sku not in existing])
    return list(Product.objects.filter(sku__in=[r.sku for r in rows]))


class _Builder:
    """Plans and saves the deals."""

    def __init__(self, ctx: DemoContext, rng: random.Random, world: SalesWorld) -> None:
        self.ctx, self.rng, self.world = ctx, rng, world
        self.today = ctx.now.date()
        quarter = period_containing(self.today, kind="quarter")
        self.horizon = quarter.next().end  # open deals close in this or the next quarter
        nb = Pipeline.objects.get(is_default=True)
        renewals = Pipeline.objects.exclude(pk=nb.pk).order_by("position", "id").first()
        assert renewals is not None, "the Renewals pipeline is seeded by sales migration 0002"
        self.nb, self.renewals = nb, renewals
        self.nb_open, self.nb_won, self.nb_lost = self._stages(nb)
        self.rn_open, self.rn_won, self.rn_lost = self._stages(renewals)
        self.reasons = {r.name: r for r in LostReason.objects.all()}
        self.plans: list[DealPlan] = []
        self.customers_at: dict[int, datetime] = {}

    @staticmethod
    def _stages(pipeline: Pipeline) -> tuple[list[Stage], Stage, Stage]:
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
        open_ = [s for s in stages if s.outcome == "open"]
        won = next(s for s in stages if s.outcome == "won")
        lost = next(s for s in stages if s.outcome == "lost")
        return open_, won, lost

    # --- new business ---------------------------------------------------------------------

    def new_business(self) -> None:
        opportunities = []
        for contact in self.ctx.contact_rows:
            history = self.ctx.history.get(contact.pk, [])
            for i, change in enumerate(history):
                if change.to_stage == "opportunity":
                    after = history[i + 1] if i + 1 < len(history) else None
                    opportunities.append((change.changed_at, contact.pk, contact, change, after))
                    break
        opportunities.sort(key=lambda row: (row[0], row[1]))
        by_company: dict[int, list[DealPlan]] = defaultdict(list)
        for opened, _, contact, _change, after in opportunities:
            if contact.owner_id is None:
                continue
            outcome, closed, reason, win_at = self._outcome(contact, opened, after)
            if contact.company_id is not None and self._join(
                by_company[contact.company_id], contact, opened, outcome, win_at
            ):
                continue
            plan = self._plan(contact, opened, outcome, closed, reason, win_at)
            self.plans.append(plan)
            if contact.company_id is not None:
                by_company[contact.company_id].append(plan)

    def _outcome(
        self, contact: Contact, opened: datetime, after: LifecycleChange | None
    ) -> tuple[str, datetime | None, str, datetime | None]:
        """(outcome, closed at, lost reason, planned win) of the contact's deal."""
        if after is not None and after.to_stage == "customer":
            return "won", after.changed_at, "", after.changed_at
        if after is not None and after.to_stage == "disqualified":
            reason = LIFECYCLE_LOST.get(after.reason, "No decision (status quo)")
            return "lost", after.changed_at, reason, None
        planned = self.ctx.planned.get(contact.pk)
        if planned is not None and planned[0] == "customer":
            return "open", None, "", planned[1]
        if (self.ctx.now - opened).days <= OPEN_FOR_DAYS:
            return "open", None, "", None
        # Gone quiet: closed lost after a while (always before today).
        days = self.rng.uniform(50, OPEN_FOR_DAYS)
        closed = at_business_time(self.rng, opened + timedelta(days=days), self._team(contact))
        closed = min(closed, self.ctx.now - timedelta(hours=6))
        return "lost", closed, QUIET_REASONS.pick(self.rng), None

    def _join(
        self,
        plans: list[DealPlan],
        contact: Contact,
        opened: datetime,
        outcome: str,
        win_at: datetime | None,
    ) -> bool:
        """Add a colleague to the company's deal that is under way, when it ends alike."""
        for plan in reversed(plans):
            deal = plan.deal
            if not deal.created_at <= opened <= deal.created_at + timedelta(days=MERGE_WITHIN_DAYS):
                continue
            if plan.outcome != outcome or len(plan.contacts) >= 3:
                continue
            if deal.closed_at is not None and opened >= deal.closed_at:
                continue
            if outcome == "won":
                assert win_at is not None and plan.win_at is not None
                if abs(win_at - plan.win_at) > timedelta(days=30):
                    continue
            elif (win_at is None) != (plan.win_at is None):
                continue
            used = {role for _, role, _ in plan.contacts}
            role = next((r for r in SECOND_ROLES if r not in used), "other")
            plan.contacts.append((contact, role, opened))
            return True
        return False

    def _team(self, contact: Contact) -> str | None:
        return self.ctx.people[contact.pk].territory.team

    def _plan(
        self,
        contact: Contact,
        opened: datetime,
        outcome: str,
        closed: datetime | None,
        reason: str,
        win_at: datetime | None,
    ) -> DealPlan:
        rng = self.rng
        person = self.ctx.people[contact.pk]
        company = contact.company
        currency = "USD"
        rule = CURRENCY_BY_COUNTRY.get(person.country.code)
        if rule is not None and rng.random() < rule[1]:
            currency = rule[0]
        items, plan_name = self._items(company.employees if company is not None else None, currency)
        amount = sum(
            (i.quantity * i.unit_price * (1 - i.discount_percent / 100) for i in items),
            Decimal(0),
        ).quantize(CENT, rounding=ROUND_HALF_UP)
        label = company.name if company is not None else f"{contact.first_name} {contact.last_name}"
        owner = contact.owner
        assert owner is not None
        deal = Deal(
            name=f"{label} — {plan_name}"[:200],
            company_id=contact.company_id,
            owner_id=owner.pk,
            team_id=owner.team_id,
            amount=amount,
            currency=currency,
            amount_base=_base(amount, self.world.rates[currency]),
            pipeline=self.nb,
            kind="new_business",
            created_at=opened,
            status="open",
        )
        team = self._team(contact)
        initial = (opened + timedelta(days=rng.uniform(40, 100))).date()
        if outcome == "won":
            assert closed is not None
            path = self._path(opened, closed, self.nb_open, team)
            self._close(deal, closed, "won", self.nb_won)
            deal.expected_close_date = closed.date()
            if rng.random() < 0.25:
                deal.competitor = COMPETITORS.pick(rng)
        elif outcome == "lost":
            assert closed is not None
            shares = LOST_AT.get(reason, (0.25, 0.25, 0.25, 0.25))
            reached = rng.choices(range(len(shares)), weights=shares)[0]
            path = self._path(opened, closed, self.nb_open[: reached + 1], team)
            self._close(deal, closed, "lost", self.nb_lost)
            deal.expected_close_date = (
                max(initial, closed.date()) if rng.random() < 0.3 else closed.date()
            )
            deal.lost_reason = self.reasons.get(reason)
            if reason == "Chose a competitor" or (reason == "Price" and rng.random() < 0.4):
                deal.competitor = COMPETITORS.pick(rng)
            if rng.random() < 0.5:
                deal.lost_note = _LOST_NOTES.get(reason, "")
        else:
            path = self._open_path(opened, win_at, team)
            deal.stage = path[-1][0]
            deal.stage_entered_at = path[-1][1]
            deal.expected_close_date = self._open_close_date(opened, win_at, initial)
            step = self.nb_open.index(deal.stage)
            deal.next_step = NEXT_STEPS[step].format(first_name=contact.first_name)
            deal.next_step_due = self.today + timedelta(days=rng.randint(-3, 10))
        seniority = person.seniority
        role = rng.choice(ROLE_BY_SENIORITY.get(seniority, ("champion",)))
        return DealPlan(
            deal=deal,
            contacts=[(contact, role, opened)],
            items=items,
            path=path,
            outcome=outcome,
            initial_close=initial,
            team_key=team,
            win_at=win_at,
        )

    def _items(self, employees: int | None, currency: str) -> tuple[list[LineItem], str]:
        """Line items by company size: the plan, seats, support, onboarding."""
        rng, products = self.rng, self.world.products
        size = employees or 10
        lines: list[tuple[str, int, int]] = []  # (sku, quantity, discount)
        if size <= 50:
            plan, discount = "TND-GROWTH", 0
            seats = 1 if rng.random() < 0.3 else 0
            support, onboarding = False, rng.random() < 0.3
        elif size <= 500:
            plan, discount = "TND-PRO", rng.choice((0, 0, 5, 10))
            seats = max(0, min(8, size // rng.randint(40, 90)))
            support, onboarding = rng.random() < 0.35, rng.random() < 0.7
        else:
            plan, discount = "TND-ENT", rng.choice((5, 10, 15, 20))
            seats = max(2, min(20, size // rng.randint(120, 400)))
            support, onboarding = rng.random() < 0.8, True
        lines.append((plan, 1, discount))
        if seats:
            lines.append(("TND-SEATS10", seats, discount))
        if support:
            lines.append(("TND-SUPPORT", 1, 0))
        if onboarding:
            lines.append(("TND-ONBOARD", 2 if plan == "TND-ENT" else 1, 0))
        items = [
            self._item(products[sku], quantity, discount, currency, position)
            for position, (sku, quantity, discount) in enumerate(lines)
        ]
        return items, products[plan].name.split(" (")[0]

    def _item(
        self, product: Product, quantity: int, discount: int, currency: str, position: int
    ) -> LineItem:
        rate = self.world.rates[currency]
        price = (product.unit_price / rate / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 10
        return LineItem(
            product=product,
            name=product.name,
            quantity=Decimal(quantity),
            unit_price=price.quantize(CENT),
            discount_percent=Decimal(discount),
            position=position,
        )

    def _path(
        self, start: datetime, end: datetime, stages: list[Stage], team: str | None
    ) -> list[tuple[Stage, datetime]]:
        """Enter each stage in turn between start and end (the last one is left at end)."""
        rng = self.rng
        weights = [rng.gammavariate(3, STAGE_SHARE[i % 4] / 3) for i in range(len(stages))]
        total = sum(weights)
        span = end - start
        out = [(stages[0], start)]
        elapsed = 0.0
        for i, stage in enumerate(stages[1:]):
            elapsed += weights[i] / total
            at = at_business_time(rng, start + span * elapsed, team)
            previous = out[-1][1]
            if at <= previous or at >= end:
                at = previous + (end - previous) / 2
            out.append((stage, at))
        return out

    @staticmethod
    def _close(deal: Deal, closed: datetime, status: str, stage: Stage) -> None:
        deal.status = status
        deal.stage = stage
        deal.stage_entered_at = closed
        deal.closed_at = closed

    def _open_path(
        self, opened: datetime, win_at: datetime | None, team: str | None
    ) -> list[tuple[Stage, datetime]]:
        """An open deal's stages so far: how far it got follows its age (and its drawn win)."""
        rng, now = self.rng, self.ctx.now
        age = (now - opened).total_seconds()
        if win_at is not None:
            progress = age / max(1.0, (win_at - opened).total_seconds())
            reached = min(3, int(progress * 4 + rng.uniform(0, 0.8)))
        else:
            reached = rng.choices(range(4), weights=(0.35, 0.3, 0.22, 0.13))[0]
        reached = min(reached, int(age // (6 * 86_400)))  # a stage takes some days at least
        if reached == 0:
            return [(self.nb_open[0], opened)]
        # The current stage was entered some time ago: the path ends part-way to today.
        end = opened + (now - opened) * rng.uniform(0.75, 0.95)
        path = self._path(opened, end, self.nb_open[: reached + 1], team)
        stage = path[-1][0]
        path[-1] = (stage, min(at_business_time(rng, end, team), now - timedelta(hours=1)))
        if path[-1][1] <= path[-2][1]:
            path[-1] = (stage, path[-2][1] + (now - path[-2][1]) / 2)
        return path

    def _open_close_date(self, opened: datetime, win_at: datetime | None, initial: date) -> date:
        """When an open deal is expected to close: this quarter or the next."""
        rng = self.rng
        if win_at is not None:
            day = win_at.date() + timedelta(days=rng.randint(-4, 10))
        elif initial >= self.today:
            day = initial
        else:  # slipped: pushed out again
            day = self.today + timedelta(days=rng.randint(7, 75))
        return max(self.today, min(day, self.horizon))

    # --- saving ---------------------------------------------------------------------------

    def save(self, plans: list[DealPlan]) -> None:
        """Insert the deals, then their contacts, line items and stage changes."""
        insert([p.deal for p in plans])
        contacts, items, changes = [], [], []
        for plan in plans:
            deal = plan.deal
            for i, (contact, role, added) in enumerate(plan.contacts):
                contacts.append(
                    DealContact(
                        deal_id=deal.pk,
                        contact_id=contact.pk,
                        role=role,
                        is_primary=i == 0,
                        added_at=added,
                    )
                )
            for item in plan.items:
                item.deal_id = deal.pk
                items.append(item)
            changes.extend(_stage_changes(plan))
        insert(contacts)
        insert(items)
        insert(changes)

    # --- after the sale -------------------------------------------------------------------

    def follow_ons(self, plans: list[DealPlan]) -> list[DealPlan]:
        """Renewals (and renewals of renewals), upsells, and evangelists credited for referrals."""
        self._referrals(plans)
        out: list[DealPlan] = []
        upsells = [self._upsell(p) for p in plans if p.outcome == "won"]
        batch = [u for u in upsells if u is not None]
        self.save(batch)
        out.extend(batch)
        wave = [p for p in plans + batch if p.outcome == "won"]
        while wave:
            renewals = [r for p in wave if (r := self._renewal(p)) is not None]
            self.save(renewals)
            out.extend(renewals)
            wave = [r for r in renewals if r.outcome == "won"]
        return out

    def _referrals(self, plans: list[DealPlan]) -> None:
        """Credit evangelists with some of the referral deals that came after they joined."""
        evangelists: list[tuple[datetime, Contact]] = []
        for contact in self.ctx.contact_rows:
            for change in self.ctx.history.get(contact.pk, []):
                if change.to_stage == "evangelist":
                    evangelists.append((change.changed_at, contact))
        evangelists.sort(key=lambda row: (row[0], row[1].pk))
        if not evangelists:
            return
        credited = 0
        for plan in plans:
            primary = plan.contacts[0][0]
            if primary.original_source != "referral" or credited >= 3 * len(evangelists):
                continue
            ready = [c for at, c in evangelists if at < plan.deal.created_at]
            if ready and self.rng.random() < 0.6:
                plan.deal.referred_by_id = self.rng.choice(ready).pk
                Deal.objects.filter(pk=plan.deal.pk).update(referred_by_id=plan.deal.referred_by_id)
                credited += 1

    def _follow_on(
        self, parent: DealPlan, *, kind: str, name: str, items: list[LineItem], created: datetime
    ) -> DealPlan:
        deal = parent.deal
        amount = sum(
            (i.quantity * i.unit_price * (1 - i.discount_percent / 100) for i in items),
            Decimal(0),
        ).quantize(CENT, rounding=ROUND_HALF_UP)
        return DealPlan(
            deal=Deal(
                name=name[:200],
                company_id=deal.company_id,
                owner_id=deal.owner_id,
                team_id=deal.team_id,
                amount=amount,
                currency=deal.currency,
                amount_base=_base(amount, self.world.rates[deal.currency]),
                pipeline=self.renewals,
                kind=kind,
                parent_id=deal.pk,
                created_at=created,
                status="open",
            ),
            contacts=[(c, role, created) for c, role, _ in parent.contacts],
            items=items,
            path=[],
            outcome="open",
            initial_close=created.date(),
            team_key=parent.team_key,
        )

    def _renewal(self, parent: DealPlan) -> DealPlan | None:
        """A won deal with subscriptions renews a year after it closed: most do, some churn."""
        recurring = [
            i for i in parent.items if i.product is not None and i.product.term_months is not None
        ]
        closed = parent.deal.closed_at
        if not recurring or closed is None:
            return None
        rng = self.rng
        items = [
            LineItem(
                product=i.product,
                name=i.name,
                quantity=i.quantity,
                unit_price=i.unit_price,
                discount_percent=i.discount_percent,
                position=n,
            )
            for n, i in enumerate(recurring)
        ]
        due = _add_months(closed.date(), TERM_MONTHS)
        label = parent.deal.name.split(" — ")[0]
        plan = self._follow_on(
            parent,
            kind="renewal",
            name=f"{label} — renewal {due.year}",
            items=items,
            created=closed,
        )
        deal, team = plan.deal, parent.team_key
        plan.initial_close = due
        deal.expected_close_date = due
        first, negotiation = self.rn_open[0], self.rn_open[-1]
        talks = at_business_time(rng, _midnight(due) - timedelta(days=rng.uniform(20, 45)), team)
        end = at_business_time(rng, _midnight(due) - timedelta(days=rng.uniform(0, 15)), team)
        plan.path = [(first, closed)]
        if end < self.ctx.now:
            plan.path.append((negotiation, talks))
            if rng.random() < 0.85:
                plan.outcome = "won"
                self._close(deal, end, "won", self.rn_won)
            else:
                plan.outcome = "lost"
                self._close(deal, end, "lost", self.rn_lost)
                reason = CHURN_REASONS.pick(rng)
                deal.lost_reason = self.reasons.get(reason)
                deal.lost_note = "Churned at renewal."
                if reason == "Chose a competitor":
                    deal.competitor = COMPETITORS.pick(rng)
            deal.expected_close_date = end.date()
        else:
            if talks < self.ctx.now:
                plan.path.append((negotiation, talks))
            deal.stage, deal.stage_entered_at = plan.path[-1]
            deal.next_step = "Confirm the renewal terms"
            deal.next_step_due = max(self.today, due - timedelta(days=30))
        return plan

    def _upsell(self, parent: DealPlan) -> DealPlan | None:
        """A few customers buy more seats or premium support some months after the first deal."""
        rng, closed = self.rng, parent.deal.closed_at
        if closed is None or rng.random() >= 0.15:
            return None
        created = at_business_time(
            rng, closed + timedelta(days=rng.uniform(60, 240)), parent.team_key
        )
        if created >= self.ctx.now - timedelta(days=3):
            return None
        products = self.world.products
        seats = rng.randint(2, 6)
        items = [self._item(products["TND-SEATS10"], seats, 0, parent.deal.currency, 0)]
        if rng.random() < 0.4:
            items.append(self._item(products["TND-SUPPORT"], 1, 0, parent.deal.currency, 1))
        label = parent.deal.name.split(" — ")[0]
        plan = self._follow_on(
            parent,
            kind="upsell",
            name=f"{label} — {seats * 10} more seats",
            items=items,
            created=created,
        )
        deal = plan.deal
        end = at_business_time(rng, created + timedelta(days=rng.uniform(20, 60)), parent.team_key)
        plan.path = [(self.rn_open[0], created)]
        if end < self.ctx.now:
            plan.path.append((self.rn_open[-1], created + (end - created) * rng.uniform(0.4, 0.8)))
            won = rng.random() < 0.65
            plan.outcome = "won" if won else "lost"
            self._close(deal, end, plan.outcome, self.rn_won if won else self.rn_lost)
            if not won:
                deal.lost_reason = self.reasons.get(rng.choice(("No budget", "Timing")))
            deal.expected_close_date = end.date()
        else:
            deal.stage, deal.stage_entered_at = plan.path[-1]
            deal.expected_close_date = min(self.horizon, end.date())
            deal.next_step = "Send the seat quote"
            deal.next_step_due = self.today + timedelta(days=rng.randint(0, 7))
        plan.initial_close = deal.expected_close_date
        return plan


_LOST_NOTES = {
    "Price": "Went with the cheaper option; revisit at their renewal.",
    "Chose a competitor": "Picked the incumbent's bundle.",
    "No decision (status quo)": "Staying with spreadsheets for now.",
    "Timing": "Reorganisation put every project on hold.",
    "Missing feature": "Needed a native ERP integration we do not have.",
    "No budget": "Budget frozen for the rest of the year.",
    "Went dark": "No reply after the proposal despite four follow-ups.",
    "Not a fit": "Too small for the platform; pointed them to the free plan.",
}


def _stage_changes(plan: DealPlan) -> list[StageChange]:
    """The history the deals service would have written: created, moves, and the close."""
    deal = plan.deal
    by = deal.owner_id
    out = []
    previous: tuple[Stage, datetime] | None = None
    for stage, at in plan.path:
        out.append(
            StageChange(
                deal_id=deal.pk,
                kind="created" if previous is None else "moved",
                from_stage=previous[0] if previous else None,
                to_stage=stage,
                from_status="" if previous is None else "open",
                to_status="open",
                changed_at=at,
                changed_by_id=by,
                seconds_in_from_stage=int((at - previous[1]).total_seconds()) if previous else None,
                amount_base=deal.amount_base,
            )
        )
        previous = (stage, at)
    if deal.closed_at is not None and previous is not None:
        out.append(
            StageChange(
                deal_id=deal.pk,
                kind=deal.status,
                from_stage=previous[0],
                to_stage=deal.stage,
                from_status="open",
                to_status=deal.status,
                changed_at=deal.closed_at,
                changed_by_id=by,
                seconds_in_from_stage=int((deal.closed_at - previous[1]).total_seconds()),
                amount_base=deal.amount_base,
            )
        )
    return out


# ================================================================================ step 2: run


def run(ctx: DemoContext) -> None:
    """Sources, timeline rows, tasks, sequences, content, insights, onboarding, quotas, snapshots."""
    world: SalesWorld | None = ctx.sales
    if world is None:
        return
    rng = ctx.rng("sales-work")
    plans = world.plans
    _sources(ctx, plans)
    events = _deal_events(plans)
    activities = _deal_work(ctx, rng, plans)
    enrollments, sequence_activities, sequence_events = _sequences(ctx, rng)
    uses = _content(ctx, rng, plans)
    insights = _insights(ctx, rng, plans)
    steps = _onboarding(ctx, rng, plans)
    insert(activities + sequence_activities)
    events += _activity_events(activities + sequence_activities)
    for enrollment, task in enrollments:
        if task is not None:
            enrollment.current_task_id = task.pk
    insert([e for e, _ in enrollments])
    events += [make() for make in sequence_events]
    events += _content_events(uses)
    insert_rows(TimelineEvent, EVENT_COLUMNS, events, {})
    quotas = _quotas(ctx, rng, plans)
    snapshots = _snapshots(ctx, plans, quotas)
    ctx.counts.update(
        **{
            "deal activities": len(activities) + len(sequence_activities),
            "sequence enrolments": len(enrollments),
            "content uses": len(uses),
            "insights": insights,
            "onboarding steps": steps,
            "quotas": len(quotas),
            "forecast snapshots": snapshots,
            "events": len(events),
        }
    )


def _sources(ctx: DemoContext, plans: list[DealPlan]) -> None:
    """The campaign and channel of the last touch of the deal's contacts before it was created."""
    groups: dict[tuple[int | None, str], list[int]] = defaultdict(list)
    for plan in plans:
        deal = plan.deal
        best: tuple[datetime, int | None, str] | None = None
        for contact, _, _ in plan.contacts:
            for touch in ctx.journeys.get(contact.pk, []):
                if touch.at is None or touch.at > deal.created_at:
                    continue
                if best is None or touch.at > best[0]:
                    campaign = touch.campaign.pk if touch.campaign is not None else None
                    best = (touch.at, campaign, touch.channel)
        if best is not None:
            deal.source_campaign_id, deal.source_channel = best[1], best[2]
            groups[(best[1], best[2])].append(deal.pk)
    for (campaign, channel), pks in groups.items():
        for i in range(0, len(pks), 900):
            Deal.objects.filter(pk__in=pks[i : i + 900]).update(
                source_campaign_id=campaign, source_channel=channel
            )


def _deal_events(plans: list[DealPlan]) -> list[Event]:
    """deal_created on each contact, deal_won when won, referral_credited on the referrer."""
    out = []
    for plan in plans:
        deal = plan.deal
        props = {"deal_id": deal.pk, "name": deal.name, "amount": str(deal.amount)}
        for contact, _, added in plan.contacts:
            out.append(
                _tl(
                    type="deal_created",
                    idempotency_key=f"deal_created:{deal.pk}:{contact.pk}",
                    occurred_at=added,
                    contact_id=contact.pk,
                    company_id=deal.company_id,
                    actor_id=deal.owner_id,
                    properties=props,
                )
            )
            if deal.status == "won" and deal.closed_at is not None:
                out.append(
                    _tl(
                        type="deal_won",
                        idempotency_key=f"deal_won:{deal.pk}:{contact.pk}",
                        occurred_at=deal.closed_at,
                        contact_id=contact.pk,
                        company_id=deal.company_id,
                        actor_id=deal.owner_id,
                        properties=props,
                    )
                )
        if deal.referred_by_id is not None and deal.status == "won" and deal.closed_at is not None:
            out.append(
                _tl(
                    type="referral_credited",
                    idempotency_key=f"referral_credited:{deal.pk}",
                    occurred_at=deal.closed_at,
                    contact_id=deal.referred_by_id,
                    properties=props,
                )
            )
    return out


def _activity(
    plan: DealPlan | None,
    contact: Contact,
    owner_id: int | None,
    team_id: int | None,
    kind: str,
    at: datetime,
    **fields: Any,
) -> Activity:
    return Activity(
        kind=kind,
        contact_id=contact.pk,
        company_id=contact.company_id,
        owner_id=owner_id,
        team_id=team_id,
        occurred_at=at,
        deal_id=plan.deal.pk if plan is not None else None,
        **fields,
    )


def _deal_work(ctx: DemoContext, rng: random.Random, plans: list[DealPlan]) -> list[Activity]:
    """What the reps did on deals lately and what they have to do today."""
    now, out = ctx.now, []
    # Due late today (UTC), so they are still "due today" whenever the demo is opened today.
    tonight = now.replace(hour=23)
    due_today: set[int | None] = set()
    late: set[int | None] = set()
    open_deals: dict[int | None, list[DealPlan]] = defaultdict(list)

    def todo(plan: DealPlan, overdue: bool) -> Activity:
        deal = plan.deal
        contact = plan.contacts[0][0]
        past = now.replace(hour=17) - timedelta(days=rng.randint(1, 6))
        due = past if overdue else tonight
        created = max(deal.stage_entered_at, due - timedelta(days=rng.uniform(2, 8)))
        created = min(created, now - timedelta(hours=2))
        company = contact.company.name if contact.company is not None else "them"
        return _activity(
            plan,
            contact,
            deal.owner_id,
            deal.team_id,
            "task",
            created,
            subject=deal.next_step or f"Follow up with {company}",
            due_at=due,
            remind_at=due - timedelta(hours=1) if due > now else None,
        )

    for plan in plans:
        deal = plan.deal
        contact = plan.contacts[0][0]
        company = contact.company.name if contact.company is not None else "them"
        args = (plan, contact, deal.owner_id, deal.team_id)
        if deal.status == "open" and deal.kind == "new_business":
            entered = deal.stage_entered_at
            stage = plan.path[-1][0].position
            # The buyer wrote back in the last weeks of a late-stage deal.
            if stage >= 2 and rng.random() < 0.6:
                at = at_business_time(
                    rng, between(rng, max(entered, now - timedelta(days=10)), now), plan.team_key
                )
                if at < now:
                    out.append(
                        _activity(
                            *args,
                            "email",
                            at,
                            subject=f"Re: Proposal for {company}",
                            body="Questions on the payment terms and the seat count.",
                            direction="inbound",
                        )
                    )
            # Today's to-do for roughly a third of the open deals; a few are overdue.
            roll = rng.random()
            if roll < 0.35:
                overdue = roll >= 0.22
                out.append(todo(plan, overdue))
                (late if overdue else due_today).add(deal.owner_id)
            open_deals[deal.owner_id].append(plan)
            if rng.random() < 0.25:
                at = at_business_time(rng, now - timedelta(days=rng.randint(1, 3)), plan.team_key)
                if entered < at < now:
                    out.append(
                        _activity(
                            *args,
                            "call",
                            at,
                            subject=f"Call with {contact.first_name}",
                            call_outcome="connected",
                            duration_seconds=rng.randint(8, 40) * 60,
                        )
                    )
        elif deal.kind == "renewal" and deal.status == "open" and deal.expected_close_date:
            due_day = deal.expected_close_date - timedelta(days=30)
            if due_day <= ctx.now.date() + timedelta(days=30):
                due = _midnight(due_day).replace(hour=17)
                created = min(now - timedelta(hours=3), due - timedelta(days=7))
                out.append(
                    _activity(
                        *args,
                        "task",
                        max(created, deal.created_at),
                        subject=f"Prepare the renewal for {company}",
                        due_at=due,
                    )
                )
    # Every rep with open deals has something due today and something overdue.
    for owner_id, owned in sorted(open_deals.items(), key=lambda kv: kv[0] or 0):
        if owner_id not in due_today:
            out.append(todo(rng.choice(owned), overdue=False))
        if owner_id not in late:
            out.append(todo(rng.choice(owned), overdue=True))
    return out


def _activity_events(activities: list[Activity]) -> list[Event]:
    """The timeline rows crm.services.log_activity and complete_task write."""
    out = []
    for a in activities:
        out.append(
            _tl(
                type=f"activity_{a.kind}",
                idempotency_key=f"activity:{a.pk}",
                occurred_at=a.occurred_at,
                contact_id=a.contact_id,
                company_id=a.company_id,
                actor_id=a.owner_id,
                properties={
                    "activity_id": a.pk,
                    "subject": a.subject,
                    "outcome": a.call_outcome,
                    "duration_seconds": a.duration_seconds,
                    **({"direction": a.direction} if a.direction else {}),
                    **({"deal_id": a.deal_id} if a.deal_id else {}),
                },
            )
        )
        if a.done_at is not None:
            out.append(
                _tl(
                    type="task_completed",
                    idempotency_key=f"task_completed:{a.pk}",
                    occurred_at=a.done_at,
                    contact_id=a.contact_id,
                    company_id=a.company_id,
                    actor_id=a.owner_id,
                    properties={"activity_id": a.pk, "subject": a.subject},
                )
            )
    return out


# --------------------------------------------------------------------------------- sequences


def _sequences(
    ctx: DemoContext, rng: random.Random
) -> tuple[
    list[tuple[SequenceEnrollment, Activity | None]],
    list[Activity],
    list[Any],
]:
    """Three cadences; outbound prospects, new MQLs and stuck SQLs enrolled as they came."""
    from tandem.sales.services.sequences import STEP_EVENT, add_business_days

    owner = ctx.users.get("manager")
    created = ctx.start + timedelta(days=10)
    sequences = [
        Sequence(name=name, description=text, owner=owner, created_at=created)
        for name, text, _ in SEQUENCES
    ]
    insert(sequences)
    assets = {a.title: a for a in ctx.assets.values()}
    steps: list[list[SequenceStep]] = []
    for sequence, (_, _, plan) in zip(sequences, SEQUENCES, strict=True):
        steps.append(
            [
                SequenceStep(
                    sequence=sequence,
                    position=i + 1,
                    kind=kind,
                    wait_days=wait,
                    subject=subject,
                    instructions=text,
                    asset=assets.get(title) if title else None,
                )
                for i, (kind, wait, subject, text, title) in enumerate(plan)
            ]
        )
    insert([s for group in steps for s in group])

    now = ctx.now
    enrollments: list[tuple[SequenceEnrollment, Activity | None]] = []
    activities: list[Activity] = []
    events: list[Any] = []

    def enrol(which: int, contact: Contact, at: datetime, history: list[LifecycleChange]) -> None:
        assert contact.owner is not None
        owner = contact.owner
        team = ctx.people[contact.pk].territory.team
        later = [c for c in history if c.changed_at > at]
        stop_at, reason = None, ""
        if later:
            stop_at = later[0].changed_at
            reason = STOP_ON.get(later[0].to_stage, "manual")
        enrollment = SequenceEnrollment(
            sequence=sequences[which],
            contact_id=contact.pk,
            owner_id=owner.pk,
            team_id=owner.team_id,
            status="active",
            enrolled_at=at,
        )
        due, open_task, last_email = at, None, ""
        state = "finished"
        for step in steps[which]:
            if step.kind == "wait":
                due = add_business_days(due, step.wait_days)
                enrollment.current_position = step.position
                continue
            if due >= now:
                state = "waiting"
                break
            if stop_at is not None and due >= stop_at:
                state = "stopped"
                break
            done = at_business_time(rng, due + timedelta(days=rng.uniform(0, 1.2)), team)
            done = max(done, due + timedelta(minutes=10))
            sequence = sequences[which]
            task = Activity(
                kind="task",
                subject=f"{step.subject or step.kind} ({sequence.name}, step {step.position})"[
                    :255
                ],
                body=step.instructions,
                contact_id=contact.pk,
                company_id=contact.company_id,
                owner_id=owner.pk,
                team_id=owner.team_id,
                occurred_at=due,
                due_at=due,
            )
            activities.append(task)
            enrollment.current_position = step.position
            events.append(_step_event(STEP_EVENT, enrollment, task, step, sequence.name))
            if step.kind == "email":
                last_email = step.subject
            if stop_at is not None and stop_at < now and stop_at <= done:
                task.done_at = stop_at  # the rep closed it when the sequence stopped
                state = "stopped"
                break
            if done >= now:
                open_task, state = task, "working"
                break
            task.done_at = due = done
        if state == "stopped":
            assert stop_at is not None
            enrollment.status, enrollment.stop_reason, enrollment.ended_at = (
                "stopped",
                reason,
                stop_at,
            )
            if reason == "replied" and last_email:
                activities.append(
                    Activity(
                        kind="email",
                        subject=f"Re: {last_email}",
                        body="Thanks for reaching out — happy to talk next week.",
                        contact_id=contact.pk,
                        company_id=contact.company_id,
                        owner_id=owner.pk,
                        team_id=owner.team_id,
                        occurred_at=max(at, stop_at - timedelta(minutes=rng.randint(10, 90))),
                        direction="inbound",
                    )
                )
        elif state == "finished":
            enrollment.status, enrollment.ended_at = "finished", due
        elif state == "waiting":
            enrollment.next_due_at = due
        enrollments.append((enrollment, open_task))

    for contact in ctx.contact_rows:
        if contact.owner is None:
            continue
        history = ctx.history.get(contact.pk, [])
        if contact.original_source == "outbound" and contact.created_at > now - timedelta(days=270):
            at = contact.created_at + timedelta(hours=rng.uniform(0.5, 3))
            if at < now:
                enrol(0, contact, at, history)
        for i, change in enumerate(history):
            recent_mql = change.to_stage == "mql" and change.changed_at > now - timedelta(days=120)
            if recent_mql and contact.original_source != "outbound" and rng.random() < 0.7:
                at = change.changed_at + timedelta(minutes=rng.uniform(5, 60))
                if at < now:
                    enrol(1, contact, at, history[i + 1 :])
            if change.to_stage == "sql" and change.changed_at > now - timedelta(days=180):
                at = add_business_days(change.changed_at, 4)
                following = history[i + 1] if i + 1 < len(history) else None
                if at < now and (following is None or following.changed_at > at):
                    enrol(2, contact, at, history[i + 1 :])
    return enrollments, activities, events


def _step_event(
    type_: str, enrollment: SequenceEnrollment, task: Activity, step: SequenceStep, name: str
) -> Any:
    """The sequence_task_created row, made once the enrolment and the task have ids."""

    def make() -> Event:
        return _tl(
            type=type_,
            idempotency_key=f"sequence_task:{enrollment.pk}:{step.position}:{task.pk}",
            occurred_at=task.occurred_at,
            contact_id=enrollment.contact_id,
            company_id=task.company_id,
            actor_id=enrollment.owner_id,
            actor_label=name,
            properties={
                "enrollment_id": enrollment.pk,
                "sequence_id": enrollment.sequence_id,
                "step": step.position,
                "kind": step.kind,
                "activity_id": task.pk,
            },
        )

    return make


# ----------------------------------------------------------------------------------- content


def _window(ctx: DemoContext, plan: DealPlan) -> tuple[datetime, datetime]:
    deal = plan.deal
    return deal.created_at, deal.closed_at or ctx.now


def _content(ctx: DemoContext, rng: random.Random, plans: list[DealPlan]) -> list[ContentUse]:
    """Reps attach and send enablement assets; deals that used the battlecard win more."""
    assets = [
        a for a in ctx.assets.values() if a.audience in ("enablement", "both") and not a.archived
    ]
    if not assets:
        return []
    star = next((a for a in assets if a.title == STAR_ASSET), None)
    others = [a for a in assets if a is not star]
    weights = [1.5 if a.title == WEAK_ASSET else 1.0 for a in others]
    uses: list[ContentUse] = []
    for plan in plans:
        deal = plan.deal
        if deal.kind != "new_business":
            continue
        start, end = _window(ctx, plan)
        primary = plan.contacts[0][0]
        picks = rng.choices(others, weights=weights, k=rng.choice((0, 1, 1, 2, 2, 3)))
        timed = [(a, between(rng, start, end)) for a in picks]
        if star is not None and rng.random() < STAR_USE[plan.outcome]:
            timed.append((star, between(rng, start + (end - start) / 2, end)))
        for asset, at in timed:
            at = min(at, ctx.now - timedelta(minutes=5))
            sent = rng.random() < 0.6
            uses.append(
                ContentUse(
                    asset=asset,
                    deal_id=deal.pk,
                    contact_id=primary.pk if sent else None,
                    kind="sent" if sent else "attached",
                    user_id=deal.owner_id,
                    note=rng.choice(("", "", "After the demo.", "For the CFO.", "As promised.")),
                    used_at=at,
                )
            )
    insert(uses)
    # Ratings: most reps rate what they used; the battlecard is loved, the SLA post is not.
    last_use: dict[tuple[int, int], datetime] = {}
    for use in uses:
        if use.user_id is not None:
            key = (use.user_id, use.asset.pk)
            last_use[key] = max(last_use.get(key, use.used_at), use.used_at)
    by_pk = {a.pk: a for a in assets}
    ratings = []
    for (user_id, asset_id), at in sorted(last_use.items()):
        if rng.random() >= 0.7:
            continue
        title = by_pk[asset_id].title
        rating = rng.choice(ASSET_RATINGS.get(title, USUAL_RATINGS))
        ratings.append(
            ContentRating(
                asset_id=asset_id,
                user_id=user_id,
                rating=rating,
                comment=rng.choice(RATING_COMMENTS[rating]) if rng.random() < 0.7 else "",
                rated_at=min(
                    ctx.now - timedelta(minutes=1), at + timedelta(days=rng.uniform(0, 10))
                ),
            )
        )
    insert(ratings)
    ctx.counts.update(**{"content ratings": len(ratings)})
    return uses


def _content_events(uses: list[ContentUse]) -> list[Event]:
    return [
        _tl(
            type="content_shared",
            idempotency_key=f"content_shared:{use.pk}:{use.contact_id}",
            occurred_at=use.used_at,
            contact_id=use.contact_id,
            actor_id=use.user_id,
            properties={
                "asset_id": use.asset.pk,
                "title": use.asset.title,
                "kind": use.kind,
                "deal_id": use.deal_id,
                "content_use_id": use.pk,
            },
        )
        for use in uses
        if use.contact_id is not None
    ]


# ---------------------------------------------------------------------------------- insights


def _insights(ctx: DemoContext, rng: random.Random, plans: list[DealPlan]) -> int:
    """Objections, pains and competitors heard on new-business deals, tagged."""
    by_kind: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for kind, text, tags in INSIGHTS:
        by_kind[kind].append((text, tags))
    rows: list[tuple[Insight, tuple[str, ...]]] = []
    for plan in plans:
        deal = plan.deal
        if deal.kind != "new_business":
            continue
        start, end = _window(ctx, plan)
        kinds = [INSIGHT_KINDS.pick(rng) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
        reason = deal.lost_reason.name if deal.lost_reason is not None else ""
        if reason == "Chose a competitor":
            kinds.append("competitor")
        elif reason == "Price":
            kinds.append("objection")
        for kind in kinds:
            text, tags = rng.choice(by_kind[kind])
            competitor = ""
            if kind == "competitor":
                competitor = deal.competitor or COMPETITORS.pick(rng)
                text = text.format(competitor=competitor)
            if reason == "Price" and kind == "objection":
                text, tags = by_kind["objection"][0]
            primary = plan.contacts[0][0]
            rows.append(
                (
                    Insight(
                        deal_id=deal.pk,
                        contact_id=primary.pk if rng.random() < 0.7 else None,
                        kind=kind,
                        text=text,
                        competitor=competitor,
                        author_id=deal.owner_id,
                        created_at=min(between(rng, start, end), ctx.now - timedelta(minutes=5)),
                    ),
                    tags + ((competitor.lower(),) if competitor else ()),
                )
            )
    insert([insight for insight, _ in rows])
    names = sorted({tag for _, tags in rows for tag in tags})
    existing = set(InsightTag.objects.filter(name__in=names).values_list("name", flat=True))
    insert([InsightTag(name=n) for n in names if n not in existing])
    tag_ids = dict(InsightTag.objects.filter(name__in=names).values_list("name", "pk"))
    through = Insight.tags.through
    insert(
        [
            through(insight_id=insight.pk, insighttag_id=tag_ids[tag])
            for insight, tags in rows
            for tag in dict.fromkeys(tags)
        ]
    )
    return len(rows)


# -------------------------------------------------------------------------------- onboarding


def _onboarding(ctx: DemoContext, rng: random.Random, plans: list[DealPlan]) -> int:
    """Every won new-business deal's checklist: older ones done, recent ones under way."""
    template = list(
        OnboardingTemplateStep.objects.filter(is_active=True).order_by("position", "id")
    )
    rows = []
    for plan in plans:
        deal = plan.deal
        if deal.kind != "new_business" or deal.status != "won" or deal.closed_at is None:
            continue
        closed = deal.closed_at
        for item in template:
            due = closed.date() + timedelta(days=item.due_after_days)
            done_at: datetime | None = at_business_time(
                rng,
                closed + timedelta(days=rng.uniform(0.5, item.due_after_days + 4)),
                plan.team_key,
            )
            assert done_at is not None
            if done_at <= closed or done_at >= ctx.now or rng.random() < 0.06:
                done_at = None
            rows.append(
                OnboardingStep(
                    deal_id=deal.pk,
                    title=item.title,
                    position=item.position,
                    due_on=due,
                    done_at=done_at,
                    done_by_id=deal.owner_id if done_at is not None else None,
                )
            )
    insert(rows)
    return len(rows)


# ------------------------------------------------------------------------------------ quotas


def _round_quota(amount: Decimal) -> Decimal:
    step = Decimal(5000) if amount >= 50_000 else Decimal(1000)
    return max(step, (amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


def _draw(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 3)))


def _quarters(ctx: DemoContext) -> list[Period]:
    """From the quarter the history starts in to the one after today's."""
    quarter = period_containing(ctx.start.date(), kind="quarter")
    last = period_containing(ctx.now.date(), kind="quarter").next()
    out = [quarter]
    while out[-1].start < last.start:
        out.append(out[-1].next())
    return out


def _quotas(ctx: DemoContext, rng: random.Random, plans: list[DealPlan]) -> list[Quota]:
    """Monthly quotas per rep and quarterly ones per team, set so attainment is 60 % to 130 %.

    Intuition: a past quarter's quota is what the rep went on to win divided by an attainment
    drawn from 0.62 to 1.28 (at least an eighth of the rep's usual quarter, so a quarter without
    a win is a miss); the quarter under way gets the last two quarters' average plus growth (or
    more, when the rep is already past it), the next one a little more. Quotas start the month
    after the history does (the first deals close then); a quarter is split over its months
    30/33/37 (deals close late in a quarter).
    """
    today, first_day = ctx.now.date(), ctx.start.date()
    reps = sorted(
        (u for u in ctx.users.values() if u.role == "sales_rep"), key=lambda u: u.username
    )
    quarters = _quarters(ctx)
    won: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for plan in plans:
        deal = plan.deal
        if deal.status == "won" and deal.closed_at is not None and deal.owner_id is not None:
            q = period_containing(deal.closed_at.date(), kind="quarter")
            won[(deal.owner_id, q.start)] += deal.amount_base
    rows: list[Quota] = []
    team_sums: dict[tuple[int, Period], Decimal] = defaultdict(Decimal)
    first_month = period_containing(first_day, kind="month").next()  # deals close from then on
    for rep in reps:
        full = [won[(rep.pk, q.start)] for q in quarters if q.start >= first_day and q.end < today]
        usual = sum(full, Decimal(0)) / len(full) if full else Decimal(0)
        recent = sum(full[-2:], Decimal(0)) / len(full[-2:]) if full else Decimal(0)
        usual = usual if usual > 0 else Decimal(60_000)
        recent = recent if recent > 0 else usual
        for q in quarters:
            got = won[(rep.pk, q.start)]
            if q.end < today:
                amount = max(got / _draw(rng, 0.62, 1.28), usual / 8)
            elif q.start <= today:  # the quarter under way: a plan the rep is on track for
                amount = max(recent * _draw(rng, 1.0, 1.12), got / _draw(rng, 0.8, 1.05))
            else:
                amount = recent * _draw(rng, 1.05, 1.18)
            months = [m for m in q.months() if m.start >= first_month.start]
            if not months:
                continue
            shares = (Decimal("0.30"), Decimal("0.33"), Decimal("0.37"))[-len(months) :]
            total = _round_quota(amount * sum(shares, Decimal(0)))
            for month, share in zip(months, shares, strict=True):
                part = (total * share / sum(shares, Decimal(0)) / 500).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP
                ) * 500
                rows.append(
                    Quota(
                        user_id=rep.pk,
                        period_kind="month",
                        period_start=month.start,
                        period_end=month.end,
                        amount=part,
                    )
                )
                if rep.team_id is not None:
                    team_sums[(rep.team_id, q)] += part
    for (team_id, q), amount in sorted(
        team_sums.items(), key=lambda kv: (kv[0][0], kv[0][1].start)
    ):
        rows.append(
            Quota(
                team_id=team_id,
                period_kind="quarter",
                period_start=q.start,
                period_end=q.end,
                amount=amount,
            )
        )
    insert(rows)
    return rows


# --------------------------------------------------------------------------------- snapshots


@dataclass
class _Track:
    """A deal as the weekly snapshots see it."""

    created: datetime
    closed: datetime | None
    won: bool
    owner_id: int | None
    team_id: int | None
    base: Decimal
    times: list[datetime]  # when it entered each open stage
    stages: list[tuple[str, int]]  # (forecast category, probability) of those stages
    initial: date
    final: date


def _snapshots(ctx: DemoContext, plans: list[DealPlan], quotas: list[Quota]) -> int:
    """Each Monday's forecast of the month and quarter it is in and of the next ones.

    Reconstructed from the history: a deal counts on a Monday when it existed; open, it sits in
    the stage it was in then, expected to close on the date its rep first gave (or, once that
    date had passed, the date it finally got); won, it counts in the period it closed in.
    """
    from tandem.sales.services.forecasts import snapshot_periods

    tracks = sorted(
        (
            _Track(
                created=p.deal.created_at,
                closed=p.deal.closed_at,
                won=p.deal.status == "won",
                owner_id=p.deal.owner_id,
                team_id=p.deal.team_id,
                base=p.deal.amount_base,
                times=[at for _, at in p.path],
                stages=[(s.forecast_category, s.probability) for s, _ in p.path],
                initial=p.initial_close,
                final=p.deal.expected_close_date or p.initial_close,
            )
            for p in plans
            if p.path
        ),
        key=lambda t: t.created,
    )
    created = [t.created for t in tracks]
    month_quota: dict[tuple[int, date], Decimal] = {}
    team_quota: dict[tuple[int, date], Decimal] = {}
    for q in quotas:
        if q.user_id is not None:
            month_quota[(q.user_id, q.period_start)] = q.amount
        elif q.team_id is not None:
            team_quota[(q.team_id, q.period_start)] = q.amount
    teams = [t for key, t in ctx.teams.items() if key != "marketing"]
    reps = sorted(
        (u for u in ctx.users.values() if u.role == "sales_rep"), key=lambda u: u.username
    )
    members = {t.pk: [u.pk for u in reps if u.team_id == t.pk] for t in teams}

    def user_quota(uid: int, period: Period) -> Decimal | None:
        found = [month_quota[k] for m in period.months() if (k := (uid, m.start)) in month_quota]
        return sum(found, Decimal(0)) if found else None

    def team_of(tid: int, period: Period) -> Decimal | None:
        if period.kind == "quarter" and (tid, period.start) in team_quota:
            return team_quota[(tid, period.start)]
        found = [q for uid in members[tid] if (q := user_quota(uid, period)) is not None]
        return sum(found, Decimal(0)) if found else None

    day = ctx.start.date() + timedelta(days=7)
    day += timedelta(days=(7 - day.weekday()) % 7)
    rows: list[ForecastSnapshot] = []
    zero = Decimal(0)
    while day <= ctx.now.date():
        at = _midnight(day)
        periods = snapshot_periods(day)
        # scope → period index → [closed_won, commit, best_case, pipeline, weighted]
        sums: dict[tuple[str, int | None], list[list[Decimal]]] = defaultdict(
            lambda: [[zero] * 5 for _ in range(4)]
        )
        for track in tracks[: bisect.bisect_right(created, at)]:
            if track.closed is not None and track.closed <= at:
                if not track.won:
                    continue
                hits = [i for i, p in enumerate(periods) if p.contains(track.closed.date())]
                slots, value = [0], track.base
            else:
                i = bisect.bisect_right(track.times, at) - 1
                category, probability = track.stages[max(i, 0)]
                expected = track.initial if track.initial >= day else track.final
                hits = [n for n, p in enumerate(periods) if p.contains(expected)]
                weighted = track.base * probability / 100
                slots = {"commit": [1], "best_case": [2], "pipeline": [3]}.get(category, [])
                for scope in _scopes(track):
                    for n in hits:
                        sums[scope][n][4] += weighted
                value = track.base
            for scope in _scopes(track):
                for n in hits:
                    for slot in slots:
                        sums[scope][n][slot] += value
        for n, period in enumerate(periods):
            for rep in reps:
                rows.append(
                    _snapshot(
                        day,
                        period,
                        sums[("user", rep.pk)][n],
                        user_quota(rep.pk, period),
                        user_id=rep.pk,
                    )
                )
            team_quotas = []
            for team in teams:
                quota = team_of(team.pk, period)
                if quota is not None:
                    team_quotas.append(quota)
                rows.append(
                    _snapshot(day, period, sums[("team", team.pk)][n], quota, team_id=team.pk)
                )
            company = sum(team_quotas, zero) if team_quotas else None
            rows.append(_snapshot(day, period, sums[("company", None)][n], company))
        day += timedelta(days=7)
    insert(rows)
    return len(rows)


def _scopes(track: _Track) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = [("company", None)]
    if track.owner_id is not None:
        out.append(("user", track.owner_id))
    if track.team_id is not None:
        out.append(("team", track.team_id))
    return out


def _snapshot(
    day: date,
    period: Period,
    sums: list[Decimal],
    quota: Decimal | None,
    *,
    user_id: int | None = None,
    team_id: int | None = None,
) -> ForecastSnapshot:
    closed_won, commit, best_case, pipeline, weighted = sums
    commit = closed_won + commit
    return ForecastSnapshot(
        taken_on=day,
        period_kind=period.kind,
        period_start=period.start,
        user_id=user_id,
        team_id=team_id,
        closed_won=closed_won.quantize(CENT),
        commit=commit.quantize(CENT),
        best_case=(commit + best_case).quantize(CENT),
        pipeline=pipeline.quantize(CENT),
        weighted=weighted.quantize(CENT, rounding=ROUND_HALF_UP),
        quota=quota,
    )
