"""Sequence pages: the list, a new sequence with its steps, one sequence, enrolling and stopping."""

from __future__ import annotations

import re
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
from tandem.crm.forms import IdPrefixed, add_domain_error
from tandem.crm.models import Contact
from tandem.crm.normalise import normalise_email
from tandem.crm.views.common import AuthedRequest
from tandem.errors import DomainError, Forbidden, InvalidInput
from tandem.htmx import wants_partial
from tandem.sales.models import Sequence, SequenceStep, SequenceStepKind, StopReason
from tandem.sales.queries import sequences as queries
from tandem.sales.services import sequences as services

NEW_STEP_ROWS = 6
MAX_ENROLL = 200
STEP_KINDS = [("", "—"), *SequenceStepKind.choices]


class SequenceForm(IdPrefixed):
    """A sequence's name and description (its steps are numbered rows step_<n>_kind, …)."""

    id_prefix = "seq"

    name = forms.CharField(max_length=160)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StepForm(IdPrefixed):
    """One step: an email, call or social task, or a wait of N business days."""

    id_prefix = "step"

    kind = forms.ChoiceField(choices=list(SequenceStepKind.choices))
    wait_days = forms.IntegerField(
        required=False, min_value=0, max_value=services.MAX_WAIT_DAYS, label="Wait (business days)"
    )
    subject = forms.CharField(required=False, max_length=255)
    instructions = forms.CharField(required=False, max_length=5000)


def _step_rows(data: Any | None) -> list[dict[str, Any]]:
    """The numbered step rows of the new-sequence form, as posted (or blank)."""
    rows = []
    for n in range(1, NEW_STEP_ROWS + 1):
        row: dict[str, Any] = {"n": n}
        for key in ("kind", "wait_days", "subject", "instructions"):
            row[key] = (data.get(f"step_{n}_{key}") or "").strip() if data else ""
        rows.append(row)
    return rows


def _require_seller(request: AuthedRequest) -> None:
    if not permissions.can_sell(request.user):
        raise PermissionDenied("sequences are worked by sales users")


