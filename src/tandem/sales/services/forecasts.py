"""Forecast snapshots: the forecast of the current and next periods, kept weekly for accuracy."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from tandem.accounts.models import Team, TeamKind
from tandem.sales.models import ForecastSnapshot
from tandem.sales.periods import Period, period_containing
from tandem.sales.queries import forecasts as queries


def snapshot_periods(on: date) -> list[Period]:
    """The month and quarter containing `on`, and the ones after them."""
    month = period_containing(on, kind="month")
    quarter = period_containing(on, kind="quarter")
    return [month, month.next(), quarter, quarter.next()]


def _row(
    *,
    on: date,
    period: Period,
    forecast: queries.Forecast,
    user_id: int | None = None,
    team_id: int | None = None,
) -> ForecastSnapshot:
    return ForecastSnapshot(
        taken_on=on,
        period_kind=period.kind,
        period_start=period.start,
        user_id=user_id,
        team_id=team_id,
        closed_won=forecast.closed_won,
        commit=forecast.commit,
        best_case=forecast.best_case,
        pipeline=forecast.pipeline,
        weighted=forecast.weighted,
        quota=forecast.quota,
    )


@transaction.atomic
def take_snapshots(*, on: date) -> int:
    """Store today's forecast per rep (with deals or a quota), per sales team and company-wide.

    The numbers are the live ones; a second run on the same day replaces that day's rows, so
    a redelivered job leaves one snapshot per (taken_on, period, owner).
    """
    teams = list(Team.objects.filter(kind=TeamKind.SALES).order_by("pk"))
    members = queries.members_by_team([t.pk for t in teams])
    rows: list[ForecastSnapshot] = []
    for period in snapshot_periods(on):
        sums = queries.tally(period=period)
        quotas = queries.Quotas(period)
        owners = {pk for pk in sums.owners if pk is not None} | quotas.user_ids()
        for user_id in sorted(owners):
            numbers = sums.owners.get(user_id, queries.Numbers())
            forecast = queries.make_forecast(
                period=period,
                scope=queries.Scope("user", ""),
                numbers=numbers,
                quota=quotas.user(user_id),
            )
            rows.append(_row(on=on, period=period, forecast=forecast, user_id=user_id))
        for team in teams:
            forecast = queries.make_forecast(
                period=period,
                scope=queries.Scope("team", team.name, teams=(team,)),
                numbers=sums.teams.get(team.pk, queries.Numbers()),
                quota=quotas.team(team.pk, members[team.pk]),
            )
            rows.append(_row(on=on, period=period, forecast=forecast, team_id=team.pk))
        company = queries.make_forecast(
            period=period,
            scope=queries.Scope("company", "Company"),
            numbers=sums.total,
            quota=queries.company_quota(quotas),
        )
        rows.append(_row(on=on, period=period, forecast=company))
        ForecastSnapshot.objects.filter(
            taken_on=on, period_kind=period.kind, period_start=period.start
        ).delete()
    ForecastSnapshot.objects.bulk_create(rows, batch_size=500)
    return len(rows)
