"""Reads of forecasts and quotas: a period's numbers for a rep, a team or the company.

Intuition: every figure is a sum of `amount_base` over the deals that land in the period —
won deals by `closed_at`, open deals by `expected_close_date` — split by the forecast
category of their stage. One grouped query over deals (owner x team x stage x status) gives
every rep's, every team's and the company's numbers at once; the categories and
probabilities come from the small stage table, so the big query needs no join. Quotas come
from their own rows, falling back from a quarter to its months and from a team to its members.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from tandem.accounts.models import Role, Team, TeamKind, User
from tandem.crm.normalise import check_characters
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import (
    Deal,
    DealStatus,
    ForecastCategory,
    ForecastSnapshot,
    PeriodKind,
    Quota,
    Stage,
)
from tandem.sales.periods import Period, period_containing

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Roles whose members appear as rows of a roll-up (anyone else who owns deals still counts in
# the team and company totals).
SELLING_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)
PAST_PERIODS = 4


# ---------------------------------------------------------------- scopes


@dataclass(frozen=True)
class Scope:
    """Whose deals a forecast adds up: one rep (owner), teams (deal.team) or the company."""

    kind: str  # "user" | "team" | "teams" | "company"
    label: str
    user: User | None = None
    teams: tuple[Team, ...] = ()

    @property
    def team(self) -> Team | None:
        return self.teams[0] if self.kind == "team" else None

    def deal_filter(self) -> Q:
        if self.kind == "user":
            assert self.user is not None
            return Q(owner_id=self.user.pk)
        if self.kind in ("team", "teams"):
            return Q(team_id__in=[t.pk for t in self.teams])
        return Q()


def sees_everyone(user: User) -> bool:
    """Admins and marketing read every rep's and team's forecast."""
    return bool(user.is_admin_role or user.role == Role.MARKETING)


def managed_teams(user: User) -> list[Team]:
    """The sales teams whose forecast the user answers for (admin and marketing: all).

    Looked up once per user object (one per request), like the permission module's teams.
    """
    cached: list[Team] | None = getattr(user, "_forecast_teams", None)
    if cached is not None:
        return cached
    teams = Team.objects.filter(kind=TeamKind.SALES).order_by("name")
    if sees_everyone(user):
        found = list(teams)
    elif user.role == Role.SALES_MANAGER:
        found = list(teams.filter(Q(manager=user) | Q(pk=user.team_id or 0)))
    else:
        found = []
    user._forecast_teams = found  # type: ignore[attr-defined]
    return found


def default_scope(user: User) -> Scope:
    """A rep's own deals, a manager's teams, everyone's for admins and marketing."""
    if sees_everyone(user):
        return Scope("company", "Company")
    if user.role == Role.SALES_MANAGER:
        teams = tuple(managed_teams(user))
        if len(teams) == 1:
            return Scope("team", teams[0].name, teams=teams)
        if teams:
            return Scope("teams", "My teams", teams=teams)
    return Scope("user", user.get_full_name() or user.username, user=user)


def resolve_scope(
    *, user: User, scope_user: User | None = None, scope_team: Team | None = None
) -> Scope:
    """The scope asked for, if the user may read it (someone else's → Http404)."""
    if scope_user is not None:
        allowed = (
            sees_everyone(user)
            or scope_user.pk == user.pk
            or (
                user.role == Role.SALES_MANAGER
                and scope_user.team_id in {t.pk for t in managed_teams(user)}
            )
        )
        if not allowed:
            raise Http404("no such forecast")
        return Scope("user", scope_user.get_full_name() or scope_user.username, user=scope_user)
    if scope_team is not None:
        if not (sees_everyone(user) or scope_team.pk in {t.pk for t in managed_teams(user)}):
            raise Http404("no such forecast")
        return Scope("team", scope_team.name, teams=(scope_team,))
    return default_scope(user)


def user_named(username: str, *, active_only: bool = False) -> User | None:
    """The user with this username, or None (also for text no database column can hold)."""
    try:
        check_characters(username, field="user")
    except InvalidInput:
        return None
    users = User.objects.filter(username=username[:150])
    return (users.filter(is_active=True) if active_only else users).first()


