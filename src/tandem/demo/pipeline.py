"""The demo build: an ordered pipeline of generator steps that share one DemoContext.

Adding a generator later (campaigns, touches, deals) = write a module under demo/generators/
with a `run(ctx)` function, append it to STEPS, and put its models at the front of WIPE_MODELS.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from django.apps import apps
from django.db import models, transaction
from django.db.models import Max, OuterRef, Subquery

from tandem.accounts.models import User
from tandem.crm.models import Activity, Contact, TimelineEvent
from tandem.crm.services import refresh_stage_dates
from tandem.demo.context import DemoContext
from tandem.demo.data import DEMO_USERS
from tandem.demo.generators import (
    activities,
    companies,
    contacts,
    goals,
    journeys,
    leads,
    lifecycle,
    marketing,
    sales,
    users_and_teams,
)
from tandem.errors import Conflict, InvalidInput
from tandem.marketing.models import Campaign

DEFAULT_CONTACTS = 10_000
CONTACTS_PER_COMPANY = 5

Step = Callable[[DemoContext], None]
StepReport = Callable[[str, float, dict[str, int]], None]

# The generators, in order; each reads what the earlier ones left in the context.
STEPS: list[Step] = [
    users_and_teams.run,
    companies.run,
    contacts.run,
    marketing.run,
    journeys.plan,  # touches and propensities, which the lifecycle step uses
    lifecycle.run,
    sales.deals,  # one deal per opportunity; before activities, which link their work to it
    activities.run,
    journeys.run,  # the touches placed around each contact's history, and their traces
    marketing.costs,  # spend follows the campaigns' touches
    leads.run,  # scores and segments read the finished history
    sales.run,  # deal sources, tasks, sequences, content, quotas and forecast snapshots
    goals.run,  # joint goals near what the history above did
]

# Deleted in this order by a reset: children first. Later apps put their models in front.
WIPE_MODELS: list[str] = [
    "dashboards.JointGoal",
    "sales.OnboardingStep",
    "sales.Insight",
    "sales.InsightTag",
    "sales.ContentRating",
    "sales.ContentUse",
    "sales.SequenceEnrollment",
    "sales.SequenceStep",
    "sales.Sequence",
    "sales.ForecastSnapshot",
    "sales.Quota",
    "sales.StageChange",
    "sales.LineItem",
    "sales.DealContact",
    "sales.Deal",
    "sales.Product",
    "leads.Notification",
    "leads.LeadAssignment",
    "leads.MqlCommitment",
    "leads.RepCapacity",
    "leads.RoutingRule",
    "leads.PredictiveModel",
    "leads.ScoreChange",
    "leads.LeadScore",
    "leads.ScoreRule",
    "leads.SegmentMembership",
    "leads.Segment",
    "tracking.Event",
    "tracking.Visitor",
    "marketing.Touchpoint",
    "marketing.FormSubmission",
    "marketing.TrackedLink",
    "marketing.ConsentText",
    "marketing.FormField",
    "marketing.Form",
    "marketing.Source",
    "marketing.ContentAsset",
    "marketing.CampaignCost",
    "marketing.Campaign",
    "marketing.Persona",
    "crm.TimelineEvent",
    "crm.Activity",
    "crm.LifecycleChange",
    "crm.ContactMerge",
    "crm.Contact",
    "crm.Company",
    "accounts.ApiKey",
    "accounts.User",
    "accounts.Territory",
    "accounts.Team",
]


def _label(step: Step) -> str:
    """A step's name in the progress lines: its module, and its function unless `run`."""
    if step is finish:
        return "finish"
    module = step.__module__.rsplit(".", 1)[-1]
    name = getattr(step, "__name__", "run")
    return module if name == "run" else f"{module} {name}"


def finish(ctx: DemoContext) -> None:
    """Make derived values agree with the generated history (runs after every step)."""
    latest = (
        TimelineEvent.objects.filter(contact=OuterRef("pk"))
        .order_by()
        .values("contact")
        .annotate(at=Max("occurred_at"))
        .values("at")
    )
    Contact.objects.update(last_activity_at=Subquery(latest))
    # The generators write stage history in bulk; the "became a … date" columns follow it.
    refresh_stage_dates()
    # Backfilled rows look as if written when they happened, not when the demo ran.
    Activity.objects.update(created_at=models.F("occurred_at"))
    TimelineEvent.objects.update(recorded_at=models.F("occurred_at"))


def wipe() -> None:
    """Delete marketing, tracking, CRM and accounts data (everything listed in WIPE_MODELS)."""
    for label in WIPE_MODELS:
        apps.get_model(label)._default_manager.all().delete()


def refuse_existing_data() -> None:
    """Raise Conflict when the database already has contacts or demo users (a reset wipes them)."""
    count = Contact.objects.count()
    if count:
        raise Conflict(
            f"the database already holds {count:,} contacts; pass --reset to wipe CRM "
            "and accounts data and rebuild the demo"
        )
    campaigns = Campaign.objects.count()
    if campaigns:
        raise Conflict(
            f"the database already holds {campaigns:,} campaigns; pass --reset to wipe "
            "marketing, CRM and accounts data and rebuild the demo"
        )
    taken = sorted(
        User.objects.filter(username__in=[u.username for u in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise Conflict(
            f"the database already has the user(s) {', '.join(taken)}; pass --reset to "
            "wipe CRM and accounts data and rebuild the demo"
        )


def build(
    *,
    seed: int,
    contacts: int = DEFAULT_CONTACTS,
    now: datetime,
    reset: bool = False,
    on_step: StepReport | None = None,
) -> DemoContext:
    """Build the demo world into the database in one transaction (refusing one that has data)."""
    if contacts < 1:
        raise InvalidInput("contacts must be at least 1", field="contacts")
    ctx = DemoContext(
        seed=seed, now=now, contacts=contacts, companies=max(1, contacts // CONTACTS_PER_COMPANY)
    )
    with transaction.atomic():
        if reset:
            wipe()
        else:
            refuse_existing_data()
        for step in [*STEPS, finish]:
            before = Counter(ctx.counts)
            started = time.perf_counter()
            step(ctx)
            if on_step is not None:
                label = _label(step)
                on_step(
                    label.replace("_", " "),
                    time.perf_counter() - started,
                    dict(ctx.counts - before),
                )
    return ctx
