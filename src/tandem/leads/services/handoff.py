"""The hand-off: qualify MQLs, route them to reps, accept or reject, and keep both SLA clocks."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from tandem.accounts.models import Role, Team, User
from tandem.crm import services as crm
from tandem.crm.models import Contact, LifecycleStage
from tandem.crm.normalise import clean_text
from tandem.errors import Forbidden, InvalidInput
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    LeadSettings,
    Notification,
    RejectionOutcome,
    RejectionReason,
    RoutingMethod,
    RoutingRule,
)
from tandem.leads.services.routing import can_manage_rep, match_rule, pick_rep
from tandem.leads.services.settings import lead_settings
from tandem.marketing.models import FormSubmission, Touchpoint

log = logging.getLogger(__name__)

QUALIFYING_STAGES = (LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD)
# Stages from which accepting moves a lead forward to SQL (later stages are left alone).
ACCEPTABLE_STAGES = (LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD, LifecycleStage.MQL)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Activities that are not contact with the person: a to-do is not a touch.
NOT_A_TOUCH = {"activity_task"}
RETRY_BATCH = 500


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# ---------------------------------------------------------------- notifications


def notify(
    *, user: User, kind: str, text: str, key: str, contact: Contact | None = None, now: datetime
) -> bool:
    """Put a message in a user's in-app inbox once per idempotency key; True when new."""
    try:
        with transaction.atomic():
            Notification.objects.create(
                user=user,
                kind=kind,
                text=text[:300],
                contact=contact,
                created_at=now,
                idempotency_key=key[:120],
            )
    except IntegrityError:
        return False
    return True


def managers_of(team: Team | None) -> list[User]:
    """Who hears of a breach or an unroutable lead: the team's manager, else every sales manager."""
    if team is not None and team.manager_id is not None:
        manager = User.objects.filter(pk=team.manager_id, is_active=True).first()
        if manager is not None:
            return [manager]
    managers = list(User.objects.filter(role=Role.SALES_MANAGER, is_active=True).order_by("id"))
    return managers or list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id"))


def mark_read(*, user: User, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ids is None)."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=_now(now))


def _name(contact: Contact) -> str:
    full = f"{contact.first_name} {contact.last_name}".strip()
    return f"{full} ({contact.email})" if full else contact.email


# ---------------------------------------------------------------- qualification


def _hand_raise(contact_ref: Any, after: Any) -> Any:
    return FormSubmission.objects.filter(
        contact_id=contact_ref, form__is_hand_raise=True, submitted_at__gt=after
    )


def qualify_contacts(*, contact_ids: list[int], now: datetime | None = None) -> list[int]:
    """Move the contacts that meet the MQL rule to MQL and route them; returns the ids moved.

    Selected in one query. A rejected lead is not re-qualified by its scores before its
    recycle date (or ever, for a rejection without a date); a new hand-raise after the
    rejection still qualifies it. Running it again changes nothing.
    """
    if not contact_ids:
        return []
    now = _now(now)
    cfg = lead_settings()
    rejections = LeadAssignment.objects.filter(
        contact_id=OuterRef("pk"), status=AssignmentStatus.REJECTED
    ).order_by("-decided_at", "-id")
    qs = Contact.objects.filter(pk__in=contact_ids, lifecycle_stage__in=QUALIFYING_STAGES).annotate(
        fit=Coalesce("lead_score__fit", 0),
        engagement=Coalesce("lead_score__engagement", 0),
        probability=F("lead_score__probability"),
        rejected_at=Subquery(rejections.values("decided_at")[:1]),
        recycle_on=Subquery(rejections.values("recycle_on")[:1]),
        since=Coalesce(Subquery(rejections.values("decided_at")[:1]), Value(EPOCH)),
    )
    scores_q = Q(fit__gte=cfg.mql_fit_min, engagement__gte=cfg.mql_engagement_min)
    if cfg.mql_probability_min is not None:
        scores_q |= Q(probability__gte=float(cfg.mql_probability_min))
    # Scores alone do not bring back a rejected lead before its recycle date.
    scores_q &= Q(rejected_at__isnull=True) | Q(recycle_on__lte=now.date())
    condition = scores_q
    if cfg.mql_on_hand_raise:
        qs = qs.annotate(
            hand_raise=Exists(_hand_raise(OuterRef("pk"), OuterRef("since"))),
            hand_raise_form=Subquery(
                _hand_raise(OuterRef("pk"), OuterRef("since"))
                .order_by("-submitted_at", "-id")
                .values("form__name")[:1]
            ),
        )
        condition |= Q(hand_raise=True)
    moved: list[int] = []
    for contact in qs.filter(condition).select_related("company").order_by("id"):
        rule = _rule_text(contact, cfg, now.date())
        try:
            if _qualify_one(contact=contact, rule=rule, now=now):
                moved.append(contact.pk)
        except Exception:
            # One contact's failure must not stop the batch; the next run retries it.
            log.exception("could not qualify contact %s", contact.pk)
    return moved


