"""Step 4: lifecycle — each contact's walk through the funnel, with history and timeline rows.

Intuition: a contact moves on from its stage with the stage's conversion rate, after a
gamma-distributed delay; one that does not move on may be disqualified instead. A move whose
date would fall after "now" has not happened yet, so young contacts are still in flight and
the funnel of recent months looks thinner, as it does in a real CRM.

When the journeys step has run, each forward move up to customer is also scaled by the
contact's propensity (what its marketing touches are worth, docs/demo.md "The channel model"),
divided by a per-stage constant chosen so that the stage's overall rate stays that of MOVES.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tandem.accounts.models import User
from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
from tandem.demo.context import DemoContext, Person, insert, update_grouped
from tandem.demo.data import DISQUALIFY_REASONS, SENIORITIES, SOURCES
from tandem.demo.sampling import delay


@dataclass(frozen=True)
class Move:
    """A forward move: its probability (given time), mean delay, and who makes it."""

    to_stage: str
    rate: float
    mean_days: float
    rule: str = ""
    reason: str = ""


# The stage-rate model (docs/demo.md quotes these numbers).
MOVES: dict[str, Move] = {
    "subscriber": Move("lead", 0.60, 25, rule="form-submission", reason="requested content"),
    "lead": Move("mql", 0.40, 14, rule="mql-threshold", reason="score reached the MQL threshold"),
    "mql": Move("sql", 0.50, 0.4, reason="accepted by sales"),
    "sql": Move("opportunity", 0.60, 10, reason="opportunity created"),
    "opportunity": Move("customer", 0.25, 55, reason="closed won"),
    "customer": Move("evangelist", 0.10, 90, reason="joined the customer advocacy programme"),
}
# A deal takes 30 to 120 days from opportunity to closed won: 30 days, plus a gamma-distributed
# rest (so the mean is MOVES["opportunity"].mean_days); the rare longer ones are pulled back by
# whole weeks (keeping their weekday and office hour) below the cap.
CYCLE_MIN_DAYS, CYCLE_MAX_DAYS = 30, 120
# Some reps close better than others (the opportunity → customer move; about 1 on average).
CLOSE_RATE_BY_OWNER = {
    "rep1": 1.25,
    "rep2": 0.85,
    "rep3": 0.95,
    "rep4": 1.15,
    "rep5": 1.0,
    "rep6": 0.8,
}
# Deals close more often when the buyer came through a strong channel (docs/demo.md "Sales"):
# the opportunity → customer move also scales by the mean of these over the contact's planned
# touches, normalised to 1 over everyone.
CLOSE_RATE_BY_CHANNEL = {
    "referral": 2.4,
    "events": 3.0,
    "webinar": 1.5,
    "paid_search": 1.1,
    "partner": 1.1,
    "organic_search": 0.9,
    "content": 0.8,
    "email": 0.8,
    "paid_social": 0.6,
    "organic_social": 0.5,
    "display": 0.5,
}
# Of the contacts that do not move on from a stage, the share disqualified, and after how long.
DISQUALIFY: dict[str, tuple[float, float]] = {
    "lead": (0.05, 20),
    "mql": (0.15, 1),
    "sql": (0.25, 14),
    "opportunity": (0.15, 60),
}
# Of the MQLs sales does not accept, the share sent back to marketing's nurture as leads
# (a backward move, so it carries a reason), and after how long; the rest go back later.
RECYCLE_SHARE, RECYCLE_MEAN_DAYS = 0.70, 0.6
RECYCLE_LATE_MEAN_DAYS = 21
RECYCLE_REASON = "recycled: not sales-ready yet"
# Better sources qualify more often; senior people are accepted by sales more often. Both are
# normalised to a mean of 1 so the average rates stay those in MOVES.
SENIORITY_FACTOR = {
    "c_level": 1.2,
    "vp": 1.25,
    "director": 1.15,
    "manager": 1.0,
    "individual": 0.75,
}


def _normalised(factors: dict[str, float], weights: dict[str, float]) -> dict[str, float]:
    mean = sum(factors[k] * w for k, w in weights.items()) / sum(weights.values())
    return {k: v / mean for k, v in factors.items()}


SOURCE_QUALITY = _normalised(
    {p.source: p.quality for p in SOURCES},
    {p.source: p.weight * (1 - p.subscriber_share * 0.4) for p in SOURCES},
)
SENIORITY = _normalised(SENIORITY_FACTOR, dict(SENIORITIES))
# The forward moves that a contact's propensity scales (evangelism follows the product).
PUSHED = ("subscriber", "lead", "mql", "sql", "opportunity")


def _base_factor(stage: str, source: str, seniority: str) -> float:
    """The stage model's own factor for a contact: source quality, seniority, or 1."""
    if stage == "lead":
        return SOURCE_QUALITY[source]
    if stage == "mql":
        return SENIORITY[seniority]
    return 1.0


