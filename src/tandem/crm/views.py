"""CRM pages: contact and company lists and records, activity logging, import and export.

Thin edges: each view parses input with a form, calls one service, and renders. Lists answer
htmx swaps with their table partial only (tandem.htmx.render_page).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm import exports, forms, queries, services
from tandem.crm.models import CallOutcome, Company, Contact, LifecycleStage, Source, TimelineEvent
from tandem.crm.normalise import normalise_domain, normalise_email
from tandem.errors import Conflict, DomainError, Forbidden, InvalidInput
from tandem.htmx import render_page, wants_partial


class AuthedRequest(HttpRequest):
    """A request behind login_required: its user is a real account."""

    user: User


PER_PAGE = 50
# A company page previews its first contacts; the contact list (filtered) holds them all.
COMPANY_CONTACTS = 10
TIMELINE_PAGE = 50
MAX_TIMELINE_OFFSET = 100_000
# Filter drop-downs stay small; a longer list is reached through search instead.
MAX_CHOICES = 300

STAGE_LABELS = dict(LifecycleStage.choices)
OUTCOME_LABELS = dict(CallOutcome.choices)
SOURCE_LABELS = dict(Source.choices)

# (column label, sort key from the allow-list or None when the column does not sort)
CONTACT_COLUMNS = [
    ("Name", "last_name"),
    ("Email", "email"),
    ("Company", "company"),
    ("Stage", "lifecycle_stage"),
    ("Owner", None),
    ("Last activity", "last_activity_at"),
]
CONTACT_DEFAULT_SORT = "last_name"
COMPANY_DEFAULT_SORT = "name"
COMPANY_COLUMNS = [
    ("Name", "name"),
    ("Domain", "domain"),
    ("Industry", None),
    ("Country", "country"),
    ("Employees", "employees"),
    ("Owner", None),
]


# ---------------------------------------------------------------- list plumbing


def _sorted(qs: QuerySet, raw: str, allowed: dict[str, str], default: str) -> tuple[QuerySet, str]:
    """Order by an allow-listed key; anything else falls back to the default, never to order_by."""
    raw = raw or default
    try:
        return qs.order_by(*queries.order_key(raw, allowed)), raw
    except InvalidInput:
        return qs.order_by(*queries.order_key(default, allowed)), default


def _headers(
    base: QueryDict, columns: list[tuple[str, str | None]], sort: str
) -> list[dict[str, Any]]:
    """Column headers with the link that sorts by them (a second click reverses)."""
    out = []
    for label, key in columns:
        if key is None:
            out.append({"label": label, "url": None, "state": ""})
            continue
        state = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        query = base.copy()
        query["sort"] = f"-{key}" if state == "asc" else key
        out.append({"label": label, "url": f"?{query.urlencode()}", "state": state})
    return out


def _paginate(request: HttpRequest, qs: QuerySet) -> dict[str, Any]:
    """One page of 50 (a missing or bad page number gives the nearest real page) and its pager."""
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    pages = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    return {"page_obj": page, "page_range": list(pages), "ellipsis": Paginator.ELLIPSIS}


def _query(**values: Any) -> QueryDict:
    """A query string of the cleaned, non-empty list parameters (raw input is never echoed)."""
    query = QueryDict(mutable=True)
    for key, value in values.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query


def _canonical(request: HttpRequest, query: QueryDict, page: Any) -> str:
    """This list's address with only the cleaned parameters, for the browser's history."""
    query = query.copy()
    if page.number > 1:
        query["page"] = str(page.number)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _status(error: DomainError) -> int:
    return 403 if isinstance(error, Forbidden) else 422


def _owner_choices(user: Any, current: User | None = None) -> list[tuple[str, str]]:
    """Usernames the user may assign, plus the current owner so that saving keeps it."""
    users = list(permissions.assignable_owners(user).order_by("username"))
    if current is not None and all(u.pk != current.pk for u in users):
        users.append(current)
    return [(u.username, u.get_full_name() or u.username) for u in users]


def _new_owner_choices(user: Any) -> tuple[list[tuple[str, str]], bool, str]:
    """Owners offered on a new record: (choices, whether Unassigned is offered, the default).

    A user who may assign only themselves (a rep) creates records they own: a record left
    unassigned would be theirs to see but nobody's to work.
    """
    choices = _owner_choices(user)
    only_self = [username for username, _ in choices] == [user.username]
    default = user.username if any(u == user.username for u, _ in choices) else ""
    return choices, not only_self, default


def _require_create(user: Any) -> None:
    if not permissions.can_create_records(user):
        raise PermissionDenied("you may not create records")


def _owner_from(username: str, user: Any) -> User | None:
    if not username:
        return None
    owner = permissions.assignable_owners(user).filter(username=username).first()
    if owner is None:
        raise Forbidden(f"you may not assign records to {username}")
    return owner


# ---------------------------------------------------------------- timelines


EVENT_TITLES = {
    "contact_created": "Contact created",
    "company_created": "Company created",
    "lifecycle_stage_changed": "Lifecycle stage changed",
    "activity_note": "Note",
    "activity_call": "Call",
    "activity_meeting": "Meeting",
    "activity_task": "Task",
    "activity_email": "Email logged",
    "task_completed": "Task completed",
    "contact_merged": "Duplicate merged in",
}


def _label(labels: dict[str, str], value: Any) -> str:
    text = "" if value is None else str(value)
    return labels.get(text, text)


def _event_detail(event: TimelineEvent) -> str:
    """A one-line summary of an event's properties (plain text; the template escapes it)."""
    props: dict[str, Any] = event.properties if isinstance(event.properties, dict) else {}
    if event.type == "lifecycle_stage_changed":
        line = (
            f"{_label(STAGE_LABELS, props.get('from'))} → {_label(STAGE_LABELS, props.get('to'))}"
        )
        return f"{line}: {props['reason']}" if props.get("reason") else line
    if event.type.startswith("activity_"):
        parts = [str(props.get("subject") or "")]
        if props.get("outcome"):
            parts.append(_label(OUTCOME_LABELS, props["outcome"]))
        if isinstance(props.get("duration_seconds"), int | float) and props["duration_seconds"]:
            parts.append(f"{round(props['duration_seconds'] / 60)} min")
        return " · ".join(p for p in parts if p)
    if event.type == "contact_created":
        stage = _label(STAGE_LABELS, props.get("stage"))
        return f"stage {stage}, source {_label(SOURCE_LABELS, props.get('source'))}"
    if event.type == "contact_merged":
        return f"merged {props.get('merged_email', '')}"
    if event.type == "task_completed":
        return str(props.get("subject") or "")
    simple = [f"{k}: {v}" for k, v in props.items() if isinstance(v, str | int | float) and v != ""]
    return ", ".join(simple)[:300]


