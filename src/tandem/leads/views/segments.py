"""Segment pages: the list, the builder (rows or JSON, live count), a segment with its members.

The builder is a plain form: field rows (field / condition / value) and behaviour rows (did an
event, was touched, submitted a form, viewed content), each optionally negated, joined by
"all" or "any". Trees the rows cannot show (nested groups) are edited as JSON in the same
form. Either way the server builds the definition and the grammar's validator judges it, so
the page never trusts what the browser sends.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from itertools import zip_longest
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.crm.models import Contact
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
from tandem.leads.models import Segment, SegmentKind
from tandem.leads.queries import segments as queries
from tandem.leads.segments import (
    EVENT_TYPES,
    FIELDS,
    OPERATORS,
    OPS_BY_KIND,
    PROPERTY_OPS,
    names_for,
)
from tandem.leads.segments import describe as describe_definition
from tandem.leads.services import segments as services
from tandem.marketing.models import Channel

SEGMENT_DEFAULT_SORT = "name"
SEGMENT_COLUMNS = [
    ("Name", "name"),
    ("Kind", "kind"),
    ("Definition", None),
    ("Members", "members"),
    ("Refreshed", "refreshed"),
]
MEMBER_DEFAULT_SORT = "id"
MEMBER_COLUMNS = [
    ("Contact", "last_name"),
    ("Email", "email"),
    ("Stage", "stage"),
    ("Score", "score"),
    ("", None),
]
MAX_ROWS = 40
BEHAVIOURS = {
    "event": "did an event",
    "touched_campaign": "was touched by campaign (id)",
    "touched_channel": "was touched through channel",
    "submitted_form": "submitted form (id, blank = any)",
    "viewed_content": "viewed content (id, blank = any)",
}
VALUE_HINTS = {
    "text": "text; for “is one of”, separate values with commas",
    "number": "a number; for “is between”, low, high",
    "choice": "a value; for “is one of”, separate values with commas",
    "date": "a date (2026-01-31), or days for “within the last”",
}
EMAILS = re.compile(r"[\s,;]+")


def _require_manage(user: Any) -> None:
    if not permissions.can_manage_marketing(user):
        raise PermissionDenied("only admins and marketing may change segments")


class SegmentFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    sort = forms.CharField(required=False, max_length=40)


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=160)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(choices=SegmentKind.choices, initial=SegmentKind.DYNAMIC)


# ---------------------------------------------------------------- rows ⇄ definition


def _typed(raw: str) -> Any:
    """A typed value from a text box: a JSON number, true/false or quoted text, else the text."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, str | int | float | bool) else raw


def _number_text(raw: str) -> Any:
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


def _field_value(name: str, op: str, raw: str) -> Any:
    """A field row's text as the value its field and condition expect (the validator judges)."""
    spec = FIELDS.get(name)
    if spec is None or op in ("is_empty", "is_not_empty"):
        return None
    parts = [p.strip() for p in raw.split(",")]

    def one(text: str) -> Any:
        if spec.kind == "number":
            return _number_text(text)
        if spec.value == "id":
            return None if text in ("", "none") else _number_text(text)
        if spec.value == "username":
            return None if text in ("", "none") else text
        return text

    if op in ("in", "not_in"):
        return [one(p) for p in parts if p or spec.nullable]
    if op == "between":
        return [one(p) for p in parts]
    if op == "within_last_days":
        return _number_text(raw.strip())
    return one(raw.strip())


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _property_text(value: Any) -> str:
    if isinstance(value, str):
        # Text that would read as a number or true/false keeps its quotes.
        return json.dumps(value) if _typed(value) != value else value
    return json.dumps(value)


