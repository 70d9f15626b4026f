"""Scoring reads: rules by axis, a contact's score explained rule by rule, its score history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db.models import BooleanField, Case, Value, When
from django.utils import timezone

from tandem.crm.models import Contact
from tandem.errors import InvalidInput
from tandem.leads import scoring
from tandem.leads.models import LeadScore, ScoreAxis, ScoreChange, ScoreRule
from tandem.leads.segments import describe, names_for
from tandem.leads.services.settings import lead_settings

# Events listed per engagement rule in an explanation (the rule's total counts them all).
EVENTS_SHOWN = 20


def rules_by_axis() -> dict[str, list[ScoreRule]]:
    """Every rule, active or not, grouped by axis in their order."""
    out: dict[str, list[ScoreRule]] = {axis: [] for axis in ScoreAxis.values}
    for rule in ScoreRule.objects.order_by("axis", "position", "id"):
        out[rule.axis].append(rule)
    return out


def rule_names(rules: list[ScoreRule]) -> dict[str, dict[int, str]]:
    """The names of the records the fit rules mention, looked up once for a list of rules."""
    return names_for(r.condition for r in rules if r.axis == ScoreAxis.FIT)


def describe_rule(rule: ScoreRule, *, names: dict[str, dict[int, str]] | None = None) -> str:
    """A rule's condition in words, for lists and explanations."""
    if rule.axis == ScoreAxis.FIT:
        try:
            return describe(rule.condition, names=names)
        except InvalidInput:
            # A rule saved under an older grammar still shows, as its JSON.
            return json.dumps(rule.condition, sort_keys=True)
    words = f"each {rule.event_type}"
    filters = [
        f"{f['property']} {scoring.EVENT_FILTER_OPS.get(f['op'], f['op'])} {f['value']}"
        for f in rule.event_filters or []
    ]
    if filters:
        words += " where " + " and ".join(filters)
    if rule.cap is not None:
        words += f", at most {rule.cap} points"
    return words


@dataclass(frozen=True)
class EventPoints:
    """One counted event: its type, when it happened, and its decayed points now."""

    id: int
    type: str
    occurred_at: datetime
    points: float


@dataclass(frozen=True)
class FitLine:
    rule: ScoreRule
    points: int


@dataclass(frozen=True)
class EngagementLine:
    """An engagement rule's share: its decayed sum, whether the cap cut it, and its points."""

    rule: ScoreRule
    points: int
    decayed: float
    capped: bool
    event_count: int
    events: list[EventPoints] = field(default_factory=list)


@dataclass(frozen=True)
class ScoreExplanation:
    """Which rules and events gave what; fit + engagement add up to the stored total."""

    contact_id: int
    as_of: datetime
    half_life_days: int
    window_days: int
    fit: int
    engagement: int
    fit_rules: list[FitLine]
    engagement_rules: list[EngagementLine]
    stored: LeadScore | None

    @property
    def total(self) -> int:
        return self.fit + self.engagement

    @property
    def probability(self) -> float | None:
        return self.stored.probability if self.stored else None

    @property
    def matches_stored(self) -> bool:
        """False only while a recompute is pending (rules changed since the score was stored)."""
        if self.stored is None:
            return self.total == 0
        return (self.stored.fit, self.stored.engagement) == (self.fit, self.engagement)


def explain_score(*, contact: Contact, now: datetime | None = None) -> ScoreExplanation:
    """Explain a contact's score as of `now` (default: when the stored score was computed).

    Uses the same SQL expressions as the computation, so each rule's points here are exactly
    the points stored; the decay of each listed event is shown unrounded.
    """
    stored = LeadScore.objects.filter(contact_id=contact.pk).first()
    if now is None:
        now = stored.computed_at if stored else timezone.now()
    settings = lead_settings()
    rules = scoring.ActiveRules.load()
    fit_lines = _fit_lines(contact, rules.fit, now=now)
    totals: dict[str, Any] = {}
    if rules.engagement:
        # The very aggregate the computation uses, for this contact only.
        totals = next(
            iter(
                scoring.engagement_totals(
                    rules.engagement, settings=settings, now=now, contact_ids=[contact.pk]
                )
            ),
            {},
        )
    engagement_lines = []
    for i, rule in enumerate(rules.engagement):
        raw = totals.get(f"raw_{i}")
        if raw is None:
            continue
        events = scoring.rule_events(rule, settings=settings, now=now, contact_ids=[contact.pk])
        shown = [
            EventPoints(
                id=e.pk, type=e.type, occurred_at=e.occurred_at, points=cast(Any, e).decayed
            )
            for e in events.order_by("-occurred_at", "-id")[:EVENTS_SHOWN]
        ]
        engagement_lines.append(
            EngagementLine(
                rule=rule,
                points=int(totals[f"pts_{i}"]),
                decayed=float(raw),
                capped=rule.cap is not None and abs(float(raw)) > rule.cap,
                event_count=events.count() if len(shown) == EVENTS_SHOWN else len(shown),
                events=shown,
            )
        )
    return ScoreExplanation(
        contact_id=contact.pk,
        as_of=now,
        half_life_days=settings.half_life_days,
        window_days=settings.engagement_window_days,
        fit=sum(line.points for line in fit_lines),
        engagement=sum(line.points for line in engagement_lines),
        fit_rules=fit_lines,
        engagement_rules=engagement_lines,
        stored=stored,
    )


def _fit_lines(contact: Contact, rules: list[ScoreRule], *, now: datetime) -> list[FitLine]:
    """The fit rules whose condition holds for this contact: one query for all of them."""
    if not rules:
        return []
    checks = {
        f"rule_{rule.pk}": Case(
            When(scoring.fit_condition(rule, now=now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        for rule in rules
    }
    row = Contact.objects.filter(pk=contact.pk).order_by().values(**checks).first() or {}
    return [FitLine(rule=r, points=r.points) for r in rules if row.get(f"rule_{r.pk}")]


def score_history(*, contact: Contact, limit: int = 20) -> list[ScoreChange]:
    """A contact's latest score changes, newest first."""
    return list(ScoreChange.objects.filter(contact_id=contact.pk).order_by("-at", "-id")[:limit])


def explanation_data(explanation: ScoreExplanation) -> dict[str, Any]:
    """An explanation as plain JSON-ready data (the API's body)."""
    return {
        "contact_id": explanation.contact_id,
        "as_of": explanation.as_of,
        "half_life_days": explanation.half_life_days,
        "engagement_window_days": explanation.window_days,
        "fit": explanation.fit,
        "engagement": explanation.engagement,
        "total": explanation.total,
        "probability": explanation.probability,
        "matches_stored": explanation.matches_stored,
        "fit_rules": [
            {"rule_id": line.rule.pk, "name": line.rule.name, "points": line.points}
            for line in explanation.fit_rules
        ],
        "engagement_rules": [
            {
                "rule_id": line.rule.pk,
                "name": line.rule.name,
                "points": line.points,
                "decayed": round(line.decayed, 4),
                "capped": line.capped,
                "cap": line.rule.cap,
                "event_count": line.event_count,
                "events": [
                    {
                        "id": e.id,
                        "type": e.type,
                        "occurred_at": e.occurred_at,
                        "points": round(e.points, 4),
                    }
                    for e in line.events
                ],
            }
            for line in explanation.engagement_rules
        ],
    }
