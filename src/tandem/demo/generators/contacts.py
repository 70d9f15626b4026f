"""Step 3: contacts — people at the companies, where they came from, and how they entered.

Every company is created with its first contact (its created_at is that contact's); later
contacts arrive on a rising curve and join a company that already exists, bigger companies
being likelier. A few people sign up with a personal mailbox and have no company.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tandem.accounts.models import User
from tandem.crm.models import Company, Contact, LifecycleChange, TimelineEvent
from tandem.crm.normalise import normalise_email
from tandem.demo.context import DemoContext, Person, insert
from tandem.demo.data import (
    DEPARTMENTS,
    GLOBAL_ORIGINS,
    NAME_POOLS,
    PERSONAL_DOMAINS,
    SENIORITIES,
    SOURCES,
    SUBSCRIPTION_MIX,
    TERRITORIES,
    TITLES,
    Country,
    SourcePlan,
    TerritoryPlan,
)
from tandem.demo.sampling import Weighted, at_business_time, sample_day, slug

GROWTH = 0.6
PERSONAL_SHARE = 0.04  # sign-ups with a gmail-style address and no company
LOCAL_NAME_SHARE = 0.75  # the rest of a country's staff come from anywhere
PHONE_SHARE = 0.8


@dataclass
class _Draft:
    contact: Contact
    person: Person
    created_by: User | None


def run(ctx: DemoContext) -> None:
    """Create ctx.contacts contacts, oldest first, each with its creation history and event."""
    rng = ctx.rng("contacts")
    maker = _PersonMaker(rng)
    companies = ctx.company_rows
    personal = round(ctx.contacts * PERSONAL_SHARE) if ctx.contacts >= 25 else 0
    firsts = min(len(companies), ctx.contacts - personal)
    drafts: list[_Draft] = []
    for company in companies[:firsts]:
        drafts.append(_at_company(ctx, rng, maker, company, company.created_at))
    # Later contacts join a company that exists by then; bigger ones attract more people.
    dates = [company.created_at for company in companies]
    cumulative = list(itertools.accumulate(min(c.employees or 1, 5000) ** 0.5 for c in companies))
    for _ in range(ctx.contacts - personal - firsts):
        day = sample_day(rng, ctx.start, ctx.now, growth=GROWTH)
        created = at_business_time(rng, day, None)
        eligible = max(1, bisect.bisect_right(dates, created))
        index = bisect.bisect_right(cumulative, rng.random() * cumulative[eligible - 1])
        company = companies[min(index, eligible - 1)]
        created = max(created, company.created_at + timedelta(minutes=5))
        drafts.append(
            _at_company(ctx, rng, maker, company, min(created, ctx.now - timedelta(minutes=1)))
        )
    for _ in range(personal):
        day = sample_day(rng, ctx.start, ctx.now, growth=GROWTH)
        drafts.append(_personal(ctx, rng, maker, at_business_time(rng, day, None)))
    # Oldest first, so ids grow with time.
    drafts.sort(key=lambda d: (d.contact.created_at, d.contact.email))
    ctx.contact_rows = [d.contact for d in drafts]
    insert(ctx.contact_rows)
    creations = [
        LifecycleChange(
            contact_id=d.contact.pk,
            from_stage="",
            to_stage=d.contact.lifecycle_stage,
            changed_at=d.contact.created_at,
            changed_by_id=d.created_by.pk if d.created_by else None,
            reason="created",
        )
        for d in drafts
    ]
    insert(creations)
    for draft, change in zip(drafts, creations, strict=True):
        ctx.people[draft.contact.pk] = draft.person
        ctx.history[draft.contact.pk].append(change)
    insert(
        [
            TimelineEvent(
                type="contact_created",
                idempotency_key=f"contact_created:{d.contact.pk}",
                occurred_at=d.contact.created_at,
                contact_id=d.contact.pk,
                company_id=d.contact.company_id,
                actor_id=d.created_by.pk if d.created_by else None,
                properties={
                    "source": d.contact.original_source,
                    "stage": d.contact.lifecycle_stage,
                },
            )
            for d in drafts
        ]
    )
    ctx.counts.update(contacts=len(drafts), lifecycle_changes=len(drafts), events=len(drafts))


class _PersonMaker:
    """Names, titles, emails and phones, drawn from the word lists in demo.data."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.emails: set[str] = set()
        self.global_origins = Weighted(GLOBAL_ORIGINS.items())
        self.local_origins: dict[str, Weighted[str]] = {}
        self.departments = Weighted(DEPARTMENTS)
        self.seniorities = Weighted(SENIORITIES)
        self.founder_heavy = Weighted((s, w * (3 if s == "c_level" else 1)) for s, w in SENIORITIES)
        self.sources = Weighted((plan, plan.weight) for plan in SOURCES)
        self.personal_sources = Weighted(
            (plan, plan.weight) for plan in SOURCES if plan.source not in {"outbound", "events"}
        )
        self.personal_domains = Weighted(PERSONAL_DOMAINS)
        self.subscriptions = {key: Weighted(mix) for key, mix in SUBSCRIPTION_MIX.items()}
        self.countries = Weighted((c, c.weight) for plan in TERRITORIES for c in plan.countries)
        self.territory_of = {c.code: plan for plan in TERRITORIES for c in plan.countries}

    def name(self, country: Country) -> tuple[str, str]:
        """A first and last name, usually from the country's own name pools."""
        if self.rng.random() < LOCAL_NAME_SHARE:
            if country.code not in self.local_origins:
                self.local_origins[country.code] = Weighted(country.origins)
            origin = self.local_origins[country.code].pick(self.rng)
        else:
            origin = self.global_origins.pick(self.rng)
        pool = NAME_POOLS[origin]
        return self.rng.choice(pool.first), self.rng.choice(pool.last)

    def title(self, employees: int | None) -> tuple[str, str, str]:
        """(department, seniority, title); small companies have more founders and C-levels."""
        department = self.departments.pick(self.rng)
        picker = self.founder_heavy if (employees or 0) < 50 else self.seniorities
        seniority = picker.pick(self.rng)
        return department, seniority, self.rng.choice(TITLES[department][seniority])

    def email(self, first: str, last: str, domain: str, *, personal: bool) -> str:
        """A unique, normalised address in the domain's usual pattern."""
        f, l = slug(first), slug(last)  # noqa: E741
        if personal:
            local = f"{f}.{l}" if self.rng.random() < 0.5 else f"{f}{l}{self.rng.randint(1, 99)}"
        else:
            style = self.rng.random()
            if style < 0.75:
                local = f"{f}.{l}"
            elif style < 0.87:
                local = f"{f[0]}{l}"
            elif style < 0.95:
                local = f"{f}_{l}"
            else:
                local = f"{f}{l[0]}"
        email = normalise_email(f"{local}@{domain}")
        suffix = 2
        while email in self.emails:
            email = normalise_email(f"{local}{suffix}@{domain}")
            suffix += 1
        self.emails.add(email)
        return email

    def phone(self, country: Country) -> str:
        """A plausible local number; North American ones use the fictional 555-01xx range."""
        if self.rng.random() >= PHONE_SHARE:
            return ""
        r = self.rng
        area = r.choice(country.area_codes) if country.area_codes else str(r.randint(10, 99))
        if country.calling_code == "+1":
            return f"+1 {area} 555 01{r.randint(0, 99):02d}"
        if country.code == "GB" and area == "20":
            return f"+44 20 7946 0{r.randint(0, 999):03d}"  # Ofcom's range for drama
        return f"{country.calling_code} {area} {r.randint(100, 999)} {r.randint(1000, 9999)}"

    def source(self, *, personal: bool) -> SourcePlan:
        """Where the contact first came from."""
        return (self.personal_sources if personal else self.sources).pick(self.rng)

    def subscription(self, stage: str, source: str) -> str:
        """Newsletter status, which follows from how the contact arrived."""
        key = (
            "subscriber"
            if stage == "subscriber"
            else "outbound"
            if source == "outbound"
            else "inbound"
        )
        return self.subscriptions[key].pick(self.rng)