def rows_from_post(request: HttpRequest) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The posted field rows and behaviour rows (blank rows dropped)."""
    post = request.POST
    field_rows = [
        {"negate": n, "field": f.strip(), "op": o.strip(), "value": v.strip()}
        for n, f, o, v in list(
            zip_longest(
                post.getlist("cond_negate"),
                post.getlist("cond_field"),
                post.getlist("cond_op"),
                post.getlist("cond_value"),
                fillvalue="",
            )
        )[:MAX_ROWS]
        if f.strip() or v.strip()
    ]
    behaviour_rows = [
        {
            "negate": n,
            "kind": k.strip(),
            "target": t.strip(),
            "property": p.strip(),
            "prop_op": po.strip(),
            "prop_value": pv.strip(),
            "min_count": mc.strip(),
            "within_days": wd.strip(),
        }
        for n, k, t, p, po, pv, mc, wd in list(
            zip_longest(
                post.getlist("beh_negate"),
                post.getlist("beh_kind"),
                post.getlist("beh_target"),
                post.getlist("beh_property"),
                post.getlist("beh_prop_op"),
                post.getlist("beh_prop_value"),
                post.getlist("beh_min_count"),
                post.getlist("beh_within_days"),
                fillvalue="",
            )
        )[:MAX_ROWS]
        if k.strip()
    ]
    return field_rows, behaviour_rows


def _behaviour_node(row: dict[str, str]) -> dict[str, Any]:
    kind, target = row["kind"], row["target"]
    days = _number_text(row["within_days"]) if row["within_days"] else None
    if kind == "event":
        node: dict[str, Any] = {"event": target, "within_days": days}
        if row["min_count"]:
            node["min_count"] = _number_text(row["min_count"])
        if row["property"]:
            node["where"] = [
                {
                    "property": row["property"],
                    "op": row["prop_op"] or "eq",
                    "value": _typed(row["prop_value"]),
                }
            ]
        return node
    if kind == "touched_campaign":
        return {"touched": {"campaign": _number_text(target)}, "within_days": days}
    if kind == "touched_channel":
        return {"touched": {"channel": target}, "within_days": days}
    if kind in ("submitted_form", "viewed_content"):
        return {kind: _number_text(target) if target else None, "within_days": days}
    return {kind: target}  # unknown: the validator names it


def definition_from_rows(
    match: str, field_rows: list[dict[str, str]], behaviour_rows: list[dict[str, str]]
) -> dict[str, Any] | None:
    """The rows as a definition: every row a condition, negated rows wrapped in not."""
    nodes: list[dict[str, Any]] = []
    for row in field_rows:
        node: dict[str, Any] = {"field": row["field"], "op": row["op"]}
        value = _field_value(row["field"], row["op"], row["value"])
        if value is not None or row["op"] not in ("is_empty", "is_not_empty"):
            node["value"] = value
        nodes.append({"not": node} if row["negate"] == "not" else node)
    for row in behaviour_rows:
        node = _behaviour_node(row)
        nodes.append({"not": node} if row["negate"] == "not" else node)
    if not nodes:
        return None
    return {"any" if match == "any" else "all": nodes}


def _leaf_row(node: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """One top-level condition as an editor row, or None when rows cannot show it."""
    negate = ""
    if "not" in node:
        node, negate = node["not"], "not"
    if "field" in node:
        return "field", {
            "negate": negate,
            "field": node["field"],
            "op": node["op"],
            "value": _value_text(node.get("value")),
        }
    days = "" if node.get("within_days") is None else str(node["within_days"])
    base = {"negate": negate, "property": "", "prop_op": "", "prop_value": "", "min_count": ""}
    if "event" in node:
        where = node.get("where") or []
        if len(where) > 1:
            return None
        row = {**base, "kind": "event", "target": node["event"], "within_days": days}
        if node.get("min_count", 1) != 1:
            row["min_count"] = str(node["min_count"])
        if where:
            row.update(
                property=where[0]["property"],
                prop_op=where[0]["op"],
                prop_value=_property_text(where[0]["value"]),
            )
        return "behaviour", row
    if "touched" in node:
        target = node["touched"]
        kind = "touched_campaign" if "campaign" in target else "touched_channel"
        value = str(target.get("campaign", target.get("channel", "")))
        return "behaviour", {**base, "kind": kind, "target": value, "within_days": days}
    for kind in ("submitted_form", "viewed_content"):
        if kind in node:
            target = "" if node[kind] is None else str(node[kind])
            return "behaviour", {**base, "kind": kind, "target": target, "within_days": days}
    return None


def rows_from_definition(
    definition: dict[str, Any],
) -> tuple[str, list[dict[str, str]], list[dict[str, str]]] | None:
    """(match, field rows, behaviour rows) for a flat definition; None for nested trees."""
    if not definition:
        return "all", [], []
    match = "any" if "any" in definition else "all"
    children = definition.get(match) if match in definition else [definition]
    field_rows: list[dict[str, str]] = []
    behaviour_rows: list[dict[str, str]] = []
    for child in children or []:
        if not isinstance(child, dict) or "all" in child or "any" in child:
            return None
        if "not" in child and not isinstance(child["not"], dict):
            return None
        if "not" in child and (
            "all" in child["not"] or "any" in child["not"] or "not" in child["not"]
        ):
            return None
        shown = _leaf_row(child)
        if shown is None:
            return None
        (field_rows if shown[0] == "field" else behaviour_rows).append(shown[1])
    return match, field_rows, behaviour_rows


def _posted_definition(request: HttpRequest) -> dict[str, Any] | None:
    """The definition the builder posted: its JSON box in JSON mode, else its rows."""
    if request.POST.get("mode") == "json":
        raw = request.POST.get("definition_json", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidInput("definition: is not valid JSON", field="definition") from None
        if not isinstance(value, dict):
            raise InvalidInput("definition: must be a JSON object", field="definition")
        return value
    field_rows, behaviour_rows = rows_from_post(request)
    return definition_from_rows(request.POST.get("match", "all"), field_rows, behaviour_rows)


# ---------------------------------------------------------------- the builder


def _field_row_view(i: int, row: dict[str, str]) -> dict[str, Any]:
    spec = FIELDS.get(row["field"])
    ops = OPS_BY_KIND[spec.kind] if spec else tuple(OPERATORS)
    return {
        **row,
        "number": i,
        "ops": [(op, OPERATORS[op]) for op in ops],
        "hint": VALUE_HINTS[spec.kind] if spec else "choose a field first",
        "choices": ", ".join(c for c in spec.choices if c) if spec and spec.choices else "",
    }


def _builder(
    *,
    mode: str,
    match: str,
    field_rows: list[dict[str, str]],
    behaviour_rows: list[dict[str, str]],
    definition_json: str,
    error: str = "",
) -> dict[str, Any]:
    return {
        "mode": mode,
        "match": match,
        "field_rows": [_field_row_view(i, r) for i, r in enumerate(field_rows, start=1)],
        "behaviour_rows": [{**r, "number": i} for i, r in enumerate(behaviour_rows, start=1)],
        "definition_json": definition_json,
        "definition_error": error,
        "fields": [(name, spec.label) for name, spec in FIELDS.items()],
        "behaviours": list(BEHAVIOURS.items()),
        "event_types": list(EVENT_TYPES),
        "channels": list(Channel.values),
        "property_ops": [(op, OPERATORS[op]) for op in PROPERTY_OPS],
    }


def _blank_field_row() -> dict[str, str]:
    return {"negate": "", "field": "", "op": "", "value": ""}


def _blank_behaviour_row() -> dict[str, str]:
    return {
        "negate": "",
        "kind": "event",
        "target": "",
        "property": "",
        "prop_op": "eq",
        "prop_value": "",
        "min_count": "",
        "within_days": "",
    }


def _builder_from_post(request: HttpRequest, error: str = "") -> dict[str, Any]:
    field_rows, behaviour_rows = rows_from_post(request)
    return _builder(
        mode="json" if request.POST.get("mode") == "json" else "rows",
        match="any" if request.POST.get("match") == "any" else "all",
        field_rows=field_rows,
        behaviour_rows=behaviour_rows,
        definition_json=request.POST.get("definition_json", ""),
        error=error,
    )


def _builder_from_segment(segment: Segment | None) -> dict[str, Any]:
    definition = segment.definition if segment else {}
    text = json.dumps(definition, indent=2, ensure_ascii=False) if definition else ""
    shown = rows_from_definition(definition)
    if shown is None:
        return _builder(
            mode="json", match="all", field_rows=[], behaviour_rows=[], definition_json=text
        )
    match, field_rows, behaviour_rows = shown
    return _builder(
        mode="rows",
        match=match,
        field_rows=field_rows or [_blank_field_row()],
        behaviour_rows=behaviour_rows,
        definition_json=text,
    )


def _form_page(
    request: AuthedRequest,
    *,
    segment: Segment | None,
    form: SegmentForm,
    builder: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    context = {"segment": segment, "form": form, "builder_url": request.path, **builder}
    return render(request, "leads/segment_form.html", context, status=status)


def _edit(request: AuthedRequest, segment: Segment | None) -> HttpResponse:
    """New and edit share one form; row buttons re-render it, save goes through a service."""
    if request.method == "GET":
        initial = (
            {"name": segment.name, "description": segment.description, "kind": segment.kind}
            if segment
            else {"kind": request.GET.get("kind", SegmentKind.DYNAMIC)}
        )
        return _form_page(
            request,
            segment=segment,
            form=SegmentForm(initial=initial),
            builder=_builder_from_segment(segment),
        )
    form = SegmentForm(request.POST)
    if segment is not None:
        form.fields["kind"].required = False
    action = request.POST.get("action", "save")
    builder = _builder_from_post(request)
    if action in ("add_field", "add_behaviour", "rerender") or action.startswith("remove_"):
        field_rows, behaviour_rows = rows_from_post(request)
        if action == "add_field":
            field_rows.append(_blank_field_row())
        elif action == "add_behaviour":
            behaviour_rows.append(_blank_behaviour_row())
        else:
            which, _, index = action.removeprefix("remove_").partition(":")
            target = field_rows if which == "field" else behaviour_rows
            target[:] = [r for i, r in enumerate(target, start=1) if str(i) != index]
        builder = {
            **builder,
            **_builder(
                mode=builder["mode"],
                match=builder["match"],
                field_rows=field_rows,
                behaviour_rows=behaviour_rows,
                definition_json=builder["definition_json"],
            ),
        }
        return _form_page(request, segment=segment, form=form, builder=builder)
    if action == "to_json":
        try:
            definition = _posted_definition(request)
        except InvalidInput:
            definition = None
        text = json.dumps(definition, indent=2, ensure_ascii=False) if definition else ""
        builder = {**builder, "mode": "json", "definition_json": text}
        return _form_page(request, segment=segment, form=form, builder=builder)
    if action == "to_rows":
        try:
            definition = _posted_definition(request) or {}
        except InvalidInput as problem:
            builder = {**builder, "definition_error": str(problem)}
            return _form_page(request, segment=segment, form=form, builder=builder, status=422)
        shown = rows_from_definition(definition)
        if shown is None:
            error = "nested groups can only be edited as JSON"
            builder = {**builder, "definition_error": error}
            return _form_page(request, segment=segment, form=form, builder=builder, status=422)
        match, field_rows, behaviour_rows = shown
        builder = _builder(
            mode="rows",
            match=match,
            field_rows=field_rows or [_blank_field_row()],
            behaviour_rows=behaviour_rows,
            definition_json=builder["definition_json"],
        )
        return _form_page(request, segment=segment, form=form, builder=builder)
    if not form.is_valid():
        return _form_page(request, segment=segment, form=form, builder=builder, status=422)
    kind = segment.kind if segment else form.cleaned_data["kind"]
    try:
        definition = _posted_definition(request) if kind == SegmentKind.DYNAMIC else None
        values = {
            "name": form.cleaned_data["name"],
            "description": form.cleaned_data["description"],
        }
        if segment is None:
            segment = services.create_segment(
                **values, kind=kind, definition=definition, by=request.user
            )
            messages.success(
                request, f"Created segment {segment.name} ({segment.member_count} members)."
            )
        else:
            if kind == SegmentKind.DYNAMIC:
                values["definition"] = definition
            services.update_segment(segment=segment, changes=values, by=request.user)
            messages.success(request, f"Saved segment {segment.name}.")
    except Conflict as conflict:
        form.add_error("name", str(conflict))
    except DomainError as problem:
        field = getattr(problem, "field", None)
        if field == "definition":
            builder = _builder_from_post(request, error=str(problem))
        else:
            form.add_error(field if field in form.fields else None, str(problem))
    else:
        return redirect("web:segment", pk=segment.pk)
    segment = Segment.objects.filter(pk=segment.pk).first() if segment else None
    return _form_page(request, segment=segment, form=form, builder=builder, status=422)


# ---------------------------------------------------------------- pages


@login_required
@require_GET
def segment_list(request: AuthedRequest) -> HttpResponse:
    """Every segment with its kind, definition in words, member count and last refresh."""
    form = SegmentFilterForm(request.GET)
    form.is_valid()
    q = form.cleaned_data.get("q") or ""
    qs, sort = sorted_by(
        queries.segments_for(q=q),
        form.cleaned_data.get("sort") or "",
        queries.SEGMENT_SORTS,
        SEGMENT_DEFAULT_SORT,
    )
    base = query_of(q=q)
    paged = paginate(request, qs)
    rows = []
    listed = list(paged["page_obj"].object_list)
    names = names_for(s.definition for s in listed if s.kind == SegmentKind.DYNAMIC)
    for segment in listed:
        try:
            summary = (
                describe_definition(segment.definition, names=names)
                if segment.kind == SegmentKind.DYNAMIC
                else "Static list"
            )
        except InvalidInput:
            summary = "(definition no longer valid)"
        rows.append({"segment": segment, "summary": summary})
    context: dict[str, Any] = {
        **paged,
        "rows": rows,
        "headers": headers(base, SEGMENT_COLUMNS, sort),
        "query": sorted_query(base, sort, SEGMENT_DEFAULT_SORT),
        "sort": sort,
        "q": q,
        "can_manage": permissions.can_manage_marketing(request.user),
    }
    return render_list(
        request,
        page="leads/segment_list.html",
        partial="leads/_segment_table.html",
        context=context,
    )


@login_required
@require_GET
def segment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A segment: its definition, counts, entered/left history and the members the user may see."""
    segment = get_object_or_404(Segment, pk=pk)
    user = request.user
    form = SegmentFilterForm(request.GET)
    form.is_valid()
    members, sort = sorted_by(
        queries.members_for(user, segment).select_related("company"),
        form.cleaned_data.get("sort") or "",
        queries.MEMBER_SORTS,
        MEMBER_DEFAULT_SORT,
    )
    base = query_of()
    paged = paginate(request, members)
    try:
        summary = (
            describe_definition(segment.definition)
            if segment.kind == SegmentKind.DYNAMIC
            else "Static list: members are added and removed by hand."
        )
    except InvalidInput as problem:
        summary = f"The definition is no longer valid: {problem}"
    context: dict[str, Any] = {
        **paged,
        "segment": segment,
        "summary": summary,
        "definition_json": json.dumps(segment.definition, indent=2, ensure_ascii=False),
        "history": queries.member_history(segment),
        "headers": headers(base, MEMBER_COLUMNS, sort),
        "query": sorted_query(base, sort, MEMBER_DEFAULT_SORT),
        "sort": sort,
        "can_manage": permissions.can_manage_marketing(user),
        "is_static": segment.kind == SegmentKind.STATIC,
    }
    return render_list(
        request,
        page="leads/segment_detail.html",
        partial="leads/_segment_members.html",
        context=context,
    )