def scope_choices(user: User) -> tuple[list[Team], list[User]]:
    """The teams and reps the user may pick a forecast of (a rep: none, only their own)."""
    teams = managed_teams(user)
    if not teams:
        return [], []
    reps = list(
        User.objects.filter(team__in=teams, is_active=True, role__in=SELLING_ROLES).order_by(
            "username"
        )
    )
    return teams, reps


# ---------------------------------------------------------------- the arithmetic


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period as a half-open range of aware datetimes in the configured time zone."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(period.start, time.min, tzinfo=zone)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def in_period(period: Period) -> Q:
    """Deals that land in the period: won in it, or open and expected to close in it."""
    start, end = period_bounds(period)
    return Q(status=DealStatus.WON, closed_at__gte=start, closed_at__lt=end) | Q(
        status=DealStatus.OPEN,
        expected_close_date__gte=period.start,
        expected_close_date__lte=period.end,
    )


@dataclass
class Numbers:
    """Running sums of one scope; `weighted` is kept exact and rounded once at the end."""

    closed_won: Decimal = ZERO
    commit_open: Decimal = ZERO
    best_case_open: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted_exact: Decimal = ZERO

    def add(self, *, status: str, category: str, probability: int, total: Decimal) -> None:
        if status == DealStatus.WON:
            self.closed_won += total
            return
        if category == ForecastCategory.OMITTED:
            return
        if category == ForecastCategory.COMMIT:
            self.commit_open += total
        elif category == ForecastCategory.BEST_CASE:
            self.best_case_open += total
        elif category == ForecastCategory.PIPELINE:
            self.pipeline += total
        self.weighted_exact += total * probability / 100

    def merge(self, other: Numbers) -> None:
        self.closed_won += other.closed_won
        self.commit_open += other.commit_open
        self.best_case_open += other.best_case_open
        self.pipeline += other.pipeline
        self.weighted_exact += other.weighted_exact


@dataclass
class Tally:
    """The numbers of one period by owner, by deal team, and in total."""

    owners: dict[int | None, Numbers] = field(default_factory=lambda: defaultdict(Numbers))
    teams: dict[int | None, Numbers] = field(default_factory=lambda: defaultdict(Numbers))
    total: Numbers = field(default_factory=Numbers)


def _stages() -> dict[int, tuple[str, int]]:
    return {
        pk: (category, probability)
        for pk, category, probability in Stage.objects.values_list(
            "pk", "forecast_category", "probability"
        )
    }


def tally(*, period: Period, where: Q | None = None) -> Tally:
    """One grouped query over the period's deals (narrowed by `where`), summed three ways."""
    stages = _stages()
    rows = (
        Deal.objects.filter(in_period(period) & (where or Q()))
        .order_by()
        .values_list("owner_id", "team_id", "stage_id", "status")
        .annotate(total=Sum("amount_base"))
    )
    result = Tally()
    for owner_id, team_id, stage_id, status, total in rows:
        category, probability = stages.get(stage_id, (ForecastCategory.OMITTED, 0))
        part = Numbers()
        part.add(status=status, category=category, probability=probability, total=total or ZERO)
        result.owners[owner_id].merge(part)
        result.teams[team_id].merge(part)
        result.total.merge(part)
    return result


# ---------------------------------------------------------------- quotas


class Quotas:
    """The quota rows of one period (and of its months), with the fallbacks of the design."""

    def __init__(self, period: Period) -> None:
        self.period = period
        month_starts = [m.start for m in period.months()]
        rows = Quota.objects.filter(
            Q(period_kind=period.kind, period_start=period.start)
            | Q(period_kind=PeriodKind.MONTH, period_start__in=month_starts)
        ).values_list("user_id", "team_id", "period_kind", "amount")
        self.own: dict[tuple[str, int], Decimal] = {}
        self.months: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        for user_id, team_id, kind, amount in rows:
            key = ("user", user_id) if user_id is not None else ("team", team_id)
            if kind == period.kind:
                self.own[key] = amount
            if period.kind == PeriodKind.QUARTER and kind == PeriodKind.MONTH:
                self.months[key] += amount

    def _of(self, key: tuple[str, int]) -> tuple[Decimal | None, str]:
        if key in self.own:
            return self.own[key], "own"
        if key in self.months:
            return self.months[key], "months"
        return None, ""

    def user(self, user_id: int) -> tuple[Decimal | None, str]:
        """A rep's quota and where it came from ("own", "months" or "" for none)."""
        return self._of(("user", user_id))

    def team(self, team_id: int, member_ids: Iterable[int]) -> tuple[Decimal | None, str]:
        """A team's own quota, else the sum of its members' ("members")."""
        amount, source = self._of(("team", team_id))
        if amount is not None:
            return amount, source
        found = [q for q in (self.user(uid)[0] for uid in member_ids) if q is not None]
        return (sum(found, ZERO), "members") if found else (None, "")

    def user_ids(self) -> set[int]:
        return {pk for kind, pk in [*self.own, *self.months] if kind == "user"}


