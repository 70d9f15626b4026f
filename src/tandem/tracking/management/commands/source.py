"""`tandem source create NAME [--origin URL]...`: print a new source's public write key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tandem.errors import DomainError
from tandem.marketing.services.sources import create_source


class Command(BaseCommand):
    help = "Manage tracking sources (public write keys that can only ingest events)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a source and print its write key (once)")
        create.add_argument("name")
        create.add_argument(
            "--origin",
            action="append",
            default=[],
            metavar="URL",
            help="a browser origin allowed to send events (scheme://host[:port]); repeatable",
        )

    def handle(self, *args: Any, action: str, name: str, origin: list[str], **options: Any) -> None:
        try:
            _, raw = create_source(name=name, origins=origin)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(raw)