@login_required
@require_http_methods(["GET", "POST"])
def segment_new(request: AuthedRequest) -> HttpResponse:
    """Build a new segment (dynamic) or start a static list."""
    _require_manage(request.user)
    return _edit(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a segment's name, description and definition."""
    segment = get_object_or_404(Segment, pk=pk)
    _require_manage(request.user)
    return _edit(request, segment)


@login_required
@require_POST
def segment_count(request: AuthedRequest) -> HttpResponse:
    """The builder's live count: contacts the user may see that the posted definition selects."""
    context: dict[str, Any] = {"count": None, "error": "", "empty": False}
    try:
        definition = _posted_definition(request)
        if definition is None:
            context["empty"] = True
        else:
            context["count"] = queries.count_definition(definition, user=request.user)
    except InvalidInput as problem:
        context["error"] = str(problem)
    return render(request, "leads/_segment_count.html", context)


@login_required
@require_GET
def segment_export(request: AuthedRequest, pk: int) -> FileResponse:
    """The members the user may see as a CSV download, safe to open in a spreadsheet."""
    segment = get_object_or_404(Segment, pk=pk)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after streaming
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    queries.export_members(user=request.user, segment=segment, out=text)
    text.flush()
    text.detach()
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"segment-{segment.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_POST
def segment_refresh(request: AuthedRequest, pk: int) -> HttpResponse:
    """Re-evaluate a dynamic segment now."""
    segment = get_object_or_404(Segment, pk=pk)
    _require_manage(request.user)
    entered, left = services.refresh_segment(segment=segment)
    messages.success(request, f"Refreshed {segment.name}: {entered} entered, {left} left.")
    return redirect("web:segment", pk=segment.pk)


@login_required
@require_POST
def segment_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete a segment and its membership history."""
    segment = get_object_or_404(Segment, pk=pk)
    _require_manage(request.user)
    name = segment.name
    try:
        services.delete_segment(segment=segment)
    except DomainError as problem:
        messages.error(request, str(problem))
        return redirect("web:segment", pk=segment.pk)
    messages.success(request, f"Deleted segment {name}.")
    return redirect("web:segments")


@login_required
@require_POST
def segment_members_add(request: AuthedRequest, pk: int) -> HttpResponse:
    """Add contacts to a static list by email (the ones the user may see)."""
    segment = get_object_or_404(Segment, pk=pk)
    _require_manage(request.user)
    emails = [e.lower() for e in EMAILS.split(request.POST.get("emails", "")) if e][:1000]
    found = dict(
        permissions.visible(request.user, Contact.objects.filter(email__in=emails)).values_list(
            "email", "pk"
        )
    )
    unknown = [e for e in emails if e not in found]
    try:
        added = services.add_members(
            segment=segment, contact_ids=list(found.values()), by=request.user
        )
    except DomainError as problem:
        messages.error(request, str(problem))
    else:
        note = f" No contact has {len(unknown)} of the emails." if unknown else ""
        messages.success(request, f"Added {added} contact{'' if added == 1 else 's'}.{note}")
    return redirect("web:segment", pk=segment.pk)


@login_required
@require_POST
def segment_members_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    """Remove one contact from a static list."""
    segment = get_object_or_404(Segment, pk=pk)
    _require_manage(request.user)
    try:
        contact_id = int(request.POST.get("contact_id", ""))
        removed = services.remove_members(
            segment=segment, contact_ids=[contact_id], by=request.user
        )
    except (ValueError, DomainError) as problem:
        messages.error(request, f"Could not remove: {problem}")
    else:
        messages.success(request, f"Removed {removed} contact{'' if removed == 1 else 's'}.")
    return redirect("web:segment", pk=segment.pk)


urlpatterns: list[URLPattern] = [
    path("segments/", segment_list, name="segments"),
    path("segments/new/", segment_new, name="segment_new"),
    path("segments/count/", segment_count, name="segment_count"),
    path("segments/<int:pk>/", segment_detail, name="segment"),
    path("segments/<int:pk>/edit/", segment_edit, name="segment_edit"),
    path("segments/<int:pk>/export.csv", segment_export, name="segment_export"),
    path("segments/<int:pk>/refresh/", segment_refresh, name="segment_refresh"),
    path("segments/<int:pk>/delete/", segment_delete, name="segment_delete"),
    path("segments/<int:pk>/members/add/", segment_members_add, name="segment_members_add"),
    path(
        "segments/<int:pk>/members/remove/", segment_members_remove, name="segment_members_remove"
    ),
]
