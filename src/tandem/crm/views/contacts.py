"""The contact list, its CSV export, and the page that creates a contact by hand."""

from __future__ import annotations

import io
import tempfile
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from tandem.accounts import permissions
from tandem.crm import exports, forms, queries, services
from tandem.crm.models import Company, LifecycleStage
from tandem.crm.views.common import (
    CONTACT,
    MAX_CHOICES,
    AuthedRequest,
    add_conflict,
    company_by_domain,
    company_domains,
    created,
    form_error,
    headers,
    new_owner_choices,
    owner_choices,
    owner_from,
    paginate,
    query_of,
    render_list,
    require_create,
    sorted_by,
    sorted_query,
)
from tandem.errors import Conflict, DomainError
from tandem.htmx import wants_partial

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


def _linkable_companies(user: Any, contacts: Any) -> set[int]:
    """The ids of the page's companies the user may open; one query for the whole page."""
    company_ids = {c.company_id for c in contacts if c.company_id}
    if not company_ids:
        return set()
    companies = permissions.visible(user, Company.objects.filter(pk__in=company_ids))
    return set(companies.values_list("pk", flat=True))


def _company_choices(user: Any, company_id: int | None) -> list[tuple[int, str]]:
    """The company filter's options, always including the company currently filtered on."""
    companies = permissions.visible(user, Company.objects.all()).order_by("name", "id")
    choices = list(companies.values_list("id", "name")[:MAX_CHOICES])
    if company_id and all(cid != company_id for cid, _ in choices):
        choices += list(companies.filter(pk=company_id).values_list("id", "name"))
    return choices


@login_required
@require_GET
def contact_list(request: AuthedRequest) -> HttpResponse:
    """Contacts the user may see: search, filters, sort, 50 a page; htmx swaps the table."""
    flt, data = _contact_filter(request)
    qs = queries.contacts_for(request.user, flt).select_related("owner", "company")
    qs, sort = sorted_by(qs, data.get("sort") or "", queries.CONTACT_SORTS, CONTACT_DEFAULT_SORT)
    base = query_of(q=flt.q, stage=flt.lifecycle_stage, owner=flt.owner, company=flt.company_id)
    paged = paginate(request, qs)
    context: dict[str, Any] = {
        **paged,
        # Link only the companies the user may open.
        "linkable_companies": _linkable_companies(request.user, paged["page_obj"]),
        "headers": headers(base, CONTACT_COLUMNS, sort),
        "query": sorted_query(base, sort, CONTACT_DEFAULT_SORT),
        "export_query": base.urlencode(),
        "sort": sort,
        "flt": flt,
    }
    if not wants_partial(request):
        context |= {
            "can_create": permissions.can_create_records(request.user),
            "stages": LifecycleStage.choices,
            "owners": owner_choices(request.user),
            "companies": _company_choices(request.user, flt.company_id),
        }
    return render_list(
        request, page="crm/contact_list.html", partial="crm/_contact_table.html", context=context
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


@login_required
@require_http_methods(["GET", "POST"])
def contact_new(request: AuthedRequest) -> HttpResponse:
    """Create a contact by hand; a duplicate email links to the existing one when the user may see it."""
    user = request.user
    require_create(user)
    choices, unassigned, default_owner = new_owner_choices(user)
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
                    company=company_by_domain(request, data["company_domain"]),
                    lifecycle_stage=data["lifecycle_stage"],
                    lead_status=data["lead_status"],
                    owner=owner_from(data["owner"], user),
                    team=user.team,
                    original_source=data["original_source"],
                    by=user,
                )
            except Conflict as error:
                existing_url = add_conflict(form, error, user=user, kind=CONTACT)
            except DomainError as error:
                status = form_error(form, error)
            else:
                return created(request, CONTACT, contact)
    context = {"form": form, "existing_url": existing_url, "company_domains": company_domains(user)}
    return render(request, "crm/contact_new.html", context, status=status)
