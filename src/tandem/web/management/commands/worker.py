"""`tandem worker`: a job consumer alone (run several against one Redis to scale out)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules


class Command(BaseCommand):
    help = (
        "Run a job consumer (for the Redis queue; the embedded queue runs inside `tandem serve`)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=4)

    def handle(self, *args: Any, workers: int, **options: Any) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        self.stdout.write(
            f"Job consumer on {settings.QUEUE_URL_DESCRIPTION} with {workers} workers"
        )
        autodiscover_modules("tasks")  # register every app's tasks before consuming
        settings.HUEY.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
