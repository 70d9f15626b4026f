"""One contact's page and what its forms post: activity, task, stage, edit, merge, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tandem.accounts import permissions
from tandem.crm import forms, queries, services
from tandem.crm.models import Contact
from tandem.crm.normalise import normalise_email
from tandem.crm.views.common import (
    CONTACT,
    STAGE_LABELS,
    AuthedRequest,
    company_by_domain,
    company_domains,
    contact_label,
    editable_or_403,
    form_error,
    owner_choices,
    owner_from,
)
from tandem.crm.views.timeline import TIMELINE_PAGE, more_rows, timeline_slice
from tandem.errors import DomainError, InvalidInput
from tandem.htmx import wants_partial


def _visible_contact(request: AuthedRequest, pk: int) -> Contact:
    qs = permissions.visible(
        request.user, Contact.objects.select_related("owner", "company", "team")
    )
    return get_object_or_404(qs, pk=pk)


def _editable_contact(request: AuthedRequest, pk: int) -> Contact:
    return editable_or_403(request.user, _visible_contact(request, pk), CONTACT)


def _contact_edit_initial(contact: Contact) -> dict[str, Any]:
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "title": contact.title,
        "phone": contact.phone,
        "lead_status": contact.lead_status,
        "company_domain": contact.company.domain
        if contact.company and contact.company.domain
        else "",
        "owner": contact.owner.username if contact.owner else "",
    }


def _activity_panel(
    contact: Contact, log_form: forms.LogActivityForm | None = None
) -> dict[str, Any]:
    """What the right-hand column shows: the log form, the timeline's first slice, activities."""
    more_url = reverse("web:contact_timeline", args=[contact.pk])
    return {
        "log_form": log_form or forms.LogActivityForm(),
        "activities": list(queries.activities_of(contact)[:TIMELINE_PAGE]),
        **timeline_slice(queries.timeline_of(contact), 0, more_url),
    }


def _panel_done(request: AuthedRequest, contact: Contact, *, logged: str) -> HttpResponse:
    """The refreshed activity panel an htmx form gets back after it logged something."""
    context = _activity_panel(contact) | {"contact": contact, "can_edit": True, "logged": logged}
    return render(request, "crm/_activity_panel.html", context)


def _contact_page(
    request: AuthedRequest, contact: Contact, *, status: int = 200, **given: Any
) -> HttpResponse:
    """The whole contact page, with any submitted form (and its errors) in place of a blank one."""
    user = request.user
    can_edit = permissions.can_edit(user, contact)
    context: dict[str, Any] = {
        "contact": contact,
        "can_edit": can_edit,
        "can_merge": can_edit and permissions.can_merge(user),
        # Like the contact list: the company's name shows, but a link only to a company page
        # the user may open (another team's company would be a 404).
        "company_linkable": contact.company is not None
        and permissions.can_view(user, contact.company),
        "history": list(queries.lifecycle_history_of(contact)[:100]),
        **_activity_panel(contact, given.get("log_form")),
    }
    if can_edit:
        context |= {
            "stage_form": given.get("stage_form")
            or forms.StageForm(initial={"to_stage": contact.lifecycle_stage}),
            "edit_form": given.get("edit_form")
            or forms.ContactEditForm(
                initial=_contact_edit_initial(contact),
                owner_choices=owner_choices(user, contact.owner),
            ),
            "merge_form": given.get("merge_form") or forms.MergeForm(),
            "company_domains": company_domains(user),
            "open_form": given.get("open_form", ""),
        }
    return render(request, "crm/contact_detail.html", context, status=status)


@login_required
@require_GET
def contact_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A contact: details, timeline, lifecycle history, activities and the forms to act on it."""
    return _contact_page(request, _visible_contact(request, pk))


@login_required
@require_GET
def contact_timeline(request: AuthedRequest, pk: int) -> HttpResponse:
    """The next slice of a contact's timeline ("load more")."""
    return more_rows(request, queries.timeline_of(_visible_contact(request, pk)))


@login_required
@require_POST
def contact_log_activity(request: AuthedRequest, pk: int) -> HttpResponse:
    """Log a note, call, meeting or task; htmx gets the refreshed activity panel back."""
    contact = _editable_contact(request, pk)
    form = forms.LogActivityForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            activity = services.log_activity(
                **form.service_kwargs(), contact=contact, by=request.user
            )
        except DomainError as error:
            status = form_error(form, error)
        else:
            label = activity.get_kind_display()
            if not wants_partial(request):
                messages.success(request, f"{label} logged.")
                return redirect("web:contact", pk=contact.pk)
            return _panel_done(request, contact, logged=label)
    context = _activity_panel(contact, form) | {"contact": contact, "can_edit": True}
    if wants_partial(request):
        return render(request, "crm/_activity_panel.html", context, status=status)
    return _contact_page(request, contact, log_form=form, status=status)


