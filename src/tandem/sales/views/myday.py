"""A rep's "My day", marking tasks done, and the deal page's activities panel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.crm.forms import IdPrefixed, add_domain_error
from tandem.crm.models import Activity, ActivityDirection, ActivityKind, CallOutcome, Contact
from tandem.crm.views.common import AuthedRequest
from tandem.errors import DomainError, Forbidden
from tandem.htmx import render_page, wants_partial
from tandem.sales.models import Deal
from tandem.sales.queries import myday as queries
from tandem.sales.queries.deals import deal_contacts, deal_for
from tandem.sales.services import activities as services

DEAL_KINDS = [
    ("call", "Call"),
    ("meeting", "Meeting"),
    ("email", "Email"),
    ("note", "Note"),
    ("task", "Task"),
]
BLANK = [("", "—")]


def _aware(value: datetime | None) -> datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


class DealActivityForm(IdPrefixed):
    """A call, meeting, email, note or task (due date and reminder) on a deal."""

    id_prefix = "act"
    field_aliases = {"duration_seconds": "duration_minutes"}

    kind = forms.ChoiceField(choices=DEAL_KINDS, initial="call", widget=forms.RadioSelect)
    contact = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=BLANK)
    subject = forms.CharField(required=False, max_length=255)
    body = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=20000
    )
    call_outcome = forms.ChoiceField(required=False, choices=BLANK + list(CallOutcome.choices))
    duration_minutes = forms.IntegerField(required=False, min_value=0, max_value=1440)
    direction = forms.ChoiceField(
        required=False, choices=list(ActivityDirection.choices), initial="outbound"
    )
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    remind_at = forms.DateTimeField(
        label="Remind me at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, contacts: list[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Primary contact")] + [
            (c.pk, c.full_name or c.email) for c in contacts
        ]

    def service_kwargs(self, contacts: dict[int, Contact]) -> dict[str, Any]:
        """The log_deal_activity arguments, keeping only the fields of the chosen kind."""
        data = self.cleaned_data
        kind = data["kind"]
        kwargs: dict[str, Any] = {
            "kind": kind,
            "subject": data["subject"],
            "body": data["body"],
            "contact": contacts.get(data["contact"]) if data["contact"] else None,
        }
        if kind == ActivityKind.CALL:
            kwargs["call_outcome"] = data["call_outcome"]
        if kind in (ActivityKind.CALL, ActivityKind.MEETING) and data["duration_minutes"]:
            kwargs["duration_seconds"] = data["duration_minutes"] * 60
        if kind == ActivityKind.EMAIL:
            kwargs["direction"] = data["direction"] or ActivityDirection.OUTBOUND
        if kind == ActivityKind.TASK:
            kwargs["due_at"] = _aware(data["due_at"])
            kwargs["remind_at"] = _aware(data["remind_at"])
        return kwargs


# ---------------------------------------------------------------- my day


def _require_seller(request: AuthedRequest) -> None:
    if not permissions.can_sell(request.user):
        raise PermissionDenied("My day is for sales users")


def _myday_response(request: AuthedRequest, done: Activity | None = None) -> HttpResponse:
    day = queries.my_day(user=request.user, now=timezone.now())
    return render_page(
        request,
        page="sales/myday.html",
        partial="sales/myday_body.html",
        context={"day": day, "done": done},
    )


@login_required
@require_http_methods(["GET"])
def my_day(request: AuthedRequest) -> HttpResponse:
    """The signed-in seller's overdue and due tasks, today's meetings and sequence tasks."""
    _require_seller(request)
    return _myday_response(request)


@login_required
@require_POST
def task_done(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark a task I may see done (someone else's is a 404, one I only see a 403)."""
    _require_seller(request)
    task = (
        permissions.visible(request.user, Activity.objects.select_related("contact"))
        .filter(pk=pk, kind=ActivityKind.TASK)
        .first()
    )
    if task is None:
        raise Http404("no such task")
    try:
        services.complete_task(task=task, by=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    panel = request.POST.get("panel", "")
    if panel == "deal" and task.deal_id:
        deal = deal_for(request.user, task.deal_id)
        if wants_partial(request):
            return _panel(request, deal)
        return redirect("web:deal", deal.pk)
    if wants_partial(request):
        return _myday_response(request, done=task)
    return redirect("web:my_day")


# ---------------------------------------------------------------- the deal's activities panel


def _deal_contacts(deal: Deal) -> list[Contact]:
    return [role.contact for role in deal_contacts(deal)]


def _panel(
    request: AuthedRequest,
    deal: Deal,
    form: DealActivityForm | None = None,
    logged: str = "",
    status: int = 200,
) -> HttpResponse:
    can_edit = permissions.can_edit(request.user, deal)
    contacts = _deal_contacts(deal) if can_edit else []
    return render(
        request,
        "sales/_deal_activities.html",
        {
            "deal": deal,
            "activities": queries.deal_activities(deal_id=deal.pk),
            "form": form or DealActivityForm(contacts=contacts),
            "can_edit": can_edit,
            "logged": logged,
            "now": timezone.now(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_activities(request: AuthedRequest, pk: int) -> HttpResponse:
    """GET: the deal's activities panel; POST: log a call, meeting, email, note or task."""
    deal = deal_for(request.user, pk)
    if request.method == "GET":
        return _panel(request, deal)
    if not permissions.can_edit(request.user, deal):
        raise PermissionDenied("you may not log activities on this deal")
    contacts = _deal_contacts(deal)
    form = DealActivityForm(request.POST, contacts=contacts)
    if form.is_valid():
        try:
            activity = services.log_deal_activity(
                deal=deal, by=request.user, **form.service_kwargs({c.pk: c for c in contacts})
            )
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if wants_partial(request):
                return _panel(request, deal, logged=activity.get_kind_display())
            return redirect("web:deal", deal.pk)
    return _panel(request, deal, form=form, status=422)


urlpatterns: list[URLPattern] = [
    path("my-day/", my_day, name="my_day"),
    path("tasks/<int:pk>/done/", task_done, name="task_done"),
    path("deals/<int:pk>/activities/", deal_activities, name="deal_activities"),
]
