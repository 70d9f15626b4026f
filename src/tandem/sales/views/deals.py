"""Deal pages: the board per pipeline, the list, the deal page and the forms that change a deal.

The board moves deals two ways that end in the same view: dragging a card onto a column
(board.js posts the card's move form with the column's stage) and the card's own "Move to…"
select and button, which works from the keyboard and without JavaScript. A move into a lost
stage needs a reason, so it opens the close form instead.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from itertools import zip_longest
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts import permissions
from tandem.accounts.models import Team
from tandem.crm.models import Company, Contact
from tandem.crm.views.common import (
    AuthedRequest,
    company_by_domain,
    company_domains,
    form_error,
    new_owner_choices,
    owner_choices,
    owner_from,
)
from tandem.errors import DomainError, InvalidInput
from tandem.htmx import render_page, wants_partial
from tandem.pagination import MAX_ID
from tandem.sales.models import (
    Deal,
    DealKind,
    DealRole,
    DealStatus,
    ExchangeRate,
    LostReason,
    Pipeline,
    Product,
    Stage,
    StageOutcome,
)
from tandem.sales.queries import board as queries
from tandem.sales.queries import deals as deal_queries
from tandem.sales.services import deals as services

PER_STAGE = 15
CLOSED_CARDS = 5
PER_PAGE = 50
MAX_ITEM_ROWS = 50
BLANK: list[tuple[str, str]] = [("", "—")]


# ---------------------------------------------------------------- filters


class DealFilterForm(forms.Form):
    """The board's and list's query string (invalid values are dropped, never trusted)."""

    pipeline = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    stage = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = forms.ChoiceField(required=False, choices=BLANK + list(DealStatus.choices))
    owner = forms.CharField(required=False, max_length=150)
    team = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    q = forms.CharField(required=False, max_length=queries.MAX_Q)
    close_from = forms.DateField(required=False)
    close_to = forms.DateField(required=False)
    min_amount = forms.DecimalField(required=False, min_value=0, max_digits=16, decimal_places=2)
    kind = forms.ChoiceField(required=False, choices=BLANK + list(DealKind.choices))
    sort = forms.CharField(required=False, max_length=40)
    cursor = forms.CharField(required=False, max_length=400)


def _filters(data: QueryDict) -> tuple[queries.DealFilter, dict[str, Any]]:
    form = DealFilterForm(data)
    form.is_valid()  # invalid fields drop out of cleaned_data and are ignored
    cleaned = form.cleaned_data
    values = {name: cleaned.get(name) for name in queries.FILTER_NAMES}
    try:
        flt = queries.DealFilter.from_mapping(values)
    except InvalidInput:
        flt = queries.DealFilter()
    return flt, cleaned


def _query(flt: queries.DealFilter, **extra: Any) -> str:
    values = flt.as_query() | {k: str(v) for k, v in extra.items() if v not in (None, "")}
    return urlencode(values)


def _filter_choices(user: Any) -> dict[str, Any]:
    """The owner and team drop-downs: the people and teams the user may see deals of."""
    teams = Team.objects.filter(kind="sales").order_by("name")
    return {
        "owners": owner_choices(user),
        "teams": list(teams.values_list("id", "name")),
        "statuses": DealStatus.choices,
        "kinds": DealKind.choices,
    }


def _deal_or_404(user: Any, pk: int) -> Deal:
    deal: Deal = deal_queries.deal_for(user, pk)
    return deal


def _require_edit(user: Any, deal: Deal) -> None:
    if not permissions.can_edit(user, deal):
        raise PermissionDenied("you may not change this deal")


def _require_sell(user: Any) -> None:
    if not permissions.can_sell(user):
        raise PermissionDenied("only sales users work deals")


# ---------------------------------------------------------------- the board


def _pipeline_of(flt: queries.DealFilter) -> Pipeline:
    pipelines = Pipeline.objects.filter(is_active=True)
    if flt.pipeline is not None:
        chosen = pipelines.filter(pk=flt.pipeline).first()
        if chosen is not None:
            return chosen
    found = pipelines.filter(is_default=True).first() or pipelines.first()
    if found is None:
        raise Http404("no pipeline")
    return found


def _stage_options(stages: list[Stage], current: Stage) -> str:
    """The <option>s of a "Move to" select, the current stage selected (names escaped)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((s.pk, mark_safe(" selected") if s.pk == current.pk else "", s.name) for s in stages),
    )