def _rule_text(contact: Any, cfg: LeadSettings, today: date) -> str:
    """Which part of the MQL rule qualified the contact, in words for the stage history."""
    scores_count = contact.rejected_at is None or (
        contact.recycle_on is not None and contact.recycle_on <= today
    )
    if (
        scores_count
        and contact.fit >= cfg.mql_fit_min
        and contact.engagement >= cfg.mql_engagement_min
    ):
        text = (
            f"MQL rule: fit {contact.fit} ≥ {cfg.mql_fit_min} and engagement "
            f"{contact.engagement} ≥ {cfg.mql_engagement_min}"
        )
    elif (
        scores_count
        and cfg.mql_probability_min is not None
        and contact.probability is not None
        and contact.probability >= float(cfg.mql_probability_min)
    ):
        text = f"MQL rule: probability {contact.probability:.3f} ≥ {cfg.mql_probability_min}"
    else:
        text = f"MQL rule: {contact.hand_raise_form} form (hand-raise)"
    return text[:120]


@transaction.atomic
def _qualify_one(*, contact: Contact, rule: str, now: datetime) -> bool:
    # Moved elsewhere between our read and this lock (another run qualified it): leave it.
    still = Contact.objects.select_for_update().filter(
        pk=contact.pk, lifecycle_stage__in=QUALIFYING_STAGES
    )
    if not still.exists():
        return False
    crm.change_lifecycle_stage(contact=contact, to_stage=LifecycleStage.MQL, rule=rule, at=now)
    route_lead(contact=contact, qualified_by=rule, now=now)
    return True


# ---------------------------------------------------------------- routing


def _snapshot(contact: Contact, now: datetime) -> dict[str, Any]:
    """Source, last-touch campaign and persona as they were at the hand-off (for the report)."""
    campaign_id = (
        Touchpoint.objects.filter(
            contact_id=contact.pk, campaign__isnull=False, occurred_at__lte=now
        )
        .order_by("-occurred_at", "-id")
        .values_list("campaign_id", flat=True)
        .first()
    )
    return {
        "source": contact.original_source,
        "campaign_id": campaign_id,
        "persona_id": contact.persona_id,
    }


def _carried_snapshot(earlier: LeadAssignment) -> dict[str, Any]:
    """A re-assignment keeps the report's snapshot taken at the first hand-off."""
    return {
        "source": earlier.source,
        "campaign_id": earlier.campaign_id,
        "persona_id": earlier.persona_id,
    }


def _assign(
    *,
    contact: Contact,
    rep: User | None,
    team: Team | None,
    rule: RoutingRule | None,
    qualified_by: str,
    attempt: int,
    snapshot: dict[str, Any],
    cfg: LeadSettings,
    now: datetime,
) -> LeadAssignment:
    """Write one assignment (pending, or unrouted without a rep) and hand the contact over."""
    routed = rep is not None
    assignment = LeadAssignment.objects.create(
        contact=contact,
        rep=rep,
        team=team,
        routing_rule=rule,
        status=AssignmentStatus.PENDING if routed else AssignmentStatus.UNROUTED,
        qualified_by=qualified_by[:120],
        attempt=attempt,
        assigned_at=now,
        accept_due_at=now + timedelta(hours=cfg.accept_sla_hours) if routed else None,
        first_touch_due_at=now + timedelta(hours=cfg.first_touch_sla_hours) if routed else None,
        **snapshot,
    )
    if routed:
        Contact.objects.filter(pk=contact.pk).update(owner=rep, team=team, updated_at=now)
        notify(
            user=rep,  # type: ignore[arg-type]
            kind="lead_assigned",
            text=f"New lead for you: {_name(contact)} — accept or reject within "
            f"{cfg.accept_sla_hours} h",
            key=f"lead:{assignment.pk}:assigned",
            contact=contact,
            now=now,
        )
    else:
        why = f"no available rep in {team.name}" if team else "no routing rule matches"
        for manager in managers_of(team):
            notify(
                user=manager,
                kind="lead_unrouted",
                text=f"Lead {_name(contact)} could not be routed: {why}",
                key=f"lead:{assignment.pk}:unrouted:{manager.pk}",
                contact=contact,
                now=now,
            )
    return assignment


