"""What public endpoints believe about a request (tracking.http): IP, origin, anonymous ids."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from tandem.tracking import http


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("a" * 16, True),
        ("A-b_9" * 4, True),
        ("f" * 64, True),
        ("a" * 15, False),
        ("a" * 65, False),
        ("a" * 31 + "!", False),
        ("a" * 31 + "é", False),
        ("a" * 31 + "\n", False),
        ("", False),
        (None, False),
    ],
)
def test_valid_anonymous_id(value, valid):
    assert http.valid_anonymous_id(value) == (value if valid else "")


def test_new_anonymous_ids_are_128_random_bits():
    ids = {http.new_anonymous_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 and http.valid_anonymous_id(i) for i in ids)


def test_client_ip_ignores_forwarded_headers_unless_behind_a_proxy():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert http.client_ip(request) == "10.0.0.5"
    with override_settings(BEHIND_PROXY=True):
        assert http.client_ip(request) == "203.0.113.9"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("null", None),
        ("HTTPS://WWW.Example.com:443", "https://www.example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("javascript:alert(1)", "invalid"),
    ],
)
def test_request_origin(header, expected):
    extra = {"HTTP_ORIGIN": header} if header else {}
    assert http.request_origin(RequestFactory().post("/", **extra)) == expected


def test_origin_allowed_and_cors_headers():
    origins = ["https://www.example.com"]
    factory = RequestFactory()
    allowed = factory.post("/", HTTP_ORIGIN="https://www.example.com")
    own = factory.post("/", HTTP_ORIGIN="http://testserver")
    other = factory.post("/", HTTP_ORIGIN="https://evil.example")

    assert http.origin_allowed(allowed, origins)
    assert http.origin_allowed(own, origins)
    assert http.origin_allowed(factory.post("/"), origins)
    assert not http.origin_allowed(other, origins)
    assert http.allow_cors(HttpResponse(), allowed, origins)["Access-Control-Allow-Origin"] == (
        "https://www.example.com"
    )
    refused = http.allow_cors(HttpResponse(), other, origins)
    assert "Access-Control-Allow-Origin" not in refused
    assert refused["Vary"] == "Origin"