def _board_context(user: Any, flt: queries.DealFilter, error: str = "") -> dict[str, Any]:
    pipeline = _pipeline_of(flt)
    # The stage filter narrows the list; on the board every stage is a column.
    flt = replace(flt, pipeline=pipeline.pk, stage=None)
    columns = queries.board(user=user, pipeline=pipeline, filters=flt, per_stage=PER_STAGE)
    for column in columns:
        if column.stage.outcome != StageOutcome.OPEN:
            # Recently won and lost deals are a glance; the list has them all.
            column.deals = column.deals[:CLOSED_CARDS]
    stages = [c.stage for c in columns]
    return {
        "pipeline": pipeline,
        "columns": columns,
        # Each card's "Move to" options, rendered once per column rather than once per card.
        "board_columns": [(c, _stage_options(stages, c.stage)) for c in columns],
        "deals_url": reverse("web:deals"),
        "closed_days": queries.CLOSED_DAYS,
        "flt": flt,
        "filter_query": _query(flt),
        "list_query": _query(flt),
        "can_move": permissions.can_sell(user),
        "board_error": error,
        "total_count": sum(c.count for c in columns),
    }


@login_required
@require_GET
def deal_board(request: AuthedRequest) -> HttpResponse:
    """The kanban of one pipeline: a column per stage with count, total and weighted total."""
    flt, _ = _filters(request.GET)
    context = _board_context(request.user, flt)
    if not wants_partial(request):
        context |= _filter_choices(request.user) | {
            "pipelines": list(Pipeline.objects.filter(is_active=True)),
        }
    return render_page(
        request,
        page="sales/board.html",
        partial="sales/_board.html",
        context=context,
        push_url=f"{request.path}?{context['filter_query']}",
    )


def _close_url(deal: Deal, stage: Stage | None = None, back: str = "") -> str:
    query = {"outcome": "lost"}
    if stage is not None:
        query["stage"] = str(stage.pk)
    if back:
        query["next"] = back
    return f"{reverse('web:deal_close', args=[deal.pk])}?{urlencode(query)}"


