"""Form builder pages (admin and marketing): forms, fields, consent, preview, embed, submissions."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.crm.exports import safe_cell
from tandem.crm.models import Contact
from tandem.crm.views.common import (
    AuthedRequest,
    headers,
    paginate,
    query_of,
    render_list,
    sorted_by,
    sorted_query,
)
from tandem.errors import Conflict, DomainError
from tandem.marketing import forms_schema as schema
from tandem.marketing.models import (
    Campaign,
    ContentAsset,
    Form,
    FormField,
    FormStatus,
    FormSubmission,
    Source,
)
from tandem.marketing.queries import forms as queries
from tandem.marketing.services import forms as services
from tandem.marketing.views.common import require_manage

FORM_DEFAULT_SORT = "-updated_at"
FORM_COLUMNS = [
    ("Name", "name"),
    ("Status", "status"),
    ("Address", None),
    ("Campaign", None),
    ("Submissions", "submissions"),
    ("Last submission", "last_submission"),
    ("Updated", "updated_at"),
]
MAX_CHOICES = 500
BLANK = [("", "—")]
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
EXPORT_CHUNK = 2000


def _form_or_404(pk: int) -> Form:
    form = queries.form_with_fields(pk)
    if form is None:
        raise Http404("no such form")
    return form


# ---------------------------------------------------------------- page forms (types only)


class FormFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=BLANK + list(FormStatus.choices))
    sort = forms.CharField(required=False, max_length=40)


class FormSettingsForm(forms.Form):
    """A form's settings; record choices come from the lists the builder offers."""

    name = forms.CharField(max_length=200)
    slug = forms.CharField(
        required=False,
        max_length=80,
        label="Address",
        help_text="/f/<address>/ — made from the name when blank",
    )
    headline = forms.CharField(required=False, max_length=200)
    intro = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    submit_label = forms.CharField(max_length=60, initial="Submit", label="Button label")
    thank_you = forms.CharField(
        max_length=2000,
        initial=services.DEFAULT_THANK_YOU,
        label="Thank-you text",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    campaign = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    source = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Embedding source",
        help_text="Its origins are the only sites that may embed and submit this form",
    )
    asset = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Gated content"
    )
    is_hand_raise = forms.BooleanField(required=False, label="Hand-raise (demo or pricing request)")
    consent_required = forms.BooleanField(required=False, label="Consent required to submit")
    consent_text = forms.CharField(
        required=False,
        max_length=services.CONSENT_MAX,
        label="Consent wording",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Changing it adds a new version; earlier submissions keep the one they saw",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaigns = Campaign.objects.order_by("name").values_list("pk", "name")[:MAX_CHOICES]
        sources = (
            Source.objects.filter(revoked_at__isnull=True)
            .order_by("name")
            .values_list("pk", "name")[:MAX_CHOICES]
        )
        assets = (
            ContentAsset.objects.filter(archived=False)
            .order_by("title")
            .values_list("pk", "title")[:MAX_CHOICES]
        )
        for name, rows in (("campaign", campaigns), ("source", sources), ("asset", assets)):
            cast(forms.ChoiceField, self.fields[name]).choices = BLANK + list(rows)

    def service_values(self) -> dict[str, Any]:
        """The cleaned values with record ids turned into records."""
        data = dict(self.cleaned_data)
        data["campaign"] = (
            Campaign.objects.filter(pk=data["campaign"]).first() if data["campaign"] else None
        )
        data["source"] = (
            Source.objects.filter(pk=data["source"]).first() if data["source"] else None
        )
        data["asset"] = (
            ContentAsset.objects.filter(pk=data["asset"]).first() if data["asset"] else None
        )
        return data


TARGET_CHOICES = [(t, spec.label) for t, spec in schema.TARGETS.items() if t != "email"] + [
    ("custom", "Custom field…")
]


class FieldForm(forms.Form):
    """A new field: what it asks, where the answer goes, how it is asked."""

    target = forms.ChoiceField(choices=TARGET_CHOICES, label="Maps to")
    custom_key = forms.CharField(
        required=False, max_length=40, label="Custom key", help_text="For a custom field: industry"
    )
    label = forms.CharField(required=False, max_length=schema.MAX_LABEL)
    input_type = forms.ChoiceField(
        required=False, choices=BLANK + list(schema.INPUT_TYPES.items()), label="Input"
    )
    required = forms.BooleanField(required=False)
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Options",
        help_text="For a drop-down: one option per line",
    )
    help_text = forms.CharField(required=False, max_length=schema.MAX_HELP, label="Help text")

    def target_value(self) -> str:
        data = self.cleaned_data
        return (
            f"{schema.CUSTOM}{data['custom_key']}" if data["target"] == "custom" else data["target"]
        )


