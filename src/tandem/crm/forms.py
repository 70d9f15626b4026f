"""Page forms: they only parse types; the services own every domain rule and its message."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from tandem.crm.models import CallOutcome, LeadStatus, LifecycleStage, Source
from tandem.errors import DomainError
from tandem.pagination import MAX_ID

BLANK = [("", "—")]


class IdPrefixed(forms.Form):
    """Several forms share one page: each gets its own element ids (log_subject, merge_email, ...)."""

    id_prefix = "id"
    # Domain error field names that this form shows under a differently named input.
    field_aliases: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a domain error next to its field when the form has that field, else above the form."""
    field = getattr(error, "field", None)
    field = getattr(form, "field_aliases", {}).get(field, field)
    form.add_error(field if field in form.fields else None, str(error))


class ContactFilterForm(forms.Form):
    """The contact list's query string (invalid values are dropped, never trusted)."""

    q = forms.CharField(required=False, max_length=100)
    stage = forms.ChoiceField(required=False, choices=BLANK + list(LifecycleStage.choices))
    owner = forms.CharField(required=False, max_length=150)
    # Bounded like every record id, so that a huge number is dropped rather than sent to SQL.
    company = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    sort = forms.CharField(required=False, max_length=40)


class CompanyFilterForm(forms.Form):
    """The company list's query string."""

    q = forms.CharField(required=False, max_length=100)
    country = forms.CharField(required=False, max_length=2)
    industry = forms.CharField(required=False, max_length=120)
    sort = forms.CharField(required=False, max_length=40)


# The kinds a person logs by hand; emails arrive through the email app.
LOGGABLE_KINDS = [("note", "Note"), ("call", "Call"), ("meeting", "Meeting"), ("task", "Task")]


class LogActivityForm(IdPrefixed):
    """A note, call (outcome, minutes), meeting or task (due date) on a contact."""

    id_prefix = "log"
    field_aliases = {"due_at": "due_date", "duration_seconds": "duration_minutes"}

    kind = forms.ChoiceField(choices=LOGGABLE_KINDS, initial="note", widget=forms.RadioSelect)
    subject = forms.CharField(required=False, max_length=255)
    body = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=20000
    )
    call_outcome = forms.ChoiceField(required=False, choices=BLANK + list(CallOutcome.choices))
    duration_minutes = forms.IntegerField(required=False, min_value=0, max_value=1440)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def service_kwargs(self) -> dict[str, Any]:
        """The log_activity arguments, keeping only the fields that belong to the chosen kind."""
        data = self.cleaned_data
        kind = data["kind"]
        kwargs: dict[str, Any] = {"kind": kind, "subject": data["subject"], "body": data["body"]}
        if kind == "call":
            kwargs["call_outcome"] = data["call_outcome"]
        if kind in ("call", "meeting") and data["duration_minutes"] is not None:
            kwargs["duration_seconds"] = data["duration_minutes"] * 60
        if kind == "task" and data["due_date"] is not None:
            # A task due on a day is overdue once that day is over.
            end = datetime.combine(data["due_date"], time(23, 59))
            kwargs["due_at"] = timezone.make_aware(end)
        return kwargs


class StageForm(IdPrefixed):
    """Move a contact to another lifecycle stage."""

    id_prefix = "stage"

    to_stage = forms.ChoiceField(label="Stage", choices=LifecycleStage.choices)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "Why (needed to move back)"}),
    )


class ContactEditForm(IdPrefixed):
    """A contact's basic fields; owner choices are the ones the user may assign."""

    id_prefix = "edit"
    field_aliases = {"domain": "company_domain", "company": "company_domain"}

    first_name = forms.CharField(required=False, max_length=120)
    last_name = forms.CharField(required=False, max_length=120)
    email = forms.CharField(max_length=254)
    title = forms.CharField(required=False, max_length=160)
    phone = forms.CharField(required=False, max_length=40)
    company_domain = forms.CharField(
        label="Company (domain)",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"list": "company-domains", "autocomplete": "off"}),
    )
    owner = forms.ChoiceField(required=False)
    lead_status = forms.ChoiceField(required=False, choices=BLANK + list(LeadStatus.choices))

    def __init__(self, *args: Any, owner_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = [("", "Unassigned"), *owner_choices]


class MergeForm(IdPrefixed):
    """The email of the duplicate to fold into this contact."""

    id_prefix = "merge"

    email = forms.CharField(label="Duplicate's email", max_length=254)


class CompanyEditForm(IdPrefixed):
    """A company's basic fields."""

    id_prefix = "edit"

    name = forms.CharField(max_length=255)
    domain = forms.CharField(required=False, max_length=255)
    industry = forms.CharField(required=False, max_length=120)
    employees = forms.CharField(required=False, max_length=20)
    annual_revenue = forms.CharField(required=False, max_length=30)
    currency = forms.CharField(required=False, max_length=40)
    # Generous lengths: the service names what is wrong with a value ("must be a two-letter ISO code").
    country = forms.CharField(required=False, max_length=40)
    region = forms.CharField(required=False, max_length=60)
    owner = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, owner_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = [("", "Unassigned"), *owner_choices]


class NewRecordOwner:
    """A create form's owner: a required pick among the offered users when `unassigned` is off."""

    def __init__(
        self, *args: Any, owner_choices: list[tuple[str, str]], unassigned: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, owner_choices=owner_choices, **kwargs)  # type: ignore[call-arg]
        if not unassigned:
            owner = self.fields["owner"]  # type: ignore[attr-defined]
            assert isinstance(owner, forms.ChoiceField)
            owner.choices = owner_choices
            owner.required = True


class ContactCreateForm(NewRecordOwner, ContactEditForm):
    """A new contact: the edit form's fields plus its starting stage and original source."""

    id_prefix = "new"

    lifecycle_stage = forms.ChoiceField(
        label="Lifecycle stage", choices=LifecycleStage.choices, initial=LifecycleStage.LEAD
    )
    original_source = forms.ChoiceField(
        label="Original source", choices=Source.choices, initial=Source.OTHER
    )


class CompanyCreateForm(NewRecordOwner, CompanyEditForm):
    """A new company: the edit form's fields."""

    id_prefix = "new"


class ImportForm(IdPrefixed):
    """A CSV upload and what it holds."""

    id_prefix = "import"

    kind = forms.ChoiceField(
        choices=[("contacts", "Contacts"), ("companies", "Companies")], initial="contacts"
    )
    file = forms.FileField(label="CSV file")
