"""Shared fixtures: the "sales org" world every test can stand on."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tandem.accounts.models import Team, User
from tandem.accounts.services import add_territory, create_api_key, create_team, create_user
from tandem.crm.models import Company, Contact
from tests.crm.factories import CompanyFactory, ContactFactory


def pytest_configure(config: Any) -> None:
    from django.conf import settings

    # Tests create many users: a fast hasher keeps the suite quick (production keeps PBKDF2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """A small sales org: one marketing team, two sales teams, a manager, three reps, some records."""

    admin: User
    marketer: User
    manager: User
    rep1: User
    rep2: User
    rep3: User
    marketing_team: Team
    east: Team
    west: Team
    acme: Company
    globex: Company
    rep1_contact: Contact
    rep2_contact: Contact
    rep3_contact: Contact
    east_unassigned: Contact
    nobody_contact: Contact

    def users(self) -> dict[str, User]:
        return {
            "admin": self.admin,
            "marketing": self.marketer,
            "manager": self.manager,
            "rep1": self.rep1,
            "rep2": self.rep2,
            "rep3": self.rep3,
        }


# Rows the migrations seed (pipelines, lost reasons, rejection reasons…): a transactional test
# (live server, browser) flushes every table afterwards, so tests after it would find none.
SEED_MIGRATIONS = [
    ("tandem.leads.migrations.0002_rejection_reasons", "leads.RejectionReason"),
    ("tandem.sales.migrations.0002_seed", "sales.Pipeline"),
]


def ensure_seeded() -> None:
    """Re-run the seeding migrations whose rows a flush removed."""
    from django.apps import apps

    for module, model in SEED_MIGRATIONS:
        if not apps.get_model(model)._default_manager.exists():
            importlib.import_module(module).seed(apps, None)


@pytest.fixture
def world(db: Any) -> World:
    ensure_seeded()
    marketing_team = create_team(name="Marketing", kind="marketing")
    east = create_team(name="Sales East", kind="sales")
    west = create_team(name="Sales West", kind="sales")
    add_territory(team=east, name="North America East", regions=["us-east"], countries=["US", "CA"])
    add_territory(team=west, name="EMEA", regions=["emea"], countries=["GB", "DE", "FR"])
    admin = create_user(username="admin", password="pw-admin-123", role="admin")
    marketer = create_user(
        username="marketing", password="pw-marketing-123", role="marketing", team=marketing_team
    )
    manager = create_user(
        username="manager", password="pw-manager-123", role="sales_manager", team=east
    )
    east.manager = manager
    east.save()
    rep1 = create_user(
        username="rep1", password="pw-rep1-123", role="sales_rep", team=east, first_name="Riley"
    )
    rep2 = create_user(username="rep2", password="pw-rep2-123", role="sales_rep", team=east)
    rep3 = create_user(username="rep3", password="pw-rep3-123", role="sales_rep", team=west)
    acme = CompanyFactory(name="Acme Corp", domain="acme.com", owner=rep1, team=east)
    globex = CompanyFactory(name="Globex", domain="globex.com", owner=rep3, team=west)
    return World(
        admin=admin,
        marketer=marketer,
        manager=manager,
        rep1=rep1,
        rep2=rep2,
        rep3=rep3,
        marketing_team=marketing_team,
        east=east,
        west=west,
        acme=acme,
        globex=globex,
        rep1_contact=ContactFactory(
            email="ann@acme.com",
            first_name="Ann",
            last_name="Archer",
            company=acme,
            owner=rep1,
            team=east,
        ),
        rep2_contact=ContactFactory(
            email="bob@acme.com",
            first_name="Bob",
            last_name="Baker",
            company=acme,
            owner=rep2,
            team=east,
        ),
        rep3_contact=ContactFactory(
            email="cy@globex.com",
            first_name="Cy",
            last_name="Cole",
            company=globex,
            owner=rep3,
            team=west,
        ),
        east_unassigned=ContactFactory(
            email="dee@initech.com", first_name="Dee", owner=None, team=east
        ),
        nobody_contact=ContactFactory(
            email="eve@hooli.com", first_name="Eve", owner=None, team=None
        ),
    )


class ApiClient:
    """A JSON client for /api/v1 with a bearer key."""

    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        fn = getattr(self.client, method)
        url = "/api/v1" + path
        if method in ("get", "delete"):
            return fn(url, params or None, **self.headers)
        return fn(url, json.dumps(body or {}), content_type="application/json", **self.headers)

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("post", path, body)

    def patch(self, path: str, body: Any = None) -> Any:
        return self._call("patch", path, body)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)


@pytest.fixture
def api_as(world: World) -> Any:
    """api_as("rep1") → an ApiClient acting as that world user."""

    def make(name: str) -> ApiClient:
        _, raw = create_api_key(user=world.users()[name], name="test")
        return ApiClient(raw)

    return make


@pytest.fixture
def client_as(world: World) -> Callable[[str], Client]:
    """client_as("rep1") → a test Client signed in as that world user."""

    def make(name: str) -> Client:
        client = Client()
        client.force_login(world.users()[name])
        return client

    return make