@transaction.atomic
def route_lead(
    *, contact: Contact, qualified_by: str, now: datetime | None = None
) -> LeadAssignment:
    """Hand an MQL to a rep: the first matching rule's team, then round-robin or by capacity.

    No matching rule, or a team whose reps are all away or full, gives an unrouted
    assignment that managers see and are told about. A contact with a pending assignment
    keeps it.
    """
    now = _now(now)
    contact = Contact.objects.select_related("company").get(pk=contact.pk)
    pending = LeadAssignment.objects.filter(
        contact=contact, status=AssignmentStatus.PENDING
    ).first()
    if pending is not None:
        return pending
    cfg = lead_settings()
    rule = match_rule(contact=contact)
    team = rule.team if rule else None
    rep = (
        pick_rep(team=team, method=rule.method, settings=cfg, now=now)
        if rule is not None and team is not None
        else None
    )
    return _assign(
        contact=contact,
        rep=rep,
        team=team,
        rule=rule,
        qualified_by=qualified_by,
        attempt=1,
        snapshot=_snapshot(contact, now),
        cfg=cfg,
        now=now,
    )


# ---------------------------------------------------------------- sales' decision


def pending_for(*, contact_id: int, user: User, lock: bool = False) -> LeadAssignment:
    """The caller's pending assignment of this contact; anyone else's lead is a 404."""
    rows = LeadAssignment.objects.filter(
        contact_id=contact_id, rep=user, status=AssignmentStatus.PENDING
    ).select_related("contact")
    if lock:
        rows = rows.select_for_update(of=("self",))
    assignment = rows.first()
    if assignment is None:
        raise Http404("no pending lead of yours for this contact")
    return assignment


@transaction.atomic
def accept_lead(*, contact: Contact, by: User, now: datetime | None = None) -> LeadAssignment:
    """The rep takes the lead: the assignment is accepted and the contact becomes an SQL."""
    now = _now(now)
    assignment = pending_for(contact_id=contact.pk, user=by, lock=True)
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.decided_at = now
    assignment.save(update_fields=["status", "decided_at"])
    current = (
        Contact.objects.filter(pk=contact.pk).values_list("lifecycle_stage", flat=True).first()
    )
    if current in ACCEPTABLE_STAGES:
        crm.change_lifecycle_stage(
            contact=assignment.contact, to_stage=LifecycleStage.SQL, by=by, at=now
        )
    return assignment


def reason_choices() -> list[RejectionReason]:
    """The active rejection reasons, in their managed order."""
    return list(RejectionReason.objects.filter(is_active=True).order_by("position", "id"))


@transaction.atomic
def reject_lead(
    *,
    contact: Contact,
    by: User,
    reason: str,
    note: str = "",
    recycle_on: date | None = None,
    now: datetime | None = None,
) -> LeadAssignment:
    """The rep turns the lead down with a reason: back to nurture (Lead) or Disqualified."""
    now = _now(now)
    assignment = pending_for(contact_id=contact.pk, user=by, lock=True)
    choices = reason_choices()
    found = next((r for r in choices if r.code == str(reason or "").strip()), None)
    if found is None:
        raise InvalidInput(
            f"reason must be one of: {', '.join(r.code for r in choices)}", field="reason"
        )
    note = clean_text(note, field="note", max_length=2000)
    if found.needs_recycle_date and recycle_on is None:
        raise InvalidInput(f"{found.code} needs a recycle_on date", field="recycle_on")
    if recycle_on is not None:
        if found.outcome != RejectionOutcome.NURTURE:
            raise InvalidInput(
                f"recycle_on is only for reasons that send the lead back to nurture, not {found.code}",
                field="recycle_on",
            )
        if recycle_on <= now.date():
            raise InvalidInput("recycle_on must be a date after today", field="recycle_on")
    assignment.status = AssignmentStatus.REJECTED
    assignment.decided_at = now
    assignment.reason = found
    assignment.note = note
    assignment.recycle_on = recycle_on
    assignment.save(update_fields=["status", "decided_at", "reason", "note", "recycle_on"])
    words = f"Rejected by sales: {found.label}"
    if recycle_on is not None:
        words += f" (recycle on {recycle_on.isoformat()})"
    if note:
        words += f" — {note}"
    lead = assignment.contact
    if found.outcome == RejectionOutcome.NURTURE:
        crm.change_lifecycle_stage(
            contact=lead, to_stage=LifecycleStage.LEAD, by=by, reason=words, at=now
        )
        Contact.objects.filter(pk=lead.pk).update(owner=None, updated_at=now)
    else:
        crm.change_lifecycle_stage(
            contact=lead, to_stage=LifecycleStage.DISQUALIFIED, by=by, reason=words, at=now
        )
    return assignment


