"""Contacts list API at 100,000 contacts: p95 server time per filter, against the bare ORM query.

Run: `.venv/bin/python -m benchmarks.bench_contacts_api` (exit 1 when a target is missed).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import percentile, report, sample_ms, setup_django, timer

CONTACTS = 100_000
COMPANIES = 20_000
SALES_TEAMS = 5
REPS_PER_TEAM = 10
REQUESTS = 200
TARGET_MS = 50.0
SEED = 20250301


def _words(text: str) -> list[str]:
    """The whitespace-separated words of text."""
    return text.split()


FIRST_NAMES = _words("""
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
    Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty
    Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua
    Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald
    Rebecca Edward Sharon Jason Laura Jeffrey Cynthia Ryan Kathleen Jacob Amy Gary Angela Nicholas
    Shirley Eric Anna Jonathan Brenda Stephen Pamela Larry Emma Justin Nicole Scott Helen Brandon
    Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Frank Carolyn
    Patrick Janet Raymond Maria Jack Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce Jose
    Victoria Adam Kelly Nathan Christina Henry Lauren Douglas Joan Zachary Evelyn Peter Judith Kyle
    Megan Noah Andrea Ethan Cheryl Jeremy Hannah Walter Jacqueline Christian Martha Keith Gloria
    Roger Teresa Terry Ann Austin Sara Sean Madison Gerald Frances Carl Kathryn Harold Janice Dylan
    Jean Arthur Abigail Lawrence Alice Jordan Judy Jesse Sophia Bryan Grace Billy Denise Bruce
    Amber Gabriel Doris Joe Marilyn Logan Danielle Alan Beverly Juan Isabella Albert Theresa Willie
    Diana Elijah Natalie Wayne Brittany Randy Charlotte Vincent Marie Mason Kayla Roy Alexis Ralph
    Lori Bobby Martin Marco Mario
""")
LAST_NAMES = _words("""
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
    Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
    Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
    Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
    Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
    Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton
    Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina
    Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington
    Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter
    Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black
    Robertson Boyd Rose
""")
SYLLABLES = _words(
    "ac me glo bex ini tech umb rel la hoo li sto ne vel ox ar ka zen dyn amo ter ra"
)
SUFFIXES = ["Inc", "LLC", "Ltd", "GmbH", "Group", "Labs", "Systems", "Partners", "Holdings", "Co"]
STAGES = [
    ("subscriber", 35),
    ("lead", 30),
    ("mql", 10),
    ("sql", 7),
    ("opportunity", 5),
    ("customer", 8),
    ("evangelist", 2),
    ("disqualified", 3),
]


@dataclass
class Case:
    """One measured request: the URL's query, who asks, and the same filter for the ORM baseline."""

    name: str
    user: Any
    key: str
    params: dict[str, str]


def build_dataset() -> dict[str, Any]:
    """Bulk-create teams, users, 20k companies and 100k contacts with a realistic spread."""
    from tandem.accounts.services import create_api_key, create_team, create_user
    from tandem.crm.models import Company, Contact

    rng = random.Random(SEED)
    create_team(name="Marketing", kind="marketing")
    admin = create_user(username="admin", password=None, role="admin")
    reps, teams = [], []
    for t in range(SALES_TEAMS):
        team = create_team(name=f"Sales {t + 1}", kind="sales")
        team.manager = create_user(
            username=f"manager{t + 1}", password=None, role="sales_manager", team=team
        )
        team.save()
        teams.append(team)
        for r in range(REPS_PER_TEAM):
            reps.append(
                create_user(
                    username=f"rep{t * REPS_PER_TEAM + r + 1}",
                    password=None,
                    role="sales_rep",
                    team=team,
                )
            )
    now = datetime.now(UTC)
    companies = []
    for i in range(COMPANIES):
        stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()
        owner = rng.choice(reps) if rng.random() < 0.8 else None
        companies.append(
            Company(
                name=f"{stem} {rng.choice(SUFFIXES)}",
                domain=f"{stem.lower()}{i}.example",
                industry="Software",
                country=rng.choice(["US", "CA", "GB", "DE", "FR"]),
                owner=owner,
                team=owner.team if owner else rng.choice([*teams, None]),
                created_at=now - timedelta(days=rng.randint(0, 1500)),
            )
        )
    Company.objects.bulk_create(companies, batch_size=5000)
    company_ids = list(Company.objects.values_list("id", flat=True))
    stage_names = [s for s, _ in STAGES]
    stage_weights = [w for _, w in STAGES]
    # Name popularity is skewed, as in real CRMs: a few first names are very common.
    first_weights = [1 / (i + 1) ** 0.7 for i in range(len(FIRST_NAMES))]
    contacts = []
    for i in range(CONTACTS):
        first = rng.choices(FIRST_NAMES, first_weights)[0]
        last = rng.choice(LAST_NAMES)
        roll = rng.random()
        owner = rng.choice(reps) if roll < 0.85 else None
        team = owner.team if owner else (rng.choice(teams) if roll < 0.95 else None)
        contacts.append(
            Contact(
                email=f"{first.lower()}.{last.lower()}.{i}@mail{i % 997}.example",
                first_name=first,
                last_name=last,
                company_id=rng.choice(company_ids) if rng.random() < 0.9 else None,
                lifecycle_stage=rng.choices(stage_names, stage_weights)[0],
                owner=owner,
                team=team,
                original_source="organic_search",
                subscription_status="subscribed",
                created_at=now - timedelta(minutes=rng.randint(0, 2_000_000)),
            )
        )
    Contact.objects.bulk_create(contacts, batch_size=5000)
    rep = reps[0]
    return {
        "admin": admin,
        "admin_key": create_api_key(user=admin)[1],
        "rep": rep,
        "rep_key": create_api_key(user=rep)[1],
        "owner": reps[7].username,
    }


