"""Company pages: the list, one company's page and timeline, edit, create and delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.crm import forms, queries, services
from tandem.crm.models import Company
from tandem.crm.views.common import (
    COMPANY,
    MAX_CHOICES,
    AuthedRequest,
    add_conflict,
    company_label,
    created,
    editable_or_403,
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
from tandem.crm.views.timeline import more_rows, timeline_slice
from tandem.errors import Conflict, DomainError
from tandem.htmx import wants_partial

# A company page previews its first contacts; the contact list (filtered) holds them all.
COMPANY_CONTACTS = 10
COMPANY_DEFAULT_SORT = "name"
# (column label, sort key from the allow-list or None when the column does not sort)
COMPANY_COLUMNS = [
    ("Name", "name"),
    ("Domain", "domain"),
    ("Industry", None),
    ("Country", "country"),
    ("Employees", "employees"),
    ("Owner", None),
]


def _distinct_values(companies: Any, field: str) -> list[str]:
    """The distinct non-blank values of one field, sorted, for a filter drop-down."""
    values = companies.exclude(**{field: ""}).values_list(field, flat=True).distinct()
    return list(values.order_by(field)[:MAX_CHOICES])


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
    qs, sort = sorted_by(qs, data.get("sort") or "", queries.COMPANY_SORTS, COMPANY_DEFAULT_SORT)
    base = query_of(q=q, country=country, industry=industry)
    context: dict[str, Any] = {
        **paginate(request, qs),
        "headers": headers(base, COMPANY_COLUMNS, sort),
        "query": sorted_query(base, sort, COMPANY_DEFAULT_SORT),
        "sort": sort,
        "q": q,
        "country": country,
        "industry": industry,
    }
    if not wants_partial(request):
        visible = permissions.visible(request.user, Company.objects.all()).order_by()
        context |= {
            "can_create": permissions.can_create_records(request.user),
            "countries": _distinct_values(visible, "country"),
            "industries": _distinct_values(visible, "industry"),
        }
    return render_list(
        request, page="crm/company_list.html", partial="crm/_company_table.html", context=context
    )


def _visible_company(request: AuthedRequest, pk: int) -> Company:
    qs = permissions.visible(request.user, Company.objects.select_related("owner", "team"))
    return get_object_or_404(qs, pk=pk)


def _editable_company(request: AuthedRequest, pk: int) -> Company:
    return editable_or_403(request.user, _visible_company(request, pk), COMPANY)


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
    # A company's timeline leaves out the events of its contacts the user may not see.
    timeline = queries.company_timeline_of(company, user=user)
    context: dict[str, Any] = {
        "company": company,
        "can_edit": can_edit,
        "contacts": list(
            contacts.select_related("owner").order_by("last_name", "id")[: COMPANY_CONTACTS + 1]
        ),
        "contacts_url": reverse("web:contacts") + f"?company={company.pk}",
        "per_page": COMPANY_CONTACTS,
        **timeline_slice(timeline, 0, more_url, with_contact=True),
    }
    if can_edit:
        context["edit_form"] = given.get("edit_form") or forms.CompanyEditForm(
            initial=_company_edit_initial(company),
            owner_choices=owner_choices(user, company.owner),
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
    timeline = queries.company_timeline_of(company, user=request.user)
    return more_rows(request, timeline, with_contact=True)


@login_required
@require_POST
def company_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Save a company's basic fields through update_company."""
    company = _editable_company(request, pk)
    form = forms.CompanyEditForm(
        request.POST, owner_choices=owner_choices(request.user, company.owner)
    )
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        initial = _company_edit_initial(company)
        try:
            changes = {k: v for k, v in data.items() if k != "owner" and str(v) != str(initial[k])}
            if data["owner"] != initial["owner"]:
                changes["owner"] = owner_from(data["owner"], request.user)
            if changes:
                services.update_company(company=company, changes=changes, by=request.user)
        except DomainError as error:
            status = form_error(form, error)
        else:
            messages.success(request, "Company saved." if changes else "Nothing to change.")
            return redirect("web:company", pk=company.pk)
    company = _visible_company(request, pk)  # the form may have touched the instance before failing
    return _company_page(request, company, edit_form=form, open_form="edit", status=status)


@login_required
@require_http_methods(["GET", "POST"])
def company_new(request: AuthedRequest) -> HttpResponse:
    """Create a company by hand; a duplicate domain links to the existing one when visible."""
    user = request.user
    require_create(user)
    choices, unassigned, default_owner = new_owner_choices(user)
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
                    owner=owner_from(data["owner"], user),
                    team=user.team,
                    by=user,
                )
            except Conflict as error:
                existing_url = add_conflict(form, error, user=user, kind=COMPANY)
            except DomainError as error:
                status = form_error(form, error)
            else:
                return created(request, COMPANY, company)
    context = {"form": form, "existing_url": existing_url}
    return render(request, "crm/company_new.html", context, status=status)


@login_required
@require_POST
def company_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a company the user may change; its contacts stay, without a company."""
    company = _editable_company(request, pk)
    label = company_label(company)
    services.delete_company(company=company, by=request.user)
    messages.success(request, f"Deleted company {label}. Its contacts were kept.")
    return redirect("web:companies")
