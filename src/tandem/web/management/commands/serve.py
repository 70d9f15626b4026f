"""`tandem serve`: the web app and API, plus an in-process job consumer in embedded mode."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules
from huey import RedisHuey


class Command(BaseCommand):
    help = "Serve the web app and API (and, with the embedded queue, run the job consumer too)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, host: str, port: int, threads: int, **options: Any) -> None:
        from waitress import create_server

        from tandem.wsgi import application

        if not 1 <= port <= 65535:
            raise CommandError(f"port {port} is out of range 1-65535")
        call_command("collectstatic", interactive=False, verbosity=0)
        try:
            server = create_server(application, host=host, port=port, threads=threads)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self.stdout.write(f"Tandem is serving on http://{host}:{port}/")
        if isinstance(settings.HUEY, RedisHuey):
            server.run()
            return
        # Embedded mode: the consumer owns the main thread (it handles signals), the server a thread.
        threading.Thread(target=server.run, name="web", daemon=True).start()
        self.stdout.write("In-process job consumer started (embedded SQLite queue).")
        autodiscover_modules("tasks")  # register every app's tasks before consuming
        consumer = settings.HUEY.create_consumer(workers=2, worker_type="thread", periodic=True)
        consumer.run()
