"""Routing configuration and rep choice: rules, rep capacity and away flags, MQL commitments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q

from tandem.accounts.models import Role, Team, Territory, User
from tandem.crm.models import Company, Contact, LifecycleStage
from tandem.crm.normalise import clean_int, clean_text
from tandem.errors import Forbidden, InvalidInput
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    LeadSettings,
    MqlCommitment,
    RepCapacity,
    RoutingMethod,
    RoutingRule,
    Segment,
    SegmentMembership,
)

# A contact owned in these stages is an open lead of its owner (a pending one is MQL already).
OPEN_STAGES = (LifecycleStage.MQL, LifecycleStage.SQL)
RULE_FIELDS = (
    "name",
    "position",
    "is_active",
    "territory",
    "segment",
    "min_employees",
    "max_employees",
    "persona_id",
    "team",
    "method",
)
MAX_EMPLOYEES = 10_000_000


# ---------------------------------------------------------------- rule matching


def rule_matches(
    rule: RoutingRule, *, company: Company | None, contact: Contact, segment_ids: set[int]
) -> bool:
    """Whether every condition the rule sets holds for the contact (an empty rule matches all)."""
    if rule.territory_id is not None:
        territory: Territory = rule.territory  # type: ignore[assignment]
        country = (company.country if company else "").upper()
        region = (company.region if company else "").lower()
        countries = {str(c).upper() for c in territory.countries or []}
        regions = {str(r).lower() for r in territory.regions or []}
        if not ((country and country in countries) or (region and region in regions)):
            return False
    if rule.segment_id is not None and rule.segment_id not in segment_ids:
        return False
    if rule.min_employees is not None or rule.max_employees is not None:
        employees = company.employees if company else None
        if employees is None:
            return False
        if rule.min_employees is not None and employees < rule.min_employees:
            return False
        if rule.max_employees is not None and employees > rule.max_employees:
            return False
    return rule.persona_id is None or rule.persona_id == contact.persona_id


def match_rule(*, contact: Contact) -> RoutingRule | None:
    """The first active rule, in order, that matches the contact (two queries)."""
    rules = list(
        RoutingRule.objects.filter(is_active=True)
        .select_related("territory", "team")
        .order_by("position", "id")
    )
    if not rules:
        return None
    segment_ids: set[int] = set()
    if any(r.segment_id for r in rules):
        segment_ids = set(
            SegmentMembership.objects.filter(
                contact_id=contact.pk, left_at__isnull=True
            ).values_list("segment_id", flat=True)
        )
    company = contact.company
    for rule in rules:
        if rule_matches(rule, company=company, contact=contact, segment_ids=segment_ids):
            return rule
    return None


# ---------------------------------------------------------------- choosing a rep


@dataclass
class RepLoad:
    """A rep's routing state: open leads against capacity."""

    rep: User
    open_leads: int
    capacity: int
    last_assigned_at: datetime | None

    @property
    def full(self) -> bool:
        return self.open_leads >= self.capacity


def open_lead_counts(rep_ids: list[int]) -> dict[int, int]:
    """Open leads per rep: pending assignments plus contacts owned in stage MQL or SQL."""
    counts = dict.fromkeys(rep_ids, 0)
    if not rep_ids:
        return counts
    owned = (
        Contact.objects.filter(owner_id__in=rep_ids, lifecycle_stage__in=OPEN_STAGES)
        .values("owner_id")
        .annotate(n=Count("id"))
    )
    for row in owned:
        counts[row["owner_id"]] += row["n"]
    # Pending leads normally are owned MQLs already; count only those that are not (a manual edit).
    pending = (
        LeadAssignment.objects.filter(rep_id__in=rep_ids, status=AssignmentStatus.PENDING)
        .exclude(Q(contact__owner_id=F("rep_id")) & Q(contact__lifecycle_stage__in=OPEN_STAGES))
        .values("rep_id")
        .annotate(n=Count("id"))
    )
    for rep_id, n in pending.values_list("rep_id", "n"):
        counts[rep_id] += n
    return counts


def team_reps(team: Team) -> Any:
    """The reps who can take leads in a team: active sales reps (away or not)."""
    return User.objects.filter(team=team, role=Role.SALES_REP, is_active=True)


