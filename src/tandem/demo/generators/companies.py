"""Step 2: companies — names, domains, industries, sizes, revenue, territory and owner."""

from __future__ import annotations

import math
import random
from decimal import Decimal

from tandem.crm.models import Company, TimelineEvent
from tandem.demo.context import CompanyInfo, DemoContext, insert
from tandem.demo.data import INDUSTRIES, NAME_HEADS, NAME_TAILS, TERRITORIES, Country, Industry
from tandem.demo.sampling import Weighted, at_business_time, sample_day, slug

GROWTH = 0.6  # the newest month sees ~1.6 times as many new records as the first
OWNED_SHARE = 0.85  # the rest wait, unassigned, in their territory team's queue
NO_REVENUE_SHARE = 0.08  # real CRMs have gaps


def run(ctx: DemoContext) -> None:
    """Create ctx.companies companies, oldest first, each with its company_created event."""
    rng = ctx.rng("companies")
    countries = Weighted((c, c.weight) for plan in TERRITORIES for c in plan.countries)
    territory_of = {c.code: plan for plan in TERRITORIES for c in plan.countries}
    industries = Weighted((industry, industry.weight) for industry in INDUSTRIES)
    names: set[str] = set()
    domains: set[str] = set()
    planned: list[tuple[Company, CompanyInfo]] = []
    for _ in range(ctx.companies):
        country = countries.pick(rng)
        territory = territory_of[country.code]
        industry = industries.pick(rng)
        name, domain = _name_and_domain(rng, industry, country, names, domains)
        employees = _employees(rng)
        owner = rng.choice(ctx.reps(territory)) if rng.random() < OWNED_SHARE else None
        day = sample_day(rng, ctx.start, ctx.now, growth=GROWTH)
        company = Company(
            name=name,
            domain=domain,
            industry=industry.name,
            employees=employees,
            annual_revenue=None
            if rng.random() < NO_REVENUE_SHARE
            else _revenue(rng, employees, industry),
            currency="USD",
            country=country.code,
            region=territory.region,
            owner=owner,
            team=ctx.teams[territory.team],
            created_at=at_business_time(rng, day, territory.team),
        )
        planned.append(
            (company, CompanyInfo(country=country, territory=territory, industry=industry))
        )
    # Oldest first, so ids grow with time as they would in a real database.
    planned.sort(key=lambda pair: (pair[0].created_at, pair[0].domain or ""))
    ctx.company_rows = [company for company, _ in planned]
    insert(ctx.company_rows)
    ctx.company_info = {company.pk: info for company, info in planned}
    insert(
        [
            TimelineEvent(
                type="company_created",
                idempotency_key=f"company_created:{company.pk}",
                occurred_at=company.created_at,
                company_id=company.pk,
                properties={},
            )
            for company in ctx.company_rows
        ]
    )
    ctx.counts.update(companies=len(ctx.company_rows), events=len(ctx.company_rows))


def _name_and_domain(
    rng: random.Random, industry: Industry, country: Country, names: set[str], domains: set[str]
) -> tuple[str, str]:
    """A fresh "<Compound> <Word>" name, and a domain that no other company has."""
    name, compound, word = "", "", ""
    for attempt in range(50):
        head, tail = rng.choice(NAME_HEADS), rng.choice(NAME_TAILS)
        if head.lower().endswith(tail) or tail.startswith(head.lower()):
            continue
        compound = head + tail
        word = rng.choice(industry.words)
        style = rng.random()
        if style < 0.15:
            name, word = compound, ""
        elif style < 0.30:
            name = f"{compound} {word} {country.legal_suffix}"
        else:
            name = f"{compound} {word}"
        if name not in names or attempt == 49:
            break
    names.add(name)
    tld = Weighted(country.tlds).pick(rng)
    hyphen = "-" if word and rng.random() < 0.2 else ""
    base = slug(compound) + (hyphen + slug(word) if word else "")
    domain = f"{base}{tld}"
    suffix = 2
    while domain in domains:
        domain = f"{base}{suffix}{tld}"
        suffix += 1
    domains.add(domain)
    return name, domain


def _employees(rng: random.Random) -> int:
    """Log-normal head count (median ~65, a long tail of big enterprises), rounded like CRMs do."""
    raw = max(1, min(250_000, round(math.exp(rng.gauss(4.2, 1.5)))))
    if raw >= 10_000:
        return round(raw, -3)
    if raw >= 1_000:
        return round(raw, -2)
    return raw


def _revenue(rng: random.Random, employees: int, industry: Industry) -> Decimal:
    """Revenue that tracks head count and industry, with noise, to three significant figures."""
    amount = employees * industry.revenue_per_employee * rng.lognormvariate(0, 0.35)
    digits = max(0, int(math.log10(amount)) - 2)
    return Decimal(round(amount, -digits)).quantize(Decimal("0.01"))
