"""Step: leads — segments, scoring rules, scores, the predictive model, routing and the hand-off.

Intuition: everything here goes through the leads services (segments are refreshed, scores
recomputed and the model trained by the same code the scheduler runs), except the hand-off
history. That is read off the lifecycle history the earlier steps wrote: every move to MQL was
a hand-off to the contact's owner; a move on to SQL was an acceptance, a move back to Lead a
rejection with a nurture reason, a disqualification a rejection that ended it, and an MQL still
waiting is a pending lead whose SLA clock runs from its hand-off. Reps are slower to accept
when their queue is long, so the demo has breaches where a real team would.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max

from tandem.accounts.models import Territory, User
from tandem.crm.models import Activity, Contact, LifecycleChange, TimelineEvent
from tandem.demo.context import DemoContext, insert
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    MqlCommitment,
    Notification,
    RejectionReason,
    RepCapacity,
    RoutingRule,
)
from tandem.leads.services import handoff, predictive, scoring, segments
from tandem.leads.services.settings import update_lead_settings

# Scoring rules (docs/demo.md "Leads"): fit from persona and firmographics, engagement from
# the behaviour the journeys step wrote, with caps so that one busy reader cannot qualify alone.
FIT_RULES: list[tuple[str, int, dict[str, Any]]] = [
    ("Persona: RevOps Riley", 25, {"persona": "revops"}),
    ("Persona: Demand Gen Dana", 20, {"persona": "demand_gen"}),
    ("Persona: Sales Leader Sam", 20, {"persona": "sales_leader"}),
    ("Persona: Founder Fiona", 10, {"persona": "founder"}),
    ("Company of 200+ people", 15, {"field": "company.employees", "op": "gte", "value": 200}),
    (
        "Company of 50 to 199 people",
        8,
        {"field": "company.employees", "op": "between", "value": [50, 199]},
    ),
    (
        "Senior title",
        12,
        {
            "any": [
                {"field": "title", "op": "contains", "value": "head"},
                {"field": "title", "op": "contains", "value": "director"},
                {"field": "title", "op": "contains", "value": "vp"},
                {"field": "title", "op": "contains", "value": "chief"},
            ]
        },
    ),
    (
        "Free-mail or missing company",
        -10,
        {"field": "company.name", "op": "is_empty", "value": None},
    ),
]
# (name, points per event, cap, event type, property filters)
ENGAGEMENT_RULES: list[tuple[str, int, int, str, list[dict[str, Any]]]] = [
    (
        "Visited pricing",
        8,
        24,
        "page_view",
        [{"property": "url", "op": "contains", "value": "/pricing"}],
    ),
    ("Page views", 1, 15, "page_view", []),
    ("Form submitted", 10, 30, "form_submit", []),
    ("Downloaded content", 6, 18, "content_download", []),
    ("Viewed content", 3, 12, "content_view", []),
    ("Clicked a campaign link", 2, 10, "link_click", []),
]
SEGMENTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Pricing-page visitors (30 days)",
        "Anyone who looked at pricing at least twice in the last month.",
        {
            "event": "page_view",
            "where": [{"property": "url", "op": "contains", "value": "/pricing"}],
            "min_count": 2,
            "within_days": 30,
        },
    ),
    (
        "EMEA mid-market, engaged, not yet with sales",
        "Nurture audience for the EMEA team's events.",
        {
            "all": [
                {"field": "company.region", "op": "in", "value": ["uk-ireland", "europe"]},
                {"field": "company.employees", "op": "between", "value": [50, 1000]},
                {"field": "lifecycle_stage", "op": "in", "value": ["subscriber", "lead"]},
                {"field": "engagement_score", "op": "gte", "value": 10},
            ]
        },
    ),
    (
        "High fit, low engagement",
        "Right people who have gone quiet: the re-engagement campaign's list.",
        {
            "all": [
                {"field": "fit_score", "op": "gte", "value": 40},
                {"field": "engagement_score", "op": "lt", "value": 10},
                {
                    "not": {
                        "field": "lifecycle_stage",
                        "op": "in",
                        "value": ["customer", "evangelist", "disqualified"],
                    }
                },
            ]
        },
    ),
    (
        "Webinar and event audience (90 days)",
        "Touched by a webinar or an event recently.",
        {
            "any": [
                {"touched": {"channel": "webinar"}, "within_days": 90},
                {"touched": {"channel": "events"}, "within_days": 90},
            ]
        },
    ),
    (
        "Customers for the advocacy programme",
        "Customers and evangelists subscribed to email.",
        {
            "all": [
                {"field": "lifecycle_stage", "op": "in", "value": ["customer", "evangelist"]},
                {"field": "subscription_status", "op": "eq", "value": "subscribed"},
            ]
        },
    ),
    (
        "Demo requests not yet accepted",
        "Hand-raisers still waiting: marketing watches this one daily.",
        {
            "all": [
                {"submitted_form": None, "within_days": 60},
                {"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]},
            ]
        },
    ),
]
STATIC_LIST = ("Trade-show VIP list", "Hand-picked contacts met at the autumn trade show.", 60)

# Rejections: (reason code, share) for a move back to Lead and for a disqualification from MQL.
NURTURE_REASONS = [("not_now", 0.55), ("no_budget", 0.45)]
DISQUALIFY_REASONS = [("not_a_fit", 0.6), ("bad_data", 0.25), ("duplicate", 0.15)]
NOTES = {
    "not_now": "Evaluating next year; budget cycle starts in Q1.",
    "no_budget": "Interested but no budget this year.",
    "not_a_fit": "Too small for us; a spreadsheet still does the job.",
    "bad_data": "Phone and company don't match; fake sign-up.",
    "duplicate": "Same person as an existing opportunity contact.",
}
ACCEPT_SLA_HOURS, FIRST_TOUCH_SLA_HOURS = 24, 48
HISTORY_RULES = {"mql-threshold": "MQL rule: fit and engagement reached the thresholds"}


def run(ctx: DemoContext) -> None:
    """Create the leads configuration, score everyone, train the model and replay the hand-offs."""
    rng = ctx.rng("leads")
    update_lead_settings(
        changes={
            "half_life_days": 30,
            "engagement_window_days": 365,
            "mql_fit_min": 40,
            "mql_engagement_min": 15,
            "mql_probability_min": "0.25",
            "accept_sla_hours": ACCEPT_SLA_HOURS,
            "first_touch_sla_hours": FIRST_TOUCH_SLA_HOURS,
            "max_reroutes": 2,
            "default_capacity": 80,
        }
    )
    _scoring_rules(ctx)
    changed = scoring.recompute_all_scores(now=ctx.now)
    ctx.counts["scored contacts"] += len(changed)
    model = predictive.train_model(now=ctx.now)
    if model is not None:
        ctx.counts["predictive models"] += 1
    _routing(ctx)
    _handoffs(ctx, rng)
    _todays_mqls(ctx)
    # Last, so that memberships reflect today's MQLs (the live path refreshes them by job).
    _segments(ctx, rng)


def _todays_mqls(ctx: DemoContext) -> None:
    """The live path: contacts active in the last two days meet the MQL rule, get routed, and
    the SLA sweeper flags the ones nobody accepted in time."""
    recent = (
        TimelineEvent.objects.filter(
            occurred_at__gte=ctx.now - timedelta(days=2), occurred_at__lt=ctx.now
        )
        .exclude(contact=None)
        .values("contact_id")
        .annotate(last=Max("occurred_at"))
        .order_by("last")
    )
    moved = 0
    for row in recent:
        # Evaluated when the contact's last event arrived, as the incremental job would.
        at = row["last"] + timedelta(minutes=2)
        moved += len(handoff.qualify_contacts(contact_ids=[row["contact_id"]], now=at))
    handoff.sweep_slas(now=ctx.now)
    ctx.counts["new MQLs routed"] += moved


def _scoring_rules(ctx: DemoContext) -> None:
    for position, (name, points, condition) in enumerate(FIT_RULES):
        if "persona" in condition:
            condition = {
                "field": "persona",
                "op": "eq",
                "value": ctx.personas[condition["persona"]].pk,
            }
        scoring.create_rule(
            axis="fit", name=name, points=points, condition=condition, position=position
        )
    for position, (name, points, cap, event_type, filters) in enumerate(ENGAGEMENT_RULES):
        scoring.create_rule(
            axis="engagement",
            name=name,
            points=points,
            cap=cap,
            event_type=event_type,
            event_filters=filters,
            position=position,
        )
    ctx.counts["score rules"] += len(FIT_RULES) + len(ENGAGEMENT_RULES)


def _segments(ctx: DemoContext, rng: random.Random) -> None:
    marketer = ctx.users["marketing"]
    for name, description, definition in SEGMENTS:
        segment = segments.create_segment(
            name=name, kind="dynamic", definition=definition, description=description, by=marketer
        )
        segments.refresh_segment(segment=segment, now=ctx.now)
    name, description, size = STATIC_LIST
    listed = segments.create_segment(name=name, kind="static", description=description, by=marketer)
    picks = rng.sample(ctx.contact_rows, min(size, len(ctx.contact_rows)))
    segments.add_members(segment=listed, contact_ids=[c.pk for c in picks], by=marketer)
    ctx.counts["segments"] += len(SEGMENTS) + 1


def _routing(ctx: DemoContext) -> None:
    """One rule per sales territory, a catch-all last; EMEA balances by capacity."""
    rules = []
    for position, territory in enumerate(Territory.objects.select_related("team").order_by("id")):
        method = "capacity" if territory.team_id == ctx.teams["emea"].pk else "round_robin"
        rules.append(
            RoutingRule(
                position=position,
                name=f"{territory.name} → {territory.team.name}",
                territory=territory,
                team=territory.team,
                method=method,
            )
        )
    if rules:
        rules.append(
            RoutingRule(
                position=len(rules),
                name="Everything else → " + rules[0].team.name,
                team=rules[0].team,
            )
        )
    insert(rules)
    reps = User.objects.filter(role="sales_rep").order_by("username")
    insert(
        [RepCapacity(user=rep, max_open_leads=90 if i % 3 else 120) for i, rep in enumerate(reps)]
    )
    # Marketing's side of the SLA: MQLs promised to each team for the last six months.
    months = _months_back(ctx.now.date(), 6)
    teams = {rule.team_id: rule.team for rule in rules}
    team_of = {c.pk: c.team_id for c in ctx.contact_rows if c.team_id is not None}
    delivered: dict[tuple[int, date], int] = defaultdict(int)
    for contact_id, changes in ctx.history.items():
        for change in changes:
            team_id = team_of.get(contact_id)
            if change.to_stage == "mql" and team_id in teams:
                month = change.changed_at.date().replace(day=1)
                delivered[(team_id, month)] += 1
    commitments = []
    for team_id in teams:
        full = [delivered.get((team_id, month), 0) for month in months[1:]]
        usual = sum(full) / len(full) if full else 0
        for month in months:
            # Targets a little above what the team usually gets: some months are missed. The
            # month in progress is measured against the same monthly promise.
            made = usual if month == months[0] else delivered.get((team_id, month), 0)
            target = max(5, round(made * 1.1 + 2))
            commitments.append(MqlCommitment(team_id=team_id, month=month, target=target))
    insert(commitments)
    ctx.counts["routing rules"] += len(rules)


def _months_back(today: date, n: int) -> list[date]:
    month = today.replace(day=1)
    out = []
    for _ in range(n):
        out.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return out


def _handoffs(ctx: DemoContext, rng: random.Random) -> None:
    """Replay every MQL hand-off in the history as an assignment with its SLA outcome."""
    reasons = {r.code: r for r in RejectionReason.objects.all()}
    first_touch = _first_touches(ctx)
    rows: list[LeadAssignment] = []
    notices: list[Notification] = []
    for contact in ctx.contact_rows:
        history = ctx.history.get(contact.pk, [])
        for i, change in enumerate(history):
            if change.to_stage != "mql":
                continue
            after = history[i + 1] if i + 1 < len(history) else None
            rows.append(_assignment(ctx, rng, contact, change, after, reasons, first_touch))
    managers = {team.pk: team.manager for team in ctx.teams.values()}
    for row in rows:
        if row.status != AssignmentStatus.PENDING or row.rep is None:
            continue
        # The same words the live routing and SLA sweeper write (leads.services.handoff).
        name = _name(row.contact)
        notices.append(
            Notification(
                user=row.rep,
                kind="lead_assigned",
                text=f"New lead for you: {name} — accept or reject within {ACCEPT_SLA_HOURS} h",
                contact=row.contact,
                created_at=row.assigned_at,
                idempotency_key=f"lead:{row.contact_id}:demo:assigned",
            )
        )
        # A team without a manager escalates to every sales manager (handoff.managers_of).
        manager = managers.get(row.team_id or 0) or ctx.users.get("manager")
        if row.accept_breached_at and manager is not None:
            notices.append(
                Notification(
                    user=manager,
                    kind="sla_accept_breach",
                    text=f"{row.rep.username} did not accept or reject {name} within "
                    f"{ACCEPT_SLA_HOURS} h",
                    contact=row.contact,
                    created_at=row.accept_breached_at,
                    idempotency_key=f"lead:{row.contact_id}:demo:accept_breach",
                )
            )
    insert(rows)
    insert(notices)
    ctx.counts["lead assignments"] += len(rows)


def _name(contact: Contact) -> str:
    full = f"{contact.first_name} {contact.last_name}".strip()
    return f"{full} ({contact.email})" if full else contact.email


def _first_touches(ctx: DemoContext) -> dict[int, list[datetime]]:
    """When each contact was called, met or emailed by sales, in order."""
    touches: dict[int, list[datetime]] = defaultdict(list)
    rows = Activity.objects.filter(kind__in=["call", "meeting", "email"]).values_list(
        "contact_id", "occurred_at"
    )
    for contact_id, at in rows.order_by("occurred_at"):
        if contact_id is not None:
            touches[contact_id].append(at)
    return touches


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def _assignment(
    ctx: DemoContext,
    rng: random.Random,
    contact: Contact,
    change: LifecycleChange,
    after: LifecycleChange | None,
    reasons: dict[str, RejectionReason],
    first_touch: dict[int, list[datetime]],
) -> LeadAssignment:
    assigned = change.changed_at
    row = LeadAssignment(
        contact=contact,
        rep=contact.owner,
        team=contact.team,
        # The history's rule slug in the words the live MQL rule uses.
        qualified_by=HISTORY_RULES.get(change.rule, change.rule or "MQL rule"),
        source=contact.original_source,
        campaign_id=_campaign_before(ctx, contact.pk, assigned),
        persona_id=contact.persona_id,
        assigned_at=assigned,
        accept_due_at=assigned + timedelta(hours=ACCEPT_SLA_HOURS),
        first_touch_due_at=assigned + timedelta(hours=FIRST_TOUCH_SLA_HOURS),
    )
    if after is None:
        # Still waiting: most recent hand-offs are in time, older ones breached and escalated.
        row.status = AssignmentStatus.PENDING
        due = assigned + timedelta(hours=ACCEPT_SLA_HOURS)
        if due < ctx.now:
            row.accept_breached_at = due
            row.escalated_at = due + timedelta(minutes=5)
        return row
    row.decided_at = after.changed_at
    if after.to_stage == "mql":
        return row
    if after.to_stage in ("sql", "opportunity", "customer"):
        row.status = AssignmentStatus.ACCEPTED
        later = [t for t in first_touch.get(contact.pk, []) if t >= assigned]
        row.first_touch_at = later[0] if later else None
    else:
        row.status = AssignmentStatus.REJECTED
        code = _pick(rng, NURTURE_REASONS if after.to_stage == "lead" else DISQUALIFY_REASONS)
        row.reason = reasons[code]
        row.note = NOTES[code] if rng.random() < 0.6 else ""
        if row.reason.needs_recycle_date:
            row.recycle_on = (after.changed_at + timedelta(days=rng.choice((60, 90, 120)))).date()
    if row.decided_at and row.accept_due_at and row.decided_at > row.accept_due_at:
        row.accept_breached_at = row.accept_due_at
    if row.status == AssignmentStatus.ACCEPTED and row.first_touch_due_at:
        touched = row.first_touch_at
        if (
            touched is None or touched > row.first_touch_due_at
        ) and row.first_touch_due_at < ctx.now:
            row.touch_breached_at = row.first_touch_due_at
    return row


def _campaign_before(ctx: DemoContext, contact_id: int, at: datetime) -> int | None:
    """The campaign of the contact's last touch before the hand-off (the report's campaign)."""
    best = None
    for touch in ctx.journeys.get(contact_id, []):
        if touch.at is None or touch.at > at or touch.campaign is None:
            continue
        if best is None or touch.at > best[0]:
            best = (touch.at, touch.campaign.pk)
    return best[1] if best else None
