"""Persona pages: the list, one persona, new/edit with the criteria editor, assign and delete."""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
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
from tandem.errors import Conflict, DomainError, InvalidInput
from tandem.marketing.models import Persona
from tandem.marketing.personas import CRITERIA_FIELDS, OPERATORS, describe, summary
from tandem.marketing.queries import personas as queries
from tandem.marketing.services import personas as services
from tandem.marketing.views.common import require_manage, require_view

PERSONA_DEFAULT_SORT = "name"
PERSONA_COLUMNS = [
    ("Name", "name"),
    ("Fit criteria", None),
    ("Matching contacts", None),
    ("Assigned", None),
    ("Updated", "updated_at"),
]
SAMPLE_SIZE = 25
# What a value box expects, per kind of field.
VALUE_HINTS = {
    "text": "text; for “is one of”, separate values with commas",
    "choice": "one or more values, separated by commas",
    "country": "two-letter ISO codes, separated by commas (US, GB)",
    "int": "a whole number",
    "decimal": "an amount",
}


class PersonaFilterForm(forms.Form):
    """The persona list's query string (invalid values are dropped)."""

    q = forms.CharField(required=False, max_length=100)
    sort = forms.CharField(required=False, max_length=40)


class PersonaForm(forms.Form):
    """A persona's words; its criteria rows are posted beside it and parsed by criteria_rows()."""

    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    pains = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    goals = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    objections = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


# ---------------------------------------------------------------- the criteria editor