def _timeline_rows(events: Iterable[TimelineEvent], *, with_contact: bool) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        actor = event.actor
        who = (actor.get_full_name() or actor.username) if actor else event.actor_label or "system"
        rows.append(
            {
                "kind": event.type.split("_", 1)[0],
                "title": EVENT_TITLES.get(event.type, event.type.replace("_", " ").capitalize()),
                "detail": _event_detail(event),
                "when": event.occurred_at,
                "who": who,
                "contact": event.contact if with_contact and event.contact_id else None,
            }
        )
    return rows


def _offset(request: HttpRequest) -> int:
    try:
        return max(0, min(int(request.GET.get("offset", "0")), MAX_TIMELINE_OFFSET))
    except ValueError:
        return 0


def _timeline_slice(
    qs: QuerySet[TimelineEvent], offset: int, more_url: str, *, with_contact: bool = False
) -> dict[str, Any]:
    """One slice of a timeline (newest first) and the offset of the next, if any."""
    events = list(qs[offset : offset + TIMELINE_PAGE + 1])
    more = len(events) > TIMELINE_PAGE
    return {
        "timeline": _timeline_rows(events[:TIMELINE_PAGE], with_contact=with_contact),
        "next_offset": offset + TIMELINE_PAGE if more else None,
        "more_url": more_url,
    }


# ---------------------------------------------------------------- contacts


def _contact_filter(request: HttpRequest) -> tuple[queries.ContactFilter, dict[str, Any]]:
    form = forms.ContactFilterForm(request.GET)
    form.is_valid()  # invalid fields drop out of cleaned_data and are ignored
    data = form.cleaned_data
    flt = queries.ContactFilter(
        q=data.get("q") or "",
        lifecycle_stage=data.get("stage") or "",
        owner=data.get("owner") or "",
        company_id=data.get("company"),
    )
    return flt, data


