"""Content library pages: the filtered list, an asset's page, new/edit, its file, archive, delete."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.crm.views.common import (
    AuthedRequest,
    headers,
    paginate,
    query_of,
    render_list,
    sorted_by,
    sorted_query,
)
from tandem.errors import DomainError
from tandem.htmx import wants_partial
from tandem.marketing.models import Audience, ContentAsset, ContentType, JourneyStage, Persona
from tandem.marketing.queries import content as queries
from tandem.marketing.services import content as services
from tandem.marketing.views.common import require_manage, require_view
from tandem.pagination import MAX_ID

ASSET_DEFAULT_SORT = "-updated_at"
ASSET_COLUMNS = [
    ("Title", "title"),
    ("Type", "type"),
    ("Stage", "journey_stage"),
    ("Audience", "audience"),
    ("Personas", None),
    ("Source", None),
    ("Updated", "updated_at"),
]
BLANK = [("", "—")]
STATUSES = [("active", "Active"), ("archived", "Archived"), ("all", "All")]


class AssetFilterForm(forms.Form):
    """The library's query string (invalid values are dropped, never trusted)."""

    q = forms.CharField(required=False, max_length=100)
    type = forms.ChoiceField(required=False, choices=BLANK + list(ContentType.choices))
    stage = forms.ChoiceField(required=False, choices=BLANK + list(JourneyStage.choices))
    audience = forms.ChoiceField(required=False, choices=BLANK + list(Audience.choices))
    persona = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = forms.ChoiceField(required=False, choices=STATUSES)
    sort = forms.CharField(required=False, max_length=40)


