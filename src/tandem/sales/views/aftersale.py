"""After-sale pages: a won deal's onboarding checklist, follow-on deals and upsells, and referrals."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tandem.accounts import permissions
from tandem.crm.views.common import AuthedRequest
from tandem.errors import DomainError
from tandem.htmx import wants_partial
from tandem.sales.models import Deal, OnboardingStep
from tandem.sales.queries import aftersale as queries
from tandem.sales.queries.deals import deal_for
from tandem.sales.services import aftersale as services


class UpsellForm(forms.Form):
    name = forms.CharField(max_length=200)
    amount = forms.DecimalField(min_value=Decimal(0), max_digits=14, decimal_places=2)
    expected_close_date = forms.DateField(required=False)


def _panel(request: AuthedRequest, deal: Deal, form: UpsellForm | None = None) -> HttpResponse:
    follow_ons = permissions.visible(
        request.user, Deal.objects.filter(parent=deal).select_related("stage")
    ).order_by("-created_at")
    parent = (
        permissions.visible(request.user, Deal.objects.filter(pk=deal.parent_id)).first()
        if deal.parent_id
        else None
    )
    context = {
        "deal": deal,
        "progress": queries.onboarding(deal),
        "can_edit": permissions.can_edit(request.user, deal),
        "can_upsell": deal.status == "won" and permissions.can_sell(request.user),
        "follow_ons": list(follow_ons),
        "parent": parent,
        "upsell_form": form or UpsellForm(initial={"name": f"{deal.name} — upsell"}),
        "today": timezone.now().date(),
    }
    return render(request, "sales/_deal_onboarding.html", context)


@login_required
@require_GET
def deal_onboarding(request: AuthedRequest, pk: int) -> HttpResponse:
    """The won deal's onboarding checklist with done buttons (a note on open deals)."""
    return _panel(request, deal_for(request.user, pk))


@login_required
@require_POST
def onboarding_step_done(request: AuthedRequest, pk: int) -> HttpResponse:
    """Tick one checklist item of a deal the user may edit (one they cannot see is a 404)."""
    step = OnboardingStep.objects.filter(pk=pk).first()
    if step is None:
        raise Http404("no such onboarding step")
    deal = deal_for(request.user, step.deal_id)
    if not permissions.can_edit(request.user, deal):
        raise PermissionDenied("you may not change this deal's onboarding")
    services.complete_onboarding_step(step=step, by=request.user)
    if wants_partial(request):
        return _panel(request, deal)
    messages.success(request, f"Done: {step.title}.")
    return redirect(reverse("web:deal", args=[deal.pk]) + "#deal-onboarding")


@login_required
@require_POST
def deal_upsell(request: AuthedRequest, pk: int) -> HttpResponse:
    """Open an upsell continuing a won deal; the new deal's page follows."""
    deal = deal_for(request.user, pk)
    if not permissions.can_sell(request.user):
        raise PermissionDenied("you may not open deals")
    form = UpsellForm(request.POST)
    if form.is_valid():
        try:
            upsell = services.create_upsell(
                deal=deal,
                by=request.user,
                name=form.cleaned_data["name"],
                amount=form.cleaned_data["amount"],
                expected_close_date=form.cleaned_data["expected_close_date"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Upsell opened: {upsell.name}.")
            return redirect("web:deal", upsell.pk)
    response = _panel(request, deal, form)
    response.status_code = 422
    return response


@login_required
@require_GET
def referrals(request: AuthedRequest) -> HttpResponse:
    """Contacts credited with referrals: their referred deals, how many were won, and the revenue."""
    rows = queries.referrals(user=request.user)
    deals = queries.referred_deals(user=request.user, referrer_ids=[r.referrer.pk for r in rows])
    context = {"rows": [{"row": r, "deals": deals.get(r.referrer.pk, [])} for r in rows]}
    return render(request, "sales/referrals.html", context)


urlpatterns: list[URLPattern] = [
    path("deals/<int:pk>/onboarding/", deal_onboarding, name="deal_onboarding"),
    path("onboarding/<int:pk>/done/", onboarding_step_done, name="onboarding_step_done"),
    path("deals/<int:pk>/upsell/", deal_upsell, name="deal_upsell"),
    path("referrals/", referrals, name="referrals"),
]
