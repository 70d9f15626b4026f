"""Form builder writes: forms, their fields and order, versioned consent wording, publishing.

Consent wording is evidence: a submission points at the exact version its visitor saw, so a
version is never edited; changing the wording adds the next version.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from tandem.accounts.models import User
from tandem.crm.normalise import clean_text
from tandem.errors import InvalidInput, refuse_taken
from tandem.marketing import forms_schema as schema
from tandem.marketing.models import (
    Campaign,
    ConsentText,
    ContentAsset,
    Form,
    FormField,
    FormStatus,
    Source,
)
from tandem.marketing.queries.forms import current_consent

SLUG_MAX = 80
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TEXT_LIMITS = {"headline": 200, "intro": 5000, "submit_label": 60, "thank_you": 2000}
CONSENT_MAX = 2000
FORM_EDITABLE = (
    "name",
    "slug",
    *TEXT_LIMITS,
    "campaign",
    "source",
    "asset",
    "is_hand_raise",
    "consent_required",
    "consent_text",
)
FIELD_EDITABLE = ("label", "input_type", "required", "choices", "help_text")
DEFAULT_THANK_YOU = "Thank you! We will be in touch."


# ---------------------------------------------------------------- cleaning


def _clean_slug(raw: Any) -> str:
    text = "" if raw is None else str(raw).strip().lower()
    if not text:
        raise InvalidInput("slug is required", field="slug")
    if len(text) > SLUG_MAX:
        raise InvalidInput(f"slug is longer than {SLUG_MAX} characters", field="slug")
    if not _SLUG.match(text):
        raise InvalidInput(
            "slug may hold only lower-case letters, digits and single dashes (spring-webinar)",
            field="slug",
        )
    return text


def _refuse_taken_slug(slug: str, *, exclude_pk: int | None = None) -> None:
    refuse_taken(
        Form.objects.filter(slug=slug).only("pk"),
        message=lambda _: f"another form has the address /f/{slug}/",
        exclude_pk=exclude_pk,
    )


def unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    """A free slug made from a name: "Spring Webinar!" → spring-webinar, then -2, -3, …."""
    base = slugify(name)[: SLUG_MAX - 6].strip("-") or "form"
    taken = set(
        Form.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk or 0)
        .values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _clean_form_value(field: str, value: Any) -> Any:
    if field == "name":
        return clean_text(value, field="name", max_length=200, required=True)
    if field in TEXT_LIMITS:
        required = field in ("submit_label", "thank_you")
        return clean_text(value, field=field, max_length=TEXT_LIMITS[field], required=required)
    if field in ("is_hand_raise", "consent_required"):
        return bool(value)
    if field == "campaign" and value is not None and not isinstance(value, Campaign):
        raise InvalidInput("campaign must be a campaign", field="campaign")
    if field == "source" and value is not None:
        if not isinstance(value, Source):
            raise InvalidInput("source must be a tracking source", field="source")
        if value.revoked_at is not None:
            raise InvalidInput(f"source {value.name} is revoked", field="source")
    if field == "asset" and value is not None:
        if not isinstance(value, ContentAsset):
            raise InvalidInput("asset must be a content asset", field="asset")
        if value.archived:
            raise InvalidInput(f"content {value.title} is archived", field="asset")
    return value


def _save_form(form: Form, **kwargs: Any) -> None:
    """Save in a savepoint; a concurrent taker of the same slug is a conflict, not a 500."""
    try:
        with transaction.atomic():
            form.save(**kwargs)
    except IntegrityError:
        _refuse_taken_slug(form.slug, exclude_pk=form.pk)
        raise


def _check_publishable(form: Form) -> None:
    if form.consent_required and current_consent(form) is None:
        raise InvalidInput(
            "a form that requires consent needs consent wording before it is published",
            field="consent_text",
        )
    if not form.fields.filter(target="email").exists():
        raise InvalidInput("a form needs its email field before it is published", field="fields")


# ---------------------------------------------------------------- forms


@transaction.atomic
def create_form(
    *,
    name: str,
    slug: str = "",
    headline: str = "",
    intro: str = "",
    submit_label: str = "Submit",
    thank_you: str = DEFAULT_THANK_YOU,
    campaign: Campaign | None = None,
    source: Source | None = None,
    asset: ContentAsset | None = None,
    is_hand_raise: bool = False,
    consent_required: bool = True,
    consent_text: str = "",
    by: User | None = None,
) -> Form:
    """Create a draft form with its required email field (and consent wording v1 when given)."""
    values = {
        "name": name,
        "headline": headline,
        "intro": intro,
        "submit_label": submit_label,
        "thank_you": thank_you,
        "campaign": campaign,
        "source": source,
        "asset": asset,
        "is_hand_raise": is_hand_raise,
        "consent_required": consent_required,
    }
    cleaned = {field: _clean_form_value(field, value) for field, value in values.items()}
    if slug and str(slug).strip():
        clean_slug = _clean_slug(slug)
        _refuse_taken_slug(clean_slug)
    else:
        clean_slug = unique_slug(cleaned["name"])
    form = Form(**cleaned, slug=clean_slug, created_by=by, created_at=timezone.now())
    _save_form(form)
    FormField.objects.create(
        form=form, position=0, target="email", label="Email", input_type="email", required=True
    )
    if consent_text and str(consent_text).strip():
        set_consent_text(form=form, text=consent_text, by=by)
    return form


@transaction.atomic
def update_form(*, form: Form, changes: dict[str, Any], by: User | None = None) -> Form:
    """Change a form's settings (FORM_EDITABLE); new consent wording adds a version."""
    unknown = set(changes).difference(FORM_EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown form field(s): {', '.join(sorted(unknown))}")
    cleaned = {
        field: _clean_form_value(field, value)
        for field, value in changes.items()
        if field not in ("slug", "consent_text")
    }
    if "slug" in changes:
        cleaned["slug"] = _clean_slug(changes["slug"])
        _refuse_taken_slug(cleaned["slug"], exclude_pk=form.pk)
    for field, value in cleaned.items():
        setattr(form, field, value)
    if cleaned:
        _save_form(form, update_fields=[*cleaned, "updated_at"])
    if "consent_text" in changes:
        text = "" if changes["consent_text"] is None else str(changes["consent_text"]).strip()
        if text:
            set_consent_text(form=form, text=text, by=by)
        elif current_consent(form) is not None:
            raise InvalidInput(
                "consent wording can be changed but not removed: earlier submissions point at it",
                field="consent_text",
            )
    if form.status == FormStatus.PUBLISHED:
        _check_publishable(form)
    return form


@transaction.atomic
def set_consent_text(*, form: Form, text: str, by: User | None = None) -> ConsentText | None:
    """Add the next version of the consent wording; None when it is unchanged."""
    clean = clean_text(text, field="consent_text", max_length=CONSENT_MAX, required=True)
    # Lock the form: two editors saving at once get versions n+1 and n+2, not a collision.
    Form.objects.select_for_update().filter(pk=form.pk).first()
    current = current_consent(form)
    if current is not None and current.text == clean:
        return None
    version = (current.version if current else 0) + 1
    return ConsentText.objects.create(form=form, version=version, text=clean, created_by=by)


@transaction.atomic
def set_form_status(*, form: Form, status: str, by: User | None = None) -> Form:
    """Publish, archive, or take a form back to draft; publishing checks it is complete."""
    if status not in FormStatus.values:
        raise InvalidInput(
            f"status {str(status)[:30]!r} is not one of: {', '.join(FormStatus.values)}",
            field="status",
        )
    if status == FormStatus.PUBLISHED:
        _check_publishable(form)
    if form.status != status:
        form.status = status
        form.save(update_fields=["status", "updated_at"])
    return form


# ---------------------------------------------------------------- fields


def _default_label(target: str) -> str:
    if target.startswith(schema.CUSTOM):
        return target[len(schema.CUSTOM) :].replace("_", " ").capitalize()
    return schema.TARGETS[target].label


def _clean_field_values(target: str, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    input_type = schema.clean_input_type(target, values.get("input_type"))
    out["input_type"] = input_type
    if "label" in values:
        out["label"] = clean_text(
            values["label"], field="label", max_length=schema.MAX_LABEL
        ) or _default_label(target)
    if "help_text" in values:
        out["help_text"] = clean_text(
            values["help_text"], field="help_text", max_length=schema.MAX_HELP
        )
    if "required" in values:
        out["required"] = bool(values["required"])
    out["choices"] = schema.clean_choices(input_type, values.get("choices"))
    if target == "email":
        # The email is who the submission is: always asked, always required.
        out["required"] = True
    return out


@transaction.atomic
def add_field(
    *,
    form: Form,
    target: str,
    label: str = "",
    input_type: str = "",
    required: bool = False,
    choices: Any = None,
    help_text: str = "",
    by: User | None = None,
) -> FormField:
    """Add a field at the end of the form; a target may appear once per form."""
    clean_target = schema.clean_target(target)
    if form.fields.filter(target=clean_target).exists():
        raise InvalidInput(f"the form already has a field for {clean_target}", field="target")
    if form.fields.count() >= schema.MAX_FIELDS:
        raise InvalidInput(f"a form has at most {schema.MAX_FIELDS} fields", field="target")
    values = _clean_field_values(
        clean_target,
        {
            "label": label,
            "input_type": input_type,
            "required": required,
            "choices": choices,
            "help_text": help_text,
        },
    )
    last = form.fields.aggregate(last=Max("position"))["last"]
    try:
        with transaction.atomic():
            return FormField.objects.create(
                form=form,
                target=clean_target,
                position=0 if last is None else last + 1,
                **values,
            )
    except IntegrityError:
        raise InvalidInput(
            f"the form already has a field for {clean_target}", field="target"
        ) from None


@transaction.atomic
def update_field(*, field: FormField, changes: dict[str, Any], by: User | None = None) -> FormField:
    """Change a field's label, input type, required flag, options or help (not its target)."""
    unknown = set(changes).difference(FIELD_EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown form field setting(s): {', '.join(sorted(unknown))}")
    merged = {"input_type": field.input_type, "choices": field.choices, **changes}
    values = _clean_field_values(field.target, merged)
    for name, value in values.items():
        setattr(field, name, value)
    field.save(update_fields=list(values))
    return field


@transaction.atomic
def remove_field(*, field: FormField, by: User | None = None) -> None:
    """Take a field off its form (earlier submissions keep the answers they stored)."""
    if field.target == "email":
        raise InvalidInput("the email field cannot be removed", field="target")
    form = field.form
    field.delete()
    _renumber(form, list(form.fields.order_by("position", "id")))


def _renumber(form: Form, ordered: list[FormField]) -> None:
    changed = []
    for position, f in enumerate(ordered):
        if f.position != position:
            f.position = position
            changed.append(f)
    if changed:
        FormField.objects.bulk_update(changed, ["position"])


@transaction.atomic
def move_field(*, field: FormField, direction: str, by: User | None = None) -> FormField:
    """Move a field one place up or down; positions are renumbered 0, 1, 2, …."""
    if direction not in ("up", "down"):
        raise InvalidInput("direction must be up or down", field="direction")
    ordered = list(field.form.fields.select_for_update().order_by("position", "id"))
    index = next(i for i, f in enumerate(ordered) if f.pk == field.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(field.form, ordered)
    field.refresh_from_db(fields=["position"])
    return field
