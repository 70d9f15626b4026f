"""Customer insight pages: the feed marketing reads, and a deal's insights panel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from tandem.accounts import permissions
from tandem.crm.views.common import AuthedRequest, paginate, query_of
from tandem.errors import DomainError, InvalidInput
from tandem.htmx import render_page, wants_partial
from tandem.sales.models import Deal, Insight, InsightKind, InsightTag
from tandem.sales.queries import insights as queries
from tandem.sales.queries.deals import deal_for
from tandem.sales.services import insights as services

DEAL_INSIGHTS = 50


class InsightForm(forms.Form):
    kind = forms.ChoiceField(choices=InsightKind.choices)
    text = forms.CharField(
        max_length=5000, widget=forms.Textarea(attrs={"rows": 2}), label="What you heard"
    )
    competitor = forms.CharField(required=False, max_length=120)
    tags = forms.CharField(
        required=False, max_length=1000, help_text="Comma-separated, at most 10", label="Tags"
    )


# ---------------------------------------------------------------- the feed


@login_required
@require_GET
def insights(request: AuthedRequest) -> HttpResponse:
    """Every insight the viewer can see, filtered by kind, tag, competitor and period, with counts."""
    status, error = 200, ""
    try:
        filters = queries.clean_filters(request.GET)
    except InvalidInput as e:
        filters = queries.clean_filters({})
        status, error = 400, str(e)
    period = filters["period"]
    query = query_of(
        kind=filters["kind"],
        tag=filters["tag"],
        competitor=filters["competitor"],
        period=period.key if period else "",
    )
    context = {
        **paginate(request, queries.feed(user=request.user, **filters)),
        "summary": queries.summary(user=request.user, **filters),
        "filters": filters,
        "query": query,
        "kinds": InsightKind.choices,
        "tags": list(InsightTag.objects.values_list("name", flat=True)[:500]),
        "error": error,
    }
    return render_page(
        request,
        page="sales/insights.html",
        partial="sales/insights_feed.html",
        context=context,
        status=status,
        push_url=f"{request.path}?{query.urlencode()}" if query else request.path,
    )


# ---------------------------------------------------------------- the deal's panel


def _deal_insights_context(
    request: AuthedRequest, deal: Deal, form: InsightForm | None = None
) -> dict[str, Any]:
    can_edit = permissions.can_edit(request.user, deal)
    rows: list[Insight] = list(queries.feed(user=request.user, deal=deal)[:DEAL_INSIGHTS])
    return {
        "deal": deal,
        "insights": rows,
        "can_edit": can_edit,
        "form": form or (InsightForm(prefix="insight") if can_edit else None),
    }


@login_required
@require_http_methods(["GET", "POST"])
def deal_insights(request: AuthedRequest, pk: int) -> HttpResponse:
    """The deal's insights and, for whoever may edit it, the form to record one."""
    deal = deal_for(request.user, pk)
    form = None
    status = 200
    if request.method == "POST":
        if not permissions.can_edit(request.user, deal):
            raise PermissionDenied("you may not change this deal")
        form = InsightForm(request.POST, prefix="insight")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_insight(
                    by=request.user,
                    kind=data["kind"],
                    text=data["text"],
                    deal=deal,
                    competitor=data["competitor"],
                    tags=services.normalise_tags(data["tags"]),
                )
            except DomainError as e:
                field = e.field if isinstance(e, InvalidInput) else None
                form.add_error(field if field in form.fields else None, str(e))
                status = 422
            else:
                if not wants_partial(request):
                    messages.success(request, "Insight recorded.")
                    return redirect(reverse("web:deal", args=[deal.pk]) + "#deal-insights")
                form = None
        else:
            status = 422
    context = _deal_insights_context(request, deal, form)
    return render(request, "sales/_deal_insights.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("insights/", insights, name="insights"),
    path("deals/<int:pk>/insights/", deal_insights, name="deal_insights"),
]
