"""Form reads: the builder's list, a form with its fields, the public lookup and submissions."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Prefetch, QuerySet

from tandem.errors import InvalidInput
from tandem.marketing.forms_schema import CHECKED, HONEYPOT, max_length
from tandem.marketing.models import ConsentText, Form, FormField, FormStatus, FormSubmission

# Sort keys users may ask for: nothing else reaches order_by().
FORM_SORTS: dict[str, str] = {
    "name": "name",
    "status": "status",
    "updated_at": "updated_at",
    "submissions": "submission_count",
    "last_submission": "last_submission_at",
    "id": "id",
}


def forms_for(*, q: str = "", status: str = "") -> QuerySet[Form]:
    """Forms with their submission counts, narrowed by a name search and a status."""
    if "\x00" in q:
        raise InvalidInput("q contains a NUL character", field="q")
    qs = Form.objects.select_related("campaign").annotate(
        submission_count=Count("submissions"), last_submission_at=Max("submissions__submitted_at")
    )
    if q.strip():
        qs = qs.filter(name__icontains=q.strip()[:100])
    if status in FormStatus.values:
        qs = qs.filter(status=status)
    return qs


def form_with_fields(pk: int) -> Form | None:
    """One form with what its builder page shows: fields in order, campaign, source, asset."""
    return (
        Form.objects.select_related("campaign", "source", "asset")
        .prefetch_related(Prefetch("fields", queryset=FormField.objects.order_by("position", "id")))
        .filter(pk=pk)
        .first()
    )


def published_form(slug: str) -> Form | None:
    """The published form at a public address, with its fields, source and asset; else None."""
    if len(slug) > 80:
        return None
    return (
        Form.objects.select_related("source", "asset", "campaign")
        .prefetch_related(Prefetch("fields", queryset=FormField.objects.order_by("position", "id")))
        .filter(slug=slug, status=FormStatus.PUBLISHED)
        .first()
    )


def consent_versions(form: Form) -> list[ConsentText]:
    """Every version of the form's consent wording, newest first."""
    return list(form.consent_texts.select_related("created_by").order_by("-version"))


def current_consent(form: Form) -> ConsentText | None:
    """The wording visitors see now: the latest version."""
    return form.consent_texts.order_by("-version").first()


def consent_version(form: Form, version: int | None) -> ConsentText | None:
    """A given version of the form's wording (the one a visitor's page showed), if it exists."""
    if version is None or not 1 <= version <= 2**31:
        return None
    return form.consent_texts.filter(version=version).first()


def submissions_of(form: Form) -> QuerySet[FormSubmission]:
    """A form's submissions, newest first, with what the list shows of each."""
    return (
        FormSubmission.objects.filter(form=form)
        .select_related("contact", "consent_text", "campaign")
        .order_by("-submitted_at", "-id")
    )


def submission_count(form: Form) -> int:
    return FormSubmission.objects.filter(form=form).count()


# Browser autofill hints: the visitor's own browser may offer what it remembers; we never do.
AUTOCOMPLETE = {
    "email": "email",
    "first_name": "given-name",
    "last_name": "family-name",
    "title": "organization-title",
    "phone": "tel",
    "company_name": "organization",
    "country": "country-name",
}


def public_fields(
    form: Form, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """What the public form renders of each field: its input, the visitor's answer and error.

    `values` are only ever what this visitor just typed (re-shown with their errors); nothing
    known about the visitor is pre-filled.
    """
    values, errors = values or {}, errors or {}
    rendered = []
    for index, f in enumerate(form.fields.all()):
        value = values.get(f.target, "")
        rendered.append(
            {
                "name": f.target,
                "id": f"tdm-{form.slug}-{index}",
                "label": f.label,
                "input_type": f.input_type,
                "required": f.required or f.target == "email",
                "choices": list(f.choices or []),
                "help_text": f.help_text,
                "autocomplete": AUTOCOMPLETE.get(f.target, "off"),
                "max_length": max_length(f.target, f.input_type),
                "value": "" if isinstance(value, bool) else str(value),
                "checked": str(value).strip().lower() in CHECKED,
                "error": errors.get(f.target, ""),
            }
        )
    return rendered


def landing_context(
    form: Form,
    *,
    action: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    page_url: str = "",
    referrer: str = "",
    consent: ConsentText | None = None,
    consent_given: bool = False,
) -> dict[str, Any]:
    """Everything the landing page, its preview and the embed fragment render from."""
    errors = errors or {}
    consent = consent or current_consent(form)
    return {
        "tform": form,
        "fields": public_fields(form, values=values, errors=errors),
        "consent": consent,
        "consent_given": consent_given,
        "consent_error": errors.get("consent", ""),
        "form_error": errors.get("form", ""),
        "has_errors": bool(errors),
        "action": action,
        "page_url": page_url,
        "referrer": referrer,
        "honeypot": HONEYPOT,
    }
