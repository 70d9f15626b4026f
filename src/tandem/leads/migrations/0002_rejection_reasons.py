"""Seed the managed list of reasons sales gives for rejecting a lead (issue 4, item 7)."""

from typing import Any

from django.db import migrations

REASONS = [
    # code, label, outcome, needs a recycle date
    ("not_a_fit", "Not a fit", "disqualify", False),
    ("no_budget", "No budget", "nurture", False),
    ("bad_data", "Bad data", "disqualify", False),
    ("duplicate", "Duplicate", "disqualify", False),
    ("not_now", "Not now (recycle later)", "nurture", True),
]


def seed(apps: Any, schema_editor: Any) -> None:
    reason = apps.get_model("leads", "RejectionReason")
    for position, (code, label, outcome, needs_date) in enumerate(REASONS, start=1):
        # Keeps an admin's later edits of a reason when the migration is re-applied.
        reason.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "outcome": outcome,
                "needs_recycle_date": needs_date,
                "position": position,
            },
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    reason = apps.get_model("leads", "RejectionReason")
    assignment = apps.get_model("leads", "LeadAssignment")
    used = assignment.objects.exclude(reason=None).values("reason_id")
    reason.objects.filter(code__in=[r[0] for r in REASONS]).exclude(pk__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