def _value_text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def rows_from_criteria(criteria: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Stored criteria as the editor's rows of field / op / value text."""
    return [
        {
            "field": str(c.get("field", "")),
            "op": str(c.get("op", "")),
            "value": _value_text(c.get("value", "")),
        }
        for c in criteria
        if isinstance(c, dict)
    ]


def rows_from_post(request: HttpRequest) -> list[dict[str, str]]:
    """The editor's posted rows, leaving out rows with neither a field nor a value."""
    post = request.POST
    rows = zip_longest(
        post.getlist("criterion_field"),
        post.getlist("criterion_op"),
        post.getlist("criterion_value"),
        fillvalue="",
    )
    return [
        {"field": f.strip(), "op": o.strip(), "value": v.strip()}
        for f, o, v in list(rows)[:50]
        if f.strip() or v.strip()
    ]


def criteria_from_rows(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Rows as raw criteria for validation: an "is one of" value is split on commas."""
    out: list[dict[str, Any]] = []
    for row in rows:
        value: Any = row["value"]
        if row["op"] == "in":
            value = [part.strip() for part in row["value"].split(",") if part.strip()]
        out.append({"field": row["field"], "op": row["op"], "value": value})
    return out


def _editor(rows: list[dict[str, str]], error: str = "") -> dict[str, Any]:
    """What the criteria editor renders: each row with the operators its field allows."""
    shown = []
    for i, row in enumerate(rows, start=1):
        spec = CRITERIA_FIELDS.get(row["field"])
        ops = spec.ops if spec else tuple(OPERATORS)
        shown.append(
            {
                **row,
                "number": i,
                "ops": [(op, OPERATORS[op]) for op in ops],
                "hint": VALUE_HINTS[spec.kind] if spec else "choose a field first",
                "choices": ", ".join(spec.choices) if spec and spec.choices else "",
            }
        )
    return {
        "rows": shown,
        "fields": [(name, spec.label) for name, spec in CRITERIA_FIELDS.items()],
        "criteria_error": error,
    }


# ---------------------------------------------------------------- pages


@login_required
@require_GET
def persona_list(request: AuthedRequest) -> HttpResponse:
    """Personas with their criteria and counts of fitting and assigned contacts (no N+1)."""
    require_view(request.user, what="personas")
    form = PersonaFilterForm(request.GET)
    form.is_valid()
    q = form.cleaned_data.get("q") or ""
    qs, sort = sorted_by(
        queries.personas_for(q=q),
        form.cleaned_data.get("sort") or "",
        queries.PERSONA_SORTS,
        PERSONA_DEFAULT_SORT,
    )
    base = query_of(q=q)
    paged = paginate(request, qs)
    personas = paged["page_obj"].object_list
    counts = queries.persona_counts(request.user, personas)
    context: dict[str, Any] = {
        **paged,
        "rows": [{"persona": p, "summary": summary(p.criteria), **counts[p.pk]} for p in personas],
        "headers": headers(base, PERSONA_COLUMNS, sort),
        "query": sorted_query(base, sort, PERSONA_DEFAULT_SORT),
        "sort": sort,
        "q": q,
        "can_manage": permissions.can_manage_marketing(request.user),
    }
    return render_list(
        request,
        page="marketing/persona_list.html",
        partial="marketing/_persona_table.html",
        context=context,
    )


@login_required
@require_GET
def persona_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A persona: its words, criteria, counts and a sample of fitting contacts the user may see."""
    require_view(request.user, what="personas")
    persona = get_object_or_404(Persona, pk=pk)
    user = request.user
    context = {
        "persona": persona,
        "criteria": [describe(c) for c in persona.criteria if isinstance(c, dict)],
        "matched": queries.matched_count(user, persona),
        "assigned": queries.assigned_count(user, persona),
        "sample": queries.persona_sample(user, persona, limit=SAMPLE_SIZE),
        "sample_size": SAMPLE_SIZE,
        "can_manage": permissions.can_manage_marketing(user),
    }
    return render(request, "marketing/persona_detail.html", context)


def _form_page(
    request: AuthedRequest,
    *,
    persona: Persona | None,
    form: PersonaForm,
    rows: list[dict[str, str]],
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"persona": persona, "form": form, **_editor(rows, error)}
    return render(request, "marketing/persona_form.html", context, status=status)


def _edit(request: AuthedRequest, persona: Persona | None) -> HttpResponse:
    """New and edit share one form: add/remove rows re-render it, save writes through a service."""
    if request.method == "GET":
        initial = (
            {
                f: getattr(persona, f)
                for f in ("name", "description", "pains", "goals", "objections")
            }
            if persona
            else {}
        )
        rows = rows_from_criteria(persona.criteria) if persona else []
        return _form_page(
            request,
            persona=persona,
            form=PersonaForm(initial=initial),
            rows=rows or [{"field": "", "op": "", "value": ""}],
        )
    form = PersonaForm(request.POST)
    rows = rows_from_post(request)
    action = request.POST.get("action", "save")
    if action == "add_row":
        rows.append({"field": "", "op": "", "value": ""})
        return _form_page(request, persona=persona, form=form, rows=rows)
    if action.startswith("remove_row:"):
        index = action.removeprefix("remove_row:")
        rows = [row for i, row in enumerate(rows, start=1) if str(i) != index]
        return _form_page(request, persona=persona, form=form, rows=rows)
    if not form.is_valid():
        return _form_page(request, persona=persona, form=form, rows=rows, status=422)
    values = {**form.cleaned_data, "criteria": criteria_from_rows(rows)}
    try:
        if persona is None:
            persona = services.create_persona(**values, by=request.user)
            messages.success(request, f"Created persona {persona.name}.")
        else:
            services.update_persona(persona=persona, changes=values, by=request.user)
            messages.success(request, f"Saved persona {persona.name}.")
    except Conflict as conflict:
        form.add_error("name", str(conflict))
    except DomainError as problem:
        field = getattr(problem, "field", None)
        if field == "criteria":
            return _form_page(
                request, persona=persona, form=form, rows=rows, error=str(problem), status=422
            )
        form.add_error(field if field in form.fields else None, str(problem))
    else:
        return redirect("web:persona", pk=persona.pk)
    persona = Persona.objects.filter(pk=persona.pk).first() if persona else None
    return _form_page(request, persona=persona, form=form, rows=rows, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def persona_new(request: AuthedRequest) -> HttpResponse:
    """Create a persona with its fit criteria."""
    require_manage(request.user, what="personas")
    return _edit(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def persona_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a persona's words and criteria."""
    persona = get_object_or_404(Persona, pk=pk)
    require_manage(request.user, what="personas")
    return _edit(request, persona)


@login_required
@require_POST
def persona_preview(request: AuthedRequest) -> HttpResponse:
    """The editor's live count: how many contacts the user may see fit the posted criteria."""
    require_manage(request.user, what="personas")
    criteria = criteria_from_rows(rows_from_post(request))
    context: dict[str, Any] = {"count": None, "error": ""}
    try:
        context["count"] = queries.matched_count(request.user, criteria) if criteria else 0
    except InvalidInput as problem:
        context["error"] = str(problem)
    return render(request, "marketing/_persona_match.html", context)


@login_required
@require_POST
def persona_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    """Give this persona to the contacts who fit it (those without one, or all with overwrite)."""
    persona = get_object_or_404(Persona, pk=pk)
    require_manage(request.user, what="personas")
    overwrite = request.POST.get("overwrite") == "on"
    try:
        count = services.assign_persona(persona=persona, overwrite=overwrite, by=request.user)
    except DomainError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(
            request, f"Assigned {persona.name} to {count} contact{'' if count == 1 else 's'}."
        )
    return redirect("web:persona", pk=persona.pk)


@login_required
@require_POST
def persona_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a persona; the contacts that had it keep everything else."""
    persona = get_object_or_404(Persona, pk=pk)
    require_manage(request.user, what="personas")
    name = persona.name
    cleared = services.delete_persona(persona=persona, by=request.user)
    messages.success(
        request,
        f"Deleted persona {name}; {cleared} contact{'' if cleared == 1 else 's'} no longer have it.",
    )
    return redirect("web:personas")
