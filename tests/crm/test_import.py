"""CSV import: header mapping, dedupe, line-numbered rejections, history rows and the CLI."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tandem.crm import imports
from tandem.crm.imports import RowError, import_companies, import_contacts, parse_mapping
from tandem.crm.models import Company, Contact, LifecycleChange, TimelineEvent
from tandem.errors import Forbidden, InvalidInput

FIXTURES = Path(__file__).parent / "fixtures"


def src(text: str, *, bom: bool = False) -> io.BytesIO:
    data = text.encode("utf-8")
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


def test_hubspot_export_headers_are_recognised(world: Any) -> None:
    # Given a HubSpot contacts export (the fixture file), when it is imported
    result = import_contacts(source=(FIXTURES / "hubspot_contacts.csv").open("rb"))

    # then every known header is mapped and the unknown one becomes a custom field
    assert result.mapping == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Company Name": "company",
        "Company Domain Name": "company_domain",
        "Job Title": "title",
        "Phone Number": "phone",
        "Lifecycle Stage": "lifecycle_stage",
        "Lead Status": "lead_status",
        "Contact Owner": "owner",
        "Original Source": "original_source",
        "Create Date": "created_at",
        "Favourite Colour": "custom:Favourite Colour",
    }
    assert (result.created, result.updated, result.rejected, result.ignored_columns) == (
        3,
        0,
        [],
        [],
    )
    jo = Contact.objects.select_related("company", "owner").get(email="jo.smith@initech.com")
    assert (jo.first_name, jo.last_name, jo.title, jo.phone) == (
        "Jo",
        "Smith",
        "CTO",
        "+1 555 0100",
    )
    assert (jo.lifecycle_stage, jo.lead_status, jo.original_source) == (
        "mql",
        "in_progress",
        "paid_search",
    )
    assert (jo.owner.username, jo.team_id) == ("rep1", world.east.pk)
    assert (jo.company.name, jo.company.domain) == ("Initech", "initech.com")
    assert jo.custom_fields == {"Favourite Colour": "teal"}
    assert jo.created_at == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert jo.subscription_status == "not_subscribed"
    # a second Initech row links to the same new company; an existing domain links to acme
    kim = Contact.objects.get(email="kim@initech.com")
    assert kim.company_id == jo.company_id
    assert (kim.lifecycle_stage, kim.original_source, kim.owner_id) == ("sql", "import", None)
    assert Contact.objects.get(email="lee@acme.com").company_id == world.acme.pk
    assert Company.objects.filter(name="Initech").count() == 1


def test_salesforce_export_headers_owner_by_email_and_sources(world: Any) -> None:
    world.rep3.email = "rep3@example.com"
    world.rep3.save()
    csv_text = (
        "First Name,Last Name,Email,Title,Account Name,Mobile,Lead Source,Lead Status,Lead Owner,Created Date\n"
        "Sam,Stone,sam@globex.com,VP Sales,globex,+44 20 7946 0000,Partner Referral,"
        "Open - Not Contacted,REP3@example.com,03/15/2024\n"
        "Ria,Roe,ria@umbrella.io,,Umbrella,,Trade Fair Berlin,Working - Contacted,rep3,2024-02-01\n"
    )
    result = import_contacts(source=src(csv_text))

    assert (result.created, result.updated, result.rejected) == (2, 0, [])
    assert result.mapping["Account Name"] == "company"
    assert result.mapping["Lead Owner"] == "owner"
    sam = Contact.objects.get(email="sam@globex.com")
    # "globex" matches the existing "Globex" by name, case-insensitively
    assert sam.company_id == world.globex.pk
    assert (sam.phone, sam.original_source, sam.lead_status) == (
        "+44 20 7946 0000",
        "referral",
        "open",
    )
    assert (sam.owner_id, sam.team_id) == (world.rep3.pk, world.west.pk)
    assert sam.created_at == datetime(2024, 3, 15, tzinfo=UTC)
    ria = Contact.objects.get(email="ria@umbrella.io")
    # an unknown source is kept as detail under "other"
    assert (ria.original_source, ria.original_source_detail) == ("other", "Trade Fair Berlin")
    assert ria.lead_status == "in_progress"
    assert (ria.company.name, ria.company.domain, ria.company.owner_id) == (
        "Umbrella",
        None,
        world.rep3.pk,
    )


def test_utf8_bom_and_crlf_are_accepted(db: Any) -> None:
    result = import_contacts(source=src("Email,First Name\r\nzoe@example.com,Zoë\r\n", bom=True))

    assert result.mapping == {"Email": "email", "First Name": "first_name"}
    assert result.created == 1
    assert Contact.objects.get().first_name == "Zoë"


def test_latin1_file_fails_clearly_and_imports_nothing(db: Any) -> None:
    data = "Email,First Name\nann@example.com,Ann\nbea@example.com,Béa\n".encode("latin-1")

    with pytest.raises(InvalidInput) as caught:
        import_contacts(source=io.BytesIO(data))

    assert str(caught.value) == (
        "the file is not valid UTF-8: line 3, byte offset 54 (0xe9); "
        "save it as 'CSV UTF-8' and try again"
    )
    assert Contact.objects.count() == 0


def test_bad_rows_are_rejected_with_their_physical_lines(db: Any) -> None:
    csv_text = (
        "Email,First Name,Notes\n"  # line 1
        'ann@example.com,Ann,"two\nlines"\n'  # lines 2-3
        ",NoEmail,x\n"  # line 4
        "bob@,Bob,y\n"  # line 5
        "\n"  # line 6, blank
        'cy@example.com,Cy,"a\r\nb\r\nc"\n'  # lines 7-9
        "dee@example.com,Dee,z,extra\n"  # line 10
        "eve@example.com,Eve\n"  # line 11: a missing trailing cell is an empty cell
    )
    result = import_contacts(source=src(csv_text))

    assert result.rejected == [
        RowError(line=4, reason="email is required"),
        RowError(line=5, reason="email 'bob@' is not a valid address"),
        RowError(line=10, reason="the row has 4 values but the header has 3 columns"),
    ]
    assert (result.created, result.updated) == (3, 0)
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "cy@example.com",
        "eve@example.com",
    ]
    assert Contact.objects.get(email="ann@example.com").custom_fields == {"Notes": "two\nlines"}


def test_duplicate_in_file_updates_the_earlier_row_and_keeps_filled_fields(db: Any) -> None:
    csv_text = (
        "Email,First Name,Job Title,Lifecycle Stage\n"
        "pat@example.com,Pat,Engineer,lead\n"
        " PAT@Example.com ,,Staff Engineer,Marketing Qualified Lead\n"
    )
    result = import_contacts(source=src(csv_text))

    assert (result.created, result.updated, result.rejected) == (1, 1, [])
    pat = Contact.objects.get()
    assert (pat.email, pat.first_name, pat.title, pat.lifecycle_stage) == (
        "pat@example.com",
        "Pat",
        "Staff Engineer",
        "mql",
    )
    history = list(
        LifecycleChange.objects.order_by("id").values_list("from_stage", "to_stage", "rule")
    )
    assert history == [("", "lead", "import"), ("lead", "mql", "import")]


def test_existing_contacts_are_updated_forward_only(world: Any) -> None:
    # ann and bob exist as leads; an empty cell never overwrites, a backward stage is not applied
    csv_text = (
        "Email,First Name,Job Title,Lifecycle Stage,Subscription Status\n"
        "ANN@acme.com,,Buyer,salesqualifiedlead,subscribed\n"
        "bob@acme.com,Robert,Head of IT,Subscriber,\n"
    )
    world.rep1_contact.subscription_status = "unsubscribed"
    world.rep1_contact.save()

    result = import_contacts(source=src(csv_text))

    assert (result.created, result.updated, result.rejected) == (0, 2, [])
    ann = Contact.objects.get(pk=world.rep1_contact.pk)
    assert (ann.first_name, ann.title, ann.lifecycle_stage) == ("Ann", "Buyer", "sql")
    # an old file never resubscribes someone who unsubscribed
    assert ann.subscription_status == "unsubscribed"
    change = LifecycleChange.objects.get(contact=ann)
    assert (change.from_stage, change.to_stage, change.rule, change.changed_by_id) == (
        "lead",
        "sql",
        "import",
        None,
    )
    event = TimelineEvent.objects.get(contact=ann)
    assert (event.type, event.idempotency_key, event.properties) == (
        "lifecycle_stage_changed",
        f"lifecycle:{change.pk}",
        {"from": "lead", "to": "sql", "reason": ""},
    )
    bob = Contact.objects.get(pk=world.rep2_contact.pk)
    assert (bob.first_name, bob.title, bob.lifecycle_stage) == ("Robert", "Head of IT", "lead")
    assert not LifecycleChange.objects.filter(contact=bob).exists()


def test_new_contacts_get_history_and_one_imported_event(world: Any) -> None:
    result = import_contacts(
        source=src(
            "Email,Lifecycle Stage\nnew@example.com,Marketing Qualified Lead\nold@example.com,\n"
        ),
        by=world.marketer,
    )

    assert result.created == 2
    new = Contact.objects.get(email="new@example.com")
    change = LifecycleChange.objects.get(contact=new)
    assert (
        change.from_stage,
        change.to_stage,
        change.rule,
        change.reason,
        change.changed_by_id,
    ) == (
        "",
        "mql",
        "import",
        "created",
        world.marketer.pk,
    )
    assert change.changed_at == new.created_at
    event = TimelineEvent.objects.get(contact=new)
    assert (event.type, event.idempotency_key, event.actor_id, event.properties) == (
        "contact_imported",
        f"import:{new.pk}:created",
        world.marketer.pk,
        {"source": "import", "stage": "mql"},
    )
    old = Contact.objects.get(email="old@example.com")
    assert old.lifecycle_stage == "subscriber"
    assert LifecycleChange.objects.get(contact=old).to_stage == "subscriber"


def test_dedupe_and_company_links_hold_across_chunks(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    csv_text = (
        "Email,Company,Website,Lifecycle Stage\n"
        "a@x.com,Hooli,,lead\n"
        "b@x.com,hooli,https://www.hooli.xyz/about,lead\n"
        "c@x.com,Other Co,hooli.xyz,lead\n"
        "a@x.com,,,customer\n"
        "d@x.com,HOOLI,,subscriber\n"
    )
    result = import_contacts(source=src(csv_text))

    assert (result.created, result.updated, result.rejected) == (4, 1, [])
    hooli = Company.objects.get()
    assert (hooli.name, hooli.domain) == ("Hooli", "hooli.xyz")
    assert set(Contact.objects.values_list("company_id", flat=True)) == {hooli.pk}
    assert Contact.objects.get(email="a@x.com").lifecycle_stage == "customer"
    assert TimelineEvent.objects.filter(type="company_imported", company=hooli).count() == 1
    assert TimelineEvent.objects.filter(type="contact_imported").count() == 4


def test_ten_megabyte_field_is_a_rejected_row_not_a_crash(db: Any) -> None:
    huge = "x" * (10 * 1024 * 1024)
    csv_text = f"Email,First Name,Notes\nbig@example.com,Big,{huge}\nok@example.com,{huge}\nfine@example.com,Fine,\n"

    result = import_contacts(source=src(csv_text))

    assert result.rejected == [
        RowError(line=2, reason="column 'Notes' is longer than 2000 characters"),
        RowError(line=3, reason="first_name is longer than 120 characters"),
    ]
    assert list(Contact.objects.values_list("email", flat=True)) == ["fine@example.com"]


def test_header_only_and_empty_files_are_refused(db: Any) -> None:
    with pytest.raises(InvalidInput, match=r"^the file has a header row but no data rows$"):
        import_contacts(source=src("Email,First Name\r\n\r\n"))
    with pytest.raises(
        InvalidInput, match=r"^the file is empty: the first line must be a header row$"
    ):
        import_contacts(source=src(""))
    with pytest.raises(InvalidInput, match=r"^no column holds the email address"):
        import_contacts(source=src("Name,Phone\nAnn,1\n"))


def test_mapping_overrides_the_headers(db: Any) -> None:
    mapping = parse_mapping(
        ["Correo=email", "Empresa = company", "Notas=ignore", "Color=custom:colour"]
    )
    assert mapping == {
        "Correo": "email",
        "Empresa": "company",
        "Notas": "ignore",
        "Color": "custom:colour",
    }

    result = import_contacts(
        source=src(
            "Correo,Empresa,Notas,Color,Email\nluz@example.com,Pemex,secret,red,ignored@example.com\n"
        ),
        mapping=mapping,
    )

    assert result.mapping == {
        "Correo": "email",
        "Empresa": "company",
        "Color": "custom:colour",
        "Email": "email",
    }
    assert result.ignored_columns == ["Notas"]
    luz = Contact.objects.select_related("company").get()
    # two columns feed email: the first filled one wins
    assert (luz.email, luz.company.name, luz.custom_fields) == (
        "luz@example.com",
        "Pemex",
        {"colour": "red"},
    )


def test_bad_mapping_specs_are_refused(db: Any) -> None:
    with pytest.raises(InvalidInput, match="must look like"):
        parse_mapping(["Email"])
    with pytest.raises(InvalidInput, match="unknown field 'nickname'"):
        parse_mapping(["Alias=nickname"])
    with pytest.raises(InvalidInput, match="is mapped to 'industry', which is not a contact field"):
        import_contacts(source=src("Email,Sector\na@b.co,IT\n"), mapping={"Sector": "industry"})
    with pytest.raises(InvalidInput, match="names column 'Mail', which is not in the header row"):
        import_contacts(source=src("Email\na@b.co\n"), mapping={"Mail": "email"})


def test_companies_import_dedupes_by_domain(world: Any) -> None:
    csv_text = (
        "Name,Company Domain Name,Industry,Number of Employees,Annual Revenue,Country/Region,"
        "State/Region,Company Owner,Facebook Fans\n"
        'Acme Corporation,https://www.acme.com,Manufacturing,"1,200","$5,000,000.50",United States,'
        "NY,,12\n"
        "Initech,initech.com,Software,50,,DE,Bavaria,rep3,7\n"
        "Broken,broken.io,,lots,,,,,\n"
        "Nowhere,nowhere.io,,,,Narnia,,,\n"
        ",,Software,,,,,,\n"
    )
    result = import_companies(source=src(csv_text))

    assert (result.created, result.updated) == (1, 1)
    assert result.ignored_columns == ["Facebook Fans"]
    assert result.rejected == [
        RowError(line=4, reason="employees 'lots' is not a whole number"),
        RowError(
            line=5,
            reason="country 'Narnia' is neither a two-letter ISO code nor a known country name",
        ),
        RowError(line=6, reason="name is required (or a domain)"),
    ]
    acme = Company.objects.get(pk=world.acme.pk)
    assert (
        acme.name,
        acme.industry,
        acme.employees,
        acme.annual_revenue,
        acme.country,
        acme.region,
    ) == (
        "Acme Corporation",
        "Manufacturing",
        1200,
        Decimal("5000000.50"),
        "US",
        "NY",
    )
    assert acme.owner_id == world.rep1.pk  # an empty owner cell leaves the owner alone
    initech = Company.objects.get(domain="initech.com")
    assert (initech.name, initech.country, initech.owner_id, initech.team_id) == (
        "Initech",
        "DE",
        world.rep3.pk,
        world.west.pk,
    )
    assert (
        TimelineEvent.objects.get(company=initech).idempotency_key
        == f"import:company:{initech.pk}:created"
    )


def test_reps_may_not_import_and_progress_reaches_the_end(world: Any) -> None:
    with pytest.raises(Forbidden):
        import_contacts(source=src("Email\na@b.co\n"), by=world.rep1)
    data = "Email\na@b.co\n"
    seen: list[int] = []

    import_contacts(source=src(data), by=world.admin, progress=seen.append)

    assert seen[-1] == len(data)


def test_lone_cr_line_endings_keep_line_numbers(db: Any) -> None:
    result = import_contacts(source=src("Email\rok@example.com\rnot-an-email\r"))

    assert result.created == 1
    assert result.rejected == [
        RowError(line=3, reason="email 'not-an-email' is not a valid address")
    ]


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_imports_and_writes_the_error_report(world: Any, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "E-mail,Owner\nmo@example.com,rep2\nbad,rep2\nno@example.com,ghost\n", encoding="utf-8"
    )
    errors = tmp_path / "errors.csv"
    out = io.StringIO()

    call_command("import_data", "contacts", str(path), "--errors", str(errors), stdout=out)

    text = out.getvalue()
    assert "created" in text and "rejected" in text and "email 'bad' is not a valid address" in text
    assert errors.read_text(encoding="utf-8").splitlines() == [
        "line,reason",
        "3,email 'bad' is not a valid address",
        "4,\"owner 'ghost' is not an active user (give a username or email, or ignore the column)\"",
    ]
    assert Contact.objects.get(email="mo@example.com").owner_id == world.rep2.pk


def test_cli_refuses_bad_input_with_one_line(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"^file not found: .*missing.csv$"):
        call_command("import_data", "contacts", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_bytes("Email\nb\xe9@example.com\n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"^the file is not valid UTF-8: line 2, byte offset 7"):
        call_command("import_data", "contacts", str(bad))
    ok = tmp_path / "ok.csv"
    ok.write_text("Email\n")
    with pytest.raises(CommandError, match=r"^the file has a header row but no data rows$"):
        call_command("import_data", "contacts", str(ok))
    with pytest.raises(CommandError, match="unknown field 'nope'"):
        call_command("import_data", "companies", str(ok), "--map", "Email=nope")


def test_existing_contact_moves_to_a_company_created_by_the_same_chunk(world: Any) -> None:
    result = import_contacts(source=src("Email,Company,Owner\nann@acme.com,Newco,rep3\n"))

    assert (result.created, result.updated) == (0, 1)
    ann = Contact.objects.select_related("company").get(pk=world.rep1_contact.pk)
    assert (ann.company.name, ann.company.owner_id) == ("Newco", world.rep3.pk)
    # a new owner brings their team along
    assert (ann.owner_id, ann.team_id) == (world.rep3.pk, world.west.pk)


def test_reimporting_the_same_file_changes_nothing_twice(db: Any) -> None:
    data = "Email,First Name,Lifecycle Stage\nann@example.com,Ann,lead\nbob@example.com,Bob,mql\n"
    import_contacts(source=src(data))
    before = Contact.objects.get(email="ann@example.com").updated_at

    again = import_contacts(source=src(data))

    assert (again.created, again.updated, again.rejected) == (0, 2, [])
    assert Contact.objects.get(email="ann@example.com").updated_at == before
    assert LifecycleChange.objects.count() == 2
    assert TimelineEvent.objects.count() == 2
