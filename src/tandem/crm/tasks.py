"""Background jobs of the CRM (Huey); each idempotent, because queues redeliver."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from tandem.crm import services


@db_task(retries=0)
def run_import(job_id: int) -> None:
    """Run a queued CSV import (a second delivery finds the job taken and does nothing)."""
    services.run_import_job(job_id=job_id)
