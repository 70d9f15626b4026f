"""Reads of the hand-off: a rep's inbox, managers' breaches and team load, the lead-quality report."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tandem.accounts.models import Role, Team, TeamKind, User
from tandem.crm.models import Contact, Source
from tandem.errors import InvalidInput
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    MqlCommitment,
    Notification,
    RejectionReason,
)
from tandem.leads.services.routing import RepLoad, rep_loads
from tandem.leads.services.settings import lead_settings
from tandem.marketing.models import Campaign, Persona

# The report's group-by choices (an allow-list: the name picks a snapshot column).
GROUP_BY = {"source": "source", "campaign": "campaign_id", "persona": "persona_id"}
GROUP_LABELS = {"source": "Source", "campaign": "Campaign", "persona": "Persona"}
BREACH_LIMIT = 200
# An accepted lead nobody has called for a month is a lost lead, not an open breach.
OPEN_TOUCH_BREACH_DAYS = 30


def inbox(*, user: User) -> QuerySet[LeadAssignment]:
    """The user's leads awaiting a decision, the most urgent first."""
    return (
        LeadAssignment.objects.filter(rep=user, status=AssignmentStatus.PENDING)
        .select_related("contact", "contact__company", "team")
        .order_by("accept_due_at", "id")
    )


def managed_teams(user: User) -> QuerySet[Team]:
    """The sales teams whose hand-offs the user oversees (admin and marketing: all)."""
    teams = Team.objects.filter(kind=TeamKind.SALES).order_by("name")
    if user.is_admin_role or user.role == Role.MARKETING:
        return teams
    if user.role == Role.SALES_MANAGER:
        return teams.filter(Q(manager=user) | Q(pk=user.team_id or 0))
    return teams.none()


@dataclass
class TeamLoad:
    team: Team
    reps: list[RepLoad] = field(default_factory=list)


def team_load(*, user: User) -> list[TeamLoad]:
    """Per team the user oversees, each rep's open leads against capacity and away flag."""
    teams = list(managed_teams(user))
    cfg = lead_settings()
    reps = list(
        User.objects.filter(team__in=teams, role=Role.SALES_REP, is_active=True).order_by(
            "username"
        )
    )
    loads = rep_loads(reps=reps, settings=cfg) if reps else []
    by_team: dict[int, list[RepLoad]] = defaultdict(list)
    for load in loads:
        by_team[load.rep.team_id or 0].append(load)
    return [TeamLoad(team=t, reps=by_team.get(t.pk, [])) for t in teams]


def assignable_reps(*, user: User) -> list[User]:
    """Active reps the user may hand leads to by hand (admin: all; a manager: their teams')."""
    reps = User.objects.filter(role=Role.SALES_REP, is_active=True, team__kind=TeamKind.SALES)
    if not user.is_admin_role:
        if user.role != Role.SALES_MANAGER:
            return []
        reps = reps.filter(team__in=managed_teams(user))
    return list(reps.select_related("team").order_by("team__name", "username"))


def breaches(*, user: User, now: datetime | None = None) -> list[LeadAssignment]:
    """Open problems the user oversees, the latest first: leads still waiting past their accept
    SLA, unrouted leads, and accepted leads of the last 30 days still without a first touch."""
    teams = managed_teams(user)
    recent = (now or timezone.now()) - timedelta(days=OPEN_TOUCH_BREACH_DAYS)
    rows = LeadAssignment.objects.filter(
        Q(status=AssignmentStatus.PENDING, accept_breached_at__isnull=False)
        | Q(status=AssignmentStatus.UNROUTED)
        | Q(
            status=AssignmentStatus.ACCEPTED,
            touch_breached_at__isnull=False,
            first_touch_at__isnull=True,
            assigned_at__gte=recent,
        )
    )
    if not (user.is_admin_role or user.role == Role.MARKETING):
        # Unrouted leads without a team are every manager's to pick up.
        rows = rows.filter(Q(team__in=teams) | Q(team__isnull=True))
    return list(
        rows.select_related("contact", "rep", "team", "reason").order_by("-assigned_at", "-id")[
            :BREACH_LIMIT
        ]
    )


def contact_assignments(*, contact: Contact) -> list[LeadAssignment]:
    """A contact's hand-offs, the latest first."""
    return list(
        LeadAssignment.objects.filter(contact=contact)
        .select_related("rep", "team", "reason")
        .order_by("-assigned_at", "-id")
    )


def notifications(*, user: User, limit: int = 100) -> list[Notification]:
    """The user's latest notifications."""
    return list(
        Notification.objects.filter(user=user)
        .select_related("contact")
        .order_by("-created_at", "-id")[:limit]
    )


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# ---------------------------------------------------------------- lead quality


