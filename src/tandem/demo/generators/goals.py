"""Step: goals — the joint goals of the last four quarters, the current one and the next.

Intuition: a goal is what the teams planned, so it is set near what they went on to do. A past
quarter's target is its actual (computed by the same queries the shared page shows) divided by
an attainment drawn from 0.85 to 1.15, so some goals are hit and some missed; the quarter under
way and the next one aim a little above the last two full quarters' average (growth). Targets
are rounded as people round them: money to thousands, counts to tens, rates to half a percent.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from tandem.crm.services import refresh_stage_dates
from tandem.dashboards.models import GoalMetric, JointGoal
from tandem.dashboards.queries import MONEY, RATES, actuals_over
from tandem.demo.context import DemoContext, insert
from tandem.sales.periods import Period, period_containing

PAST_QUARTERS = 4


def quarters(ctx: DemoContext) -> tuple[list[Period], Period, Period]:
    """The last PAST_QUARTERS full quarters (oldest first), the current one and the next."""
    current = period_containing(ctx.now.date(), kind="quarter")
    past = [current.previous()]
    while len(past) < PAST_QUARTERS:
        past.append(past[-1].previous())
    return past[::-1], current, current.next()


def round_target(metric: str, value: Decimal) -> Decimal:
    """A target as a person would type it."""
    if metric in RATES:
        step = Decimal("0.005")
    elif metric == GoalMetric.VELOCITY.value:
        step = Decimal(50) if value >= 1000 else Decimal(1)
    elif metric in MONEY:
        step = Decimal(5000) if value >= 100_000 else Decimal(1000)
    else:
        step = Decimal(10) if value >= 100 else Decimal(1)
    rounded = (value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return min(max(rounded, step), Decimal(1)) if metric in RATES else max(rounded, step)


def _draw(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 3)))


def plan_targets(
    rng: random.Random, past: list[dict[str, Decimal | None]]
) -> tuple[list[dict[str, Decimal]], dict[str, Decimal], dict[str, Decimal]]:
    """Targets for each past quarter (by its actuals), the current one and the next."""
    metrics = [m.value for m in GoalMetric]
    usual: dict[str, Decimal] = {}
    for metric in metrics:
        seen = [v for row in past if (v := row.get(metric)) is not None and v > 0]
        recent = seen[-2:] or [Decimal(0)]
        usual[metric] = sum(recent, Decimal(0)) / len(recent)
    out_past = []
    for row in past:
        targets = {}
        for metric in metrics:
            actual = row.get(metric)
            base = actual if actual is not None and actual > 0 else usual[metric]
            if base > 0:
                targets[metric] = round_target(metric, base / _draw(rng, 0.85, 1.15))
        out_past.append(targets)
    current = {m: round_target(m, usual[m] * _draw(rng, 1.0, 1.1)) for m in metrics if usual[m] > 0}
    following = {
        m: round_target(m, usual[m] * _draw(rng, 1.05, 1.15)) for m in metrics if usual[m] > 0
    }
    return out_past, current, following


def run(ctx: DemoContext) -> None:
    """Joint goals for six quarters, near what the generated deals and contacts did."""
    # The funnel reads the "became a … date" columns, which the build's finish step writes;
    # bring them up to date now so the past quarters' actuals are the ones the page will show.
    refresh_stage_dates()
    past, current, following = quarters(ctx)
    found = actuals_over(periods=past)
    past_targets, current_targets, next_targets = plan_targets(
        ctx.rng("goals"), [found[p.key].values for p in past]
    )
    by = ctx.users.get("marketing")
    rows = [
        JointGoal(period=period.key, metric=metric, target=target, set_by=by)
        for period, targets in [
            *zip(past, past_targets, strict=True),
            (current, current_targets),
            (following, next_targets),
        ]
        for metric, target in targets.items()
    ]
    insert(rows)
    ctx.counts["joint goals"] += len(rows)