class AssetForm(forms.Form):
    """An asset's fields and its source: a link or an uploaded file."""

    title = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=ContentType.choices)
    journey_stage = forms.ChoiceField(label="Journey stage", choices=JourneyStage.choices)
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.MARKET)
    personas = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"style": "width:auto"}),
        choices=[],
    )
    description = forms.CharField(
        required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )
    source = forms.ChoiceField(
        choices=[("url", "A link"), ("file", "An uploaded file")],
        initial="url",
        widget=forms.RadioSelect,
    )
    url = forms.CharField(
        label="URL (for a link)",
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    file = forms.FileField(label="File (for an upload)", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        personas = self.fields["personas"]
        assert isinstance(personas, forms.MultipleChoiceField)
        personas.choices = [
            (str(pk), name) for pk, name in Persona.objects.values_list("pk", "name")
        ]


@login_required
@require_GET
def content_list(request: AuthedRequest) -> HttpResponse:
    """The library: filters (type, stage, persona, audience, title search), sort, 50 a page."""
    require_view(request.user, what="content")
    form = AssetFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    flt = queries.AssetFilter(
        q=data.get("q") or "",
        type=data.get("type") or "",
        journey_stage=data.get("stage") or "",
        audience=data.get("audience") or "",
        persona_id=data.get("persona"),
        status=data.get("status") or "active",
    )
    qs = queries.assets_for(flt).prefetch_related("personas")
    qs, sort = sorted_by(qs, data.get("sort") or "", queries.ASSET_SORTS, ASSET_DEFAULT_SORT)
    base = query_of(
        q=flt.q,
        type=flt.type,
        stage=flt.journey_stage,
        audience=flt.audience,
        persona=flt.persona_id,
        status=flt.status if flt.status != "active" else None,
    )
    context: dict[str, Any] = {
        **paginate(request, qs),
        "headers": headers(base, ASSET_COLUMNS, sort),
        "query": sorted_query(base, sort, ASSET_DEFAULT_SORT),
        "sort": sort,
        "flt": flt,
    }
    if not wants_partial(request):
        context |= {
            "can_manage": permissions.can_manage_marketing(request.user),
            "types": ContentType.choices,
            "stages": JourneyStage.choices,
            "audiences": Audience.choices,
            "statuses": STATUSES,
            "personas": list(Persona.objects.values_list("pk", "name")),
        }
    return render_list(
        request,
        page="marketing/content_list.html",
        partial="marketing/_content_table.html",
        context=context,
    )


@login_required
@require_GET
def content_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """An asset: its details, public link, engagement counts and recent viewers the user may see."""
    require_view(request.user, what="content")
    asset = get_object_or_404(ContentAsset.objects.select_related("created_by"), pk=pk)
    context = {
        "asset": asset,
        "personas": list(asset.personas.all()),
        "engagement": queries.engagement(asset),
        "viewers": queries.recent_viewers(request.user, asset),
        "public_url": request.build_absolute_uri(f"/c/{asset.public_token}"),
        "can_manage": permissions.can_manage_marketing(request.user),
        "max_mb": services.MAX_ASSET_BYTES // (1024 * 1024),
    }
    return render(request, "marketing/content_detail.html", context)


def _initial(asset: ContentAsset) -> dict[str, Any]:
    return {
        "title": asset.title,
        "type": asset.type,
        "journey_stage": asset.journey_stage,
        "audience": asset.audience,
        "personas": [str(pk) for pk in asset.personas.values_list("pk", flat=True)],
        "description": asset.description,
        "source": "file" if asset.file else "url",
        "url": asset.url,
    }


def _save(request: AuthedRequest, form: AssetForm, asset: ContentAsset | None) -> ContentAsset:
    """Call the service with what the form chose: the link, or the upload (never both)."""
    data = form.cleaned_data
    use_file = data["source"] == "file"
    values = {
        "title": data["title"],
        "type": data["type"],
        "journey_stage": data["journey_stage"],
        "audience": data["audience"],
        "description": data["description"],
        "url": "" if use_file else data["url"],
        "personas": [int(pk) for pk in data["personas"]],
    }
    upload = data.get("file") if use_file else None
    if asset is None:
        if use_file and upload is None:
            form.add_error("file", "choose a file to upload")
            raise _FormInvalid
        return services.create_asset(**values, upload=upload, by=request.user)
    if use_file and upload is None and not asset.file:
        form.add_error("file", "choose a file to upload")
        raise _FormInvalid
    return services.update_asset(asset=asset, changes=values, upload=upload, by=request.user)


class _FormInvalid(Exception):
    """The form already carries the error to show."""


def _edit(request: AuthedRequest, asset: ContentAsset | None) -> HttpResponse:
    form = (
        AssetForm(request.POST, request.FILES)
        if request.method == "POST"
        else AssetForm(initial=_initial(asset) if asset else None)
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                saved = _save(request, form, asset)
            except _FormInvalid:
                pass
            except DomainError as problem:
                field = getattr(problem, "field", None)
                form.add_error(field if field in form.fields else None, str(problem))
            else:
                messages.success(request, f"{'Saved' if asset else 'Created'} {saved.title}.")
                return redirect("web:content_asset", pk=saved.pk)
            if asset is not None:
                asset.refresh_from_db()  # the failed save may have touched the instance
    context = {"form": form, "asset": asset, "max_mb": services.MAX_ASSET_BYTES // (1024 * 1024)}
    return render(request, "marketing/content_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def content_new(request: AuthedRequest) -> HttpResponse:
    """Add an asset: a link or an upload (checked for size and real type)."""
    require_manage(request.user, what="content")
    return _edit(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def content_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change an asset; a new file or link replaces the old one."""
    asset = get_object_or_404(ContentAsset, pk=pk)
    require_manage(request.user, what="content")
    return _edit(request, asset)


@login_required
@require_GET
def content_file(request: AuthedRequest, pk: int) -> FileResponse:
    """The asset's file for signed-in staff (not tracked); `?download=1` forces a download."""
    require_view(request.user, what="content")
    asset = get_object_or_404(ContentAsset, pk=pk)
    response = services.file_response(asset, download=request.GET.get("download") == "1")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_POST
def content_archive(request: AuthedRequest, pk: int) -> HttpResponse:
    """Archive an asset (or restore it with archived=0)."""
    asset = get_object_or_404(ContentAsset, pk=pk)
    require_manage(request.user, what="content")
    archived = request.POST.get("archived", "1") == "1"
    services.set_archived(asset=asset, archived=archived, by=request.user)
    messages.success(request, f"{'Archived' if archived else 'Restored'} {asset.title}.")
    return redirect("web:content_asset", pk=asset.pk)


@login_required
@require_POST
def content_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete an asset and its stored file."""
    asset = get_object_or_404(ContentAsset, pk=pk)
    require_manage(request.user, what="content")
    title = asset.title
    services.delete_asset(asset=asset, by=request.user)
    messages.success(request, f"Deleted {title}.")
    return redirect("web:content")
