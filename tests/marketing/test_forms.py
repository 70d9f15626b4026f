"""Form builder services: slugs, fields from the allow-list, order, consent versions, publishing."""

from __future__ import annotations

import pytest

from tandem.errors import Conflict, InvalidInput
from tandem.marketing import forms_schema as schema
from tandem.marketing.models import ConsentText, FormField
from tandem.marketing.services import forms as services
from tests.marketing.factories import ContentAssetFactory, SourceFactory


def _targets(form):
    return list(form.fields.order_by("position").values_list("target", "position"))


def test_a_new_form_is_a_draft_with_a_required_email_field_and_a_slug_from_its_name(db):
    form = services.create_form(name="Spring Webinar: Pipeline 101!")
    assert (form.slug, form.status) == ("spring-webinar-pipeline-101", "draft")
    email = form.fields.get()
    assert (email.target, email.input_type, email.required, email.label) == (
        "email",
        "email",
        True,
        "Email",
    )
    again = services.create_form(name="Spring webinar — pipeline 101")
    third = services.create_form(name="Spring Webinar: Pipeline 101")
    assert (again.slug, third.slug) == (
        "spring-webinar-pipeline-101-2",
        "spring-webinar-pipeline-101-3",
    )
    assert services.create_form(name="!!!").slug == "form"


def test_a_chosen_slug_is_checked_and_must_be_free(db):
    form = services.create_form(name="Demo", slug="Book-A-Demo")
    assert form.slug == "book-a-demo"
    with pytest.raises(Conflict) as taken:
        services.create_form(name="Other", slug="book-a-demo")
    assert str(taken.value) == "another form has the address /f/book-a-demo/"
    with pytest.raises(InvalidInput) as bad:
        services.update_form(form=form, changes={"slug": "../admin"})
    assert bad.value.field == "slug"


def test_fields_come_from_the_allow_list(db):
    form = services.create_form(name="Contact us")
    phone = services.add_field(form=form, target="phone", input_type="tel")
    assert (phone.label, phone.position, phone.required) == ("Phone", 1, False)
    custom = services.add_field(
        form=form, target="Custom: Team Size", input_type="select", choices="1-10\n 11-50 \n\n1-10"
    )
    assert (custom.target, custom.label, custom.choices) == (
        "custom:team_size",
        "Team size",
        ["1-10", "11-50"],
    )
    cases = [
        (
            {"target": "owner"},
            "target 'owner' is not one of: email, first_name, last_name, title, phone, company_name, country, message, custom:<key>",
        ),
        ({"target": "lifecycle_stage"}, None),
        ({"target": "custom:9lives"}, None),
        ({"target": "phone"}, "the form already has a field for phone"),
        ({"target": "email"}, "the form already has a field for email"),
        (
            {"target": "first_name", "input_type": "checkbox"},
            "First name takes input type text, not 'checkbox'",
        ),
        (
            {"target": "custom:size", "input_type": "select"},
            "a drop-down needs at least one option",
        ),
        ({"target": "custom:x", "input_type": "password"}, None),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidInput) as refused:
            services.add_field(form=form, **kwargs)
        if message:
            assert str(refused.value) == message
    assert form.fields.count() == 3


def test_the_email_field_stays_required_and_cannot_be_removed(db):
    form = services.create_form(name="Newsletter")
    email = form.fields.get(target="email")
    services.update_field(field=email, changes={"required": False, "label": "Work email"})
    email.refresh_from_db()
    assert (email.required, email.label) == (True, "Work email")
    with pytest.raises(InvalidInput, match="the email field cannot be removed"):
        services.remove_field(field=email)


def test_fields_move_up_and_down_and_removal_renumbers(db):
    form = services.create_form(name="Order")
    for target in ("first_name", "last_name", "company_name"):
        services.add_field(form=form, target=target)
    company = form.fields.get(target="company_name")
    services.move_field(field=company, direction="up")
    services.move_field(field=company, direction="up")
    assert _targets(form) == [
        ("email", 0),
        ("company_name", 1),
        ("first_name", 2),
        ("last_name", 3),
    ]
    services.move_field(field=form.fields.get(target="email"), direction="up")  # already first
    services.move_field(field=form.fields.get(target="last_name"), direction="down")  # already last
    assert _targets(form)[0] == ("email", 0)
    services.remove_field(field=form.fields.get(target="first_name"))
    assert _targets(form) == [("email", 0), ("company_name", 1), ("last_name", 2)]
    with pytest.raises(InvalidInput, match="direction must be up or down"):
        services.move_field(field=company, direction="sideways")