def _source_detail(rng: random.Random, plan: SourcePlan, created: datetime) -> str:
    return rng.choice(plan.details).format(year=created.year) if plan.details else ""


def _contact(
    ctx: DemoContext,
    rng: random.Random,
    maker: _PersonMaker,
    *,
    country: Country,
    territory: TerritoryPlan,
    company: Company | None,
    domain: str,
    created: datetime,
) -> _Draft:
    personal = company is None
    first, last = maker.name(country)
    department, seniority, title = maker.title(company.employees if company else None)
    plan = maker.source(personal=personal)
    stage = "subscriber" if rng.random() < plan.subscriber_share else "lead"
    owner: User | None = None
    if plan.source == "outbound" and company is not None:
        # Sales-sourced: the rep who prospected owns the contact from the start.
        owner = company.owner or rng.choice(ctx.reps(territory))
    team = owner.team if owner is not None else (company.team if company is not None else None)
    contact = Contact(
        email=maker.email(first, last, domain, personal=personal),
        first_name=first,
        last_name=last,
        title="" if personal and rng.random() < 0.5 else title,
        phone=maker.phone(country),
        company=company,
        lifecycle_stage=stage,
        lead_status="attempted_to_contact" if owner else "",
        owner=owner,
        team=team,
        original_source=plan.source,
        original_source_detail=_source_detail(rng, plan, created),
        subscription_status=maker.subscription(stage, plan.source),
        created_at=created,
    )
    person = Person(
        department=department,
        seniority=seniority,
        source_quality=plan.quality,
        country=country,
        territory=territory,
    )
    return _Draft(contact=contact, person=person, created_by=owner)


def _at_company(
    ctx: DemoContext, rng: random.Random, maker: _PersonMaker, company: Company, created: datetime
) -> _Draft:
    info = ctx.company_info[company.pk]
    return _contact(
        ctx,
        rng,
        maker,
        country=info.country,
        territory=info.territory,
        company=company,
        domain=company.domain or "example.com",
        created=created,
    )


def _personal(
    ctx: DemoContext, rng: random.Random, maker: _PersonMaker, created: datetime
) -> _Draft:
    country = maker.countries.pick(rng)
    return _contact(
        ctx,
        rng,
        maker,
        country=country,
        territory=maker.territory_of[country.code],
        company=None,
        domain=maker.personal_domains.pick(rng),
        created=created,
    )
