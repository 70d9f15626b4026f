"""Schemathesis fuzzes every API operation from its own OpenAPI schema: no input may cause a 500."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tandem.accounts.services import create_api_key
from tandem.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def keep_test_connection():
    """Calls through the WSGI app would close the test's DB connection at request end."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_key(world, keep_test_connection):
    return create_api_key(user=world.admin, name="fuzz")[1]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case, admin_key):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_key}"}, checks=[not_a_server_error]
    )