@transaction.atomic
def assign_lead(
    *, contact: Contact, rep: User, by: User, now: datetime | None = None
) -> LeadAssignment:
    """A manager hands an unrouted (or someone else's pending) lead to a rep of their team."""
    now = _now(now)
    if not can_manage_rep(by, rep):
        raise Forbidden("you may not assign leads to this rep")
    if rep.role != Role.SALES_REP or not rep.is_active or rep.team_id is None:
        raise InvalidInput("leads go to active sales reps of a team", field="rep")
    open_ = (
        LeadAssignment.objects.select_for_update(of=("self",))
        .filter(
            contact_id=contact.pk,
            status__in=[AssignmentStatus.PENDING, AssignmentStatus.UNROUTED],
        )
        .order_by("-assigned_at", "-id")
    )
    current = open_.first()
    if current is None:
        raise InvalidInput("this lead is not waiting for a rep", field="contact")
    if current.status == AssignmentStatus.PENDING and current.rep_id == rep.pk:
        return current
    # Every open row of the contact closes: the new assignment is the only live one.
    open_.update(status=AssignmentStatus.REROUTED)
    return _assign(
        contact=Contact.objects.get(pk=contact.pk),
        rep=rep,
        team=rep.team,
        rule=current.routing_rule,
        qualified_by=current.qualified_by,
        attempt=current.attempt + 1,
        snapshot=_carried_snapshot(current),
        cfg=lead_settings(),
        now=now,
    )


# ---------------------------------------------------------------- SLAs


def note_first_touch(*, contact_ids: list[int], now: datetime | None = None) -> int:
    """Record the first touch (an activity logged after assignment) on open hand-offs."""
    if not contact_ids:
        return 0
    at = _now(now)
    return LeadAssignment.objects.filter(
        contact_id__in=contact_ids,
        status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED],
        first_touch_at__isnull=True,
        assigned_at__lte=at,
    ).update(first_touch_at=at)


def is_touch(event_type: str) -> bool:
    """Whether a timeline event type counts as a first touch (a logged call, meeting, email…)."""
    return event_type.startswith("activity_") and event_type not in NOT_A_TOUCH


def sweep_slas(*, now: datetime | None = None) -> dict[str, int]:
    """Flag breached SLA clocks, escalate each to the team's manager, re-route late leads.

    A pending lead past its accept-by time is flagged, escalated, and (while it has been
    re-routed fewer than max_reroutes times and another rep of the team is available) handed
    to another rep; an accepted lead without a first touch by its due time is flagged and
    escalated. Unrouted leads are routed again (a rep came back, a rule was added). Each
    assignment is handled once, so overlapping runs do nothing twice.
    """
    now = _now(now)
    cfg = lead_settings()
    counts = {"accept_breaches": 0, "rerouted": 0, "touch_breaches": 0, "routed_later": 0}
    late = LeadAssignment.objects.filter(
        status=AssignmentStatus.PENDING, accept_due_at__lt=now, accept_breached_at__isnull=True
    ).values_list("id", flat=True)
    for pk in list(late):
        flagged, rerouted = _breach_accept(pk=pk, cfg=cfg, now=now)
        counts["accept_breaches"] += flagged
        counts["rerouted"] += rerouted
    untouched = LeadAssignment.objects.filter(
        status=AssignmentStatus.ACCEPTED,
        first_touch_at__isnull=True,
        first_touch_due_at__lt=now,
        touch_breached_at__isnull=True,
    ).values_list("id", flat=True)
    for pk in list(untouched):
        counts["touch_breaches"] += _breach_touch(pk=pk, now=now)
    # Oldest first, a bounded batch per run: a backlog drains over several runs.
    waiting = (
        LeadAssignment.objects.filter(status=AssignmentStatus.UNROUTED)
        .order_by("assigned_at", "id")
        .values_list("id", flat=True)[:RETRY_BATCH]
    )
    for pk in list(waiting):
        counts["routed_later"] += _retry_unrouted(pk=pk, cfg=cfg, now=now)
    return counts


