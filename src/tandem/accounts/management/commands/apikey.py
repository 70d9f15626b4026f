"""`tandem apikey create --user USERNAME`: print a new API key (shown once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tandem.accounts.queries import user_by_username
from tandem.accounts.services import create_api_key


class Command(BaseCommand):
    help = "Manage API keys."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new API key acting with the user's rights")
        create.add_argument("--user", required=True)
        create.add_argument("--name", default="cli")

    def handle(self, *args: Any, action: str, user: str, name: str, **options: Any) -> None:
        owner = user_by_username(user)
        if owner is None:
            raise CommandError(f"no active user named {user!r}")
        _, raw = create_api_key(user=owner, name=name)
        self.stdout.write(raw)
