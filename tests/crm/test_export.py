"""CSV export: formula-safe cells, permission scope, filters and the CLI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tandem.crm.exports import CONTACT_COLUMNS, export_contacts, safe_cell
from tandem.crm.models import Contact
from tandem.crm.queries import ContactFilter
from tests.crm.factories import ContactFactory

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        (" =cmd|' /C calc'!A0", "' =cmd|' /C calc'!A0"),
        ("+", "'+"),
        ("-", "'-"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  +1 555 0100", "'  +1 555 0100"),
        ("Ann", "Ann"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
        (WHEN, "2024-05-06T07:08:09+00:00"),
    ],
)
def test_safe_cell_neutralises_formulas(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_export_writes_every_column_and_neutralises_cells(world: Any) -> None:
    Contact.objects.update(created_at=WHEN, last_activity_at=None)
    ContactFactory(
        email="x@evil.com",
        first_name='=HYPERLINK("http://x")',
        last_name=" -2+3",
        title="@cmd",
        phone="+1 555",
        created_at=WHEN,
        lead_status="new",
    )
    out = io.StringIO()

    count = export_contacts(user=world.admin, out=out)

    rows = rows_of(out.getvalue())
    assert count == 6
    assert rows[0] == list(CONTACT_COLUMNS)
    ann = world.rep1_contact
    assert rows[1] == [
        str(ann.pk),
        "ann@acme.com",
        "Ann",
        "Archer",
        "",
        "",
        "Acme Corp",
        "acme.com",
        "lead",
        "",
        "rep1",
        "other",
        "not_subscribed",
        "2024-05-06T07:08:09+00:00",
        "",
    ]
    evil = rows[-1]
    assert evil[1:6] == ["x@evil.com", '\'=HYPERLINK("http://x")', "' -2+3", "'@cmd", "'+1 555"]
    assert evil[6:11] == ["", "", "lead", "new", ""]


def test_export_respects_permissions_and_filters(world: Any) -> None:
    out = io.StringIO()
    count = export_contacts(user=world.rep1, out=out)
    # a rep sees what they own plus the unassigned records of their team
    assert count == 2
    assert [r[1] for r in rows_of(out.getvalue())[1:]] == ["ann@acme.com", "dee@initech.com"]

    out = io.StringIO()
    assert export_contacts(user=world.manager, out=out, flt=ContactFilter(owner="rep2")) == 1
    assert rows_of(out.getvalue())[1][1] == "bob@acme.com"

    out = io.StringIO()
    assert export_contacts(user=world.rep3, out=out, flt=ContactFilter(owner="rep1")) == 0
    assert rows_of(out.getvalue()) == [list(CONTACT_COLUMNS)]


def test_cli_exports_everything_with_filters(world: Any, tmp_path: Path) -> None:
    Contact.objects.filter(pk=world.rep3_contact.pk).update(lifecycle_stage="customer")
    path = tmp_path / "all.csv"
    out = io.StringIO()

    call_command("export_data", "contacts", str(path), stdout=out)

    assert out.getvalue() == f"Exported 5 contacts to {path}\n"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,email,")
    assert len(rows_of(raw.decode("utf-8-sig"))) == 6

    call_command("export_data", "contacts", str(path), "--lifecycle-stage", "Customer", stdout=out)
    assert [r[1] for r in rows_of(path.read_text(encoding="utf-8-sig"))[1:]] == ["cy@globex.com"]
    call_command("export_data", "contacts", str(path), "--owner", "none", stdout=out)
    assert [r[1] for r in rows_of(path.read_text(encoding="utf-8-sig"))[1:]] == [
        "dee@initech.com",
        "eve@hooli.com",
    ]


def test_cli_export_refuses_bad_input(world: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"^no active user named 'ghost'$"):
        call_command("export_data", "contacts", str(tmp_path / "x.csv"), "--owner", "ghost")
    with pytest.raises(CommandError, match=r"^lifecycle_stage 'nirvana' is not one of"):
        call_command(
            "export_data", "contacts", str(tmp_path / "x.csv"), "--lifecycle-stage", "nirvana"
        )
    with pytest.raises(CommandError, match=r"^folder not found"):
        call_command("export_data", "contacts", str(tmp_path / "nope" / "x.csv"))
