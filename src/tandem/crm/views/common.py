"""What every CRM page shares: list plumbing, owners, labels and form-error handling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm import forms, queries
from tandem.crm.models import CallOutcome, Company, Contact, LifecycleStage, Source
from tandem.crm.normalise import normalise_domain
from tandem.errors import Conflict, DomainError, Forbidden, InvalidInput
from tandem.htmx import render_page

RecordT = TypeVar("RecordT", Contact, Company)


class AuthedRequest(HttpRequest):
    """A request behind login_required: its user is a real account."""

    user: User


PER_PAGE = 50
# Filter drop-downs stay small; a longer list is reached through search instead.
MAX_CHOICES = 300

STAGE_LABELS = dict(LifecycleStage.choices)
OUTCOME_LABELS = dict(CallOutcome.choices)
SOURCE_LABELS = dict(Source.choices)


# ---------------------------------------------------------------- list plumbing


def sorted_by(
    qs: QuerySet, raw: str, allowed: dict[str, str], default: str
) -> tuple[QuerySet, str]:
    """Order by an allow-listed key; anything else falls back to the default, never to order_by."""
    raw = raw or default
    try:
        return qs.order_by(*queries.order_key(raw, allowed)), raw
    except InvalidInput:
        return qs.order_by(*queries.order_key(default, allowed)), default


def headers(
    base: QueryDict, columns: list[tuple[str, str | None]], sort: str
) -> list[dict[str, Any]]:
    """Column headers with the link that sorts by them (a second click reverses)."""
    out = []
    for label, key in columns:
        if key is None:
            out.append({"label": label, "url": None, "state": ""})
            continue
        state = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        query = base.copy()
        query["sort"] = f"-{key}" if state == "asc" else key
        out.append({"label": label, "url": f"?{query.urlencode()}", "state": state})
    return out


def paginate(request: HttpRequest, qs: QuerySet) -> dict[str, Any]:
    """One page of 50 (a missing or bad page number gives the nearest real page) and its pager."""
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    pages = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    return {"page_obj": page, "page_range": list(pages), "ellipsis": Paginator.ELLIPSIS}


def query_of(**values: Any) -> QueryDict:
    """A query string of the cleaned, non-empty list parameters (raw input is never echoed)."""
    query = QueryDict(mutable=True)
    for key, value in values.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query


def sorted_query(base: QueryDict, sort: str, default: str) -> QueryDict:
    """The list's cleaned query with its sort, which is left out while it is the default."""
    return query_of(**base.dict(), sort=sort if sort != default else None)


def canonical(request: HttpRequest, query: QueryDict, page: Any) -> str:
    """This list's address with only the cleaned parameters, for the browser's history."""
    query = query.copy()
    if page.number > 1:
        query["page"] = str(page.number)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def render_list(
    request: HttpRequest, *, page: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """A list page, or its table alone for an htmx swap, pushing the list's canonical address."""
    return render_page(
        request,
        page=page,
        partial=partial,
        context=context,
        push_url=canonical(request, context["query"], context["page_obj"]),
    )


# ---------------------------------------------------------------- forms and errors


def form_error(form: django_forms.Form, error: DomainError) -> int:
    """Show a domain error on its form; the status the page then answers with."""
    forms.add_domain_error(form, error)
    return 403 if isinstance(error, Forbidden) else 422


def add_conflict(form: django_forms.Form, error: Conflict, *, user: User, kind: Kind) -> str:
    """Show a duplicate on the form; the existing record's page only when the user may see it.

    Otherwise the form says no more than that the value is taken: neither the record's id
    nor its owner.
    """
    existing = kind.model.objects.filter(pk=error.existing_id or 0)
    if permissions.visible(user, existing).exists():
        form.add_error(kind.unique_field, str(error))
        return reverse(kind.url_name, args=[error.existing_id])
    form.add_error(kind.unique_field, f"a {kind.noun} with this {kind.unique_field} already exists")
    return ""


def created(request: HttpRequest, kind: Kind, record: Contact | Company) -> HttpResponse:
    """After a create: flash what was made and open its page."""
    messages.success(request, f"Created {kind.noun} {kind.label(record)}.")
    return redirect(kind.url_name, pk=record.pk)


def editable_or_403(user: Any, record: RecordT, kind: Kind) -> RecordT:
    """The record, when the user may change it; one they may only see is a 403."""
    if not permissions.can_edit(user, record):
        raise PermissionDenied(f"you may not change this {kind.noun}")
    return record


# ---------------------------------------------------------------- owners and companies


def owner_choices(user: Any, current: User | None = None) -> list[tuple[str, str]]:
    """Usernames the user may assign, plus the current owner so that saving keeps it."""
    users = list(permissions.assignable_owners(user).order_by("username"))
    if current is not None and all(u.pk != current.pk for u in users):
        users.append(current)
    return [(u.username, u.get_full_name() or u.username) for u in users]


def new_owner_choices(user: Any) -> tuple[list[tuple[str, str]], bool, str]:
    """Owners offered on a new record: (choices, whether Unassigned is offered, the default).

    A user who may assign only themselves (a rep) creates records they own: a record left
    unassigned would be theirs to see but nobody's to work.
    """
    choices = owner_choices(user)
    only_self = [username for username, _ in choices] == [user.username]
    default = user.username if any(u == user.username for u, _ in choices) else ""
    return choices, not only_self, default


def require_create(user: Any) -> None:
    """Refuse (403) a user who may not create contacts or companies."""
    if not permissions.can_create_records(user):
        raise PermissionDenied("you may not create records")


def owner_from(username: str, user: Any) -> User | None:
    """The owner named in a form (blank is unassigned), if the user may assign them."""
    if not username:
        return None
    owner = permissions.assignable_owners(user).filter(username=username).first()
    if owner is None:
        raise Forbidden(f"you may not assign records to {username}")
    return owner


def company_domains(user: Any) -> list[tuple[str, str]]:
    """(domain, name) of the companies the user may see, for a company-domain input's list."""
    domains = permissions.visible(user, Company.objects.exclude(domain=None)).order_by("domain")
    return list(domains.values_list("domain", "name")[:MAX_CHOICES])


def company_by_domain(request: AuthedRequest, raw: str) -> Company | None:
    """The company the user may see with this domain; blank means none, unknown is an error."""
    domain = normalise_domain(raw)
    if not domain:
        return None
    company = permissions.visible(request.user, Company.objects.all()).filter(domain=domain).first()
    if company is None:
        raise InvalidInput(
            f"no company you can see has the domain {domain}", field="company_domain"
        )
    return company


# ---------------------------------------------------------------- labels


def label(labels: dict[str, str], value: Any) -> str:
    """The display label of a stored choice value (unknown values show as they are)."""
    text = "" if value is None else str(value)
    return labels.get(text, text)


def contact_label(contact: Contact) -> str:
    """How a flash message names a contact: "Ann Archer (ann@acme.com)" or just the email."""
    name = contact.full_name
    return f"{name} ({contact.email})" if name else contact.email


def company_label(company: Company) -> str:
    """How a flash message names a company: "Acme (acme.com)" or just the name."""
    return f"{company.name} ({company.domain})" if company.domain else company.name


@dataclass(frozen=True)
class Kind:
    """What the pages shared by contacts and companies need to know of each."""

    noun: str
    model: type[Contact] | type[Company]
    url_name: str
    # The field whose value may not repeat (a Conflict names it).
    unique_field: str
    label: Callable[[Any], str]


CONTACT = Kind("contact", Contact, "web:contact", "email", contact_label)
COMPANY = Kind("company", Company, "web:company", "domain", company_label)
