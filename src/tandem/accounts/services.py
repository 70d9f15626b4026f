"""Writes for accounts: users, teams, API keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from tandem.accounts.models import ApiKey, Role, Team, TeamKind, Territory, User

API_KEY_PREFIX = "tdm_"


def hash_key(raw: str) -> str:
    """SHA-256 hex digest: keys carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_team(*, name: str, kind: str, manager: User | None = None) -> Team:
    """Create a team."""
    if kind not in TeamKind.values:
        raise ValueError(f"unknown team kind {kind!r}")
    return Team.objects.create(name=name, kind=kind, manager=manager)


@transaction.atomic
def add_territory(
    *, team: Team, name: str, regions: Sequence[str] = (), countries: Sequence[str] = ()
) -> Territory:
    """Give a sales team a territory."""
    return Territory.objects.create(
        team=team, name=name, regions=list(regions), countries=[c.upper() for c in countries]
    )


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    role: str,
    team: Team | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a user with a role (admin users also get Django admin access)."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    user = User(
        username=username,
        role=role,
        team=team,
        first_name=first_name,
        last_name=last_name,
        email=email.strip().lower(),
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def create_api_key(*, user: User, name: str = "") -> tuple[ApiKey, str]:
    """Create an API key; the raw key is returned once and never stored."""
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=user, name=name, prefix=raw[:12], digest=hash_key(raw))
    return key, raw


@transaction.atomic
def revoke_api_key(*, key: ApiKey) -> ApiKey:
    """Revoke a key; later requests with it get 401."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def authenticate_api_key(*, raw: str) -> User | None:
    """The active user behind a raw key, or None."""
    if not raw or not raw.startswith(API_KEY_PREFIX) or len(raw) > 200:
        return None
    key = (
        ApiKey.objects.select_related("user")
        .filter(digest=hash_key(raw), revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.user.is_active:
        return None
    now = timezone.now()
    # Only touch last_used_at once a minute so that reads do not become writes.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user
