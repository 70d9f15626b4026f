"""Touchpoints: one row per marketing touch, written in bulk by tracking and forms."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from tandem.idempotent import insert_missing
from tandem.marketing.models import Touchpoint


@transaction.atomic
def record_touchpoints(*, touchpoints: Sequence[Touchpoint]) -> int:
    """Insert unsaved touchpoints, skipping any whose idempotency key is already stored."""
    return insert_missing(Touchpoint, touchpoints)


@transaction.atomic
def attach_anonymous(*, anonymous_id: str, contact_id: int) -> int:
    """Give a visitor's anonymous touches to the contact it turned out to be (identity stitching)."""
    return Touchpoint.objects.filter(anonymous_id=anonymous_id, contact__isnull=True).update(
        contact_id=contact_id
    )
