"""Hand-off pages: a rep's inbox, notifications, the manager's view, routing and lead quality."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.accounts.models import Role, Team, TeamKind, Territory, User
from tandem.crm.models import Contact
from tandem.crm.views.common import AuthedRequest
from tandem.errors import DomainError
from tandem.htmx import render_page, wants_partial
from tandem.leads.models import MqlCommitment, RoutingMethod, RoutingRule, Segment
from tandem.leads.queries import handoff as queries
from tandem.leads.services import handoff as services
from tandem.leads.services import routing as routing_services
from tandem.leads.services.settings import lead_settings, update_lead_settings
from tandem.marketing.models import Persona

SLA_SETTINGS = ("accept_sla_hours", "first_touch_sla_hours", "max_reroutes", "default_capacity")


def countdown(due: datetime | None, now: datetime) -> tuple[str, bool]:
    """How long until an SLA is due ("due in 3 h") or how long it is late ("overdue by 2 h")."""
    if due is None:
        return "no deadline", False
    seconds = (due - now).total_seconds()
    late = seconds < 0
    left = abs(seconds)
    if left >= 2 * 86400:
        amount = f"{int(left // 86400)} days"
    elif left >= 3600:
        amount = f"{int(left // 3600)} h"
    else:
        amount = f"{max(1, int(left // 60))} min"
    return (f"overdue by {amount}" if late else f"due in {amount}"), late


def _require(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDenied(f"you may not {what}")


# ---------------------------------------------------------------- the rep's inbox


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=40)
    note = forms.CharField(required=False, max_length=2000)
    recycle_on = forms.DateField(required=False)


def _inbox_context(user: User, errors: dict[int, str] | None = None) -> dict[str, Any]:
    now = timezone.now()
    rows = []
    for assignment in queries.inbox(user=user):
        text, late = countdown(assignment.accept_due_at, now)
        rows.append({"a": assignment, "countdown": text, "late": late})
    return {
        "rows": rows,
        "reasons": services.reason_choices(),
        "errors": errors or {},
        "tomorrow": (now + timedelta(days=1)).date(),
    }


def _inbox_response(request: AuthedRequest, errors: dict[int, str] | None = None) -> HttpResponse:
    return render_page(
        request,
        page="leads/inbox.html",
        partial="leads/_inbox_list.html",
        context=_inbox_context(request.user, errors),
        status=422 if errors else 200,
    )


@login_required
@require_GET
def lead_inbox(request: AuthedRequest) -> HttpResponse:
    """The signed-in rep's leads awaiting a decision, with SLA countdowns."""
    return _inbox_response(request)


@login_required
@require_POST
def lead_accept(request: AuthedRequest, contact_id: int) -> HttpResponse:
    """Accept one of my pending leads (anyone else's is a 404)."""
    assignment = services.pending_for(contact_id=contact_id, user=request.user)
    services.accept_lead(contact=assignment.contact, by=request.user)
    messages.success(request, f"Accepted {assignment.contact.email}: it is now an SQL.")
    if wants_partial(request):
        return _inbox_response(request)
    return redirect("web:lead_inbox")


@login_required
@require_POST
def lead_reject(request: AuthedRequest, contact_id: int) -> HttpResponse:
    """Reject one of my pending leads with a reason, a note and (for some reasons) a recycle date."""
    assignment = services.pending_for(contact_id=contact_id, user=request.user)
    form = RejectForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
        return _inbox_response(request, {contact_id: problems})
    try:
        services.reject_lead(
            contact=assignment.contact,
            by=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            recycle_on=form.cleaned_data["recycle_on"],
        )
    except DomainError as problem:
        return _inbox_response(request, {contact_id: str(problem)})
    messages.success(request, f"Rejected {assignment.contact.email}.")
    if wants_partial(request):
        return _inbox_response(request)
    return redirect("web:lead_inbox")


# ---------------------------------------------------------------- notifications


@login_required
@require_GET
def notifications(request: AuthedRequest) -> HttpResponse:
    """The signed-in user's in-app notifications, the latest first."""
    context = {
        "notifications": queries.notifications(user=request.user),
        "unread": queries.unread_count(user=request.user),
    }
    return render_page(
        request,
        page="leads/notifications.html",
        partial="leads/_notification_list.html",
        context=context,
    )


@login_required
@require_POST
def notifications_read(request: AuthedRequest) -> HttpResponse:
    """Mark one notification (`id`) or all of them read."""
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    services.mark_read(user=request.user, ids=ids)
    if wants_partial(request):
        return notifications(request)
    return redirect("web:notifications")


