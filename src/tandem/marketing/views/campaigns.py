"""Marketing pages: campaigns (list, page, new, edit), their costs, links and the spend import."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.crm.views.common import (
    AuthedRequest,
    form_error,
    headers,
    paginate,
    query_of,
    render_list,
    sorted_by,
    sorted_query,
)
from tandem.errors import Conflict, DomainError, InvalidInput
from tandem.htmx import wants_partial
from tandem.marketing import costs_import, links
from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignStatus,
    Channel,
    JourneyStage,
    Persona,
)
from tandem.marketing.queries import campaigns as queries
from tandem.marketing.services import campaigns as services
from tandem.marketing.views import campaign_forms as forms
from tandem.marketing.views.common import require_manage, require_view

DEFAULT_SORT = queries.DEFAULT_SORT
# (column label, sort key from the allow-list or None when the column does not sort)
COLUMNS = [
    ("Name", "name"),
    ("Channel", None),
    ("Status", None),
    ("Dates", "starts_on"),
    ("Budget", "budget"),
    ("Spent", "spent"),
    ("Leads", None),
    ("Cost per lead", None),
]
COSTS_PER_PAGE = 20
LINKS_SHOWN = 50
MAX_PERSONAS = 300


def _persona_choices() -> list[tuple[str, str]]:
    return [
        (str(pk), name) for pk, name in Persona.objects.values_list("pk", "name")[:MAX_PERSONAS]
    ]


def _vary(response: HttpResponse) -> HttpResponse:
    """The same URL answers an htmx swap with a fragment: caches must key on the header."""
    patch_vary_headers(response, ["HX-Request"])
    return response


def _campaign(pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("owner"), pk=pk)


# ---------------------------------------------------------------- list


@login_required
@require_GET
def campaign_list(request: AuthedRequest) -> HttpResponse:
    """Campaigns with spend and leads: search, filters, sort, 50 a page; htmx swaps the table."""
    require_view(request.user, what="campaigns")
    form = forms.CampaignFilterForm(request.GET)
    form.is_valid()  # invalid fields drop out of cleaned_data and are ignored
    data = form.cleaned_data
    flt = queries.CampaignFilter(
        channel=data.get("channel") or "",
        status=data.get("status") or "",
        journey_stage=data.get("stage") or "",
        q=data.get("q") or "",
    )
    qs, sort = sorted_by(
        queries.campaigns_for(flt), data.get("sort") or "", queries.CAMPAIGN_SORTS, DEFAULT_SORT
    )
    base = query_of(q=flt.q, channel=flt.channel, status=flt.status, stage=flt.journey_stage)
    paged = paginate(request, qs)
    for campaign in paged["page_obj"]:
        # Per page row, from the two annotations: no query.
        campaign.cost_per_lead = (  # type: ignore[attr-defined]
            campaign.spent / campaign.leads if campaign.leads else None  # type: ignore[attr-defined]
        )
    context: dict[str, Any] = {
        **paged,
        "headers": headers(base, COLUMNS, sort),
        "query": sorted_query(base, sort, DEFAULT_SORT),
        "sort": sort,
        "flt": flt,
        "can_manage": permissions.can_manage_marketing(request.user),
        "channels": Channel.choices,
        "statuses": CampaignStatus.choices,
        "stages": JourneyStage.choices,
    }
    return render_list(
        request,
        page="marketing/campaign_list.html",
        partial="marketing/_campaign_table.html",
        context=context,
    )


# ---------------------------------------------------------------- new and edit


def _form_page(
    request: AuthedRequest, form: forms.CampaignForm, campaign: Campaign | None, status: int
) -> HttpResponse:
    context = {"form": form, "campaign": campaign}
    return render(request, "marketing/campaign_form.html", context, status=status)


def _conflict(form: forms.CampaignForm, error: Conflict) -> None:
    form.add_error("utm_campaign", str(error))


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: AuthedRequest) -> HttpResponse:
    """Create a campaign; its UTM tags default from its channel and name."""
    require_manage(request.user, what="campaigns")
    form = forms.CampaignForm(request.POST or None, persona_choices=_persona_choices())
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                campaign = services.create_campaign(**form.cleaned_data, by=request.user)
            except Conflict as error:
                _conflict(form, error)
            except DomainError as error:
                status = form_error(form, error)
            else:
                messages.success(request, f"Created campaign {campaign.name}.")
                return redirect("web:campaign", pk=campaign.pk)
    return _form_page(request, form, None, status)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a campaign; only the fields changed on the form are sent to the service."""
    campaign = _campaign(pk)
    require_manage(request.user, what="campaigns")
    form = forms.CampaignForm(
        request.POST or None,
        initial=forms.campaign_initial(campaign),
        persona_choices=_persona_choices(),
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                services.update_campaign(campaign=campaign, changes=changes, by=request.user)
            except Conflict as error:
                _conflict(form, error)
            except DomainError as error:
                status = form_error(form, error)
            else:
                messages.success(
                    request, f"Saved {campaign.name}." if changes else "Nothing changed."
                )
                return redirect("web:campaign", pk=campaign.pk)
    return _form_page(request, form, campaign, status)


@login_required
@require_POST
def campaign_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a campaign without recorded traffic (one with traffic is completed instead)."""
    campaign = _campaign(pk)
    require_manage(request.user, what="campaigns")
    try:
        services.delete_campaign(campaign=campaign, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("web:campaign", pk=campaign.pk)
    messages.success(request, f"Deleted campaign {campaign.name}.")
    return redirect("web:campaigns")


# ---------------------------------------------------------------- the campaign page


def _costs_page(request: AuthedRequest, campaign: Campaign) -> dict[str, Any]:
    page = Paginator(queries.costs_of(campaign), COSTS_PER_PAGE).get_page(
        request.GET.get("costs_page")
    )
    page.object_list = list(page.object_list)
    return {"costs": page, "costs_range": list(page.paginator.get_elided_page_range(page.number))}


def _campaign_page(
    request: AuthedRequest,
    campaign: Campaign,
    *,
    status: int = 200,
    **forms_and_results: Any,
) -> HttpResponse:
    """The campaign page, with any form passed in (bound, with its errors) in place of a blank one."""
    can_manage = permissions.can_manage_marketing(request.user)
    link_rows = list(queries.links_of(campaign)[: LINKS_SHOWN + 1])
    context: dict[str, Any] = {
        "campaign": campaign,
        "personas": list(campaign.personas.all()),
        "stats": queries.campaign_stats(campaign),
        "can_manage": can_manage,
        "links": [(link, links.tracked_url(request, link)) for link in link_rows[:LINKS_SHOWN]],
        "more_links": len(link_rows) > LINKS_SHOWN,
        "utm_form": forms.UtmBuilderForm(),
        "cost_form": forms.CostForm(),
        "link_form": forms.LinkForm(),
        **_costs_page(request, campaign),
        **forms_and_results,
    }
    return render(request, "marketing/campaign_detail.html", context, status=status)


@login_required
@require_GET
def campaign_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A campaign: details, figures, UTM link builder, costs and tracked links."""
    require_view(request.user, what="campaigns")
    campaign = _campaign(pk)
    if wants_partial(request):
        # The costs pager swaps only its own table.
        context = {
            "campaign": campaign,
            "can_manage": permissions.can_manage_marketing(request.user),
            **_costs_page(request, campaign),
        }
        return _vary(render(request, "marketing/_campaign_costs.html", context))
    return _vary(_campaign_page(request, campaign))


@login_required
@require_GET
def campaign_utm(request: AuthedRequest, pk: int) -> HttpResponse:
    """The UTM link builder: a landing page URL tagged with the campaign's tags."""
    require_view(request.user, what="campaigns")
    campaign = _campaign(pk)
    form = forms.UtmBuilderForm(request.GET)
    tagged = ""
    if form.is_valid():
        try:
            tagged = links.campaign_url(
                campaign,
                form.cleaned_data["url"],
                content=form.cleaned_data["content"],
                term=form.cleaned_data["term"],
            )
        except DomainError as error:
            form_error(form, error)
    if wants_partial(request):
        context = {"campaign": campaign, "utm_form": form, "tagged_url": tagged}
        return _vary(render(request, "marketing/_campaign_utm.html", context))
    page = _campaign_page(request, campaign, utm_form=form, tagged_url=tagged, open_form="utm")
    return _vary(page)


@login_required
@require_POST
def campaign_cost_add(request: AuthedRequest, pk: int) -> HttpResponse:
    """Record a cost entry typed in on the campaign page."""
    campaign = _campaign(pk)
    require_manage(request.user, what="campaigns")
    form = forms.CostForm(request.POST)
    if form.is_valid():
        try:
            services.add_cost(campaign=campaign, **form.cleaned_data, by=request.user)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Cost recorded.")
            return redirect(reverse("web:campaign", args=[campaign.pk]) + "#costs")
    return _campaign_page(request, campaign, status=422, cost_form=form, open_form="cost")


@login_required
@require_POST
def campaign_cost_delete(request: AuthedRequest, pk: int, cost_pk: int) -> HttpResponse:
    """Remove one cost entry."""
    campaign = _campaign(pk)
    require_manage(request.user, what="campaigns")
    cost = get_object_or_404(CampaignCost, pk=cost_pk, campaign=campaign)
    services.delete_cost(cost=cost, by=request.user)
    messages.success(request, f"Removed the cost entry of {cost.incurred_on.isoformat()}.")
    return redirect(reverse("web:campaign", args=[campaign.pk]) + "#costs")


@login_required
@require_POST
def campaign_link_add(request: AuthedRequest, pk: int) -> HttpResponse:
    """Register a destination for click tracking; the page then shows its tracked URL."""
    campaign = _campaign(pk)
    require_manage(request.user, what="campaigns")
    form = forms.LinkForm(request.POST)
    if form.is_valid():
        try:
            services.register_link(campaign=campaign, **form.cleaned_data, by=request.user)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, "Link registered.")
            return redirect(reverse("web:campaign", args=[campaign.pk]) + "#links")
    return _campaign_page(request, campaign, status=422, link_form=form, open_form="link")


# ---------------------------------------------------------------- ad-spend import


def _check_upload(upload: Any) -> None:
    """Refuse a file over the size limit, naming its size and the limit."""
    limit = costs_import.MAX_BYTES
    if upload.size > limit:
        raise InvalidInput(
            f"{upload.name} is {upload.size / 1_048_576:.1f} MB; ad-spend files are limited "
            f"to {limit // 1_048_576} MB",
            field="file",
        )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_costs_import(request: AuthedRequest) -> HttpResponse:
    """Upload an ad-spend CSV; the report shows what was written and the rows refused."""
    require_manage(request.user, what="campaigns")
    form = forms.CostImportForm(request.POST or None, request.FILES or None)
    status = 200
    report = None
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                _check_upload(upload)
                report = services.import_costs(file=upload, by=request.user)
                status = 200
            except DomainError as error:
                status = form_error(form, error)
    context = {
        "form": form,
        "report": report,
        "max_mb": costs_import.MAX_BYTES // 1_048_576,
        "platforms": costs_import.PLATFORMS,
    }
    return render(request, "marketing/campaign_costs_import.html", context, status=status)
