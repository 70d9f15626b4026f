"""Background jobs of leads (Huey); each idempotent, because queues redeliver."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tandem.leads.services import handoff, predictive, scoring, segments


@db_task(retries=3, retry_delay=5)
def contacts_changed(contact_ids: list[int], cause: str) -> None:
    """Rescore these contacts, qualify any that crossed the MQL rule, and refresh their segments."""
    scoring.rescore_contacts(contact_ids=contact_ids, cause=cause)
    # The predictive MQL rule reads the probability: refresh it from the same new behaviour.
    predictive.score_probabilities(contact_ids=contact_ids)
    handoff.qualify_contacts(contact_ids=contact_ids)
    segments.refresh_for_contacts(contact_ids=contact_ids)


@db_periodic_task(crontab(minute="*/5"))
def sweep_slas() -> None:
    """Flag breached SLAs, escalate them to managers and re-route leads not accepted in time."""
    handoff.sweep_slas()


@db_periodic_task(crontab(minute="40", hour="*/6"))
def refresh_all_segments() -> None:
    """Rebuild every dynamic segment (time windows move even when nothing happens)."""
    segments.refresh_all_segments()


@db_periodic_task(crontab(minute="10", hour="2"))
def recompute_scores() -> None:
    """Recompute every score set-based (decay moves every day), then qualify crossers."""
    changed = scoring.recompute_all_scores()
    handoff.qualify_contacts(contact_ids=changed)


@db_periodic_task(crontab(minute="30", hour="3", day_of_week="0"))
def retrain_predictive_model() -> None:
    """Retrain the predictive model weekly and store every contact's probability."""
    predictive.train_model()
