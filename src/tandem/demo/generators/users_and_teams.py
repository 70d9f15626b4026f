"""Step 1: the organisation — teams with territories, and the demo logins."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password

from tandem.accounts.models import User
from tandem.accounts.services import add_territory, create_team, create_user
from tandem.demo.context import DemoContext
from tandem.demo.data import DEMO_PASSWORD, DEMO_TEAMS, DEMO_USERS, TERRITORIES
from tandem.demo.sampling import slug


def run(ctx: DemoContext) -> None:
    """Create the Marketing and sales teams, their territories and the demo users."""
    for key, (name, kind) in DEMO_TEAMS.items():
        ctx.teams[key] = create_team(name=name, kind=kind)
    for plan in TERRITORIES:
        add_territory(
            team=ctx.teams[plan.team],
            name=plan.name,
            regions=[plan.region],
            countries=[country.code for country in plan.countries],
        )
    # Hashing is deliberately slow; every demo login shares the same published password, so
    # one hash serves them all.
    password_hash = make_password(DEMO_PASSWORD)
    for spec in DEMO_USERS:
        user = create_user(
            username=spec.username,
            password=None,
            role=spec.role,
            team=ctx.teams[spec.team] if spec.team else None,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=f"{slug(spec.first_name)}.{slug(spec.last_name)}@tandem-demo.example",
        )
        user.password = password_hash
        user.save(update_fields=["password"])
        ctx.users[spec.username] = user
    # One VP Sales runs both sales teams, so the `manager` login sees the whole sales org.
    _set_manager(ctx, "marketing", ctx.users["marketing"])
    _set_manager(ctx, "americas", ctx.users["manager"])
    _set_manager(ctx, "emea", ctx.users["manager"])
    ctx.counts.update(users=len(DEMO_USERS), teams=len(DEMO_TEAMS), territories=len(TERRITORIES))


def _set_manager(ctx: DemoContext, team: str, user: User) -> None:
    ctx.teams[team].manager = user
    ctx.teams[team].save(update_fields=["manager"])
