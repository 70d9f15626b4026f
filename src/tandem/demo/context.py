"""The shared state of a demo build, and bulk-write helpers for the generator steps."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import models

from tandem.accounts.models import Team, User
from tandem.crm.models import Company, Contact, LifecycleChange
from tandem.demo.data import CampaignPlan, Country, Industry, TerritoryPlan
from tandem.marketing.models import (
    Campaign,
    ConsentText,
    ContentAsset,
    Form,
    Persona,
    Source,
    TrackedLink,
)

MONTHS = 18
BATCH = 2000


@dataclass
class CompanyInfo:
    """What the generators know about a company beyond its row."""

    country: Country
    territory: TerritoryPlan
    industry: Industry


@dataclass
class Person:
    """What the generators know about a contact beyond its row."""

    department: str
    seniority: str
    source_quality: float
    country: Country
    territory: TerritoryPlan


@dataclass
class CampaignWindow:
    """When a campaign can touch people: [start, end), and its live days (events, webinars)."""

    campaign: Campaign
    plan: CampaignPlan
    start: datetime
    end: datetime
    live: tuple[datetime, datetime] | None


@dataclass
class PlannedTouch:
    """One touch of a contact's journey; the journeys step plans it, then places it in time.

    phase: "pre" (an anonymous visit before the contact existed), "create" (the touch that
    created the contact), "post" (after creation, before its furthest stage), "after" (a
    follow-up after its last forward move, not part of its propensity).
    """

    channel: str
    phase: str
    kind: str
    at: datetime | None = None
    campaign: Campaign | None = None


@dataclass
class DemoContext:
    """What the steps share: seed, clock, sizes, and every object created so far."""

    seed: int
    now: datetime
    contacts: int
    companies: int
    months: int = MONTHS
    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    company_rows: list[Company] = field(default_factory=list)
    company_info: dict[int, CompanyInfo] = field(default_factory=dict)
    contact_rows: list[Contact] = field(default_factory=list)
    people: dict[int, Person] = field(default_factory=dict)
    # Every contact's stage history in order (LifecycleChange rows, saved).
    history: dict[int, list[LifecycleChange]] = field(default_factory=lambda: defaultdict(list))
    # Moves the lifecycle walk drew but that fall after "now": (to stage, when) per contact, so
    # an open deal knows when it will close (and how).
    planned: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    # Each opportunity contact's deal: (deal id, created, closed or None while open); the
    # activities step links the work done in that window to the deal.
    deal_windows: dict[int, tuple[int, datetime, datetime | None]] = field(default_factory=dict)
    # The sales generator's own state, shared by its two steps (generators/sales.py).
    sales: Any = None
    counts: Counter[str] = field(default_factory=Counter)
    # Marketing (generators/marketing.py): by key, in creation order.
    personas: dict[str, Persona] = field(default_factory=dict)
    campaigns: list[Campaign] = field(default_factory=list)
    calendar: list[CampaignWindow] = field(default_factory=list)
    assets: dict[str, ContentAsset] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    # Each form's consent wording versions, oldest first.
    consent: dict[str, list[ConsentText]] = field(default_factory=dict)
    links: dict[int, list[TrackedLink]] = field(default_factory=dict)
    # Journeys (generators/journeys.py): each contact's touches, and the propensity they give
    # it, which the lifecycle step turns into its chances of moving on.
    journeys: dict[int, list[PlannedTouch]] = field(default_factory=dict)
    propensity: dict[int, float] = field(default_factory=dict)
    # When each campaign touched someone (its spend follows its touches).
    campaign_touches: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))

    @property
    def start(self) -> datetime:
        """The first day of the generated history."""
        return self.now - timedelta(days=round(self.months * 30.44))

    def rng(self, name: str) -> random.Random:
        """A random generator of the step's own, so adding a step never changes the others' data."""
        return random.Random(f"tandem-demo:{self.seed}:{name}")

    def reps(self, territory: TerritoryPlan) -> list[User]:
        """The reps who work a territory."""
        return [self.users[name] for name in territory.reps]


def insert(objs: Sequence[models.Model]) -> None:
    """Bulk-insert rows in batches (their primary keys are set on the objects)."""
    if objs:
        type(objs[0])._default_manager.bulk_create(objs, batch_size=BATCH)


def update_grouped(objs: Iterable[models.Model], fields: Sequence[str]) -> None:
    """Write changed fields of many rows with one UPDATE per distinct combination of values.

    Intuition: demo rows share few distinct (stage, owner, team, status) combinations, so this
    is a few hundred statements instead of one per row or a giant CASE expression.
    """
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    model: type[models.Model] | None = None
    for obj in objs:
        model = type(obj)
        groups[tuple(getattr(obj, f) for f in fields)].append(obj.pk)
    if model is None:
        return
    for values, pks in groups.items():
        for i in range(0, len(pks), 900):
            model._default_manager.filter(pk__in=pks[i : i + 900]).update(
                **dict(zip(fields, values, strict=True))
            )