@login_required
@require_POST
def contact_complete_task(request: AuthedRequest, pk: int, activity_pk: int) -> HttpResponse:
    """Mark one of the contact's open tasks done; htmx gets the refreshed activity panel back."""
    contact = _editable_contact(request, pk)
    task = get_object_or_404(
        permissions.editable(request.user, contact.activities.filter(kind="task")), pk=activity_pk
    )
    services.complete_task(activity=task, by=request.user)
    if not wants_partial(request):
        messages.success(request, "Task done.")
        return redirect("web:contact", pk=contact.pk)
    return _panel_done(request, contact, logged="Task done")


@login_required
@require_POST
def contact_stage(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change the lifecycle stage; a backward move without a reason is refused with the reason why."""
    contact = _editable_contact(request, pk)
    form = forms.StageForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            change = services.change_lifecycle_stage(
                contact=contact,
                to_stage=form.cleaned_data["to_stage"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            status = form_error(form, error)
        else:
            if change is None:
                messages.info(request, "The contact is already at that stage.")
            else:
                messages.success(request, f"Stage changed to {STAGE_LABELS[change.to_stage]}.")
            return redirect("web:contact", pk=contact.pk)
    return _contact_page(request, contact, stage_form=form, status=status)


def _contact_changes(
    request: AuthedRequest, contact: Contact, data: dict[str, Any]
) -> dict[str, Any]:
    """The fields the form changed, with owner and company resolved to records the user may use."""
    changes = {
        field: data[field]
        for field in ("first_name", "last_name", "email", "title", "phone", "lead_status")
        if data[field] != getattr(contact, field)
    }
    current_owner = contact.owner.username if contact.owner else ""
    if data["owner"] != current_owner:
        changes["owner"] = owner_from(data["owner"], request.user)
    current_domain = contact.company.domain if contact.company and contact.company.domain else ""
    if data["company_domain"].strip().lower() != current_domain:
        changes["company"] = company_by_domain(request, data["company_domain"])
    return changes


@login_required
@require_POST
def contact_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Save a contact's basic fields through update_contact."""
    contact = _editable_contact(request, pk)
    form = forms.ContactEditForm(
        request.POST, owner_choices=owner_choices(request.user, contact.owner)
    )
    status = 422
    if form.is_valid():
        try:
            changes = _contact_changes(request, contact, form.cleaned_data)
            if changes:
                services.update_contact(contact=contact, changes=changes, by=request.user)
        except DomainError as error:
            status = form_error(form, error)
        else:
            messages.success(request, "Contact saved." if changes else "Nothing to change.")
            return redirect("web:contact", pk=contact.pk)
    contact = _visible_contact(request, pk)  # the form may have touched the instance before failing
    return _contact_page(request, contact, edit_form=form, open_form="edit", status=status)


@login_required
@require_POST
def contact_merge(request: AuthedRequest, pk: int) -> HttpResponse:
    """Fold another contact (found by email) into this one."""
    contact = _editable_contact(request, pk)
    if not permissions.can_merge(request.user):
        raise PermissionDenied("only admins, marketing and managers may merge contacts")
    form = forms.MergeForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            email = normalise_email(form.cleaned_data["email"])
            duplicate = (
                permissions.editable(request.user, Contact.objects.all())
                .filter(email=email)
                .first()
            )
            if duplicate is None:
                raise InvalidInput(
                    f"no contact you may change has the email {email}", field="email"
                )
            services.merge_contacts(primary=contact, duplicate=duplicate, by=request.user)
        except DomainError as error:
            status = form_error(form, error)
        else:
            messages.success(request, f"Merged {email} into this contact.")
            return redirect("web:contact", pk=contact.pk)
    return _contact_page(request, contact, merge_form=form, open_form="merge", status=status)


@login_required
@require_POST
def contact_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a contact the user may change, with its timeline and history."""
    contact = _editable_contact(request, pk)
    label = contact_label(contact)
    services.delete_contact(contact=contact, by=request.user)
    messages.success(request, f"Deleted contact {label}.")
    return redirect("web:contacts")
