"""API keys: stored hashed, shown once, revocable, acting with the owner's rights; the CLI command."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tandem.accounts.models import ApiKey
from tandem.accounts.services import authenticate_api_key, create_api_key, revoke_api_key
from tests.conftest import ApiClient


def test_key_is_stored_only_as_its_digest(world):
    """Given a new key, then the database holds its SHA-256 and a short prefix, never the key itself."""
    key, raw = create_api_key(user=world.rep1, name="zapier")
    assert raw.startswith("tdm_") and len(raw) >= 40
    row = ApiKey.objects.values().get(pk=key.pk)
    assert row["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert row["prefix"] == raw[:12]
    assert all(raw not in str(value) for value in row.values())


def test_key_is_shown_once(world):
    """Given a stored key, then nothing read back from the database reveals the raw key."""
    key, raw = create_api_key(user=world.rep1)
    reloaded = ApiKey.objects.get(pk=key.pk)
    assert not hasattr(reloaded, "raw")
    assert raw not in repr(reloaded.__dict__)
    assert raw not in str(reloaded)


def test_two_keys_differ(world):
    """Then every key is freshly random."""
    assert create_api_key(user=world.rep1)[1] != create_api_key(user=world.rep1)[1]


def test_authenticate_returns_owner_and_stamps_last_used(world):
    """Given a key, when it authenticates, then it yields its owner and records when it was used."""
    key, raw = create_api_key(user=world.rep1)
    assert authenticate_api_key(raw=raw) == world.rep1
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert authenticate_api_key(raw=raw + "x") is None
    assert authenticate_api_key(raw="") is None
    assert authenticate_api_key(raw="not-our-prefix") is None


def test_revoked_key_is_401(world):
    """Given a working key, when it is revoked, then the API answers 401."""
    key, raw = create_api_key(user=world.admin)
    api = ApiClient(raw)
    assert api.get("/contacts").status_code == 200
    revoke_api_key(key=key)
    response = api.get("/contacts")
    assert response.status_code == 401
    assert response.json() == {"detail": "missing or invalid API key"}


def test_revoking_twice_keeps_first_revocation_time(world):
    """Then revoking is idempotent."""
    key, _ = create_api_key(user=world.admin)
    first = revoke_api_key(key=key).revoked_at
    assert revoke_api_key(key=key).revoked_at == first


def test_deactivated_users_key_is_401(world):
    """Given rep1's key, when rep1 is deactivated, then the key no longer works."""
    _, raw = create_api_key(user=world.rep1)
    world.rep1.is_active = False
    world.rep1.save()
    assert ApiClient(raw).get("/contacts").status_code == 401


def test_key_acts_with_its_owners_rights(world):
    """Given keys of rep1 and marketing, then each lists only what its owner may see."""
    rep_key = create_api_key(user=world.rep1)[1]
    marketing_key = create_api_key(user=world.marketer)[1]
    rep_emails = {c["email"] for c in ApiClient(rep_key).get("/contacts").json()["items"]}
    all_emails = {c["email"] for c in ApiClient(marketing_key).get("/contacts").json()["items"]}
    assert rep_emails == {"ann@acme.com", "dee@initech.com"}
    assert len(all_emails) == 5
    assert ApiClient(rep_key).get(f"/contacts/{world.rep3_contact.pk}").status_code == 404


def test_cli_prints_a_working_key(world):
    """Given `tandem apikey create --user rep3`, then the printed key is rep3's and works on the API."""
    out = StringIO()
    call_command("apikey", "create", "--user", "rep3", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("tdm_")
    assert ApiKey.objects.get(digest=hashlib.sha256(raw.encode()).hexdigest()).user == world.rep3
    response = ApiClient(raw).get("/contacts")
    assert response.status_code == 200
    assert [c["email"] for c in response.json()["items"]] == ["cy@globex.com"]


def test_cli_refuses_unknown_or_inactive_user(world):
    """Then an unknown or deactivated user is a CommandError that names the user, and no key is made."""
    with pytest.raises(CommandError, match="nobody"):
        call_command("apikey", "create", "--user", "nobody", stdout=StringIO())
    world.rep2.is_active = False
    world.rep2.save()
    with pytest.raises(CommandError, match="rep2"):
        call_command("apikey", "create", "--user", "rep2", stdout=StringIO())
    assert ApiKey.objects.count() == 0
