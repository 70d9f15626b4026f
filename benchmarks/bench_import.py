"""Import 100,000 contacts from a HubSpot-style CSV on SQLite; target under 30 s.

Baseline, measured in the same run: the naive import (crm.services.create_contact per row, with a
company lookup or create_company per row) on the file's first 2,000 rows, in a separate fresh
database (a child process), extrapolated linearly to 100,000 rows.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import report, setup_django, timer

ROWS = 100_000
BASELINE_ROWS = 2_000
TARGET_SECONDS = 30.0
OWNERS = [f"rep{i}" for i in range(1, 7)]
HEADER = [
    "First Name",
    "Last Name",
    "Email",
    "Company Name",
    "Company Domain Name",
    "Job Title",
    "Phone Number",
    "Lifecycle Stage",
    "Lead Status",
    "Contact Owner",
    "Original Source",
    "Create Date",
    "City",
]
FIRST = [
    "Ann",
    "Bob",
    "Cy",
    "Dee",
    "Eve",
    "Finn",
    "Gia",
    "Hal",
    "Ivy",
    "Jon",
    "Kai",
    "Lou",
    "Mia",
    "Ned",
    "Ola",
    "Pia",
    "Quinn",
    "Rae",
    "Sol",
    "Tia",
    "Uma",
    "Vic",
    "Wes",
    "Xia",
    "Yan",
    "Zoe",
]
LAST = [
    "Archer",
    "Baker",
    "Cole",
    "Diaz",
    "Evans",
    "Fox",
    "García",
    "Hill",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Quist",
    "Rossi",
    "Smith",
    "Tanaka",
]
TITLES = [
    "CTO",
    "VP Marketing",
    "Head of Sales",
    "Engineer",
    "Analyst",
    "Director of IT",
    "CEO",
    "",
]
STAGES = [
    "Subscriber",
    "Lead",
    "Lead",
    "Lead",
    "Marketing Qualified Lead",
    "salesqualifiedlead",
    "Opportunity",
    "Customer",
    "",
]
STATUSES = ["New", "Open", "In Progress", "Attempted to contact", "Connected", ""]
SOURCES = [
    "Organic Search",
    "Paid Search",
    "Email Marketing",
    "Referrals",
    "Direct Traffic",
    "Offline Sources",
    "Paid Social",
    "",
]
CITIES = ["Boston", "Berlin", "London", "Paris", "Austin", "Toronto", ""]


def make_users() -> None:
    """The owners the file names, in whichever fresh database this process uses."""
    from tandem.accounts.services import create_team, create_user

    team = create_team(name="Sales", kind="sales")
    for name in OWNERS:
        create_user(username=name, password=None, role="sales_rep", team=team)


def write_csv(path: Path, rows: int, seed: int = 42) -> dict[str, int]:
    """A realistic contacts export: ~8,000 companies, 1% duplicate emails, 0.2% bad rows."""
    rng = random.Random(seed)
    companies = [(f"Company {i}", f"company{i}.example" if i % 5 else "") for i in range(8_000)]
    start = datetime(2021, 1, 1, tzinfo=UTC)
    emails: list[str] = []
    bad = dups = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = (
                f"{first.lower()}.{i}@{rng.choice(['gmail.com', 'example.org', 'corp.example'])}"
            )
            roll = rng.random()
            if roll < 0.01 and emails:
                email = rng.choice(emails).upper()
                dups += 1
            elif roll < 0.012:
                email = rng.choice(["", "not-an-email", "bob@", "a b@example.com"])
                bad += 1
            else:
                emails.append(email)
            name, domain = rng.choice(companies)
            created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 900))
            writer.writerow(
                [
                    first,
                    last,
                    email,
                    name,
                    domain,
                    rng.choice(TITLES),
                    f"+1 555 {rng.randrange(10**6, 10**7)}",
                    rng.choice(STAGES),
                    rng.choice(STATUSES),
                    rng.choice([*OWNERS, "", ""]),
                    rng.choice(SOURCES),
                    created.strftime("%Y-%m-%d %H:%M"),
                    rng.choice(CITIES),
                ]
            )
    return {"bad": bad, "duplicates": dups}


def naive_import(path: Path, limit: int) -> float:
    """The per-row approach through the services; returns seconds for `limit` rows."""
    from tandem.accounts.models import User
    from tandem.crm import services
    from tandem.crm.imports import _SOURCE_ALIASES, _key
    from tandem.crm.models import Company, Contact
    from tandem.crm.normalise import normalise_domain
    from tandem.errors import Conflict, InvalidInput

    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for _, row in zip(range(limit), csv.DictReader(handle), strict=False)]
    with timer() as t:
        for row in rows:
            try:
                owner = (
                    User.objects.filter(username=row["Contact Owner"]).first()
                    if row["Contact Owner"]
                    else None
                )
                domain = normalise_domain(row["Company Domain Name"])
                company = None
                if domain:
                    company = Company.objects.filter(domain=domain).first()
                if company is None and row["Company Name"]:
                    company = Company.objects.filter(name__iexact=row["Company Name"]).first()
                    if company is None:
                        company = services.create_company(
                            name=row["Company Name"], domain=domain, owner=owner
                        )
                values = {
                    "first_name": row["First Name"],
                    "last_name": row["Last Name"],
                    "title": row["Job Title"],
                    "phone": row["Phone Number"],
                    "lead_status": row["Lead Status"],
                }
                source = _SOURCE_ALIASES.get(_key(row["Original Source"]), "import")
                created = datetime.strptime(row["Create Date"], "%Y-%m-%d %H:%M").replace(
                    tzinfo=UTC
                )
                try:
                    services.create_contact(
                        email=row["Email"],
                        first_name=values["first_name"],
                        last_name=values["last_name"],
                        title=values["title"],
                        phone=values["phone"],
                        lead_status=values["lead_status"],
                        company=company,
                        owner=owner,
                        original_source=source,
                        lifecycle_stage=row["Lifecycle Stage"] or "subscriber",
                        created_at=created,
                        custom_fields={"City": row["City"]} if row["City"] else {},
                        rule="import",
                    )
                except Conflict:
                    contact = Contact.objects.get(email=row["Email"].strip().lower())
                    services.update_contact(
                        contact=contact, changes={k: v for k, v in values.items() if v}
                    )
            except InvalidInput:
                continue
    return t["seconds"]


def baseline_child(path: Path) -> None:
    """Child process: a fresh database, the naive import of the first rows, seconds as JSON."""
    setup_django("import_baseline")
    make_users()
    print(json.dumps({"seconds": naive_import(path, BASELINE_ROWS)}))


def main() -> int:
    """Generate the file, time the bulk import, time the naive baseline, report."""
    data_dir = setup_django("import")
    from tandem.crm.imports import import_contacts
    from tandem.crm.models import Company, Contact, LifecycleChange, TimelineEvent

    make_users()
    path = data_dir / "contacts_100k.csv"
    with timer() as gen:
        made = write_csv(path, ROWS)
    print(
        f"generated {ROWS:,} rows ({path.stat().st_size / 1e6:.1f} MB, {made['duplicates']} duplicates, "
        f"{made['bad']} bad) in {gen['seconds']:.1f} s"
    )
    with path.open("rb") as source, timer() as t:
        result = import_contacts(source=source)
    print(
        f"import: created={result.created:,} updated={result.updated:,} rejected={len(result.rejected):,}; "
        f"{Company.objects.count():,} companies, {LifecycleChange.objects.count():,} stage rows, "
        f"{TimelineEvent.objects.count():,} timeline events"
    )
    assert result.created + result.updated + len(result.rejected) == ROWS
    assert Contact.objects.count() == result.created
    assert len(result.rejected) >= made["bad"]

    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_import", "--baseline", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if child.returncode != 0:
        print(f"baseline run failed:\n{child.stderr}")
        return 1
    naive = json.loads(child.stdout.strip().splitlines()[-1])["seconds"]
    print(f"naive: {BASELINE_ROWS:,} rows in {naive:.1f} s")
    ok = report(
        "import 100k contacts (SQLite)",
        figure="wall time",
        value=t["seconds"],
        unit="s",
        target=TARGET_SECONDS,
        baseline=naive * ROWS / BASELINE_ROWS,
        baseline_label=f"create_contact per row: {BASELINE_ROWS:,} rows x {ROWS // BASELINE_ROWS}",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline":
        baseline_child(Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(main())
