"""`tandem export contacts FILE.csv`: every contact as spreadsheet-safe CSV."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tandem.accounts.models import Role, User
from tandem.accounts.queries import user_by_username
from tandem.crm.exports import export_contacts
from tandem.crm.normalise import parse_stage
from tandem.crm.queries import ContactFilter
from tandem.errors import DomainError


class Command(BaseCommand):
    help = "Export contacts to a CSV file (UTF-8 with BOM so that spreadsheets read it right)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=["contacts"])
        parser.add_argument("file")
        parser.add_argument("--lifecycle-stage", default="", help="only contacts in this stage")
        parser.add_argument(
            "--owner", default="", help='only contacts of this username ("none": unassigned)'
        )

    def handle(
        self, *args: Any, kind: str, file: str, lifecycle_stage: str, owner: str, **options: Any
    ) -> None:
        try:
            stage = parse_stage(lifecycle_stage) if lifecycle_stage else ""
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        if owner and owner != "none" and user_by_username(owner) is None:
            raise CommandError(f"no active user named {owner!r}")
        path = Path(file)
        if not path.parent.is_dir():
            raise CommandError(f"folder not found: {path.parent}")
        # The console acts as an administrator: an unsaved admin-role user sees every contact.
        admin = User(username="tandem-cli", role=Role.ADMIN, is_active=True)
        partial = path.with_name(path.name + ".partial")
        try:
            # Written aside and renamed, so a failed export never leaves half a file behind.
            with partial.open("w", newline="", encoding="utf-8-sig") as out:
                count = export_contacts(
                    user=admin, out=out, flt=ContactFilter(lifecycle_stage=stage, owner=owner)
                )
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"cannot write {file}: {exc.strerror}") from None
        self.stdout.write(f"Exported {count} contacts to {file}")