@login_required
@require_POST
def deal_move(request: AuthedRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage of its pipeline (the board's drag and its Move button)."""
    deal = _deal_or_404(request.user, pk)
    _require_edit(request.user, deal)
    back = "deal" if request.POST.get("next") == "deal" else "board"
    stage = Stage.objects.filter(pk=_int(request.POST.get("stage")), pipeline=deal.pipeline_id)
    target = stage.first()
    error = ""
    if target is None:
        error = "choose a stage of the deal's pipeline"
    elif target.outcome == StageOutcome.LOST and deal.status == DealStatus.OPEN:
        # A lost deal needs its reason: the close form asks for it.
        url = _close_url(deal, target, back)
        if wants_partial(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    else:
        try:
            services.move_deal(deal=deal, stage=target, by=request.user)
        except DomainError as exc:
            error = str(exc)
    if wants_partial(request):
        flt, _ = _filters(request.POST)
        context = _board_context(request.user, flt, error)
        response = render(request, "sales/_board.html", context, status=422 if error else 200)
        if not error:
            response["HX-Trigger"] = "dealMoved"
        return response
    if error:
        messages.error(request, f"Could not move {deal.name}: {error}")
    elif target is not None:
        messages.success(request, f"Moved {deal.name} to {target.name}.")
    if back == "deal":
        return redirect("web:deal", pk=deal.pk)
    flt, _ = _filters(request.POST)
    flt = replace(flt, pipeline=deal.pipeline_id, stage=None)
    return redirect(f"{reverse('web:deal_board')}?{_query(flt)}")


def _int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= MAX_ID else 0


# ---------------------------------------------------------------- the list

LIST_COLUMNS = [
    ("Deal", "name"),
    ("Company", None),
    ("Stage", None),
    ("Amount", "amount"),
    ("Owner", None),
    ("Close date", "close"),
    ("Created", "created"),
]


def _headers(flt: queries.DealFilter, sort: str) -> list[dict[str, Any]]:
    out = []
    for label, key in LIST_COLUMNS:
        if key is None:
            out.append({"label": label, "url": None, "state": ""})
            continue
        state = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        new_sort = f"-{key}" if state == "asc" else key
        out.append({"label": label, "url": f"?{_query(flt, sort=new_sort)}", "state": state})
    return out


@login_required
@require_GET
def deal_list(request: AuthedRequest) -> HttpResponse:
    """Deals the user may see, filtered and sorted, 50 a page (keyset: Next follows a cursor)."""
    flt, cleaned = _filters(request.GET)
    sort = cleaned.get("sort") or queries.DEFAULT_SORT
    try:
        queries.sort_key(sort)
    except InvalidInput:
        sort = queries.DEFAULT_SORT
    cursor = cleaned.get("cursor") or None
    try:
        page = queries.deal_list(
            user=request.user, filters=flt, sort=sort, cursor=cursor, limit=PER_PAGE
        )
    except InvalidInput:
        cursor = None
        page = queries.deal_list(user=request.user, filters=flt, sort=sort, limit=PER_PAGE)
    sort_param = sort if sort != queries.DEFAULT_SORT else None
    context: dict[str, Any] = {
        "deals": page.items,
        "next_url": f"?{_query(flt, sort=sort_param, cursor=page.next_cursor)}"
        if page.next_cursor
        else "",
        "first_url": f"?{_query(flt, sort=sort_param)}" if cursor else "",
        "headers": _headers(flt, sort),
        "sort": sort,
        "flt": flt,
        "filter_query": _query(flt),
        "board_query": _query(flt),
    }
    if not wants_partial(request):
        context |= _filter_choices(request.user) | {
            "pipelines": list(Pipeline.objects.filter(is_active=True)),
            "stage_choices": list(
                Stage.objects.filter(pipeline__is_active=True)
                .select_related("pipeline")
                .order_by("pipeline__position", "pipeline_id", "position")
            ),
            "can_create": permissions.can_sell(request.user),
        }
    return render_page(
        request,
        page="sales/deal_list.html",
        partial="sales/_deal_table.html",
        context=context,
        push_url=f"{request.path}?{_query(flt, sort=sort_param, cursor=cursor)}",
    )


# ---------------------------------------------------------------- create and edit


def _currencies() -> list[tuple[str, str]]:
    codes = list(ExchangeRate.objects.order_by("currency").values_list("currency", flat=True))
    if "USD" not in codes:
        codes.insert(0, "USD")
    return [(c, c) for c in codes]


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class DealForm(forms.Form):
    """The fields a person types on a new deal or an edit."""

    name = forms.CharField(max_length=200)
    amount = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, initial=Decimal(0)
    )
    currency = forms.ChoiceField(choices=[("USD", "USD")], initial="USD")
    company_domain = forms.CharField(
        required=False,
        max_length=255,
        label="Company (domain)",
        widget=forms.TextInput(attrs={"list": "company-domains", "autocomplete": "off"}),
    )
    owner = forms.ChoiceField(required=False, choices=[])
    expected_close_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_step = forms.CharField(required=False, max_length=255)

    def __init__(self, *args: Any, owners: list[tuple[str, str]], unassigned: bool, **kw: Any):
        super().__init__(*args, **kw)
        _choice(self, "currency").choices = _currencies()
        _choice(self, "owner").choices = ([("", "Unassigned")] if unassigned else []) + owners


class DealNewForm(DealForm):
    pipeline = forms.ChoiceField(choices=[])
    kind = forms.ChoiceField(choices=DealKind.choices, initial=DealKind.NEW_BUSINESS)
    contact_email = forms.EmailField(required=False, label="Contact (email)")
    contact_role = forms.ChoiceField(
        required=False, choices=DealRole.choices, initial=DealRole.DECISION_MAKER, label="Role"
    )

    referred_by_email = forms.EmailField(
        required=False,
        label="Referred by (email)",
        help_text="The contact credited with the referral when the deal is won",
    )

    field_aliases = {
        "contacts": "contact_email",
        "company": "company_domain",
        "referred_by": "referred_by_email",
    }

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        pipelines = Pipeline.objects.filter(is_active=True)
        _choice(self, "pipeline").choices = [(str(p.pk), p.name) for p in pipelines]


class DealEditForm(DealForm):
    next_step_due = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    competitor = forms.CharField(required=False, max_length=120)

    field_aliases = {"company": "company_domain"}


def _visible_contact(user: Any, email: str, field: str = "contact_email") -> Contact | None:
    if not email:
        return None
    contact = (
        permissions.visible(user, Contact.objects.all()).filter(email=email.strip().lower()).first()
    )
    if contact is None:
        raise InvalidInput(f"no contact you can see has the email {email}", field=field)
    return contact


@login_required
@require_http_methods(["GET", "POST"])
def deal_new(request: AuthedRequest) -> HttpResponse:
    """Create a deal (prefilled from ?contact= or ?company=); it opens the deal's page."""
    user = request.user
    _require_sell(user)
    choices, unassigned, default_owner = new_owner_choices(user)
    initial: dict[str, Any] = {"owner": default_owner}
    default = Pipeline.objects.filter(is_default=True).first()
    if default is not None:
        initial["pipeline"] = str(default.pk)
    contact_id, company_id = _int(request.GET.get("contact")), _int(request.GET.get("company"))
    if contact_id:
        contact = permissions.visible(user, Contact.objects.filter(pk=contact_id)).first()
        if contact is not None:
            initial["contact_email"] = contact.email
            company_id = company_id or (contact.company_id or 0)
            initial["name"] = (
                f"{contact.company.name} deal" if contact.company_id and contact.company else ""
            )
    if company_id:
        company = permissions.visible(user, Company.objects.filter(pk=company_id)).first()
        if company is not None and company.domain:
            initial["company_domain"] = company.domain
            initial.setdefault("name", f"{company.name} deal")
    form = DealNewForm(request.POST or None, owners=choices, unassigned=unassigned, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                pipeline = Pipeline.objects.filter(pk=_int(data["pipeline"]), is_active=True)
                contact = _visible_contact(user, data["contact_email"])
                referrer = _visible_contact(
                    user, data["referred_by_email"], field="referred_by_email"
                )
                deal = services.create_deal(
                    by=user,
                    name=data["name"],
                    amount=data["amount"] or Decimal(0),
                    currency=data["currency"],
                    pipeline=pipeline.first(),
                    company=company_by_domain(request, data["company_domain"]),
                    owner=owner_from(data["owner"], user),
                    expected_close_date=data["expected_close_date"],
                    contacts=[(contact, data["contact_role"] or "other")] if contact else [],
                    kind=data["kind"],
                    next_step=data["next_step"],
                    referred_by=referrer,
                )
            except DomainError as error:
                status = form_error(form, error)
            else:
                messages.success(request, f"Created deal {deal.name}.")
                return redirect("web:deal", pk=deal.pk)
    context = {"form": form, "company_domains": company_domains(user)}
    return render(request, "sales/deal_new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def deal_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a deal's name, amount, currency, owner, company, close date and next step."""
    user = request.user
    deal = _deal_or_404(user, pk)
    _require_edit(user, deal)
    has_items = deal.line_items.exists()
    initial = {
        "name": deal.name,
        "amount": deal.amount,
        "currency": deal.currency,
        "company_domain": deal.company.domain if deal.company else "",
        "owner": deal.owner.username if deal.owner else "",
        "expected_close_date": deal.expected_close_date,
        "next_step": deal.next_step,
        "next_step_due": deal.next_step_due,
        "competitor": deal.competitor,
    }
    form = DealEditForm(
        request.POST or None,
        owners=owner_choices(user, deal.owner),
        unassigned=permissions.can_manage_sales(user) or deal.owner is None,
        initial=initial,
    )
    if has_items:
        form.fields["amount"].disabled = True
        form.fields["amount"].help_text = "The amount comes from the line items."
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            changes = {k: v for k, v in data.items() if k in form.changed_data}
            try:
                if "company_domain" in changes:
                    changes["company"] = company_by_domain(request, changes.pop("company_domain"))
                if "owner" in changes:
                    changes["owner"] = owner_from(changes["owner"], user)
                if "amount" in changes and changes["amount"] is None:
                    changes["amount"] = Decimal(0)
                if has_items:
                    changes.pop("amount", None)
                if changes:
                    services.update_deal(deal=deal, changes=changes, by=user)
            except DomainError as error:
                status = form_error(form, error)
            else:
                messages.success(request, f"Saved {deal.name}.")
                return redirect("web:deal", pk=deal.pk)
    context = {"form": form, "deal": deal, "company_domains": company_domains(user)}
    return render(request, "sales/deal_edit.html", context, status=status)


# ---------------------------------------------------------------- close and reopen


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("won", "Won"), ("lost", "Lost")], widget=forms.RadioSelect, initial="won"
    )
    reason = forms.ModelChoiceField(
        required=False, queryset=LostReason.objects.none(), label="Lost reason"
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    competitor = forms.CharField(required=False, max_length=120, label="Lost to competitor")

    field_aliases = {"lost_reason": "reason"}

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        field = self.fields["reason"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = LostReason.objects.filter(is_active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == "lost" and not data.get("reason"):
            self.add_error("reason", "choose why the deal was lost")
        return data


@login_required
@require_http_methods(["GET", "POST"])
def deal_close(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark a deal won, or lost with a reason (and the competitor it went to)."""
    user = request.user
    deal = _deal_or_404(user, pk)
    _require_edit(user, deal)
    params = request.POST if request.method == "POST" else request.GET
    lost_stage = Stage.objects.filter(
        pk=_int(params.get("stage")), pipeline=deal.pipeline_id, outcome=StageOutcome.LOST
    ).first()
    initial = {"outcome": "lost" if params.get("outcome") == "lost" else "won"}
    form = CloseForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["outcome"] == "won":
                    services.mark_won(deal=deal, by=user)
                elif lost_stage is not None:
                    services.move_deal(
                        deal=deal,
                        stage=lost_stage,
                        by=user,
                        lost_reason=data["reason"],
                        lost_note=data["note"],
                        competitor=data["competitor"],
                    )
                else:
                    services.mark_lost(
                        deal=deal,
                        by=user,
                        reason=data["reason"],
                        note=data["note"],
                        competitor=data["competitor"],
                    )
            except DomainError as error:
                status = form_error(form, error)
            else:
                outcome = "won" if data["outcome"] == "won" else "lost"
                messages.success(request, f"Marked {deal.name} as {outcome}.")
                if params.get("next") == "board":
                    return redirect(f"{reverse('web:deal_board')}?pipeline={deal.pipeline_id}")
                return redirect("web:deal", pk=deal.pk)
    context = {
        "form": form,
        "deal": deal,
        "lost_stage": lost_stage,
        "back": "board" if params.get("next") == "board" else "deal",
    }
    return render(request, "sales/deal_close.html", context, status=status)


@login_required
@require_POST
def deal_reopen(request: AuthedRequest, pk: int) -> HttpResponse:
    """Reopen a won or lost deal in the last open stage it was in."""
    user = request.user
    deal = _deal_or_404(user, pk)
    _require_edit(user, deal)
    try:
        services.reopen_deal(deal=deal, by=user)
    except DomainError as error:
        messages.error(request, f"Could not reopen {deal.name}: {error}")
    else:
        messages.success(request, f"Reopened {deal.name}.")
    return redirect("web:deal", pk=deal.pk)


# ---------------------------------------------------------------- contacts and items


class DealContactForm(forms.Form):
    email = forms.EmailField(label="Contact email")
    role = forms.ChoiceField(choices=DealRole.choices, initial=DealRole.INFLUENCER)
    is_primary = forms.BooleanField(required=False, label="Primary contact")

    field_aliases = {"contact": "email", "contact_email": "email"}


@login_required
@require_POST
def deal_contacts(request: AuthedRequest, pk: int) -> HttpResponse:
    """Add a contact with a role, change a role, or remove a contact (action=add|remove)."""
    user = request.user
    deal = _deal_or_404(user, pk)
    _require_edit(user, deal)
    try:
        if request.POST.get("action") == "remove":
            link = deal.deal_contacts.filter(contact_id=_int(request.POST.get("contact"))).first()
            if link is None:
                raise Http404("not a contact of this deal")
            services.remove_deal_contact(deal=deal, contact=link.contact, by=user)
            messages.success(request, "Removed the contact from the deal.")
        else:
            form = DealContactForm(request.POST)
            if not form.is_valid():
                errors = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
                raise InvalidInput(errors, field="email")
            data = form.cleaned_data
            contact = _visible_contact(user, data["email"], field="email")
            assert contact is not None
            services.set_deal_contact(
                deal=deal,
                contact=contact,
                role=data["role"],
                is_primary=data["is_primary"],
                by=user,
            )
            messages.success(request, f"{contact.email} is on the deal as {data['role']}.")
    except DomainError as error:
        messages.error(request, f"Could not change the deal's contacts: {error}")
    return redirect(f"{reverse('web:deal', args=[deal.pk])}#contacts")


def _item_rows(request: HttpRequest) -> list[dict[str, str]]:
    post = request.POST
    rows = zip_longest(
        post.getlist("product"),
        post.getlist("item_name"),
        post.getlist("quantity"),
        post.getlist("unit_price"),
        post.getlist("discount_percent"),
        fillvalue="",
    )
    out = []
    for product, name, quantity, price, discount in list(rows)[:MAX_ITEM_ROWS]:
        if not (product.strip() or name.strip()):
            continue
        out.append(
            {
                "product": product.strip(),
                "name": name.strip(),
                "quantity": quantity.strip(),
                "unit_price": price.strip(),
                "discount_percent": discount.strip(),
            }
        )
    return out


def _decimal(raw: str, name: str, row: int) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise InvalidInput(f"row {row}: {name} must be a number", field=name) from None
    if not value.is_finite():
        raise InvalidInput(f"row {row}: {name} must be a number", field=name)
    return value


def _items_from_rows(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    items = []
    for i, row in enumerate(rows, start=1):
        item: dict[str, Any] = {}
        if row["product"]:
            item["product_id"] = _int(row["product"])
            if not item["product_id"]:
                raise InvalidInput(f"row {i}: choose a product from the list", field="product")
        if row["name"]:
            item["name"] = row["name"][:160]
        for key in ("quantity", "unit_price", "discount_percent"):
            value = _decimal(row[key], key, i)
            if value is not None:
                item[key] = value
        items.append(item)
    return items


@login_required
@require_http_methods(["GET", "POST"])
def deal_items(request: AuthedRequest, pk: int) -> HttpResponse:
    """The deal's line items as rows of product, quantity, price and discount."""
    user = request.user
    deal = _deal_or_404(user, pk)
    _require_edit(user, deal)
    error = ""
    status = 200
    if request.method == "POST":
        rows = _item_rows(request)
        try:
            services.set_line_items(deal=deal, items=_items_from_rows(rows), by=user)
        except DomainError as exc:
            error, status = str(exc), 422
        else:
            messages.success(request, f"Saved the line items of {deal.name}.")
            return redirect(f"{reverse('web:deal', args=[deal.pk])}#items")
    else:
        rows = [
            {
                "product": str(item.product_id or ""),
                "name": item.name,
                "quantity": str(item.quantity),
                "unit_price": str(item.unit_price),
                "discount_percent": str(item.discount_percent),
            }
            for item in deal.line_items.all()
        ]
    rows = rows + [
        {"product": "", "name": "", "quantity": "1", "unit_price": "", "discount_percent": "0"}
        for _ in range(3)
    ]
    context = {
        "deal": deal,
        "rows": rows,
        "products": list(Product.objects.filter(is_active=True)),
        "error": error,
    }
    return render(request, "sales/deal_items.html", context, status=status)


# ---------------------------------------------------------------- the deal page


def _stage_path(deal: Deal) -> list[dict[str, Any]]:
    """The pipeline's stages in order with the days spent in each; stages before the current
    one are marked done."""
    rows = deal_queries.time_in_stage(deal=deal)
    reached = True
    for row in rows:
        if row["current"]:
            reached = False
        row["done"] = reached and row["outcome"] == StageOutcome.OPEN
        row["spent"] = _duration(row["seconds"])
    return rows


def _duration(seconds: int) -> str:
    """A time in stage as people say it: "12 d", "5 h", "20 min" (blank for none)."""
    if seconds <= 0:
        return ""
    if seconds >= 86_400:
        return (
            f"{seconds / 86_400:.0f} d" if seconds >= 10 * 86_400 else f"{seconds / 86_400:.1f} d"
        )
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{max(1, seconds // 60)} min"


@login_required
@require_GET
def deal_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One deal: header, stage path with time in stage, contacts, items, timeline, panels."""
    user = request.user
    deal = _deal_or_404(user, pk)
    contacts = deal_queries.deal_contacts(deal)
    items = list(deal.line_items.select_related("product"))
    for item in items:
        gross = item.quantity * item.unit_price
        item.total = (gross * (1 - item.discount_percent / 100)).quantize(Decimal("0.01"))  # type: ignore[attr-defined]
    can_edit = permissions.can_edit(user, deal)
    context = {
        "deal": deal,
        "path": _stage_path(deal),
        "contacts": contacts,
        "items": items,
        "timeline": deal_queries.deal_timeline(deal=deal, limit=100),
        "can_edit": can_edit,
        "move_stages": list(deal.pipeline.stages.order_by("position")) if can_edit else [],
        "roles": DealRole.choices,
        "role_labels": dict(DealRole.choices),
    }
    return render(request, "sales/deal_detail.html", context)


urlpatterns: list[URLPattern] = [
    path("board/", deal_board, name="deal_board"),
    path("deals/", deal_list, name="deals"),
    path("deals/new/", deal_new, name="deal_new"),
    path("deals/<int:pk>/", deal_detail, name="deal"),
    path("deals/<int:pk>/edit/", deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", deal_move, name="deal_move"),
    path("deals/<int:pk>/close/", deal_close, name="deal_close"),
    path("deals/<int:pk>/reopen/", deal_reopen, name="deal_reopen"),
    path("deals/<int:pk>/contacts/", deal_contacts, name="deal_contacts"),
    path("deals/<int:pk>/items/", deal_items, name="deal_items"),
]
