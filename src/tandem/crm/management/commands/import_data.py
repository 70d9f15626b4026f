"""`tandem import contacts|companies FILE.csv`: import with a progress bar and an error report."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from tandem.crm.exports import safe_cell
from tandem.crm.imports import ImportResult, import_companies, import_contacts, parse_mapping
from tandem.errors import DomainError

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Import contacts or companies from a UTF-8 CSV file (dedupe by email / domain)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=["contacts", "companies"])
        parser.add_argument(
            "file", help="the CSV file, UTF-8 (with or without BOM), header row first"
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar='"Header=field"',
            help="read a column into a field (repeatable); field may be ignore or custom:NAME",
        )
        parser.add_argument(
            "--errors", metavar="FILE.csv", help="write every rejected row as line,reason"
        )

    def handle(
        self, *args: Any, kind: str, file: str, map: list[str], errors: str | None, **options: Any
    ) -> None:
        path = Path(file)
        if not path.exists():
            raise CommandError(f"file not found: {file}")
        if not path.is_file():
            raise CommandError(f"not a file: {file}")
        try:
            mapping = parse_mapping(map)
            source = path.open("rb")
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        # Rich needs the raw stream: Django's wrapper adds a newline to every write.
        stream: Any = getattr(self.stdout, "_out", self.stdout)
        console = Console(file=stream, highlight=False)
        service = import_contacts if kind == "contacts" else import_companies
        size = path.stat().st_size
        try:
            with (
                source,
                Progress(
                    TextColumn(f"Importing {kind}"),
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    console=console,
                ) as bar,
            ):
                task = bar.add_task("import", total=size or None)
                result = service(
                    source=source,
                    mapping=mapping,
                    by=None,
                    total_bytes=size,
                    progress=lambda done: bar.update(task, completed=done),
                )
        except DomainError as exc:
            raise CommandError(str(exc).replace("\n", " ")) from None
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        self._summary(console, result)
        if errors:
            self._write_errors(Path(errors), result)
            console.print(f"All {len(result.rejected)} rejected rows written to {errors}")

    def _summary(self, console: Console, result: ImportResult) -> None:
        table = Table(title=f"Import of {result.kind}")
        table.add_column("result")
        table.add_column("rows", justify="right")
        table.add_row("created", str(result.created))
        table.add_row("updated", str(result.updated))
        table.add_row("rejected", str(len(result.rejected)))
        console.print(table)
        if result.ignored_columns:
            console.print(Text("Ignored columns: " + ", ".join(result.ignored_columns)))
        if not result.rejected:
            return
        rejected = Table(title=f"Rejected rows (first {min(SHOWN_ERRORS, len(result.rejected))})")
        rejected.add_column("line", justify="right")
        rejected.add_column("reason")
        for error in result.rejected[:SHOWN_ERRORS]:
            # Reasons quote file content: print it as plain text, never as Rich markup.
            rejected.add_row(str(error.line), Text(error.reason))
        console.print(rejected)
        if len(result.rejected) > SHOWN_ERRORS:
            console.print(
                f"... and {len(result.rejected) - SHOWN_ERRORS} more; use --errors FILE.csv"
            )

    def _write_errors(self, path: Path, result: ImportResult) -> None:
        try:
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "reason"])
                for error in result.rejected:
                    writer.writerow([error.line, safe_cell(error.reason)])
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from None