def members_by_team(team_ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for pk, team_id in User.objects.filter(team_id__in=list(team_ids), is_active=True).values_list(
        "pk", "team_id"
    ):
        out[team_id].append(pk)
    return out


def _teams_quota(quotas: Quotas, team_ids: list[int]) -> tuple[Decimal | None, str]:
    members = members_by_team(team_ids)
    found = [q for q in (quotas.team(t, members[t])[0] for t in team_ids) if q is not None]
    return (sum(found, ZERO), "teams") if found else (None, "")


def company_quota(
    quotas: Quotas, members: dict[int, list[int]] | None = None
) -> tuple[Decimal | None, str]:
    """The sales teams' quotas, plus those of reps in no sales team.

    `members` (every sales team's active members by team id) saves two queries when known.
    """
    if members is None:
        team_ids = list(Team.objects.filter(kind=TeamKind.SALES).values_list("pk", flat=True))
        members = members_by_team(team_ids)
    else:
        team_ids = list(members)
    in_teams = {uid for ids in members.values() for uid in ids}
    found = [q for q in (quotas.team(t, members[t])[0] for t in team_ids) if q is not None]
    found += [q for uid in quotas.user_ids() - in_teams if (q := quotas.user(uid)[0]) is not None]
    return (sum(found, ZERO), "teams") if found else (None, "")


# ---------------------------------------------------------------- forecasts


@dataclass(frozen=True)
class Forecast:
    """A period's forecast for one scope, in the reporting currency."""

    period: Period
    scope: Scope
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    quota: Decimal | None
    quota_source: str = ""  # "own" | "months" | "members" | "teams" | "" (no quota)

    @property
    def expected(self) -> Decimal:
        """Closed won plus the weighted open pipeline."""
        return self.closed_won + self.weighted

    @property
    def attainment(self) -> Decimal | None:
        """Closed won / quota as a fraction to four places (None without a positive quota)."""
        if not self.quota:
            return None
        return (self.closed_won / self.quota).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    @property
    def attainment_percent(self) -> Decimal | None:
        a = self.attainment
        return None if a is None else (a * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def gap(self) -> Decimal | None:
        """What is still to win to reach quota (negative when quota is exceeded)."""
        return None if self.quota is None else self.quota - self.closed_won


def make_forecast(
    *,
    period: Period,
    scope: Scope,
    numbers: Numbers,
    quota: tuple[Decimal | None, str],
) -> Forecast:
    """Turn running sums into the design's figures (commit and best case are cumulative)."""
    commit = numbers.closed_won + numbers.commit_open
    return Forecast(
        period=period,
        scope=scope,
        closed_won=numbers.closed_won.quantize(CENT),
        commit=commit.quantize(CENT),
        best_case=(commit + numbers.best_case_open).quantize(CENT),
        pipeline=numbers.pipeline.quantize(CENT),
        weighted=numbers.weighted_exact.quantize(CENT, ROUND_HALF_UP),
        quota=None if quota[0] is None else quota[0].quantize(CENT),
        quota_source=quota[1],
    )


def scope_quota(quotas: Quotas, scope: Scope) -> tuple[Decimal | None, str]:
    if scope.kind == "user":
        assert scope.user is not None
        return quotas.user(scope.user.pk)
    if scope.kind == "team":
        team = scope.teams[0]
        return quotas.team(team.pk, members_by_team([team.pk])[team.pk])
    if scope.kind == "teams":
        return _teams_quota(quotas, [t.pk for t in scope.teams])
    return company_quota(quotas)


def forecast(
    *,
    user: User,
    period: Period,
    scope_user: User | None = None,
    scope_team: Team | None = None,
) -> Forecast:
    """The period's forecast for the scope asked for (default: the user's own scope)."""
    scope = resolve_scope(user=user, scope_user=scope_user, scope_team=scope_team)
    return forecast_for(scope=scope, period=period)


def forecast_for(*, scope: Scope, period: Period) -> Forecast:
    """The period's forecast of a scope already checked against the viewer."""
    numbers = tally(period=period, where=scope.deal_filter()).total
    return make_forecast(
        period=period, scope=scope, numbers=numbers, quota=scope_quota(Quotas(period), scope)
    )


@dataclass(frozen=True)
class RollupRow:
    """One line of a roll-up: a rep, a team's total, or the company's total."""

    kind: str  # "rep" | "team" | "company"
    forecast: Forecast
    user: User | None = None
    team: Team | None = None

    @property
    def label(self) -> str:
        return self.forecast.scope.label


def rollup(*, manager_or_admin: User, period: Period) -> list[RollupRow]:
    """Each team's reps then the team total; admins and marketing also get the company total.

    A rep's row adds up the deals they own; a team's total the deals of the team (deal.team),
    which includes the team's unassigned deals. Reps may not see a roll-up (Forbidden).
    """
    viewer = manager_or_admin
    teams = managed_teams(viewer)
    everyone = sees_everyone(viewer)
    if not teams and not everyone:
        raise Forbidden("only managers, admins and marketing see a forecast roll-up")
    team_ids = [t.pk for t in teams]
    users = list(User.objects.filter(team_id__in=team_ids, is_active=True).order_by("username"))
    where = None if everyone else Q(team_id__in=team_ids) | Q(owner_id__in=[u.pk for u in users])
    sums = tally(period=period, where=where)
    quotas = Quotas(period)
    member_ids: dict[int, list[int]] = defaultdict(list)
    for u in users:
        member_ids[u.team_id].append(u.pk)  # type: ignore[index]
    # Reps always have a line; anyone else in the team (a manager) when they sell or have a quota.
    with_line = set(sums.owners) | quotas.user_ids()
    members = [u for u in users if u.role == Role.SALES_REP or u.pk in with_line]
    rows: list[RollupRow] = []
    for team in teams:
        for rep in (m for m in members if m.team_id == team.pk):
            scope = Scope("user", rep.get_full_name() or rep.username, user=rep)
            numbers = sums.owners.get(rep.pk, Numbers())
            rows.append(
                RollupRow(
                    "rep",
                    make_forecast(
                        period=period, scope=scope, numbers=numbers, quota=quotas.user(rep.pk)
                    ),
                    user=rep,
                    team=team,
                )
            )
        scope = Scope("team", team.name, teams=(team,))
        rows.append(
            RollupRow(
                "team",
                make_forecast(
                    period=period,
                    scope=scope,
                    numbers=sums.teams.get(team.pk, Numbers()),
                    quota=quotas.team(team.pk, member_ids[team.pk]),
                ),
                team=team,
            )
        )
    if everyone:
        rows.append(
            RollupRow(
                "company",
                make_forecast(
                    period=period,
                    scope=Scope("company", "Company"),
                    numbers=sums.total,
                    quota=company_quota(quotas, {t.pk: member_ids.get(t.pk, []) for t in teams}),
                ),
            )
        )
    return rows


def attainment_rows(*, user: User, period: Period) -> list[RollupRow]:
    """Quota against won in the period, live: a rep's own line, or the roll-up of a manager."""
    if managed_teams(user) or sees_everyone(user):
        return rollup(manager_or_admin=user, period=period)
    scope = Scope("user", user.get_full_name() or user.username, user=user)
    return [RollupRow("rep", forecast_for(scope=scope, period=period), user=user)]


def own_quotas(period: Period) -> dict[tuple[str, int], Decimal]:
    """Quota rows set for exactly this period, keyed ("user"|"team", id) (for edit forms)."""
    rows = Quota.objects.filter(period_kind=period.kind, period_start=period.start).values_list(
        "user_id", "team_id", "amount"
    )
    return {
        (("user", u) if u is not None else ("team", t)): amount  # type: ignore[misc]
        for u, t, amount in rows
    }


def current_quarter(today: date | None = None) -> Period:
    return period_containing(today or timezone.localdate(), kind="quarter")


# ---------------------------------------------------------------- snapshots and accuracy


@dataclass(frozen=True)
class SnapshotPoint:
    """The forecast of a scope as it stood on one day."""

    taken_on: date
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    quota: Decimal | None

    @property
    def expected(self) -> Decimal:
        return self.closed_won + self.weighted


def _snapshot_filter(scope: Scope) -> Q:
    if scope.kind == "user":
        assert scope.user is not None
        return Q(user_id=scope.user.pk)
    if scope.kind in ("team", "teams"):
        return Q(team_id__in=[t.pk for t in scope.teams])
    return Q(user__isnull=True, team__isnull=True)


def snapshot_points(*, scope: Scope, periods: list[Period]) -> dict[date, list[SnapshotPoint]]:
    """Stored snapshots of the scope for these periods (by period start), summed per day."""
    if not periods:
        return {}
    kind = periods[0].kind
    rows = (
        ForecastSnapshot.objects.filter(
            _snapshot_filter(scope),
            period_kind=kind,
            period_start__in=[p.start for p in periods],
        )
        .order_by()
        .values_list("period_start", "taken_on")
        .annotate(
            s_won=Sum("closed_won"),
            s_commit=Sum("commit"),
            s_best=Sum("best_case"),
            s_pipe=Sum("pipeline"),
            s_weighted=Sum("weighted"),
            s_quota=Sum("quota"),
        )
        .order_by("period_start", "taken_on")
    )
    out: dict[date, list[SnapshotPoint]] = defaultdict(list)
    for start, taken_on, won, commit, best, pipe, weighted, quota in rows:
        out[start].append(SnapshotPoint(taken_on, won, commit, best, pipe, weighted, quota))
    return out


@dataclass(frozen=True)
class Accuracy:
    """How a period's forecast compared with what closed (from the first snapshot in it)."""

    period: Period
    closed_won: Decimal
    points: list[SnapshotPoint]

    @property
    def opening(self) -> SnapshotPoint | None:
        """The first snapshot taken in the period, else the last one before it."""
        inside = [p for p in self.points if p.taken_on >= self.period.start]
        if inside:
            return inside[0]
        return self.points[-1] if self.points else None

    def _error(self, value: Decimal | None) -> Decimal | None:
        if value is None or not self.closed_won:
            return None
        return ((value - self.closed_won) / self.closed_won * 100).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def commit_error(self) -> Decimal | None:
        """(opening commit - closed won) / closed won, in percent (positive: over-forecast)."""
        return self._error(self.opening.commit if self.opening else None)

    @property
    def expected_error(self) -> Decimal | None:
        return self._error(self.opening.expected if self.opening else None)


def _won_by_day(scope: Scope, start: date, end: date) -> dict[date, Decimal]:
    lo, _ = period_bounds(period_containing(start, kind="month"))
    _, hi = period_bounds(period_containing(end, kind="month"))
    rows = (
        Deal.objects.filter(
            scope.deal_filter(), status=DealStatus.WON, closed_at__gte=lo, closed_at__lt=hi
        )
        .annotate(day=TruncDate("closed_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values_list("day")
        .annotate(total=Sum("amount_base"))
    )
    return {day: total for day, total in rows}


def accuracy(*, period: Period, scope: Scope | None = None) -> Accuracy:
    """The period's snapshots (company-wide unless a scope is given) against its closed won."""
    scope = scope or Scope("company", "Company")
    return past_accuracy(scope=scope, periods=[period])[0]


def past_accuracy(*, scope: Scope, periods: list[Period]) -> list[Accuracy]:
    """Accuracy of each period: one query for their snapshots, one for what was won."""
    if not periods:
        return []
    points = snapshot_points(scope=scope, periods=periods)
    won = _won_by_day(scope, min(p.start for p in periods), max(p.end for p in periods))
    out = []
    for period in periods:
        total = sum((v for day, v in won.items() if period.contains(day)), ZERO)
        out.append(Accuracy(period, total.quantize(CENT), points.get(period.start, [])))
    return out


def previous_periods(period: Period, count: int = PAST_PERIODS) -> list[Period]:
    """The `count` periods before this one, the most recent first."""
    out = [period.previous()]
    while len(out) < count:
        out.append(out[-1].previous())
    return out