def propensity_scales(
    ctx: DemoContext, reaching: dict[int, float] | None = None
) -> dict[str, float]:
    """Per stage, the divisor that keeps the stage's expected rate when moves scale by propensity.

    Intuition: follow every contact's expected presence through the stages (1 at its entry
    stage, then times its chance of each move); at each stage pick, by bisection, the divisor
    Z for which sum(presence * min(1, base * propensity / Z)) equals sum(presence * min(1,
    base)), the moves the plain stage model would make from the same population. Selection
    compounds (contacts reaching SQL have higher propensities), so one global constant would
    not keep the later stages' rates.
    """
    if not ctx.propensity:
        return {}
    rows = [
        (
            contact.lifecycle_stage,
            contact.original_source,
            ctx.people[contact.pk].seniority,
            ctx.propensity.get(contact.pk, 1.0),
        )
        for contact in ctx.contact_rows
    ]
    presence = [1.0 if entry == "subscriber" else 0.0 for entry, *_ in rows]
    scales: dict[str, float] = {}
    for stage in PUSHED:
        if stage == "opportunity" and reaching is not None:
            # each contact's expected presence at opportunity (the closing factors' weights)
            reaching.update(
                (c.pk, p) for c, p in zip(ctx.contact_rows, presence, strict=True) if p > 0
            )
        if stage == "lead":
            presence = [
                p + (1.0 if row[0] == "lead" else 0.0)
                for p, row in zip(presence, rows, strict=True)
            ]
        base = [MOVES[stage].rate * _base_factor(stage, src, sen) for _, src, sen, _ in rows]
        pushes = [row[3] for row in rows]
        present = [(p, b, x) for p, b, x in zip(presence, base, pushes, strict=True) if p > 0]
        target = sum(p * min(1.0, b) for p, b, _ in present)
        if target <= 0:
            scales[stage] = 1.0
            continue
        low, high = 1e-4, 1e4
        for _ in range(24):  # the bracket shrinks to a ratio of 1.00002
            middle = (low * high) ** 0.5
            made = sum(p * min(1.0, b * x / middle) for p, b, x in present)
            low, high = (middle, high) if made > target else (low, middle)
        scales[stage] = (low * high) ** 0.5
        presence = [
            p * min(1.0, b * x / scales[stage])
            for p, b, x in zip(presence, base, pushes, strict=True)
        ]
    return scales


def run(ctx: DemoContext) -> None:
    """Walk every contact through the funnel; write the history, events and final stage/owner."""
    rng = ctx.rng("lifecycle")
    marketer = ctx.users["marketing"]
    reaching: dict[int, float] = {}
    scales = propensity_scales(ctx, reaching)
    closing = _closing_factors(ctx, reaching)
    changes: list[LifecycleChange] = []
    for contact in ctx.contact_rows:
        person = ctx.people[contact.pk]
        walk = _Walk(ctx, rng, contact, person, marketer, scales)
        walk.closing = closing.get(contact.pk, 1.0)
        walk.run()
        changes.extend(walk.changes)
        ctx.history[contact.pk].extend(walk.changes)
    insert(changes)
    companies = {contact.pk: contact.company_id for contact in ctx.contact_rows}
    insert(
        [
            TimelineEvent(
                type="lifecycle_stage_changed",
                idempotency_key=f"lifecycle:{change.pk}",
                occurred_at=change.changed_at,
                contact_id=change.contact_id,
                company_id=companies[change.contact_id],
                actor_id=change.changed_by_id,
                actor_label=change.rule,
                properties={
                    "from": change.from_stage,
                    "to": change.to_stage,
                    "reason": change.reason,
                },
            )
            for change in changes
        ]
    )
    update_grouped(ctx.contact_rows, ["lifecycle_stage", "owner", "team", "lead_status"])
    ctx.counts.update(lifecycle_changes=len(changes), events=len(changes))


def _closing_factors(ctx: DemoContext, reaching: dict[int, float]) -> dict[int, float]:
    """Per contact, how its touches' channels help a deal close.

    Normalised to a mean of 1 over the contacts expected at opportunity (weighted by how likely
    each gets there), so the stage's overall rate stays that of MOVES.
    """
    raw = {
        pk: sum(CLOSE_RATE_BY_CHANNEL.get(t.channel, 1.0) for t in touches) / len(touches)
        for pk, touches in ctx.journeys.items()
        if touches
    }
    weight = sum(reaching.get(pk, 0.0) for pk in raw)
    mean = sum(v * reaching.get(pk, 0.0) for pk, v in raw.items()) / weight if weight else 1.0
    return {pk: value / mean for pk, value in raw.items()}