def test_changing_a_field_to_a_drop_down_needs_options_and_back_drops_them(db):
    form = services.create_form(name="Survey")
    field = services.add_field(form=form, target="custom:role")
    with pytest.raises(InvalidInput, match="at least one option"):
        services.update_field(field=field, changes={"input_type": "select"})
    services.update_field(field=field, changes={"input_type": "select", "choices": "Buyer\nUser"})
    assert FormField.objects.get(pk=field.pk).choices == ["Buyer", "User"]
    services.update_field(field=field, changes={"input_type": "text"})
    assert FormField.objects.get(pk=field.pk).choices == []


def test_consent_wording_is_versioned_never_edited(db):
    form = services.create_form(name="Guide", consent_text="You may email me.")
    v1 = ConsentText.objects.get(form=form)
    assert v1.version == 1
    services.update_form(form=form, changes={"consent_text": "You may email me."})
    assert ConsentText.objects.filter(form=form).count() == 1  # unchanged wording: no version
    services.update_form(form=form, changes={"consent_text": "You may email and call me."})
    versions = list(
        ConsentText.objects.filter(form=form).order_by("version").values_list("version", "text")
    )
    assert versions == [(1, "You may email me."), (2, "You may email and call me.")]
    v1.refresh_from_db()
    assert v1.text == "You may email me."
    with pytest.raises(InvalidInput, match="can be changed but not removed"):
        services.update_form(form=form, changes={"consent_text": "  "})


def test_publishing_needs_consent_wording_when_consent_is_required(db):
    form = services.create_form(name="Pricing request")
    with pytest.raises(InvalidInput) as refused:
        services.set_form_status(form=form, status="published")
    assert refused.value.field == "consent_text"
    services.update_form(form=form, changes={"consent_required": False})
    services.set_form_status(form=form, status="published")
    assert form.status == "published"
    with pytest.raises(InvalidInput, match="needs consent wording"):
        services.update_form(form=form, changes={"consent_required": True})
    form.refresh_from_db()
    assert form.consent_required is False  # the refused change rolled back
    with pytest.raises(InvalidInput, match="status 'live' is not one of"):
        services.set_form_status(form=form, status="live")


def test_a_revoked_source_or_archived_asset_cannot_be_chosen(db):
    source = SourceFactory()
    source.revoked_at = source.created_at
    source.save()
    asset = ContentAssetFactory(archived=True)
    with pytest.raises(InvalidInput, match="is revoked"):
        services.create_form(name="A", source=source)
    with pytest.raises(InvalidInput, match="is archived"):
        services.create_form(name="B", asset=asset)


@pytest.mark.parametrize(
    ("target", "input_type", "raw", "expected"),
    [
        ("email", "email", " Ann@Example.COM ", "ann@example.com"),
        ("first_name", "text", "  Ann   Marie ", "Ann Marie"),
        ("message", "textarea", " line one\nline two ", "line one\nline two"),
        ("phone", "tel", "+44 (0)20 7946-0958", "+44 (0)20 7946-0958"),
        ("custom:ok", "checkbox", "on", True),
        ("custom:ok", "checkbox", "", False),
        ("last_name", "text", "   ", None),
    ],
)
def test_clean_value_normalises_answers(target, input_type, raw, expected):
    assert (
        schema.clean_value(
            target=target, input_type=input_type, required=False, choices=[], label="X", raw=raw
        )
        == expected
    )


@pytest.mark.parametrize(
    ("target", "input_type", "raw", "message"),
    [
        ("first_name", "text", "a\x00b", "X contains characters that are not allowed."),
        ("first_name", "text", "a" * 121, "X is longer than 120 characters."),
        ("message", "textarea", "a" * 5001, "X is longer than 5,000 characters."),
        ("phone", "tel", "12", "X: enter a phone number (digits, spaces, + and -)."),
        ("email", "email", "ann@", "X: enter a valid email address."),
    ],
)
def test_clean_value_refuses_bad_answers_naming_the_field(target, input_type, raw, message):
    with pytest.raises(InvalidInput) as refused:
        schema.clean_value(
            target=target, input_type=input_type, required=False, choices=[], label="X", raw=raw
        )
    assert (str(refused.value), refused.value.field) == (message, target)
