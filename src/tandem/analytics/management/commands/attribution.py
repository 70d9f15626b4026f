"""`tandem attribution paths FILE.csv [--sep ">"] [--models all] [--out FILE]`: attribution over aggregated journeys.

`tandem` runs this without Django (tandem.cli's fast path); both call run_paths_command.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tandem.analytics.compute.paths import PathsError, add_arguments, run_paths_command


class Command(BaseCommand):
    help = "Attribution over aggregated journeys (a path CSV); see CONTRACT.md."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        paths = sub.add_parser(
            "paths", help="credit channels under six models from a path,total_conversions,... CSV"
        )
        add_arguments(paths)

    def handle(
        self,
        *args: Any,
        action: str,
        file: str,
        sep: str,
        models: str,
        out: str | None,
        **options: Any,
    ) -> None:
        try:
            run_paths_command(file=file, sep=sep, models=models, out=out, stdout=self.stdout)
        except PathsError as exc:
            raise CommandError(str(exc), returncode=2) from None
