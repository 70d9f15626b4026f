"""Enablement pages: the library, an asset, the report for marketing, and a deal's content panel."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from tandem.accounts import permissions
from tandem.crm.models import Contact
from tandem.crm.views.common import AuthedRequest, paginate, query_of
from tandem.errors import DomainError, InvalidInput
from tandem.htmx import render_page, wants_partial
from tandem.marketing.models import ContentAsset, ContentType, JourneyStage, Persona
from tandem.sales.models import ContentUseKind, Deal, DealStatus
from tandem.sales.periods import parse_period
from tandem.sales.queries import enablement as queries
from tandem.sales.queries.deals import deal_contacts, deal_for
from tandem.sales.queries.insights import period_bounds
from tandem.sales.services import enablement as services

# How many of the user's open deals the asset page offers to attach to.
DEAL_CHOICES = 200
# How many library assets the deal panel's attach form lists.
ASSET_CHOICES = 300


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[
            (str(i), f"{i}: {label}")
            for i, label in enumerate(
                ["not useful", "a little useful", "useful", "very useful", "essential"], start=1
            )
        ],
        coerce=int,
        label="Rating",
    )
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Comment"
    )


class UseForm(forms.Form):
    kind = forms.ChoiceField(choices=ContentUseKind.choices, initial=ContentUseKind.ATTACHED)
    deal = forms.TypedChoiceField(choices=[], coerce=int, required=False, empty_value=None)
    contact_email = forms.EmailField(required=False, label="Or send to a contact (email)")
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, deals: list[Deal] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["deal"]).choices = [("", "— no deal —")] + [
            (str(d.pk), f"{d.name} ({d.stage.name})") for d in deals or []
        ]


class DealContentForm(forms.Form):
    asset = forms.TypedChoiceField(choices=[], coerce=int)
    kind = forms.ChoiceField(choices=ContentUseKind.choices, initial=ContentUseKind.ATTACHED)
    contact = forms.TypedChoiceField(
        choices=[], coerce=int, required=False, empty_value=None, label="To contact"
    )
    note = forms.CharField(required=False, max_length=500)

    def __init__(
        self, *args: Any, assets: list[ContentAsset], contacts: list[Contact], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["asset"]).choices = [("", "Choose an asset…")] + [
            (str(a.pk), f"{a.title} ({a.get_type_display()})") for a in assets
        ]
        cast(forms.ChoiceField, self.fields["contact"]).choices = [
            ("", "All the deal's contacts")
        ] + [(str(c.pk), c.email) for c in contacts]


def _filter_choices() -> dict[str, Any]:
    return {
        "stages": JourneyStage.choices,
        "types": ContentType.choices,
        "personas": list(Persona.objects.values_list("id", "name")),
    }


# ---------------------------------------------------------------- the library


@login_required
@require_GET
def enablement(request: AuthedRequest) -> HttpResponse:
    """The sales-facing library: search by text, journey stage, persona and type."""
    status = 200
    error = ""
    try:
        filters = queries.clean_filters(request.GET)
    except InvalidInput as e:
        filters, error, status = {"q": "", "stage": "", "type": "", "persona": None}, str(e), 400
    assets = queries.library(**filters)
    query = query_of(**filters)
    context = {
        **_filter_choices(),
        **paginate(request, assets),
        "filters": filters,
        "query": query,
        "error": error,
        "can_sell": permissions.can_sell(request.user),
    }
    return render_page(
        request,
        page="sales/library.html",
        partial="sales/library_results.html",
        context=context,
        status=status,
        push_url=f"{request.path}?{query.urlencode()}" if query else request.path,
    )


def _open_deals(user: Any) -> list[Deal]:
    return list(
        permissions.editable(user, Deal.objects.filter(status=DealStatus.OPEN))
        .select_related("stage")
        .order_by("name", "id")[:DEAL_CHOICES]
    )


@login_required
@require_http_methods(["GET", "POST"])
def enablement_asset(request: AuthedRequest, pk: int) -> HttpResponse:
    """An asset: details, ratings with comments, the rate form and the attach/send form."""
    asset = queries.asset_for(pk)
    user = request.user
    can_sell = permissions.can_sell(user)
    deals = _open_deals(user) if can_sell else []
    rate_form = RateForm(prefix="rate")
    use_form = UseForm(prefix="use", deals=deals)
    status = 200
    if request.method == "POST":
        if not can_sell:
            raise PermissionDenied("only sales users rate or use enablement content")
        action = request.POST.get("action")
        if action == "rate":
            rate_form = RateForm(request.POST, prefix="rate")
            if rate_form.is_valid():
                try:
                    services.rate_content(
                        asset=asset,
                        by=user,
                        rating=rate_form.cleaned_data["rating"],
                        comment=rate_form.cleaned_data["comment"],
                    )
                    messages.success(request, "Thanks: your rating is saved.")
                    return redirect("web:enablement_asset", pk=asset.pk)
                except DomainError as e:
                    rate_form.add_error(None, str(e))
            status = 422
        elif action == "use":
            use_form = UseForm(request.POST, prefix="use", deals=deals)
            if use_form.is_valid():
                data = use_form.cleaned_data
                try:
                    deal = deal_for(user, data["deal"]) if data["deal"] else None
                    contact = None
                    if data["contact_email"]:
                        contact = (
                            permissions.visible(user, Contact.objects.all())
                            .filter(email=data["contact_email"].strip().lower())
                            .first()
                        )
                        if contact is None:
                            raise InvalidInput(
                                "no contact you can see has that email", field="contact_email"
                            )
                    services.use_content(
                        asset=asset,
                        by=user,
                        kind=data["kind"],
                        deal=deal,
                        contact=contact,
                        note=data["note"],
                    )
                    messages.success(request, f"{asset.title} recorded as {data['kind']}.")
                    if deal is not None:
                        return redirect("web:deal", pk=deal.pk)
                    return redirect("web:enablement_asset", pk=asset.pk)
                except DomainError as e:
                    use_form.add_error(None, str(e))
            status = 422
        else:
            raise InvalidInput("action must be rate or use", field="action")
    mine = next((r for r in queries.asset_ratings(asset) if r.user_id == user.pk), None)
    if mine is not None and request.method == "GET":
        rate_form = RateForm(
            prefix="rate", initial={"rating": str(mine.rating), "comment": mine.comment}
        )
    context = {
        "asset": asset,
        "ratings": queries.asset_ratings(asset),
        "deal_count": queries.asset_deal_count(asset),
        "mine": mine,
        "can_sell": can_sell,
        "rate_form": rate_form,
        "use_form": use_form,
    }
    return render(request, "sales/library_asset.html", context, status=status)


# ---------------------------------------------------------------- the report


@login_required
@require_GET
def enablement_report(request: AuthedRequest) -> HttpResponse:
    """Per asset: uses, rating, and the win rate of closed deals with against without it."""
    error = ""
    status = 200
    period = None
    raw = request.GET.get("period", "").strip()
    if raw:
        try:
            period = parse_period(raw)
        except InvalidInput as e:
            error, status = str(e), 400
    start, end = period_bounds(period) if period else (None, None)
    rows = queries.report(start=start, end=end)
    context = {"rows": rows, "period": period, "error": error}
    return render(request, "sales/enablement_report.html", context, status=status)


# ---------------------------------------------------------------- the deal's content panel


def _deal_content_context(
    request: AuthedRequest, deal: Deal, form: DealContentForm | None = None
) -> dict[str, Any]:
    can_edit = permissions.can_edit(request.user, deal)
    suggestions = queries.suggestions_for(deal) if can_edit else []
    contacts = [dc.contact for dc in deal_contacts(deal)]
    if form is None and can_edit:
        assets = list(queries.library_assets().order_by("title")[:ASSET_CHOICES])
        form = DealContentForm(assets=assets, contacts=contacts, prefix="content")
    return {
        "deal": deal,
        "uses": queries.deal_content(deal),
        "suggestions": suggestions,
        "journey_stage": dict(JourneyStage.choices)[queries.journey_stage_for(deal)],
        "can_edit": can_edit,
        "form": form,
    }


@login_required
@require_http_methods(["GET", "POST"])
def deal_content(request: AuthedRequest, pk: int) -> HttpResponse:
    """The deal's content panel: assets used, suggestions for its stage, and the attach form."""
    deal = deal_for(request.user, pk)
    status = 200
    form = None
    if request.method == "POST":
        if not permissions.can_edit(request.user, deal):
            raise PermissionDenied("you may not change this deal")
        contacts = [dc.contact for dc in deal_contacts(deal)]
        assets = list(queries.library_assets().order_by("title")[:ASSET_CHOICES])
        chosen = request.POST.get("content-asset", "")
        if chosen.isdigit() and all(str(a.pk) != chosen for a in assets):
            # A suggestion beyond the listed ones is still a valid choice.
            assets += list(queries.library_assets().filter(pk=int(chosen)))
        form = DealContentForm(request.POST, assets=assets, contacts=contacts, prefix="content")
        if form.is_valid():
            data = form.cleaned_data
            asset = next(a for a in assets if a.pk == data["asset"])
            contact = next((c for c in contacts if c.pk == data["contact"]), None)
            try:
                services.use_content(
                    asset=asset,
                    by=request.user,
                    kind=data["kind"],
                    deal=deal,
                    contact=contact,
                    note=data["note"],
                )
            except DomainError as e:
                form.add_error(None, str(e))
                status = 422
            else:
                if not wants_partial(request):
                    messages.success(request, f"{asset.title} recorded on the deal.")
                    return redirect(reverse("web:deal", args=[deal.pk]) + "#deal-content")
                form = None
        else:
            status = 422
    context = _deal_content_context(request, deal, form)
    return render(request, "sales/_deal_content.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("library/", enablement, name="enablement"),
    path("library/report/", enablement_report, name="enablement_report"),
    path("library/<int:pk>/", enablement_asset, name="enablement_asset"),
    path("deals/<int:pk>/content/", deal_content, name="deal_content"),
]
