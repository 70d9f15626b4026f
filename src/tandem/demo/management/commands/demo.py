"""`tandem demo`: build the demo dataset, print the logins, then serve it."""

from __future__ import annotations

import time
from typing import IO, Any, cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from tandem.demo.data import DEMO_PASSWORD, DEMO_TEAMS, DEMO_USERS
from tandem.demo.pipeline import DEFAULT_CONTACTS, build, refuse_existing_data
from tandem.errors import DomainError

MAX_CONTACTS = 200_000


class Command(BaseCommand):
    help = "Build the realistic demo dataset (demo logins included) and serve it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--contacts",
            type=int,
            default=DEFAULT_CONTACTS,
            help=f"how many contacts to generate (default {DEFAULT_CONTACTS:,})",
        )
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
        parser.add_argument("--no-serve", action="store_true", help="exit once the data is built")
        parser.add_argument(
            "--port", type=int, default=8000, help="port to serve on (default 8000)"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="wipe CRM and accounts data first (everything, not only demo data)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="build even though TANDEM_DEBUG is off (never on a production database)",
        )

    def handle(
        self,
        *args: Any,
        contacts: int,
        seed: int,
        no_serve: bool,
        port: int,
        reset: bool,
        force: bool,
        **options: Any,
    ) -> None:
        if not 1 <= contacts <= MAX_CONTACTS:
            raise CommandError(f"--contacts must be between 1 and {MAX_CONTACTS:,}, got {contacts}")
        if not 1 <= port <= 65535:
            raise CommandError(f"port {port} is out of range 1-65535")
        if not settings.DEBUG and not force:
            raise CommandError(
                "refusing to load demo users and data with TANDEM_DEBUG off; "
                "pass --force if this really is a throwaway database"
            )
        console = Console(file=cast(IO[str], self.stdout), highlight=False, soft_wrap=True)
        call_command("migrate", interactive=False, verbosity=0)
        try:
            if not reset:
                refuse_existing_data()  # before the banner; build() checks again in its transaction
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        # Dates are anchored to today so the demo always looks current; the rest follows the seed.
        now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        console.print(f"Building the demo dataset: {contacts:,} contacts, seed {seed}")
        started = time.perf_counter()

        def report(step: str, seconds: float, counts: dict[str, int]) -> None:
            made = ", ".join(f"{n:,} {what.replace('_', ' ')}" for what, n in counts.items())
            console.print(f"  [green]✓[/] {step:<16} {seconds:6.2f} s  {made}")

        try:
            with console.status("Generating…"):
                build(seed=seed, contacts=contacts, now=now, reset=reset, on_step=report)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        console.print(f"Done in {time.perf_counter() - started:.1f} s.\n")
        self._print_logins(console, port, serving=not no_serve)
        if not no_serve:
            call_command("serve", port=port)

    def _print_logins(self, console: Console, port: int, *, serving: bool) -> None:
        url = f"http://127.0.0.1:{port}/"
        table = Table(
            title=f"Demo logins — password for all: {DEMO_PASSWORD}", title_justify="left"
        )
        for column in ("username", "role", "team", "sees"):
            table.add_column(column)
        for user in DEMO_USERS:
            team = DEMO_TEAMS[user.team][0] if user.team else "—"
            table.add_row(user.username, user.role.replace("_", " "), team, user.sees)
        console.print(table)
        if serving:
            console.print(f"Open [bold]{url}[/] and sign in as one of the users above.")
        else:
            serve = "tandem serve" if port == 8000 else f"tandem serve --port {port}"
            console.print(f"Start the app with `{serve}`, then open {url} and sign in.")
