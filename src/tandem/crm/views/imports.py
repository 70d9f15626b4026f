"""The import pages: upload a CSV of contacts or companies, then follow the import job."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from tandem.accounts import permissions
from tandem.crm import forms, queries, services
from tandem.crm.views.common import AuthedRequest, form_error
from tandem.errors import DomainError, InvalidInput
from tandem.htmx import render_page

CSV_TYPES = {
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "text/comma-separated-values",
}


def _require_import(user: Any) -> None:
    if not permissions.can_import(user):
        raise PermissionDenied("only admins and marketing may import")


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
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    # Spreadsheets and other binaries carry NUL bytes; CSV text never does.
    if not (name.endswith((".csv", ".txt")) or content_type in CSV_TYPES) or b"\x00" in head:
        raise InvalidInput(
            f"{upload.name} does not look like a CSV file; save it as CSV (comma-separated values) and upload it again",
            field="file",
        )


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: AuthedRequest) -> HttpResponse:
    """Upload a CSV of contacts or companies; the import runs as a job with a live report."""
    _require_import(request.user)
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
                status = form_error(form, error)
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
    _require_import(request.user)
    job = get_object_or_404(queries.import_jobs_for(request.user), pk=pk)
    context = {"job": job, "rejected_kept": services.IMPORT_REJECTED_KEPT}
    return render_page(
        request, page="crm/import_job.html", partial="crm/_import_report.html", context=context
    )
