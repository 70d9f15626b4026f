"""Error pages in production: branded, and they say nothing about the code."""

from __future__ import annotations

from django.test import Client, override_settings


@override_settings(DEBUG=False)
def test_a_missing_record_is_a_plain_404_page(world, client_as):
    response = client_as("rep1").get(f"/contacts/{world.rep3_contact.pk}/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "not yours to see" in body and "Traceback" not in body and "URLconf" not in body


@override_settings(DEBUG=False)
def test_a_forbidden_action_is_a_plain_403_page(world, client_as):
    response = client_as("rep1").get("/import/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


@override_settings(DEBUG=False)
def test_anonymous_404_renders_without_a_user(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "Back to Tandem" in response.content.decode()