@login_required
@require_GET
def sequence_list(request: AuthedRequest) -> HttpResponse:
    """Every sequence with its steps count and the enrolments I can see by status."""
    return render(
        request,
        "sales/sequence_list.html",
        {
            "sequences": queries.sequences_for(request.user),
            "can_create": permissions.can_sell(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sequence_new(request: AuthedRequest) -> HttpResponse:
    """A new sequence with up to six steps."""
    _require_seller(request)
    form = SequenceForm(request.POST or None)
    rows = _step_rows(request.POST if request.method == "POST" else None)
    step_error = ""
    if request.method == "POST" and form.is_valid():
        steps = [
            {k: r[k] for k in ("kind", "wait_days", "subject", "instructions")}
            for r in rows
            if r["kind"]
        ]
        try:
            if not steps:
                raise InvalidInput("add at least one step", field="steps")
            sequence = services.create_sequence(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                steps=steps,
                by=request.user,
            )
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except DomainError as exc:
            if getattr(exc, "field", None) in ("kind", "wait_days", "subject", "steps"):
                step_error = str(exc)
            else:
                add_domain_error(form, exc)
        else:
            messages.success(request, f"Sequence {sequence.name} created.")
            return redirect("web:sequence", sequence.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "sales/sequence_form.html",
        {"form": form, "rows": rows, "kinds": STEP_KINDS, "step_error": step_error},
        status=status,
    )


def _detail(
    request: AuthedRequest,
    sequence: Sequence,
    *,
    step_form: StepForm | None = None,
    enroll_result: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context = {
        "sequence": sequence,
        "steps": list(sequence.steps.all()),
        "counts": queries.enrollment_counts(user=user, sequence=sequence),
        "enrollments": queries.enrollments_of(user=user, sequence=sequence),
        "can_change": services.can_change(user, sequence),
        "can_enroll": permissions.can_sell(user) and sequence.is_active,
        "step_form": step_form or StepForm(),
        "enroll_result": enroll_result,
        "stop_reasons": dict(StopReason.choices),
        "step_kinds": list(SequenceStepKind.choices),
    }
    if wants_partial(request) and enroll_result is not None:
        return render(request, "sales/sequence_enrollments.html", context, status=status)
    return render(request, "sales/sequence_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sequence_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One sequence: steps (add, edit, remove), enrolments with status and stop reason."""
    sequence = queries.sequence_for(request.user, pk)
    if request.method == "GET":
        return _detail(request, sequence)
    if not services.can_change(request.user, sequence):
        raise PermissionDenied("you may not change this sequence")
    action = request.POST.get("action", "")
    try:
        if action == "remove_step":
            step = get_object_or_404(SequenceStep, sequence=sequence, pk=request.POST.get("step"))
            services.remove_step(step=step, by=request.user)
        elif action in ("pause", "resume"):
            services.set_active(sequence=sequence, active=action == "resume", by=request.user)
        elif action == "update_step":
            step = get_object_or_404(SequenceStep, sequence=sequence, pk=request.POST.get("step"))
            form = StepForm(request.POST)
            if not form.is_valid():
                return _detail(request, sequence, step_form=form, status=422)
            try:
                services.update_step(
                    step=step,
                    changes={**form.cleaned_data, "wait_days": form.cleaned_data["wait_days"] or 0},
                    by=request.user,
                )
            except InvalidInput as exc:
                add_domain_error(form, exc)
                return _detail(request, sequence, step_form=form, status=422)
        elif action == "add_step":
            form = StepForm(request.POST)
            if not form.is_valid():
                return _detail(request, sequence, step_form=form, status=422)
            try:
                services.add_step(
                    sequence=sequence,
                    kind=form.cleaned_data["kind"],
                    wait_days=form.cleaned_data["wait_days"] or 0,
                    subject=form.cleaned_data["subject"],
                    instructions=form.cleaned_data["instructions"],
                    by=request.user,
                )
            except InvalidInput as exc:
                add_domain_error(form, exc)
                return _detail(request, sequence, step_form=form, status=422)
        else:
            return _detail(request, sequence, status=400)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    return redirect("web:sequence", sequence.pk)


def _wanted_contacts(request: AuthedRequest) -> tuple[list[Contact], list[str]]:
    """The contacts named by id (`contact`) or email (`emails`) that I can see; the rest unknown."""
    ids: list[int] = []
    for raw in request.POST.getlist("contact"):
        if raw.strip().isdigit() and len(raw.strip()) < 19:
            ids.append(int(raw.strip()))
    emails = []
    for token in re.split(r"[\s,;]+", request.POST.get("emails", "")):
        if token:
            try:
                emails.append(normalise_email(token))
            except DomainError:
                emails.append(token)
    ids, emails = ids[:MAX_ENROLL], emails[:MAX_ENROLL]
    visible = permissions.visible(request.user, Contact.objects.all())
    found = list(visible.filter(pk__in=ids)) + list(
        visible.filter(email__in=emails).exclude(pk__in=ids)
    )
    known_ids = {c.pk for c in found}
    known_emails = {c.email for c in found}
    unknown = [str(i) for i in ids if i not in known_ids] + [
        e for e in emails if e not in known_emails
    ]
    return found, unknown


@login_required
@require_POST
def sequence_enroll(request: AuthedRequest, pk: int) -> HttpResponse:
    """Enrol the contacts named (ids or emails) that I may edit; refusals are listed."""
    _require_seller(request)
    sequence = queries.sequence_for(request.user, pk)
    contacts, unknown = _wanted_contacts(request)
    enrolled: list[Contact] = []
    refused: list[str] = [f"{u}: no such contact" for u in unknown]
    for contact in contacts:
        try:
            services.enroll(sequence=sequence, contact=contact, by=request.user)
        except DomainError as exc:
            refused.append(str(exc))
        else:
            enrolled.append(contact)
    if not contacts and not unknown:
        refused.append("name at least one contact (ids or emails)")
    result = {"enrolled": enrolled, "refused": refused}
    if wants_partial(request):
        return _detail(request, sequence, enroll_result=result)
    if enrolled:
        messages.success(
            request, f"Enrolled {len(enrolled)} contact{'s' if len(enrolled) != 1 else ''}."
        )
    for problem in refused:
        messages.error(request, problem)
    return redirect("web:sequence", sequence.pk)


@login_required
@require_POST
def enrollment_stop(request: AuthedRequest, pk: int) -> HttpResponse:
    """Stop an enrolment I can see (one I may not change is a 403)."""
    enrollment = queries.enrollment_for(request.user, pk)
    try:
        services.stop_enrollment(enrollment=enrollment, reason=StopReason.MANUAL, by=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if wants_partial(request):
        return _detail(request, enrollment.sequence, enroll_result={})
    messages.success(request, f"Stopped {enrollment.contact.email} in {enrollment.sequence.name}.")
    return redirect("web:sequence", enrollment.sequence_id)


urlpatterns: list[URLPattern] = [
    path("sequences/", sequence_list, name="sequences"),
    path("sequences/new/", sequence_new, name="sequence_new"),
    path("sequences/<int:pk>/", sequence_detail, name="sequence"),
    path("sequences/<int:pk>/enroll/", sequence_enroll, name="sequence_enroll"),
    path("enrollments/<int:pk>/stop/", enrollment_stop, name="enrollment_stop"),
]