def rep_loads(*, reps: list[User], settings: LeadSettings, lock: bool = False) -> list[RepLoad]:
    """Load and capacity of each rep; with lock, their capacity rows are locked first."""
    ids = [r.pk for r in reps]
    RepCapacity.objects.bulk_create([RepCapacity(user_id=pk) for pk in ids], ignore_conflicts=True)
    caps = RepCapacity.objects.filter(user_id__in=ids).order_by("user_id")
    if lock:
        # Two routers of the same team queue here, so each sees the other's choice.
        caps = caps.select_for_update()
    by_id = {c.user_id: c for c in caps}
    counts = open_lead_counts(ids)
    return [
        RepLoad(
            rep=r,
            open_leads=counts[r.pk],
            capacity=by_id[r.pk].max_open_leads or settings.default_capacity,
            last_assigned_at=by_id[r.pk].last_assigned_at,
        )
        for r in reps
    ]


def pick_rep(
    *,
    team: Team,
    method: str,
    settings: LeadSettings,
    now: datetime,
    exclude: set[int] | None = None,
) -> User | None:
    """Choose the team's next rep and move the round-robin pointer; None when all are away or full.

    Intuition: round-robin takes the rep who was given a lead longest ago (never first, then by
    id); by-capacity takes the rep with the fewest open leads, ties broken the same way. Reps
    at or over capacity are skipped either way. The pointer moves strictly forward even when
    many leads are routed at one instant (frozen time, a bulk qualification), so ties never
    send every lead to the same rep.
    """
    reps = list(team_reps(team).filter(is_away=False).exclude(pk__in=exclude or set()))
    loads = [load for load in rep_loads(reps=reps, settings=settings, lock=True) if not load.full]
    if not loads:
        return None

    def turn(load: RepLoad) -> tuple[int, datetime, int]:
        never = datetime.min.replace(tzinfo=now.tzinfo)
        return (
            0 if load.last_assigned_at is None else 1,
            load.last_assigned_at or never,
            load.rep.pk,
        )

    if method == RoutingMethod.CAPACITY:
        chosen = min(loads, key=lambda load: (load.open_leads, *turn(load)))
    else:
        chosen = min(loads, key=turn)
    latest = max(
        (
            c
            for c in RepCapacity.objects.filter(user__team=team).values_list(
                "last_assigned_at", flat=True
            )
            if c
        ),
        default=None,
    )
    stamp = now if latest is None or latest < now else latest + timedelta(microseconds=1)
    RepCapacity.objects.filter(user_id=chosen.rep.pk).update(last_assigned_at=stamp)
    return chosen.rep


# ---------------------------------------------------------------- rules


def _clean_rule(values: dict[str, Any]) -> dict[str, Any]:
    """Validate a routing rule's fields (references by id), refusing unknown names."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in RULE_FIELDS:
            raise InvalidInput(f"{name} is not a routing rule field", field=name)
        if name == "name":
            text = clean_text(value, field="name", max_length=160)
            if not text:
                raise InvalidInput("a routing rule needs a name", field="name")
            out[name] = text
        elif name == "position":
            out[name] = clean_int(value, field="position", minimum=0, maximum=100_000) or 0
        elif name == "is_active":
            out[name] = bool(value)
        elif name in ("min_employees", "max_employees"):
            out[name] = clean_int(value, field=name, minimum=0, maximum=MAX_EMPLOYEES)
        elif name == "persona_id":
            out[name] = clean_int(value, field=name, minimum=1)
        elif name == "method":
            if value not in RoutingMethod.values:
                raise InvalidInput(
                    f"method must be one of: {', '.join(RoutingMethod.values)}", field="method"
                )
            out[name] = value
        elif name == "team":
            team = _ref(Team, value, field="team")
            if team is None or team.kind != "sales":
                raise InvalidInput("team must be a sales team", field="team")
            out[name] = team
        elif name == "territory":
            out[name] = _ref(Territory, value, field="territory")
        elif name == "segment":
            out[name] = _ref(Segment, value, field="segment")
    low, high = out.get("min_employees"), out.get("max_employees")
    if low is not None and high is not None and low > high:
        raise InvalidInput("min_employees must not be above max_employees", field="max_employees")
    return out


def _ref(model: Any, value: Any, *, field: str) -> Any:
    """A referenced row by id (or the row itself); blank is None, an unknown id is a 400."""
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    pk = clean_int(value, field=field, minimum=1)
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise InvalidInput(f"{field} {pk} does not exist", field=field)
    return row


def _refuse_duplicate_name(name: str, exclude_pk: int | None = None) -> None:
    others = RoutingRule.objects.filter(name=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise InvalidInput(f"a routing rule named {name!r} already exists", field="name")


@transaction.atomic
def create_routing_rule(*, values: dict[str, Any]) -> RoutingRule:
    """Add a routing rule (a name and a sales team are required)."""
    cleaned = _clean_rule(values)
    if "name" not in cleaned:
        raise InvalidInput("a routing rule needs a name", field="name")
    if cleaned.get("team") is None:
        raise InvalidInput("team must be a sales team", field="team")
    _refuse_duplicate_name(cleaned["name"])
    return RoutingRule.objects.create(**cleaned)


@transaction.atomic
def update_routing_rule(*, rule: RoutingRule, changes: dict[str, Any]) -> RoutingRule:
    """Change a routing rule's conditions, team, method or position."""
    cleaned = _clean_rule(changes)
    if "team" in cleaned and cleaned["team"] is None:
        raise InvalidInput("team must be a sales team", field="team")
    if "name" in cleaned:
        _refuse_duplicate_name(cleaned["name"], exclude_pk=rule.pk)
    for name, value in cleaned.items():
        setattr(rule, name, value)
    low, high = rule.min_employees, rule.max_employees
    if low is not None and high is not None and low > high:
        raise InvalidInput("min_employees must not be above max_employees", field="max_employees")
    rule.save()
    return rule