class FieldEditForm(forms.Form):
    label = forms.CharField(max_length=schema.MAX_LABEL)
    input_type = forms.ChoiceField(choices=list(schema.INPUT_TYPES.items()), label="Input")
    required = forms.BooleanField(required=False)
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Options",
        help_text="For a drop-down: one option per line",
    )
    help_text = forms.CharField(required=False, max_length=schema.MAX_HELP, label="Help text")


def _show(form: forms.Form, error: DomainError) -> None:
    """A domain error next to its field when the page form has it, else above the form."""
    field = "slug" if isinstance(error, Conflict) else getattr(error, "field", None)
    if field == "target" and form.data.get("target") == "custom":
        field = "custom_key"
    form.add_error(field if field in form.fields else None, str(error))


# ---------------------------------------------------------------- list and settings


@login_required
@require_GET
def form_list(request: AuthedRequest) -> HttpResponse:
    """Every form with its status, address and submissions; search, status filter, sort."""
    require_manage(request.user, what="forms")
    flt = FormFilterForm(request.GET)
    flt.is_valid()
    q, status = flt.cleaned_data.get("q") or "", flt.cleaned_data.get("status") or ""
    qs, sort = sorted_by(
        queries.forms_for(q=q, status=status),
        flt.cleaned_data.get("sort") or "",
        queries.FORM_SORTS,
        FORM_DEFAULT_SORT,
    )
    base = query_of(q=q, status=status)
    context: dict[str, Any] = {
        **paginate(request, qs),
        "headers": headers(base, FORM_COLUMNS, sort),
        "query": sorted_query(base, sort, FORM_DEFAULT_SORT),
        "sort": sort,
        "q": q,
        "status": status,
        "statuses": FormStatus.choices,
    }
    return render_list(
        request,
        page="marketing/form_list.html",
        partial="marketing/_form_table.html",
        context=context,
    )


def _settings_initial(form: Form) -> dict[str, Any]:
    consent = queries.current_consent(form)
    return {
        "name": form.name,
        "slug": form.slug,
        "headline": form.headline,
        "intro": form.intro,
        "submit_label": form.submit_label,
        "thank_you": form.thank_you,
        "campaign": form.campaign_id,
        "source": form.source_id,
        "asset": form.asset_id,
        "is_hand_raise": form.is_hand_raise,
        "consent_required": form.consent_required,
        "consent_text": consent.text if consent else "",
    }