# ---------------------------------------------------------------- the manager's view


@login_required
@require_GET
def handoff(request: AuthedRequest) -> HttpResponse:
    """Breaches and unrouted leads, and each team's load per rep."""
    user = request.user
    _require(permissions.can_view_handoff(user), "see the hand-off overview")
    now = timezone.now()
    rows = []
    for a in queries.breaches(user=user):
        rows.append({"a": a, "countdown": countdown(a.accept_due_at, now)[0]})
    can_manage = permissions.can_manage_routing(user)
    context = {
        "breaches": rows,
        "loads": queries.team_load(user=user),
        "can_manage": can_manage,
        "assignable": queries.assignable_reps(user=user) if can_manage else [],
        "limit": queries.BREACH_LIMIT,
    }
    return render(request, "leads/handoff.html", context)


@login_required
@require_POST
def handoff_rep(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Mark a rep away or back and set their capacity (blank: the default)."""
    _require(permissions.can_manage_routing(request.user), "change reps' routing")
    rep = get_object_or_404(User, pk=user_id, role=Role.SALES_REP)
    try:
        routing_services.set_rep_routing(
            rep=rep,
            by=request.user,
            is_away=request.POST.get("is_away") == "on",
            max_open_leads=request.POST.get("max_open_leads", ""),
        )
        messages.success(request, f"Saved routing of {rep.username}.")
    except DomainError as problem:
        messages.error(request, str(problem))
    return redirect("web:handoff")


@login_required
@require_POST
def handoff_assign(request: AuthedRequest, contact_id: int) -> HttpResponse:
    """A manager hands an unrouted or late lead to a rep of their team."""
    _require(permissions.can_manage_routing(request.user), "assign leads")
    contact = get_object_or_404(Contact, pk=contact_id)
    raw = request.POST.get("rep", "")
    rep = get_object_or_404(User, pk=int(raw)) if raw.isdigit() else None
    try:
        if rep is None:
            raise DomainError("choose a rep")
        services.assign_lead(contact=contact, rep=rep, by=request.user)
        messages.success(request, f"Assigned {contact.email} to {rep.username}.")
    except DomainError as problem:
        messages.error(request, str(problem))
    return redirect("web:handoff")


# ---------------------------------------------------------------- routing rules and settings


class RoutingRuleForm(forms.Form):
    name = forms.CharField(max_length=160)
    position = forms.IntegerField(min_value=0, max_value=100_000, initial=0)
    is_active = forms.BooleanField(required=False, initial=True)
    team = forms.ChoiceField()
    method = forms.ChoiceField(choices=RoutingMethod.choices)
    territory = forms.ChoiceField(required=False)
    segment = forms.ChoiceField(required=False)
    persona_id = forms.ChoiceField(required=False, label="Persona")
    min_employees = forms.IntegerField(required=False, min_value=0)
    max_employees = forms.IntegerField(required=False, min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_ = [("", "— any —")]
        cast(forms.ChoiceField, self.fields["team"]).choices = [
            (str(t.pk), t.name) for t in Team.objects.filter(kind=TeamKind.SALES).order_by("name")
        ]
        cast(forms.ChoiceField, self.fields["territory"]).choices = any_ + [
            (str(t.pk), f"{t.name} ({t.team.name})")
            for t in Territory.objects.select_related("team").order_by("name")
        ]
        cast(forms.ChoiceField, self.fields["segment"]).choices = any_ + [
            (str(s.pk), s.name) for s in Segment.objects.order_by("name")
        ]
        cast(forms.ChoiceField, self.fields["persona_id"]).choices = any_ + [
            (str(p.pk), p.name) for p in Persona.objects.order_by("name")
        ]


class SlaSettingsForm(forms.Form):
    accept_sla_hours = forms.IntegerField(label="Accept or reject within (hours)")
    first_touch_sla_hours = forms.IntegerField(label="First touch within (hours)")
    max_reroutes = forms.IntegerField(label="Re-route at most (times)")
    default_capacity = forms.IntegerField(label="Default capacity (open leads per rep)")


class CommitmentForm(forms.Form):
    team = forms.ChoiceField()
    month = forms.CharField(max_length=10, help_text="YYYY-MM")
    target = forms.IntegerField(min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["team"]).choices = [
            (str(t.pk), t.name) for t in Team.objects.filter(kind=TeamKind.SALES).order_by("name")
        ]


def _routing_page(
    request: AuthedRequest,
    *,
    settings_form: SlaSettingsForm | None = None,
    commitment_form: CommitmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    cfg = lead_settings()
    context = {
        "rules": list(
            RoutingRule.objects.select_related("team", "territory", "segment").order_by(
                "position", "id"
            )
        ),
        "personas": dict(Persona.objects.values_list("id", "name")),
        "settings_form": settings_form
        or SlaSettingsForm(initial={k: getattr(cfg, k) for k in SLA_SETTINGS}),
        "commitment_form": commitment_form
        or CommitmentForm(initial={"month": timezone.now().strftime("%Y-%m")}),
        "commitments": queries.commitments(),
        "can_manage": permissions.can_manage_routing(request.user),
    }
    return render(request, "leads/routing.html", context, status=status)


@login_required
@require_GET
def routing(request: AuthedRequest) -> HttpResponse:
    """Routing rules in order, SLA settings and MQL commitments."""
    _require(permissions.can_view_handoff(request.user), "see routing")
    return _routing_page(request)


def _rule_form_page(
    request: AuthedRequest, *, rule: RoutingRule | None, form: RoutingRuleForm, status: int = 200
) -> HttpResponse:
    return render(
        request, "leads/routing_rule_form.html", {"rule": rule, "form": form}, status=status
    )


def _edit_rule(request: AuthedRequest, rule: RoutingRule | None) -> HttpResponse:
    _require(permissions.can_manage_routing(request.user), "change routing rules")
    if request.method == "GET":
        initial: dict[str, Any] = {}
        if rule is not None:
            initial = {
                "name": rule.name,
                "position": rule.position,
                "is_active": rule.is_active,
                "team": rule.team_id,
                "method": rule.method,
                "territory": rule.territory_id or "",
                "segment": rule.segment_id or "",
                "persona_id": rule.persona_id or "",
                "min_employees": rule.min_employees,
                "max_employees": rule.max_employees,
            }
        return _rule_form_page(request, rule=rule, form=RoutingRuleForm(initial=initial))
    form = RoutingRuleForm(request.POST)
    if not form.is_valid():
        return _rule_form_page(request, rule=rule, form=form, status=422)
    values = dict(form.cleaned_data)
    try:
        if rule is None:
            rule = routing_services.create_routing_rule(values=values)
            messages.success(request, f"Created routing rule {rule.name}.")
        else:
            routing_services.update_routing_rule(rule=rule, changes=values)
            messages.success(request, f"Saved routing rule {rule.name}.")
    except DomainError as problem:
        field = getattr(problem, "field", None)
        form.add_error(field if field in form.fields else None, str(problem))
        return _rule_form_page(request, rule=rule, form=form, status=422)
    return redirect("web:routing")


@login_required
@require_http_methods(["GET", "POST"])
def routing_rule_new(request: AuthedRequest) -> HttpResponse:
    """Create a routing rule."""
    return _edit_rule(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def routing_rule_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Edit a routing rule."""
    _require(permissions.can_manage_routing(request.user), "change routing rules")
    return _edit_rule(request, get_object_or_404(RoutingRule, pk=pk))


@login_required
@require_POST
def routing_rule_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a routing rule."""
    _require(permissions.can_manage_routing(request.user), "change routing rules")
    rule = get_object_or_404(RoutingRule, pk=pk)
    routing_services.delete_routing_rule(rule=rule)
    messages.success(request, f"Deleted routing rule {rule.name}.")
    return redirect("web:routing")


@login_required
@require_POST
def routing_settings(request: AuthedRequest) -> HttpResponse:
    """Save SLA hours, the re-route limit and the default capacity."""
    _require(permissions.can_manage_routing(request.user), "change SLA settings")
    form = SlaSettingsForm(request.POST)
    if not form.is_valid():
        return _routing_page(request, settings_form=form, status=422)
    try:
        update_lead_settings(changes=dict(form.cleaned_data))
    except DomainError as problem:
        field = getattr(problem, "field", None)
        form.add_error(field if field in form.fields else None, str(problem))
        return _routing_page(request, settings_form=form, status=422)
    messages.success(request, "Saved SLA settings.")
    return redirect("web:routing")


@login_required
@require_POST
def mql_commitment(request: AuthedRequest) -> HttpResponse:
    """Set marketing's MQL target for a team and month."""
    _require(permissions.can_manage_routing(request.user), "change MQL commitments")
    form = CommitmentForm(request.POST)
    if not form.is_valid():
        return _routing_page(request, commitment_form=form, status=422)
    team = get_object_or_404(Team, pk=form.cleaned_data["team"])
    try:
        routing_services.set_commitment(
            team=team, month=form.cleaned_data["month"], target=form.cleaned_data["target"]
        )
    except DomainError as problem:
        field = getattr(problem, "field", None)
        form.add_error(field if field in form.fields else None, str(problem))
        return _routing_page(request, commitment_form=form, status=422)
    messages.success(request, f"Saved the MQL commitment for {team.name}.")
    return redirect("web:routing")


@login_required
@require_POST
def mql_commitment_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Remove an MQL commitment."""
    _require(permissions.can_manage_routing(request.user), "change MQL commitments")
    routing_services.delete_commitment(commitment=get_object_or_404(MqlCommitment, pk=pk))
    messages.success(request, "Deleted the MQL commitment.")
    return redirect("web:routing")


# ---------------------------------------------------------------- lead quality


class QualityForm(forms.Form):
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)
    group_by = forms.ChoiceField(
        required=False, choices=[(k, queries.GROUP_LABELS[k]) for k in queries.GROUP_BY]
    )


@login_required
@require_GET
def lead_quality(request: AuthedRequest) -> HttpResponse:
    """Marketing's feedback: what sales did with the MQLs of a period, by source, campaign or persona."""
    _require(permissions.can_view_handoff(request.user), "see lead quality")
    form = QualityForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    today = timezone.now().date()
    end: date = data.get("end") or today
    start: date = data.get("start") or end - timedelta(days=89)
    if start > end:
        start, end = end, start
    group_by = data.get("group_by") or "source"
    report = queries.lead_quality(start=start, end=end, group_by=group_by)
    context = {
        "form": form,
        "report": report,
        "start": start,
        "end": end,
        "group_by": group_by,
        "group_label": queries.GROUP_LABELS[group_by],
        "group_choices": [(k, queries.GROUP_LABELS[k]) for k in queries.GROUP_BY],
        # Each group's reasons by label, the most common first, for the reasons column.
        "rows": [
            (
                row,
                [
                    (report.reason_labels.get(code, code), n)
                    for code, n in sorted(row.reasons.items(), key=lambda item: -item[1])
                ],
            )
            for row in report.rows
        ],
        "reasons": queries.reason_breakdown(report.rows, report.reason_labels),
        "commitments": queries.commitments(),
    }
    return render_page(
        request, page="leads/quality.html", partial="leads/_quality_table.html", context=context
    )


# ---------------------------------------------------------------- the contact page's panel


@login_required
@require_GET
def contact_handoff(request: AuthedRequest, pk: int) -> HttpResponse:
    """A contact's current and past hand-offs (loaded lazily by the contact page)."""
    contact = get_object_or_404(Contact, pk=pk)
    if not permissions.can_view(request.user, contact):
        raise Http404("no such contact")
    now = timezone.now()
    assignments = queries.contact_assignments(contact=contact)
    rows = [{"a": a, "countdown": countdown(a.accept_due_at, now)[0]} for a in assignments]
    assignment = next((a for a in assignments if a.status == "pending"), None)
    context = {
        "contact": contact,
        "rows": rows,
        "mine": assignment is not None and assignment.rep_id == request.user.pk,
    }
    return render(request, "leads/_contact_handoff.html", context)


urlpatterns: list[URLPattern] = [
    path("inbox/", lead_inbox, name="lead_inbox"),
    path("inbox/<int:contact_id>/accept/", lead_accept, name="lead_accept"),
    path("inbox/<int:contact_id>/reject/", lead_reject, name="lead_reject"),
    path("notifications/", notifications, name="notifications"),
    path("notifications/read/", notifications_read, name="notifications_read"),
    path("handoff/", handoff, name="handoff"),
    path("handoff/reps/<int:user_id>/", handoff_rep, name="handoff_rep"),
    path("handoff/assign/<int:contact_id>/", handoff_assign, name="handoff_assign"),
    path("routing/", routing, name="routing"),
    path("routing/new/", routing_rule_new, name="routing_rule_new"),
    path("routing/<int:pk>/edit/", routing_rule_edit, name="routing_rule_edit"),
    path("routing/<int:pk>/delete/", routing_rule_delete, name="routing_rule_delete"),
    path("routing/settings/", routing_settings, name="routing_settings"),
    path("routing/commitments/", mql_commitment, name="mql_commitment"),
    path(
        "routing/commitments/<int:pk>/delete/", mql_commitment_delete, name="mql_commitment_delete"
    ),
    path("quality/", lead_quality, name="lead_quality"),
    path("contacts/<int:pk>/handoff/", contact_handoff, name="contact_handoff"),
]
