"""Reads for the CRM core: the list filters and sorts every edge shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from tandem.accounts import permissions
from tandem.crm.models import (
    Activity,
    Company,
    Contact,
    ImportJob,
    LifecycleChange,
    TimelineEvent,
)
from tandem.errors import InvalidInput

# Sort keys users may ask for, mapped to real columns: nothing else reaches order_by().
CONTACT_SORTS: dict[str, str] = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "created_at": "created_at",
    "last_activity_at": "last_activity_at",
    "lifecycle_stage": "lifecycle_stage",
    "score": "score",
    "id": "id",
    "company": "company__name",
}
COMPANY_SORTS: dict[str, str] = {
    "name": "name",
    "domain": "domain",
    "employees": "employees",
    "created_at": "created_at",
    "country": "country",
    "id": "id",
    "annual_revenue": "annual_revenue",
}


@dataclass(frozen=True)
class ContactFilter:
    """What a contact list may be narrowed by."""

    q: str = ""
    email: str = ""
    lifecycle_stage: str = ""
    owner: str = ""  # a username, or "none" for unassigned
    company_id: int | None = None


def order_key(sort: str, allowed: dict[str, str]) -> list[str]:
    """Translate "-name" style sort keys through an allow-list, with id as the tie-break."""
    descending = sort.startswith("-")
    name = sort.removeprefix("-") or "id"
    if name not in allowed:
        raise InvalidInput(
            f"cannot sort by {name!r}; choose one of {', '.join(sorted(allowed))}", field="sort"
        )
    column = allowed[name]
    tie = "-id" if descending else "id"
    return [f"-{column}" if descending else column, tie] if column != "id" else [tie]


# Up to this many companies matching a search word are inlined as a list of ids.
COMPANY_IDS_INLINE = 1000


def _company_name_prefix(word: str) -> Q:
    """Contacts whose company's name starts with word, without joining companies per row."""
    # A join made every scanned contact look up its company. A short literal id list lets each
    # branch of the search OR use its own index, with row estimates the planner can trust; a
    # word matching very many companies is common, so a subquery (and a scan in id order that
    # stops early) is the better plan there.
    companies = Company.objects.filter(name__istartswith=word).values_list("id", flat=True)
    ids = list(companies[: COMPANY_IDS_INLINE + 1])
    return Q(company_id__in=companies if len(ids) > COMPANY_IDS_INLINE else ids)


def _refuse_nul(**values: str) -> None:
    """PostgreSQL cannot compare text holding NUL bytes: such a filter is bad input, not a crash."""
    for field, value in values.items():
        if "\x00" in value:
            raise InvalidInput(f"{field} contains a NUL character", field=field)


def contacts_for(user: Any, flt: ContactFilter = ContactFilter()) -> QuerySet[Contact]:
    """Contacts the user may see, narrowed by the filter."""
    _refuse_nul(q=flt.q, email=flt.email, lifecycle_stage=flt.lifecycle_stage, owner=flt.owner)
    qs = permissions.visible(user, Contact.objects.all())
    if flt.email:
        qs = qs.filter(email=flt.email.strip().lower())
    if flt.lifecycle_stage:
        qs = qs.filter(lifecycle_stage=flt.lifecycle_stage)
    if flt.owner:
        qs = (
            qs.filter(owner__isnull=True)
            if flt.owner == "none"
            else qs.filter(owner__username=flt.owner)
        )
    if flt.company_id is not None:
        qs = qs.filter(company_id=flt.company_id)
    if flt.q.strip():
        term = flt.q.strip()[:100]
        if "@" in term:
            qs = qs.filter(email__startswith=term.lower())
        else:
            words = term.split()
            cond = Q()
            for word in words[:4]:
                cond &= (
                    Q(first_name__istartswith=word)
                    | Q(last_name__istartswith=word)
                    | Q(email__startswith=word.lower())
                    | _company_name_prefix(word)
                )
            qs = qs.filter(cond)
    return qs


def companies_for(
    user: Any, *, q: str = "", country: str = "", industry: str = ""
) -> QuerySet[Company]:
    """Companies the user may see, narrowed by search and filters."""
    _refuse_nul(q=q, country=country, industry=industry)
    qs = permissions.visible(user, Company.objects.all())
    if q.strip():
        term = q.strip()[:100]
        qs = qs.filter(Q(name__icontains=term) | Q(domain__startswith=term.lower()))
    if country:
        qs = qs.filter(country=country.upper())
    if industry:
        qs = qs.filter(industry=industry)
    return qs


def timeline_of(contact: Contact) -> QuerySet[TimelineEvent]:
    """A contact's timeline, newest first."""
    return (
        TimelineEvent.objects.filter(contact=contact)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


def company_timeline_of(company: Company, *, user: Any) -> QuerySet[TimelineEvent]:
    """A company's timeline (its own events and those of its contacts the user may see), newest first."""
    # Seeing a company does not mean seeing every contact at it: another rep's contacts' notes
    # and calls stay theirs.
    contacts = permissions.visible(user, Contact.objects.all()).values("pk")
    return (
        TimelineEvent.objects.filter(company=company)
        .filter(Q(contact__isnull=True) | Q(contact__in=contacts))
        .select_related("actor", "contact")
        .order_by("-occurred_at", "-id")
    )


def lifecycle_history_of(contact: Contact) -> QuerySet[LifecycleChange]:
    """A contact's stage changes, newest first."""
    return (
        LifecycleChange.objects.filter(contact=contact)
        .select_related("changed_by")
        .order_by("-changed_at", "-id")
    )


def activities_of(contact: Contact) -> QuerySet[Activity]:
    """A contact's activities, newest first."""
    return (
        Activity.objects.filter(contact=contact)
        .select_related("owner")
        .order_by("-occurred_at", "-id")
    )


def import_jobs_for(user: Any) -> QuerySet[ImportJob]:
    """Import jobs the user may follow: their own, or everyone's for an admin; newest first."""
    qs = ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")
    return qs if user.is_admin_role else qs.filter(created_by=user)