@transaction.atomic
def _breach_accept(*, pk: int, cfg: LeadSettings, now: datetime) -> tuple[int, int]:
    assignment = (
        LeadAssignment.objects.select_for_update(of=("self",))
        .filter(pk=pk, status=AssignmentStatus.PENDING, accept_breached_at__isnull=True)
        .select_related("contact", "team", "rep")
        .first()
    )
    if assignment is None:
        return 0, 0
    contact = assignment.contact
    assignment.accept_breached_at = now
    assignment.escalated_at = now
    rep_name = assignment.rep.username if assignment.rep else "nobody"
    for manager in managers_of(assignment.team):
        notify(
            user=manager,
            kind="sla_accept_breach",
            text=f"{rep_name} did not accept or reject {_name(contact)} within "
            f"{cfg.accept_sla_hours} h",
            key=f"lead:{assignment.pk}:accept_breach:{manager.pk}",
            contact=contact,
            now=now,
        )
    new_rep = None
    if assignment.attempt <= cfg.max_reroutes and assignment.team is not None:
        method = (
            assignment.routing_rule.method if assignment.routing_rule else RoutingMethod.ROUND_ROBIN
        )
        new_rep = pick_rep(
            team=assignment.team,
            method=method,
            settings=cfg,
            now=now,
            exclude={assignment.rep_id} if assignment.rep_id else set(),
        )
    if new_rep is None:
        assignment.save(update_fields=["accept_breached_at", "escalated_at"])
        return 1, 0
    assignment.status = AssignmentStatus.REROUTED
    assignment.save(update_fields=["status", "accept_breached_at", "escalated_at"])
    _assign(
        contact=contact,
        rep=new_rep,
        team=assignment.team,
        rule=assignment.routing_rule,
        qualified_by=assignment.qualified_by,
        attempt=assignment.attempt + 1,
        snapshot=_carried_snapshot(assignment),
        cfg=cfg,
        now=now,
    )
    if assignment.rep is not None:
        notify(
            user=assignment.rep,
            kind="lead_rerouted",
            text=f"{_name(contact)} went to {new_rep.username}: not accepted in time",
            key=f"lead:{assignment.pk}:rerouted",
            contact=contact,
            now=now,
        )
    return 1, 1


@transaction.atomic
def _breach_touch(*, pk: int, now: datetime) -> int:
    assignment = (
        LeadAssignment.objects.select_for_update(of=("self",))
        .filter(pk=pk, touch_breached_at__isnull=True, first_touch_at__isnull=True)
        .select_related("contact", "team", "rep")
        .first()
    )
    if assignment is None:
        return 0
    assignment.touch_breached_at = now
    assignment.escalated_at = assignment.escalated_at or now
    assignment.save(update_fields=["touch_breached_at", "escalated_at"])
    rep_name = assignment.rep.username if assignment.rep else "nobody"
    for manager in managers_of(assignment.team):
        notify(
            user=manager,
            kind="sla_touch_breach",
            text=f"{rep_name} has not touched {_name(assignment.contact)} since accepting it",
            key=f"lead:{assignment.pk}:touch_breach:{manager.pk}",
            contact=assignment.contact,
            now=now,
        )
    return 1


@transaction.atomic
def _retry_unrouted(*, pk: int, cfg: LeadSettings, now: datetime) -> int:
    """Route an unrouted MQL again; it stays unrouted (without new notices) when still stuck."""
    waiting = (
        LeadAssignment.objects.select_for_update(of=("self",))
        .filter(pk=pk, status=AssignmentStatus.UNROUTED)
        .select_related("contact", "contact__company")
        .first()
    )
    if waiting is None:
        return 0
    contact = waiting.contact
    if (
        contact.lifecycle_stage != LifecycleStage.MQL
        or LeadAssignment.objects.filter(contact=contact, status=AssignmentStatus.PENDING).exists()
    ):
        # No longer waiting for sales (moved on by hand, or assigned meanwhile).
        waiting.status = AssignmentStatus.REROUTED
        waiting.save(update_fields=["status"])
        return 0
    rule = match_rule(contact=contact)
    if rule is None:
        return 0
    rep = pick_rep(team=rule.team, method=rule.method, settings=cfg, now=now)
    if rep is None:
        return 0
    waiting.status = AssignmentStatus.REROUTED
    waiting.save(update_fields=["status"])
    _assign(
        contact=contact,
        rep=rep,
        team=rule.team,
        rule=rule,
        qualified_by=waiting.qualified_by,
        attempt=waiting.attempt + 1,
        snapshot=_carried_snapshot(waiting),
        cfg=cfg,
        now=now,
    )
    return 1