def _orm_page(user: Any, params: dict[str, str]) -> Callable[[], object]:
    """The list endpoint's page query, evaluated directly: no HTTP, auth, validation or JSON."""
    from tandem.crm import queries
    from tandem.pagination import keyset_page

    flt = _filter(params)

    def run() -> object:
        qs = queries.contacts_for(user, flt).select_related("owner")
        return keyset_page(qs, limit=int(params["limit"]), cursor=params.get("cursor")).items

    return run


def _filter(params: dict[str, str]) -> Any:
    from tandem.crm import queries

    return queries.ContactFilter(
        q=params.get("q", ""),
        lifecycle_stage=params.get("lifecycle_stage", ""),
        owner=params.get("owner", ""),
    )


def _count(user: Any, params: dict[str, str]) -> int:
    from tandem.crm import queries

    return queries.contacts_for(user, _filter(params)).count()


def _explain(user: Any, params: dict[str, str]) -> str:
    """The query plan of the page's id query (the part that searches)."""
    from tandem.crm import queries

    qs = queries.contacts_for(user, _filter(params)).order_by("id")
    return qs.values("id")[:51].explain()


def main() -> int:
    """Build the data, measure every case through the API and through the ORM, report, exit 0/1."""
    setup_django("contacts_api")
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from tandem.crm.models import Contact
    from tandem.pagination import encode_cursor

    # Measure as production runs: without DEBUG's per-query bookkeeping.
    settings.DEBUG = False
    with timer() as built:
        data = build_dataset()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"dataset: {CONTACTS:,} contacts in {COMPANIES:,} companies, built in {built['seconds']:.1f} s"
    )
    rep_owned = Contact.objects.filter(owner=data["rep"]).count()
    print(f"bench rep {data['rep'].username} owns {rep_owned:,} contacts")
    deep = encode_cursor(
        Contact.objects.order_by("id").values_list("id", flat=True)[CONTACTS - 5_000]
    )
    admin, rep = (data["admin"], data["admin_key"]), (data["rep"], data["rep_key"])
    cases = [
        Case("list", *admin, {"limit": "50"}),
        Case("q common prefix", *admin, {"limit": "50", "q": "mar"}),
        Case("q rare term (scans)", *admin, {"limit": "50", "q": "zyx"}),
        Case("lifecycle_stage=mql", *admin, {"limit": "50", "lifecycle_stage": "mql"}),
        Case("owner=<username>", *admin, {"limit": "50", "owner": data["owner"]}),
        Case("deep keyset page", *admin, {"limit": "50", "cursor": deep}),
        Case("rep: list", *rep, {"limit": "50"}),
        Case("rep: q common prefix", *rep, {"limit": "50", "q": "mar"}),
        Case("rep: q rare term", *rep, {"limit": "50", "q": "zyx"}),
        Case("rep: lifecycle_stage=mql", *rep, {"limit": "50", "lifecycle_stage": "mql"}),
        Case("rep: owner=<self>", *rep, {"limit": "50", "owner": data["rep"].username}),
        Case("rep: deep keyset page", *rep, {"limit": "50", "cursor": deep}),
    ]
    for term in ("mar", "zyx"):
        matches = _count(data["admin"], {"q": term})
        print(f"q={term!r} matches {matches:,} of {CONTACTS:,} contacts")
    client = Client()
    ok = True
    for case in cases:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {case.key}"}

        def call(case: Case = case, headers: dict[str, str] = headers) -> object:
            response = client.get("/api/v1/contacts", case.params, **headers)
            if response.status_code != 200:
                raise SystemExit(
                    f"{case.name}: HTTP {response.status_code} {response.content[:200]!r}"
                )
            return response

        api_ms = sample_ms(call, repeat=REQUESTS)
        orm_ms = sample_ms(_orm_page(case.user, case.params), repeat=REQUESTS)
        passed = report(
            f"contacts API {case.name}",
            figure="p95",
            value=percentile(api_ms, 95),
            unit="ms",
            target=TARGET_MS,
            baseline=percentile(orm_ms, 95),
            baseline_label="same queryset via the ORM, no HTTP/API layer",
        )
        if not passed:
            ok = False
            print("  query plan:\n    " + _explain(case.user, case.params).replace("\n", "\n    "))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
