"""Bulk inserts keyed by an idempotency key: rows already stored are skipped, not duplicated."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models


def insert_missing(model: type[models.Model], rows: Sequence[models.Model]) -> int:
    """Insert the unsaved rows whose `idempotency_key` is not stored yet; returns how many."""
    if not rows:
        return 0
    keys = [row.idempotency_key for row in rows]  # type: ignore[attr-defined]
    stored = set(
        model._default_manager.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = [row for row in rows if row.idempotency_key not in stored]  # type: ignore[attr-defined]
    # ignore_conflicts covers a concurrent writer of the same keys between the two statements.
    model._default_manager.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
    return len(fresh)