@dataclass
class QualityRow:
    """One group of the lead-quality report."""

    key: Any
    label: str
    mqls: int = 0
    accepted: int = 0
    rejected: int = 0
    pending: int = 0
    unrouted: int = 0
    accept_breaches: int = 0
    touch_breaches: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    touch_hours: list[float] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted over decided (accepted + rejected); None before any decision."""
        decided = self.accepted + self.rejected
        return round(self.accepted / decided, 4) if decided else None

    @property
    def median_hours_to_first_touch(self) -> float | None:
        return round(median(self.touch_hours), 2) if self.touch_hours else None

    @property
    def sla_breaches(self) -> int:
        return self.accept_breaches + self.touch_breaches


@dataclass
class QualityReport:
    group_by: str
    start: date
    end: date
    rows: list[QualityRow]
    total: QualityRow
    reason_labels: dict[str, str]


def lead_quality(*, start: date, end: date, group_by: str = "source") -> QualityReport:
    """MQLs handed off in [start, end] by source, campaign or persona, and what sales did.

    Counted by hand-off chain: an MQL is a first assignment (attempt 1) in the period; its
    outcome is that of the chain's latest assignment (a re-routed lead counts once); breaches
    count every assignment of the chain that breached. Time to first touch runs from the
    chain's first assignment.
    """
    if group_by not in GROUP_BY:
        raise InvalidInput(f"group_by must be one of: {', '.join(GROUP_BY)}", field="group_by")
    if end < start:
        raise InvalidInput("end must not be before start", field="end")
    column = GROUP_BY[group_by]
    firsts = LeadAssignment.objects.filter(
        attempt=1, assigned_at__date__gte=start, assigned_at__date__lte=end
    )
    chains: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        LeadAssignment.objects.filter(contact_id__in=firsts.values("contact_id"))
        .values(
            "id",
            "contact_id",
            "attempt",
            "status",
            "reason__code",
            column,
            "assigned_at",
            "first_touch_at",
            "accept_breached_at",
            "touch_breached_at",
        )
        .order_by("contact_id", "assigned_at", "id")
    )
    first_ids = set(firsts.values_list("id", flat=True))
    current: list[dict[str, Any]] = []
    for row in rows:
        # A contact may have several chains (re-qualified after a recycle): split at attempt 1.
        if row["attempt"] == 1:
            current = []
            if row["id"] in first_ids:
                chains[row["id"]] = current
        current.append(row)
    groups: dict[Any, QualityRow] = {}
    total = QualityRow(key=None, label="All")
    for chain in chains.values():
        head, last = chain[0], chain[-1]
        key = head[column]
        row = groups.setdefault(key, QualityRow(key=key, label=""))
        for target in (row, total):
            _count_chain(target, chain, head, last)
    _label(groups, group_by)
    ordered = sorted(groups.values(), key=lambda r: (-r.mqls, r.label))
    labels = dict(RejectionReason.objects.values_list("code", "label"))
    return QualityReport(
        group_by=group_by, start=start, end=end, rows=ordered, total=total, reason_labels=labels
    )


def _count_chain(
    target: QualityRow, chain: list[dict[str, Any]], head: dict[str, Any], last: dict[str, Any]
) -> None:
    target.mqls += 1
    status = last["status"]
    if status == AssignmentStatus.ACCEPTED:
        target.accepted += 1
    elif status == AssignmentStatus.REJECTED:
        target.rejected += 1
        code = last["reason__code"] or "unknown"
        target.reasons[code] = target.reasons.get(code, 0) + 1
    elif status == AssignmentStatus.UNROUTED:
        target.unrouted += 1
    else:
        target.pending += 1
    target.accept_breaches += sum(1 for a in chain if a["accept_breached_at"] is not None)
    target.touch_breaches += sum(1 for a in chain if a["touch_breached_at"] is not None)
    touches = [a["first_touch_at"] for a in chain if a["first_touch_at"] is not None]
    if touches:
        target.touch_hours.append((min(touches) - head["assigned_at"]).total_seconds() / 3600)


def _label(groups: dict[Any, QualityRow], group_by: str) -> None:
    """Name each group: a source's label, a campaign's or persona's name ("None" when unset)."""
    ids = [k for k in groups if k is not None]
    names: dict[Any, str]
    if group_by == "source":
        names = dict(Source.choices)
    elif group_by == "campaign":
        names = dict(Campaign.objects.filter(pk__in=ids).values_list("id", "name"))
    else:
        names = dict(Persona.objects.filter(pk__in=ids).values_list("id", "name"))
    for key, row in groups.items():
        if key in (None, ""):
            row.label = "None"
        else:
            row.label = str(names.get(key, f"#{key} (deleted)" if group_by != "source" else key))


def reason_breakdown(rows: list[QualityRow], labels: dict[str, str]) -> list[tuple[str, int]]:
    """All groups' rejection reasons with their counts, the most common first."""
    counter: Counter[str] = Counter()
    for row in rows:
        counter.update(row.reasons)
    return [(labels.get(code, code), n) for code, n in counter.most_common()]


# ---------------------------------------------------------------- commitments


@dataclass
class CommitmentRow:
    commitment: MqlCommitment
    delivered: int

    @property
    def met(self) -> bool:
        return self.delivered >= self.commitment.target


def commitments(*, months: int = 12, today: date | None = None) -> list[CommitmentRow]:
    """MQL commitments of recent months with how many MQLs each team was handed (first hand-offs)."""
    rows = list(MqlCommitment.objects.select_related("team").order_by("-month", "team__name")[:200])
    if not rows:
        return []
    low = min(r.month for r in rows)
    counts: dict[tuple[int, date], int] = defaultdict(int)
    delivered = (
        LeadAssignment.objects.filter(attempt=1, team__isnull=False, assigned_at__date__gte=low)
        .annotate(month=TruncMonth("assigned_at"))
        .values("team_id", "month")
        .annotate(n=Count("id"))
    )
    for row in delivered:
        month: datetime | date = row["month"]
        day = month.date() if isinstance(month, datetime) else month
        counts[(row["team_id"], day.replace(day=1))] += row["n"]
    return [CommitmentRow(commitment=r, delivered=counts[(r.team_id, r.month)]) for r in rows]
