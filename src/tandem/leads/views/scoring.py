"""Scoring pages: rules by axis with the settings, the rule form, and a contact's score panel."""

from __future__ import annotations

import json
from itertools import zip_longest
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.crm.models import Contact
from tandem.crm.views.common import AuthedRequest
from tandem.errors import Conflict, DomainError
from tandem.leads import scoring
from tandem.leads.models import ScoreAxis, ScoreRule
from tandem.leads.queries import scoring as queries
from tandem.leads.services import scoring as services
from tandem.leads.services.settings import lead_settings

# Filter rows the rule form always offers (blank ones are ignored).
FILTER_ROWS = 3
# Event types offered in the rule form's suggestions (any snake_case or custom:<name> works).
KNOWN_EVENT_TYPES = [
    "page_view",
    "form_submit",
    "content_view",
    "content_download",
    "link_click",
    "email_open",
    "activity_call",
    "activity_meeting",
    "activity_email",
]
CONDITION_EXAMPLES = [
    '{"field": "persona", "op": "eq", "value": 3}',
    '{"field": "company.employees", "op": "gte", "value": 200}',
    '{"all": [{"field": "company.industry", "op": "in", "value": ["Software", "Fintech"]},'
    ' {"field": "title", "op": "contains", "value": "director"}]}',
]


class RuleForm(forms.Form):
    """A rule's fields; the axis decides which of condition or event fields apply."""

    axis = forms.ChoiceField(choices=ScoreAxis.choices, widget=forms.HiddenInput)
    name = forms.CharField(max_length=160)
    points = forms.IntegerField(
        min_value=-services.MAX_POINTS,
        max_value=services.MAX_POINTS,
        help_text="Negative points lower the score. Engagement rules give them per event.",
    )
    condition = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono", "spellcheck": "false"}),
        help_text="A segment condition (JSON).",
    )
    event_type = forms.CharField(
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"list": "event-types", "autocomplete": "off"}),
        help_text="A timeline event type, e.g. page_view, form_submit or custom:webinar.",
    )
    cap = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=services.MAX_CAP,
        help_text="The most points this rule gives one contact (blank: no cap).",
    )
    position = forms.IntegerField(required=False, min_value=0, max_value=100_000)
    is_active = forms.BooleanField(required=False, label="Active")


class SettingsForm(forms.Form):
    """Decay and MQL settings (validated again by the service)."""

    half_life_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        help_text="An event is worth half as much after this many days.",
    )
    engagement_window_days = forms.IntegerField(
        min_value=1, max_value=3650, help_text="Older events count for nothing."
    )
    mql_fit_min = forms.IntegerField(min_value=0, label="MQL: fit at least")
    mql_engagement_min = forms.IntegerField(min_value=0, label="MQL: engagement at least")
    mql_probability_min = forms.DecimalField(
        required=False,
        max_digits=4,
        decimal_places=3,
        label="MQL: or probability at least",
        help_text="Between 0 and 1; blank switches the predictive rule off.",
    )
    mql_on_hand_raise = forms.BooleanField(
        required=False, label="A hand-raise (demo request) qualifies at once"
    )


def _require_manage(user: Any) -> None:
    if not permissions.can_manage_marketing(user):
        raise PermissionDenied("only admins and marketing may change scoring")


def _settings_initial() -> dict[str, Any]:
    row = lead_settings()
    return {name: getattr(row, name) for name in SettingsForm.base_fields}


def _scoring_page(
    request: AuthedRequest, *, settings_form: SettingsForm | None = None, status: int = 200
) -> HttpResponse:
    grouped = queries.rules_by_axis()
    names = queries.rule_names([r for rules in grouped.values() for r in rules])
    context = {
        "axes": [
            {
                "axis": axis,
                "label": label,
                "rules": [
                    {"rule": r, "words": queries.describe_rule(r, names=names)}
                    for r in grouped[axis]
                ],
            }
            for axis, label in ScoreAxis.choices
        ],
        "settings_form": settings_form or SettingsForm(initial=_settings_initial()),
        "can_manage": permissions.can_manage_marketing(request.user),
    }
    return render(request, "leads/scoring.html", context, status=status)


@login_required
@require_GET
def scoring_page(request: AuthedRequest) -> HttpResponse:
    """Rules grouped by axis, and the decay and MQL settings."""
    return _scoring_page(request)


@login_required
@require_POST
def scoring_settings(request: AuthedRequest) -> HttpResponse:
    """Save the decay and MQL settings."""
    _require_manage(request.user)
    form = SettingsForm(request.POST)
    if not form.is_valid():
        return _scoring_page(request, settings_form=form, status=422)
    try:
        services.update_scoring_settings(changes=form.cleaned_data)
    except DomainError as problem:
        field = getattr(problem, "field", None)
        form.add_error(field if field in form.fields else None, str(problem))
        return _scoring_page(request, settings_form=form, status=422)
    messages.success(request, "Saved the scoring settings; scores are being recomputed.")
    return redirect("web:scoring")


# ---------------------------------------------------------------- the rule form


def _filter_rows(request: AuthedRequest | None, rule: ScoreRule | None) -> list[dict[str, str]]:
    """The filter rows to show: posted ones, else the rule's, padded with blank rows."""
    if request is not None and request.method == "POST":
        post = request.POST
        rows = [
            {"property": p.strip(), "op": o.strip(), "value": v.strip()}
            for p, o, v in zip_longest(
                post.getlist("filter_property")[:20],
                post.getlist("filter_op")[:20],
                post.getlist("filter_value")[:20],
                fillvalue="",
            )
        ]
    else:
        rows = [
            {"property": f["property"], "op": f["op"], "value": str(f["value"])}
            for f in (rule.event_filters if rule else [])
        ]
    filled = [r for r in rows if r["property"] or r["value"]]
    blanks = max(FILTER_ROWS - len(filled), 1)
    return filled + [{"property": "", "op": "eq", "value": ""} for _ in range(blanks)]