class _Walk:
    """One contact's way through the funnel, from entry until it stops or time runs out."""

    def __init__(
        self,
        ctx: DemoContext,
        rng: random.Random,
        contact: Contact,
        person: Person,
        marketer: User,
        scales: dict[str, float],
    ) -> None:
        self.ctx, self.rng, self.contact, self.person, self.marketer = (
            ctx,
            rng,
            contact,
            person,
            marketer,
        )
        self.scales = scales
        self.propensity = ctx.propensity.get(contact.pk, 1.0)
        self.closing = 1.0
        self.changes: list[LifecycleChange] = []
        self.at = contact.created_at
        self.team_key = person.territory.team

    def run(self) -> None:
        while (move := MOVES.get(self.contact.lifecycle_stage)) is not None:
            stage = self.contact.lifecycle_stage
            if self.rng.random() < move.rate * self._factor(stage) * self._push(stage):
                when = self._when(move)
                if when >= self.ctx.now:
                    self.ctx.planned[self.contact.pk] = (move.to_stage, when)
                    break  # still in flight
                self._advance(move, when)
                continue
            roll = self.rng.random()
            if stage in DISQUALIFY and roll < DISQUALIFY[stage][0]:
                when = delay(self.rng, self.at, mean_days=DISQUALIFY[stage][1], team=self.team_key)
                if when < self.ctx.now:
                    self._disqualify(stage, when)
                else:
                    self.ctx.planned[self.contact.pk] = ("disqualified", when)
            elif stage == "mql":
                # Sales sends most back soon; the rest wait until the SLA sweeper's re-routes
                # run out and marketing takes them back, weeks later.
                soon = roll < DISQUALIFY[stage][0] + RECYCLE_SHARE
                mean = RECYCLE_MEAN_DAYS if soon else RECYCLE_LATE_MEAN_DAYS
                when = delay(self.rng, self.at, mean_days=mean, team=self.team_key)
                if when < self.ctx.now:
                    self._record(
                        "lead", when, by=self.contact.owner, rule="", reason=RECYCLE_REASON
                    )
            break
        self.contact.lead_status = self._lead_status()

    def _factor(self, stage: str) -> float:
        if stage == "opportunity":
            owner = self.contact.owner
            by_owner = CLOSE_RATE_BY_OWNER.get(owner.username, 1.0) if owner is not None else 1.0
            return by_owner * self.closing
        return _base_factor(stage, self.contact.original_source, self.person.seniority)

    def _when(self, move: Move) -> datetime:
        """When a forward move happens; a won deal's cycle stays within 30 to 120 days."""
        if move.to_stage != "customer":
            return delay(self.rng, self.at, mean_days=move.mean_days, team=self.team_key)
        start = self.at + timedelta(days=CYCLE_MIN_DAYS)
        when = delay(self.rng, start, mean_days=move.mean_days - CYCLE_MIN_DAYS, team=self.team_key)
        over = (when - self.at) - timedelta(days=CYCLE_MAX_DAYS - 1)
        if over > timedelta(0):
            when -= timedelta(weeks=math.ceil(over / timedelta(weeks=1)))
        return when

    def _push(self, stage: str) -> float:
        """The contact's propensity relative to the stage's normaliser (1 without journeys)."""
        scale = self.scales.get(stage)
        return self.propensity / scale if scale else 1.0

    def _advance(self, move: Move, when: datetime) -> None:
        by: User | None = None
        if move.to_stage == "mql" and self.contact.owner is None:
            # Lead routing: the account's owner, or a rep of the territory.
            company = self.contact.company
            owner = (company.owner if company is not None else None) or self.rng.choice(
                self.ctx.reps(self.person.territory)
            )
            self.contact.owner = owner
            self.contact.team = owner.team
        elif move.to_stage == "evangelist":
            by = self.marketer
        elif not move.rule:
            by = self.contact.owner
        self._record(move.to_stage, when, by=by, rule=move.rule, reason=move.reason)

    def _disqualify(self, stage: str, when: datetime) -> None:
        reason = self.rng.choice(DISQUALIFY_REASONS[stage])
        by = self.contact.owner if self.contact.owner is not None else self.marketer
        text = reason if reason.startswith("lost:") else f"disqualified: {reason}"
        self._record("disqualified", when, by=by, rule="", reason=text)

    def _record(
        self, to_stage: str, when: datetime, *, by: User | None, rule: str, reason: str
    ) -> None:
        self.changes.append(
            LifecycleChange(
                contact_id=self.contact.pk,
                from_stage=self.contact.lifecycle_stage,
                to_stage=to_stage,
                changed_at=when,
                changed_by_id=by.pk if by else None,
                rule=rule,
                reason=reason,
            )
        )
        self.contact.lifecycle_stage = to_stage
        self.at = when

    def _lead_status(self) -> str:
        """The sales status that goes with the final stage."""
        stage = self.contact.lifecycle_stage
        if self.contact.owner is None:
            return ""
        if stage == "disqualified":
            last = self.changes[-1].reason if self.changes else ""
            return "bad_timing" if "timing" in last else "unqualified"
        if self.changes and self.changes[-1].reason == RECYCLE_REASON:
            return "bad_timing"
        if stage in ("lead", "mql"):
            if (self.ctx.now - self.at).days < 2:
                return "new"
            return self.rng.choice(
                ["attempted_to_contact", "attempted_to_contact", "open", "connected"]
            )
        if stage == "sql":
            return self.rng.choice(["in_progress", "in_progress", "connected"])
        if stage == "opportunity":
            return "in_progress"
        return "connected"