@login_required
@require_http_methods(["GET", "POST"])
def form_new(request: AuthedRequest) -> HttpResponse:
    """Create a draft form: its settings and consent wording; the email field comes with it."""
    require_manage(request.user, what="forms")
    page_form = FormSettingsForm(
        request.POST or None, initial={"consent_required": True, "submit_label": "Submit"}
    )
    status = 200
    if request.method == "POST":
        status = 422
        if page_form.is_valid():
            try:
                form = services.create_form(**page_form.service_values(), by=request.user)
            except DomainError as error:
                _show(page_form, error)
            else:
                messages.success(request, f"Created form {form.name}. Add its fields next.")
                return redirect("web:form", pk=form.pk)
    context = {"page_form": page_form, "tform": None}
    return render(request, "marketing/form_settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def form_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a form's settings; new consent wording becomes the next version."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    page_form = FormSettingsForm(request.POST or None, initial=_settings_initial(form))
    status = 200
    if request.method == "POST":
        status = 422
        if page_form.is_valid():
            values = page_form.service_values()
            if not values["slug"]:
                values["slug"] = form.slug
            try:
                services.update_form(form=form, changes=values, by=request.user)
            except DomainError as error:
                _show(page_form, error)
                form = _form_or_404(pk)  # the failed write rolled back: show what is stored
            else:
                messages.success(request, f"Saved form {form.name}.")
                return redirect("web:form", pk=form.pk)
    context = {"page_form": page_form, "tform": form}
    return render(request, "marketing/form_settings.html", context, status=status)


# ---------------------------------------------------------------- the builder page


def _embed_snippet(request: HttpRequest, form: Form) -> str:
    """The HTML an external site pastes: a container and forms.js pointed at this server."""
    endpoint = request.build_absolute_uri("/").rstrip("/")
    script = request.build_absolute_uri(static("tracking/forms.js"))
    target = f"tandem-form-{form.slug}"
    return (
        f'<div id="{target}"></div>\n'
        f'<script src="{script}" data-form="{form.slug}" data-endpoint="{endpoint}" '
        f'data-target="{target}" async></script>'
    )


def _builder(
    request: AuthedRequest,
    form: Form,
    *,
    field_form: FieldForm | None = None,
    status: int = 200,
) -> HttpResponse:
    fields = list(form.fields.all())
    context = {
        "tform": form,
        "fields": fields,
        "field_form": field_form or FieldForm(),
        "input_types": schema.INPUT_TYPES,
        "consents": queries.consent_versions(form),
        "submission_count": queries.submission_count(form),
        "landing_url": request.build_absolute_uri(reverse("tracking:landing", args=[form.slug])),
        "submit_url": request.build_absolute_uri(reverse("tracking:form_submit", args=[form.slug])),
        "snippet": _embed_snippet(request, form),
        "origins": list(form.source.origins or []) if form.source else [],
        "statuses": FormStatus,
    }
    return render(request, "marketing/form_detail.html", context, status=status)


@login_required
@require_GET
def form_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One form's builder: fields and order, consent versions, status, links and embed snippet."""
    require_manage(request.user, what="forms")
    return _builder(request, _form_or_404(pk))


@login_required
@require_POST
def form_status(request: AuthedRequest, pk: int) -> HttpResponse:
    """Publish, archive or take back to draft."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    try:
        services.set_form_status(form=form, status=request.POST.get("status", ""), by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{form.name} is now {form.get_status_display().lower()}.")
    return redirect("web:form", pk=form.pk)


@login_required
@require_POST
def form_field_add(request: AuthedRequest, pk: int) -> HttpResponse:
    """Add a field at the end of the form."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    field_form = FieldForm(request.POST)
    if field_form.is_valid():
        data = field_form.cleaned_data
        try:
            field = services.add_field(
                form=form,
                target=field_form.target_value(),
                label=data["label"],
                input_type=data["input_type"],
                required=data["required"],
                choices=data["choices"],
                help_text=data["help_text"],
                by=request.user,
            )
        except DomainError as error:
            _show(field_form, error)
        else:
            messages.success(request, f"Added the field {field.label}.")
            return redirect(f"{reverse('web:form', args=[form.pk])}#fields")
    return _builder(request, _form_or_404(pk), field_form=field_form, status=422)


def _field_of(form: Form, field_pk: int) -> FormField:
    return get_object_or_404(FormField, pk=field_pk, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def form_field_edit(request: AuthedRequest, pk: int, field_pk: int) -> HttpResponse:
    """Change a field's label, input, required flag, options or help (its target stays)."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    field = _field_of(form, field_pk)
    initial = {
        "label": field.label,
        "input_type": field.input_type,
        "required": field.required,
        "choices": "\n".join(field.choices or []),
        "help_text": field.help_text,
    }
    spec = schema.target_spec(field.target)
    page_form = FieldEditForm(request.POST or None, initial=initial)
    # Offer only the inputs this field's target accepts (the service checks it again).
    cast(forms.ChoiceField, page_form.fields["input_type"]).choices = [
        (t, schema.INPUT_TYPES[t]) for t in spec.input_types
    ]
    status = 200
    if request.method == "POST":
        status = 422
        if page_form.is_valid():
            try:
                services.update_field(field=field, changes=page_form.cleaned_data, by=request.user)
            except DomainError as error:
                _show(page_form, error)
            else:
                messages.success(request, f"Saved the field {field.label}.")
                return redirect(f"{reverse('web:form', args=[form.pk])}#fields")
    context = {
        "tform": form,
        "field": field,
        "page_form": page_form,
        "allowed_types": [schema.INPUT_TYPES[t] for t in spec.input_types],
    }
    return render(request, "marketing/form_field.html", context, status=status)


@login_required
@require_POST
def form_field_move(request: AuthedRequest, pk: int, field_pk: int) -> HttpResponse:
    """Move a field one place up or down."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    try:
        services.move_field(
            field=_field_of(form, field_pk),
            direction=request.POST.get("direction", ""),
            by=request.user,
        )
    except DomainError as error:
        messages.error(request, str(error))
    return redirect(f"{reverse('web:form', args=[form.pk])}#fields")


@login_required
@require_POST
def form_field_delete(request: AuthedRequest, pk: int, field_pk: int) -> HttpResponse:
    """Remove a field (not the email); stored submissions keep their answers."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    field = _field_of(form, field_pk)
    try:
        services.remove_field(field=field, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed the field {field.label}.")
    return redirect(f"{reverse('web:form', args=[form.pk])}#fields")


@login_required
@require_GET
def form_preview(request: AuthedRequest, pk: int) -> HttpResponse:
    """The landing page exactly as visitors see it (any status), with submitting turned off."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    if request.GET.get("thanks") == "1":
        asset = form.asset
        asset_url = (
            request.build_absolute_uri(reverse("tracking:content", args=[asset.public_token]))
            if asset is not None and not asset.archived
            else ""
        )
        context: dict[str, Any] = {"tform": form, "thanks": True, "asset_url": asset_url}
    else:
        context = queries.landing_context(
            form, action=reverse("tracking:form_submit", args=[form.slug])
        )
    context["preview"] = True
    return render(request, "marketing/form_preview.html", context)


# ---------------------------------------------------------------- submissions


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _submission_rows(
    user: Any, form: Form, submissions: list[FormSubmission]
) -> list[dict[str, Any]]:
    """What each row shows; contacts are linked only when the viewer may see them (one query)."""
    labels = {f.target: f.label for f in form.fields.all()}
    ids = {s.contact_id for s in submissions if s.contact_id}
    visible = set(
        permissions.visible(user, Contact.objects.filter(pk__in=ids)).values_list("pk", flat=True)
    )
    rows = []
    for s in submissions:
        values = s.values if isinstance(s.values, dict) else {}
        utm = s.utm if isinstance(s.utm, dict) else {}
        rows.append(
            {
                "s": s,
                "linked": s.contact_id in visible,
                "values": [(labels.get(k, k), _value_text(v)) for k, v in values.items()],
                "utm": [(k, utm[k]) for k in UTM_KEYS if utm.get(k)],
            }
        )
    return rows


@login_required
@require_GET
def form_submissions(request: AuthedRequest, pk: int) -> HttpResponse:
    """A form's submissions, newest first, 50 a page, each with its consent proof and source."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    paged = paginate(request, queries.submissions_of(form))
    context: dict[str, Any] = {
        **paged,
        "tform": form,
        "rows": _submission_rows(request.user, form, paged["page_obj"].object_list),
        "query": query_of(),
    }
    return render_list(
        request,
        page="marketing/form_submissions.html",
        partial="marketing/_form_submission_table.html",
        context=context,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(form: Form) -> Iterator[str]:
    targets = [f.target for f in form.fields.all()]
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    head = ["submitted_at", "contact_id", *targets, "consent_given", "consent_version"]
    head += ["consent_text", "ip", "page_url", "referrer", "origin", "campaign"]
    yield writer.writerow([*head, *(f"utm_{k}" for k in UTM_KEYS), "user_agent"])
    rows = queries.submissions_of(form).iterator(chunk_size=EXPORT_CHUNK)
    for s in rows:
        values = s.values if isinstance(s.values, dict) else {}
        utm = s.utm if isinstance(s.utm, dict) else {}
        consent = s.consent_text
        cells = [
            s.submitted_at,
            s.contact_id,
            *(_value_text(values.get(t)) for t in targets),
            "yes" if s.consent_given else "no",
            consent.version if consent else "",
            consent.text if consent else "",
            s.ip,
            s.page_url,
            s.referrer,
            s.origin,
            s.campaign.name if s.campaign else "",
            *(utm.get(k, "") for k in UTM_KEYS),
            s.user_agent,
        ]
        yield writer.writerow([safe_cell(c) for c in cells])


@login_required
@require_GET
def form_submissions_export(request: AuthedRequest, pk: int) -> StreamingHttpResponse:
    """Every submission of a form as CSV, streamed, spreadsheet-formula safe."""
    require_manage(request.user, what="forms")
    form = _form_or_404(pk)
    response = StreamingHttpResponse(_csv_rows(form), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{form.slug}-submissions.csv"'
    return response
