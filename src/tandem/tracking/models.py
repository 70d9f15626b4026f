"""The raw event log, anonymous visitors and their identities, and rate-limit counters."""

from __future__ import annotations

from django.db import models


class Event(models.Model):
    """One ingested event exactly as accepted; processing turns it into timeline and touches.

    Kept lean (few indexes) because ingestion is the hot path: the API inserts here and a job
    does the joins. `processed_at` stays null until that job has run for the row.
    """

    source = models.ForeignKey(
        "marketing.Source", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The sender's id for the event (idempotency); server-made events get a random one.
    event_id = models.CharField(max_length=128)
    type = models.CharField(max_length=80)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    anonymous_id = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=254, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    # {"url", "referrer", "utm": {...}, "ip", "user_agent"} as sent (cleaned, never trusted).
    context = models.JSONField(default=dict, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="event_source_event_id"),
        ]
        indexes = [
            models.Index(fields=["anonymous_id", "occurred_at"], name="event_anonymous_at"),
            models.Index(fields=["source", "-id"], name="event_source_recent"),
            models.Index(
                fields=["id"], condition=models.Q(processed_at__isnull=True), name="event_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Visitor(models.Model):
    """A browser known by its random first-party anonymous id, and who it turned out to be."""

    anonymous_id = models.CharField(max_length=64, unique=True)
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    identified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contact"], name="visitor_contact")]

    def __str__(self) -> str:
        return self.anonymous_id


class RateCounter(models.Model):
    """A fixed-window counter shared by every process (forms' per-IP limit)."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.count}"
