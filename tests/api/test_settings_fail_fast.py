"""A production start (TANDEM_DEBUG=false) refuses unsafe settings before serving anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tandem.settings import DEFAULT_SECRET

GOOD_SECRET = "k3v9-q8Zr2mX7pL4tW1nB6yC0dF5gH8jK2sA9eR3uV"


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Set Django up in a fresh interpreter with only the given TANDEM_* variables."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_"))}
    base |= {
        "DJANGO_SETTINGS_MODULE": "tandem.settings",
        "TANDEM_DATA_DIR": str(tmp_path),
        "TANDEM_DEBUG": "false",
    }
    return subprocess.run(
        [sys.executable, "-c", "import django, os; django.setup()"],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_secret_is_refused(tmp_path):
    """Given no TANDEM_SECRET_KEY, then the start fails and says which variable is missing."""
    result = _start(tmp_path, TANDEM_ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, "short-secret"])
def test_default_or_short_secret_is_refused(tmp_path, secret):
    """Given the shipped default secret, or one too short to be random, then the start fails."""
    result = _start(tmp_path, TANDEM_SECRET_KEY=secret, TANDEM_ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY" in result.stderr


def test_missing_allowed_hosts_is_refused(tmp_path):
    """Given a good secret but no TANDEM_ALLOWED_HOSTS, then the start fails and names the variable."""
    result = _start(tmp_path, TANDEM_SECRET_KEY=GOOD_SECRET, TANDEM_ALLOWED_HOSTS=" ")
    assert result.returncode != 0
    assert "TANDEM_ALLOWED_HOSTS" in result.stderr


def test_unclear_debug_flag_is_refused(tmp_path):
    """Given TANDEM_DEBUG=maybe, then the start fails rather than guess."""
    result = _start(
        tmp_path, TANDEM_DEBUG="maybe", TANDEM_SECRET_KEY=GOOD_SECRET, TANDEM_ALLOWED_HOSTS="a.com"
    )
    assert result.returncode != 0
    assert "TANDEM_DEBUG" in result.stderr


def test_good_production_settings_start(tmp_path):
    """Given a good secret and host list, then Django sets up and exits 0."""
    result = _start(tmp_path, TANDEM_SECRET_KEY=GOOD_SECRET, TANDEM_ALLOWED_HOSTS="crm.example.com")
    assert result.returncode == 0, result.stderr


def test_behind_a_tls_proxy_the_https_origin_is_trusted(tmp_path):
    """Given a production start behind a load balancer, then logins from https pass CSRF."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_"))}
    env = base | {
        "DJANGO_SETTINGS_MODULE": "tandem.settings",
        "TANDEM_DATA_DIR": str(tmp_path),
        "TANDEM_DEBUG": "false",
        "TANDEM_SECRET_KEY": GOOD_SECRET,
        "TANDEM_ALLOWED_HOSTS": "crm.example.com,.example.org",
        "TANDEM_BEHIND_PROXY": "true",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CSRF_TRUSTED_ORIGINS, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == (
        "['https://crm.example.com', 'https://example.org', 'https://*.example.org'] "
        "('HTTP_X_FORWARDED_PROTO', 'https') True"
    )


def _production_value(tmp_path: Path, expression: str, **env: str) -> str:
    """Evaluate a settings expression in a fresh production interpreter."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_"))}
    base |= {
        "DJANGO_SETTINGS_MODULE": "tandem.settings",
        "TANDEM_DATA_DIR": str(tmp_path),
        "TANDEM_DEBUG": "false",
        "TANDEM_SECRET_KEY": GOOD_SECRET,
        "TANDEM_ALLOWED_HOSTS": "crm.example.com",
    }
    code = (
        f"import django; django.setup(); from django.conf import settings as s; print({expression})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


def test_production_sends_hsts_on_https_by_default_and_it_can_be_tuned(tmp_path):
    """Given a production start, then HSTS is a year (Django sends it on https responses only),
    without subdomains; TANDEM_HSTS_SECONDS changes it, and nonsense is refused."""
    expression = "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS"
    assert _production_value(tmp_path, expression) == "31536000 False"
    assert _production_value(tmp_path, expression, TANDEM_HSTS_SECONDS="0") == "0 False"
    refused = _production_value(tmp_path, expression, TANDEM_HSTS_SECONDS="a year")
    assert "TANDEM_HSTS_SECONDS must be a whole number" in refused
