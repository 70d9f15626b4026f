"""Build the default demo (10,000 contacts in about 2,000 companies, 18 months) on SQLite; target 60 s.

Baseline, measured in the same run: the write floor, i.e. bulk-inserting the same number of bare
contact rows (no companies, history, timeline or activities) into a fresh table, so the ratio says
how many "plain inserts" the whole realistic history costs.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from benchmarks.common import report, setup_django, timer

CONTACTS = 10_000
TARGET_SECONDS = 60.0


def main() -> int:
    """Time the demo build, then the bare-insert baseline."""
    setup_django("demo")
    from django.db import transaction

    from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
    from tandem.demo.pipeline import build

    now = datetime(2026, 11, 1, tzinfo=UTC)
    with timer() as took:
        ctx = build(seed=1, contacts=CONTACTS, now=now)
    print(
        f"built {Contact.objects.count():,} contacts, {LifecycleChange.objects.count():,} stage "
        f"changes, {TimelineEvent.objects.count():,} timeline events ({dict(ctx.counts)})"
    )
    Contact.objects.all().delete()
    with timer() as floor, transaction.atomic():
        Contact.objects.bulk_create(
            (Contact(email=f"floor{i}@example.com", created_at=now) for i in range(CONTACTS)),
            batch_size=2_000,
        )
    ok = report(
        "demo build (10,000 contacts)",
        figure="wall time",
        value=took["seconds"],
        unit="s",
        target=TARGET_SECONDS,
        baseline=floor["seconds"],
        baseline_label="bulk insert of 10,000 bare contact rows",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
