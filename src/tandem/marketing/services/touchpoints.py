"""Touchpoints: one row per marketing touch, written in bulk by tracking and forms."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from tandem.marketing.models import Touchpoint


@transaction.atomic
def record_touchpoints(*, touchpoints: Sequence[Touchpoint]) -> int:
    """Insert unsaved touchpoints, skipping any whose idempotency key is already stored."""
    if not touchpoints:
        return 0
    keys = [t.idempotency_key for t in touchpoints]
    existing = set(
        Touchpoint.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = [t for t in touchpoints if t.idempotency_key not in existing]
    # ignore_conflicts covers a concurrent writer of the same keys between the two statements.
    Touchpoint.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
    return len(fresh)


@transaction.atomic
def attach_anonymous(*, anonymous_id: str, contact_id: int) -> int:
    """Give a visitor's anonymous touches to the contact it turned out to be (identity stitching)."""
    return Touchpoint.objects.filter(anonymous_id=anonymous_id, contact__isnull=True).update(
        contact_id=contact_id
    )