@login_required
@require_GET
def contact_list(request: AuthedRequest) -> HttpResponse:
    """Contacts the user may see: search, filters, sort, 50 a page; htmx swaps the table."""
    flt, data = _contact_filter(request)
    qs = queries.contacts_for(request.user, flt).select_related("owner", "company")
    qs, sort = _sorted(qs, data.get("sort") or "", queries.CONTACT_SORTS, CONTACT_DEFAULT_SORT)
    base = _query(q=flt.q, stage=flt.lifecycle_stage, owner=flt.owner, company=flt.company_id)
    paged = _paginate(request, qs)
    # Link only the companies the user may open; one query for the whole page.
    company_ids = {c.company_id for c in paged["page_obj"] if c.company_id}
    linkable = (
        set(
            permissions.visible(
                request.user, Company.objects.filter(pk__in=company_ids)
            ).values_list("pk", flat=True)
        )
        if company_ids
        else set()
    )
    context: dict[str, Any] = {
        **paged,
        "linkable_companies": linkable,
        "headers": _headers(base, CONTACT_COLUMNS, sort),
        "query": _query(**base.dict(), sort=sort if sort != CONTACT_DEFAULT_SORT else None),
        "export_query": base.urlencode(),
        "sort": sort,
        "flt": flt,
    }
    if not wants_partial(request):
        companies = permissions.visible(request.user, Company.objects.all()).order_by("name", "id")
        choices = list(companies.values_list("id", "name")[:MAX_CHOICES])
        if flt.company_id and all(cid != flt.company_id for cid, _ in choices):
            choices += list(companies.filter(pk=flt.company_id).values_list("id", "name"))
        context |= {
            "can_create": permissions.can_create_records(request.user),
            "stages": LifecycleStage.choices,
            "owners": _owner_choices(request.user),
            "companies": choices,
        }
    return render_page(
        request,
        page="crm/contact_list.html",
        partial="crm/_contact_table.html",
        context=context,
        push_url=_canonical(request, context["query"], context["page_obj"]),
    )


@login_required
@require_GET
def contact_export(request: AuthedRequest) -> FileResponse:
    """The filtered contact list as a CSV download, spooled to disk then streamed."""
    flt, _ = _contact_filter(request)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after streaming
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    exports.export_contacts(user=request.user, out=text, flt=flt)
    text.flush()
    text.detach()
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename="contacts.csv", content_type="text/csv; charset=utf-8"
    )


def _visible_contact(request: AuthedRequest, pk: int) -> Contact:
    qs = permissions.visible(
        request.user, Contact.objects.select_related("owner", "company", "team")
    )
    return get_object_or_404(qs, pk=pk)


