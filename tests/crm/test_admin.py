"""The Django admin cannot write around the services' rules (stage history, normalised emails)."""

from __future__ import annotations

from django.test import Client

from tandem.crm.models import Contact, LifecycleChange


def test_admin_cannot_change_a_stage_or_email_without_history(world):
    """Given an admin posts a contact's change form with a new stage and email, then neither
    changes (stage moves go through the service that writes history), and adding is refused."""
    client = Client()
    client.force_login(world.admin)
    contact = world.rep1_contact
    url = f"/admin/crm/contact/{contact.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data |= {"lifecycle_stage": "customer", "email": "Other@Example.com", "first_name": "Annie"}
    data |= {"custom_fields": "{}", "created_at_0": "2025-01-01", "created_at_1": "09:00:00"}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert (contact.first_name, contact.lifecycle_stage, contact.email) == (
        "Annie",
        "lead",
        "ann@acme.com",
    )
    assert client.get("/admin/crm/contact/add/").status_code == 403
    change = LifecycleChange.objects.filter(
        contact=contact
    ).first() or LifecycleChange.objects.create(
        contact=contact, from_stage="", to_stage="lead", changed_at=contact.created_at
    )
    history = f"/admin/crm/lifecyclechange/{change.pk}/change/"
    assert client.post(history, {"to_stage": "customer"}).status_code == 403
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "lead"
