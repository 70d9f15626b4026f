"""The deals panels of the contact and company pages (loaded lazily, so crm never imports sales)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from tandem.accounts import permissions
from tandem.crm.models import Company, Contact
from tandem.crm.views.common import AuthedRequest
from tandem.sales.models import Deal

PANEL_LIMIT = 20


def _panel(request: AuthedRequest, deals: QuerySet[Deal], **context: object) -> HttpResponse:
    rows = (
        permissions.visible(request.user, deals)
        .select_related("stage", "owner")
        .order_by("status", "-created_at", "-id")[:PANEL_LIMIT]
    )
    context.update(
        deals=list(rows),
        can_create=permissions.can_sell(request.user),
        limit=PANEL_LIMIT,
    )
    return render(request, "sales/_record_deals.html", context)


@login_required
@require_GET
def contact_deals(request: AuthedRequest, pk: int) -> HttpResponse:
    """The deals a contact plays a part in, with their role."""
    contact = get_object_or_404(Contact, pk=pk)
    if not permissions.can_view(request.user, contact):
        raise Http404("no such contact")
    deals = Deal.objects.filter(deal_contacts__contact=contact)
    return _panel(request, deals, new_query=f"contact={contact.pk}", what="contact")


@login_required
@require_GET
def company_deals(request: AuthedRequest, pk: int) -> HttpResponse:
    """A company's deals."""
    company = get_object_or_404(Company, pk=pk)
    if not permissions.can_view(request.user, company):
        raise Http404("no such company")
    deals = Deal.objects.filter(company=company)
    return _panel(request, deals, new_query=f"company={company.pk}", what="company")


urlpatterns: list[URLPattern] = [
    path("contacts/<int:pk>/deals/", contact_deals, name="contact_deals"),
    path("companies/<int:pk>/deals/", company_deals, name="company_deals"),
]