def _editable_contact(request: AuthedRequest, pk: int) -> Contact:
    contact = _visible_contact(request, pk)
    if not permissions.can_edit(request.user, contact):
        raise PermissionDenied("you may not change this contact")
    return contact


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
        **_timeline_slice(queries.timeline_of(contact), 0, more_url),
    }


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
        domains = permissions.visible(user, Company.objects.exclude(domain=None)).order_by("domain")
        context |= {
            "stage_form": given.get("stage_form")
            or forms.StageForm(initial={"to_stage": contact.lifecycle_stage}),
            "edit_form": given.get("edit_form")
            or forms.ContactEditForm(
                initial=_contact_edit_initial(contact),
                owner_choices=_owner_choices(user, contact.owner),
            ),
            "merge_form": given.get("merge_form") or forms.MergeForm(),
            "company_domains": list(domains.values_list("domain", "name")[:MAX_CHOICES]),
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
    contact = _visible_contact(request, pk)
    context = _timeline_slice(queries.timeline_of(contact), _offset(request), request.path)
    return render(request, "crm/_timeline_rows.html", context)


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
            forms.add_domain_error(form, error)
            status = _status(error)
        else:
            label = activity.get_kind_display()
            if not wants_partial(request):
                messages.success(request, f"{label} logged.")
                return redirect("web:contact", pk=contact.pk)
            context = _activity_panel(contact) | {
                "contact": contact,
                "can_edit": True,
                "logged": label,
            }
            return render(request, "crm/_activity_panel.html", context)
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
    context = _activity_panel(contact) | {
        "contact": contact,
        "can_edit": True,
        "logged": "Task done",
    }
    return render(request, "crm/_activity_panel.html", context)


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
            forms.add_domain_error(form, error)
            status = _status(error)
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
        changes["owner"] = _owner_from(data["owner"], request.user)
    current_domain = contact.company.domain if contact.company and contact.company.domain else ""
    if data["company_domain"].strip().lower() != current_domain:
        changes["company"] = _company_by_domain(request, data["company_domain"])
    return changes


def _company_by_domain(request: AuthedRequest, raw: str) -> Company | None:
    """The company the user may see with this domain; blank means none, unknown is an error."""
    domain = normalise_domain(raw)
    if not domain:
        return None
    company = permissions.visible(request.user, Company.objects.all()).filter(domain=domain).first()
    if company is None:
        raise InvalidInput(
            f"no company you can see has the domain {domain}", field="company_domain"
        )
    return company


@login_required
@require_POST
def contact_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Save a contact's basic fields through update_contact."""
    contact = _editable_contact(request, pk)
    form = forms.ContactEditForm(
        request.POST, owner_choices=_owner_choices(request.user, contact.owner)
    )
    status = 422
    if form.is_valid():
        try:
            changes = _contact_changes(request, contact, form.cleaned_data)
            if changes:
                services.update_contact(contact=contact, changes=changes, by=request.user)
        except DomainError as error:
            forms.add_domain_error(form, error)
            status = _status(error)
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
            forms.add_domain_error(form, error)
            status = _status(error)
        else:
            messages.success(request, f"Merged {email} into this contact.")
            return redirect("web:contact", pk=contact.pk)
    return _contact_page(request, contact, merge_form=form, open_form="merge", status=status)


def _contact_label(contact: Contact) -> str:
    """How a flash message names a contact: "Ann Archer (ann@acme.com)" or just the email."""
    name = contact.full_name
    return f"{name} ({contact.email})" if name else contact.email


@login_required
@require_http_methods(["GET", "POST"])
def contact_new(request: AuthedRequest) -> HttpResponse:
    """Create a contact by hand; a duplicate email links to the existing one when the user may see it."""
    user = request.user
    _require_create(user)
    choices, unassigned, default_owner = _new_owner_choices(user)
    form = forms.ContactCreateForm(
        request.POST or None,
        owner_choices=choices,
        unassigned=unassigned,
        initial={"owner": default_owner},
    )
    status = 200
    existing_url = ""
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                contact = services.create_contact(
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    title=data["title"],
                    phone=data["phone"],
                    company=_company_by_domain(request, data["company_domain"]),
                    lifecycle_stage=data["lifecycle_stage"],
                    lead_status=data["lead_status"],
                    owner=_owner_from(data["owner"], user),
                    team=user.team,
                    original_source=data["original_source"],
                    by=user,
                )
            except Conflict as error:
                existing = Contact.objects.filter(pk=error.existing_id or 0)
                if permissions.visible(user, existing).exists():
                    existing_url = reverse("web:contact", args=[error.existing_id])
                    form.add_error("email", str(error))
                else:
                    # Neither the contact's id nor its owner: only that the address is taken.
                    form.add_error("email", "a contact with this email already exists")
            except DomainError as error:
                forms.add_domain_error(form, error)
                status = _status(error)
            else:
                messages.success(request, f"Created contact {_contact_label(contact)}.")
                return redirect("web:contact", pk=contact.pk)
    domains = permissions.visible(user, Company.objects.exclude(domain=None)).order_by("domain")
    context = {
        "form": form,
        "existing_url": existing_url,
        "company_domains": list(domains.values_list("domain", "name")[:MAX_CHOICES]),
    }
    return render(request, "crm/contact_new.html", context, status=status)


@login_required
@require_POST
def contact_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a contact the user may change, with its timeline and history."""
    contact = _editable_contact(request, pk)
    label = _contact_label(contact)
    services.delete_contact(contact=contact, by=request.user)
    messages.success(request, f"Deleted contact {label}.")
    return redirect("web:contacts")


# ---------------------------------------------------------------- companies


@login_required
@require_GET
def company_list(request: AuthedRequest) -> HttpResponse:
    """Companies the user may see: search, country and industry filters, sort, 50 a page."""
    form = forms.CompanyFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    q, country, industry = (
        data.get("q") or "",
        (data.get("country") or "").upper(),
        data.get("industry") or "",
    )
    qs = queries.companies_for(
        request.user, q=q, country=country, industry=industry
    ).select_related("owner")
    qs, sort = _sorted(qs, data.get("sort") or "", queries.COMPANY_SORTS, COMPANY_DEFAULT_SORT)
    base = _query(q=q, country=country, industry=industry)
    context: dict[str, Any] = {
        **_paginate(request, qs),
        "headers": _headers(base, COMPANY_COLUMNS, sort),
        "query": _query(**base.dict(), sort=sort if sort != COMPANY_DEFAULT_SORT else None),
        "sort": sort,
        "q": q,
        "country": country,
        "industry": industry,
    }
    if not wants_partial(request):
        visible = permissions.visible(request.user, Company.objects.all()).order_by()
        context |= {
            "can_create": permissions.can_create_records(request.user),
            "countries": list(
                visible.exclude(country="")
                .values_list("country", flat=True)
                .distinct()
                .order_by("country")[:MAX_CHOICES]
            ),
            "industries": list(
                visible.exclude(industry="")
                .values_list("industry", flat=True)
                .distinct()
                .order_by("industry")[:MAX_CHOICES]
            ),
        }
    return render_page(
        request,
        page="crm/company_list.html",
        partial="crm/_company_table.html",
        context=context,
        push_url=_canonical(request, context["query"], context["page_obj"]),
    )


def _visible_company(request: AuthedRequest, pk: int) -> Company:
    qs = permissions.visible(request.user, Company.objects.select_related("owner", "team"))
    return get_object_or_404(qs, pk=pk)


def _company_timeline(request: AuthedRequest, company: Company) -> QuerySet[TimelineEvent]:
    """A company's timeline without the events of its contacts the user may not see."""
    return queries.company_timeline_of(company, user=request.user)


def _company_edit_initial(company: Company) -> dict[str, Any]:
    return {
        "name": company.name,
        "domain": company.domain or "",
        "industry": company.industry,
        "employees": "" if company.employees is None else company.employees,
        "annual_revenue": "" if company.annual_revenue is None else company.annual_revenue,
        "currency": company.currency,
        "country": company.country,
        "region": company.region,
        "owner": company.owner.username if company.owner else "",
    }


def _company_page(
    request: AuthedRequest, company: Company, *, status: int = 200, **given: Any
) -> HttpResponse:
    user = request.user
    can_edit = permissions.can_edit(user, company)
    contacts = queries.contacts_for(user, queries.ContactFilter(company_id=company.pk))
    more_url = reverse("web:company_timeline", args=[company.pk])
    context: dict[str, Any] = {
        "company": company,
        "can_edit": can_edit,
        "contacts": list(
            contacts.select_related("owner").order_by("last_name", "id")[: COMPANY_CONTACTS + 1]
        ),
        "contacts_url": reverse("web:contacts") + f"?company={company.pk}",
        "per_page": COMPANY_CONTACTS,
        **_timeline_slice(_company_timeline(request, company), 0, more_url, with_contact=True),
    }
    if can_edit:
        context["edit_form"] = given.get("edit_form") or forms.CompanyEditForm(
            initial=_company_edit_initial(company),
            owner_choices=_owner_choices(user, company.owner),
        )
        context["open_form"] = given.get("open_form", "")
    return render(request, "crm/company_detail.html", context, status=status)


@login_required
@require_GET
def company_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A company: details, its contacts, its timeline and (for editors) the edit form."""
    return _company_page(request, _visible_company(request, pk))


@login_required
@require_GET
def company_timeline(request: AuthedRequest, pk: int) -> HttpResponse:
    """The next slice of a company's timeline ("load more")."""
    company = _visible_company(request, pk)
    context = _timeline_slice(
        _company_timeline(request, company), _offset(request), request.path, with_contact=True
    )
    return render(request, "crm/_timeline_rows.html", context)


@login_required
@require_POST
def company_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Save a company's basic fields through update_company."""
    company = _visible_company(request, pk)
    if not permissions.can_edit(request.user, company):
        raise PermissionDenied("you may not change this company")
    form = forms.CompanyEditForm(
        request.POST, owner_choices=_owner_choices(request.user, company.owner)
    )
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        initial = _company_edit_initial(company)
        try:
            changes = {k: v for k, v in data.items() if k != "owner" and str(v) != str(initial[k])}
            if data["owner"] != initial["owner"]:
                changes["owner"] = _owner_from(data["owner"], request.user)
            if changes:
                services.update_company(company=company, changes=changes, by=request.user)
        except DomainError as error:
            forms.add_domain_error(form, error)
            status = _status(error)
        else:
            messages.success(request, "Company saved." if changes else "Nothing to change.")
            return redirect("web:company", pk=company.pk)
    company = _visible_company(request, pk)
    return _company_page(request, company, edit_form=form, open_form="edit", status=status)


def _company_label(company: Company) -> str:
    return f"{company.name} ({company.domain})" if company.domain else company.name


@login_required
@require_http_methods(["GET", "POST"])
def company_new(request: AuthedRequest) -> HttpResponse:
    """Create a company by hand; a duplicate domain links to the existing one when visible."""
    user = request.user
    _require_create(user)
    choices, unassigned, default_owner = _new_owner_choices(user)
    form = forms.CompanyCreateForm(
        request.POST or None,
        owner_choices=choices,
        unassigned=unassigned,
        initial={"owner": default_owner, "currency": "USD"},
    )
    status = 200
    existing_url = ""
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                company = services.create_company(
                    **{k: v for k, v in data.items() if k != "owner"},
                    owner=_owner_from(data["owner"], user),
                    team=user.team,
                    by=user,
                )
            except Conflict as error:
                existing = Company.objects.filter(pk=error.existing_id or 0)
                if permissions.visible(user, existing).exists():
                    existing_url = reverse("web:company", args=[error.existing_id])
                    form.add_error("domain", str(error))
                else:
                    form.add_error("domain", "a company with this domain already exists")
            except DomainError as error:
                forms.add_domain_error(form, error)
                status = _status(error)
            else:
                messages.success(request, f"Created company {_company_label(company)}.")
                return redirect("web:company", pk=company.pk)
    context = {"form": form, "existing_url": existing_url}
    return render(request, "crm/company_new.html", context, status=status)


@login_required
@require_POST
def company_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a company the user may change; its contacts stay, without a company."""
    company = _visible_company(request, pk)
    if not permissions.can_edit(request.user, company):
        raise PermissionDenied("you may not change this company")
    label = _company_label(company)
    services.delete_company(company=company, by=request.user)
    messages.success(request, f"Deleted company {label}. Its contacts were kept.")
    return redirect("web:companies")


# ---------------------------------------------------------------- import


def _check_upload(upload: Any) -> None:
    """Refuse files over the size limit and files that are not CSV text, naming the problem."""
    limit = settings.TANDEM_IMPORT_MAX_BYTES
    if upload.size > limit:
        raise InvalidInput(
            f"{upload.name} is {upload.size / 1_048_576:.1f} MB; imports are limited to {limit / 1_048_576:.0f} MB",
            field="file",
        )
    name = (upload.name or "").lower()
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    csv_types = {
        "text/csv",
        "text/plain",
        "application/csv",
        "application/vnd.ms-excel",
        "text/comma-separated-values",
    }
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    # Spreadsheets and other binaries carry NUL bytes; CSV text never does.
    if not (name.endswith((".csv", ".txt")) or content_type in csv_types) or b"\x00" in head:
        raise InvalidInput(
            f"{upload.name} does not look like a CSV file; save it as CSV (comma-separated values) and upload it again",
            field="file",
        )


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: AuthedRequest) -> HttpResponse:
    """Upload a CSV of contacts or companies; the import runs as a job with a live report."""
    if not permissions.can_import(request.user):
        raise PermissionDenied("only admins and marketing may import")
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                _check_upload(form.cleaned_data["file"])
                job = services.start_import(
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    by=request.user,
                )
                return redirect("web:import_job", pk=job.pk)
            except DomainError as error:
                forms.add_domain_error(form, error)
                status = _status(error)
    context = {
        "form": form,
        "jobs": queries.import_jobs_for(request.user)[:10],
        "max_mb": settings.TANDEM_IMPORT_MAX_BYTES // 1_048_576,
    }
    return render(request, "crm/import.html", context, status=status)


@login_required
@require_GET
def import_job(request: AuthedRequest, pk: int) -> HttpResponse:
    """One import's progress and report; htmx polls the partial until the job ends."""
    if not permissions.can_import(request.user):
        raise PermissionDenied("only admins and marketing may import")
    job = get_object_or_404(queries.import_jobs_for(request.user), pk=pk)
    context = {"job": job, "rejected_kept": services.IMPORT_REJECTED_KEPT}
    return render_page(
        request, page="crm/import_job.html", partial="crm/_import_report.html", context=context
    )