def _form_page(
    request: AuthedRequest,
    *,
    rule: ScoreRule | None,
    form: RuleForm,
    axis: str,
    filters_error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "rule": rule,
        "form": form,
        "axis": axis,
        "axis_label": dict(ScoreAxis.choices)[axis],
        "filter_rows": _filter_rows(request, rule),
        "filter_ops": list(scoring.EVENT_FILTER_OPS.items()),
        "filters_error": filters_error,
        "event_types": KNOWN_EVENT_TYPES,
        "condition_examples": CONDITION_EXAMPLES,
    }
    return render(request, "leads/score_rule_form.html", context, status=status)


def _values(request: AuthedRequest, form: RuleForm) -> dict[str, Any]:
    """The service's input from a valid form; a condition that is not JSON is a form error."""
    data = form.cleaned_data
    values: dict[str, Any] = {
        "axis": data["axis"],
        "name": data["name"],
        "points": data["points"],
        "is_active": data["is_active"],
        "position": data["position"],
    }
    if data["axis"] == ScoreAxis.FIT:
        text = (data["condition"] or "").strip()
        try:
            values["condition"] = json.loads(text) if text else None
        except ValueError as problem:
            raise DomainError(f"condition is not valid JSON: {problem}") from None
        values.update(event_type="", event_filters=[], cap=None)
    else:
        rows = [r for r in _filter_rows(request, None) if r["property"] or r["value"]]
        values.update(
            condition=None,
            event_type=data["event_type"],
            event_filters=rows,
            cap=data["cap"],
        )
    return values


def _edit(request: AuthedRequest, rule: ScoreRule | None) -> HttpResponse:
    """New and edit share one form; errors come back on the field they name."""
    if request.method == "GET":
        axis = rule.axis if rule else request.GET.get("axis", ScoreAxis.FIT)
        if axis not in ScoreAxis.values:
            axis = ScoreAxis.FIT
        initial: dict[str, Any] = {"axis": axis, "is_active": True}
        if rule:
            initial.update(
                name=rule.name,
                points=rule.points,
                condition=json.dumps(rule.condition, indent=2) if rule.condition else "",
                event_type=rule.event_type,
                cap=rule.cap,
                position=rule.position,
                is_active=rule.is_active,
            )
        return _form_page(request, rule=rule, form=RuleForm(initial=initial), axis=axis)
    form = RuleForm(request.POST)
    axis = rule.axis if rule else request.POST.get("axis", ScoreAxis.FIT)
    axis = axis if axis in ScoreAxis.values else ScoreAxis.FIT
    if not form.is_valid():
        return _form_page(request, rule=rule, form=form, axis=axis, status=422)
    filters_error = ""
    try:
        values = _values(request, form)
        if rule is None:
            rule = services.create_rule(**values)
            messages.success(request, f"Created rule {rule.name}; scores are being recomputed.")
        else:
            services.update_rule(rule=rule, changes=values)
            messages.success(request, f"Saved rule {rule.name}; scores are being recomputed.")
        return redirect("web:scoring")
    except Conflict as conflict:
        form.add_error("name", str(conflict))
    except DomainError as problem:
        field = getattr(problem, "field", None) or "condition"
        if field == "event_filters":
            filters_error = str(problem)
        else:
            form.add_error(field if field in form.fields else None, str(problem))
    if rule is not None:
        rule.refresh_from_db()
    return _form_page(
        request, rule=rule, form=form, axis=axis, filters_error=filters_error, status=422
    )


@login_required
@require_http_methods(["GET", "POST"])
def score_rule_new(request: AuthedRequest) -> HttpResponse:
    """Create a fit or engagement rule (?axis=)."""
    _require_manage(request.user)
    return _edit(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def score_rule_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a rule."""
    rule = get_object_or_404(ScoreRule, pk=pk)
    _require_manage(request.user)
    return _edit(request, rule)


@login_required
@require_POST
def score_rule_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a rule; scores lose its points at the recompute."""
    rule = get_object_or_404(ScoreRule, pk=pk)
    _require_manage(request.user)
    name = rule.name
    services.delete_rule(rule=rule)
    messages.success(request, f"Deleted rule {name}; scores are being recomputed.")
    return redirect("web:scoring")


# ---------------------------------------------------------------- the contact panel


@login_required
@require_GET
def contact_score(request: AuthedRequest, pk: int) -> HttpResponse:
    """A contact's fit, engagement, total and probability, explained, with recent changes."""
    contact = get_object_or_404(permissions.visible(request.user, Contact.objects.all()), pk=pk)
    context = {
        "contact": contact,
        "explanation": queries.explain_score(contact=contact),
        "history": queries.score_history(contact=contact, limit=10),
    }
    return render(request, "leads/_contact_score.html", context)


urlpatterns: list[URLPattern] = [
    path("scoring/", scoring_page, name="scoring"),
    path("scoring/settings/", scoring_settings, name="scoring_settings"),
    path("scoring/rules/new/", score_rule_new, name="score_rule_new"),
    path("scoring/rules/<int:pk>/edit/", score_rule_edit, name="score_rule_edit"),
    path("scoring/rules/<int:pk>/delete/", score_rule_delete, name="score_rule_delete"),
    path("contacts/<int:pk>/score/", contact_score, name="contact_score"),
]