@transaction.atomic
def delete_routing_rule(*, rule: RoutingRule) -> None:
    """Remove a routing rule (past assignments keep their team and lose the rule link)."""
    rule.delete()


# ---------------------------------------------------------------- reps and commitments


def can_manage_rep(user: User, rep: User) -> bool:
    """Admins manage every rep; a sales manager the reps of the teams they manage."""
    if user.is_admin_role:
        return True
    if user.role != Role.SALES_MANAGER:
        return False
    return rep.team_id is not None and (
        rep.team_id == user.team_id or Team.objects.filter(pk=rep.team_id, manager=user).exists()
    )


@transaction.atomic
def set_rep_routing(
    *, rep: User, by: User, is_away: bool | None = None, max_open_leads: Any = "keep"
) -> RepCapacity:
    """Mark a rep away or back, and set their capacity (None: the default capacity)."""
    if not can_manage_rep(by, rep):
        raise Forbidden("you may not change this rep's routing")
    if rep.role != Role.SALES_REP:
        raise InvalidInput("only sales reps take routed leads", field="rep")
    cap, _ = RepCapacity.objects.select_for_update().get_or_create(user=rep)
    if max_open_leads != "keep":
        cap.max_open_leads = clean_int(
            max_open_leads, field="max_open_leads", minimum=1, maximum=10_000
        )
        cap.save(update_fields=["max_open_leads"])
    if is_away is not None:
        User.objects.filter(pk=rep.pk).update(is_away=bool(is_away))
        rep.is_away = bool(is_away)
    return cap


def month_start(value: Any, *, field: str = "month") -> date:
    """The first day of the month given as a date or "YYYY-MM" / "YYYY-MM-DD" text."""
    if isinstance(value, date):
        return value.replace(day=1)
    text = str(value or "").strip()
    try:
        parts = [int(p) for p in text.split("-")[:2]]
        return date(parts[0], parts[1], 1)
    except (ValueError, IndexError):
        raise InvalidInput(f"{field} must be a month such as 2026-01", field=field) from None


@transaction.atomic
def set_commitment(*, team: Team, month: Any, target: Any) -> MqlCommitment:
    """Set marketing's MQL target for a team and month (replacing an earlier one)."""
    if team.kind != "sales":
        raise InvalidInput("team must be a sales team", field="team")
    number = clean_int(target, field="target", minimum=0, maximum=1_000_000)
    if number is None:
        raise InvalidInput("target must be a whole number", field="target")
    row, _ = MqlCommitment.objects.update_or_create(
        team=team, month=month_start(month), defaults={"target": number}
    )
    return row


@transaction.atomic
def delete_commitment(*, commitment: MqlCommitment) -> None:
    """Remove an MQL commitment."""
    commitment.delete()
