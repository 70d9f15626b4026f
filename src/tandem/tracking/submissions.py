"""The public form submission: spam checks, validation, and the one transaction that records it.

Intuition: a submission is a stranger's claim about who they are. It may create a contact
and fill the blanks of an existing one, but it never changes what is already on file
(neither to empty nor to a different value): anyone can type anyone's email into a public
form, so letting a submission overwrite a name, phone or company would let a stranger rewrite
a known contact (and the record a sales rep keeps). What they typed is kept on the submission
itself, so a person can review a differing value. Consent is proved by the exact wording
version the visitor's page showed, with the time, IP, page and user agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from tandem import bus
from tandem.crm import services as crm_services
from tandem.crm.models import Company, Contact, SubscriptionStatus
from tandem.errors import Conflict, DomainError, InvalidInput
from tandem.marketing import forms_schema as schema
from tandem.marketing import utm as utm_tags
from tandem.marketing.forms_schema import (
    ANONYMOUS_ID,
    CONSENT,
    CONSENT_VERSION,
    HONEYPOT,
    PAGE_URL,
    REFERRER,
)
from tandem.marketing.models import Campaign, ConsentText, Form, FormSubmission
from tandem.marketing.queries import forms as form_queries
from tandem.tracking.http import valid_anonymous_id
from tandem.tracking.processing import source_of, visit_of
from tandem.tracking.services import over_limit, record_server_event

# Per client IP, over every form: (submissions allowed, window in seconds).
RATE_LIMITS = ((5, 60), (30, 3600))
RATE_MESSAGE = "Too many submissions from your network. Please wait a minute and try again."
MAX_URL = 2000
CONTACT_COLUMNS = ("first_name", "last_name", "title", "phone")


class SubmissionInvalid(DomainError):
    """The visitor's answers fail validation: {field name: message} for each problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Visit:
    """Where a submission came from (all of it visitor-supplied data, stored as data)."""

    ip: str | None = None
    user_agent: str = ""
    page_url: str = ""
    referrer: str = ""
    origin: str = "hosted"
    anonymous_id: str = ""
    consent_version: int | None = None


@dataclass
class Answers:
    """A submission's cleaned answers: by target, and whether consent was given."""

    values: dict[str, Any] = field(default_factory=dict)
    consent_given: bool = False
    consent_text: ConsentText | None = None


def rate_limited(ip: str | None) -> bool:
    """Count this submission against the client IP's windows; True once any is over its limit."""
    key = f"form-submit:{ip or 'unknown'}"
    # Every window counts every hit (no short-circuit), so the hour's count stays true.
    over = [over_limit(key=f"{key}:{w}", limit=n, window_seconds=w) for n, w in RATE_LIMITS]
    return any(over)


def is_bot(data: Mapping[str, Any]) -> bool:
    """The honeypot input was filled: a person never sees it."""
    return bool(str(data.get(HONEYPOT) or "").strip())


def visit_from(
    data: Mapping[str, Any],
    *,
    ip: str | None,
    user_agent: str,
    origin: str,
    cookie_id: str = "",
    page_fallback: str = "",
) -> Visit:
    """The page, referrer, anonymous id and consent version a form sent along, bounded.

    The anonymous id is our first-party cookie's (hosted page), else the one an embedded form
    read from tandem.js; either is dropped unless it looks like an id we made.
    """
    raw_version = str(data.get(CONSENT_VERSION) or "").strip()
    return Visit(
        ip=ip,
        user_agent=user_agent[:255],
        page_url=str(data.get(PAGE_URL) or page_fallback)[:MAX_URL],
        referrer=str(data.get(REFERRER) or "")[:MAX_URL],
        origin=origin,
        anonymous_id=valid_anonymous_id(cookie_id)
        or valid_anonymous_id(str(data.get(ANONYMOUS_ID) or "")),
        consent_version=int(raw_version)
        if raw_version.isdigit() and len(raw_version) < 10
        else None,
    )


def validate(form: Form, data: Mapping[str, Any], *, consent_version: int | None) -> Answers:
    """Check every field of the form against the visitor's data; SubmissionInvalid lists problems."""
    answers = Answers()
    errors: dict[str, str] = {}
    for f in form.fields.all():
        try:
            value = schema.clean_value(
                target=f.target,
                input_type=f.input_type,
                required=f.required or f.target == "email",
                choices=list(f.choices or []),
                label=f.label,
                raw=data.get(f.target),
            )
        except InvalidInput as error:
            errors[f.target] = str(error)
            continue
        if value is not None:
            answers.values[f.target] = value
    shown = form_queries.consent_version(form, consent_version) or form_queries.current_consent(
        form
    )
    if shown is not None:
        answers.consent_text = shown
        answers.consent_given = str(data.get(CONSENT) or "").strip().lower() in schema.CHECKED
        if form.consent_required and not answers.consent_given:
            errors["consent"] = "Tick the consent box to continue."
    if errors:
        raise SubmissionInvalid(errors)
    return answers


def campaign_tags(campaign: Campaign) -> dict[str, str]:
    """A campaign's own UTM tags, credited when the page's address carried none."""
    tags = {
        "source": campaign.utm_source,
        "medium": campaign.utm_medium,
        "campaign": campaign.utm_campaign,
    }
    return utm_tags.parse_utm(tags)


def _tags_and_campaign(form: Form, visit: Visit) -> tuple[dict[str, str], int | None, str | None]:
    """The touch's UTM tags (page's, else the form campaign's), campaign id and channel."""
    tags = utm_tags.utm_from_url(visit.page_url)
    if not tags and form.campaign is not None:
        tags = campaign_tags(form.campaign)
    seen = visit_of({"url": visit.page_url, "referrer": visit.referrer, "utm": tags})
    return seen.utm, seen.campaign_id or form.campaign_id, seen.channel


def _company_for(name: str, email: str) -> Company:
    """The company a visitor names: the one with their email's domain, else by exact name, else new."""
    domain = email.rpartition("@")[2]
    company = Company.objects.filter(domain=domain).first()
    if company is None:
        company = Company.objects.filter(name__iexact=name).order_by("id").first()
    return company or crm_services.create_company(name=name)


def _custom_values(values: dict[str, Any]) -> dict[str, Any]:
    """Answers that live in the contact's custom_fields (custom:<key>, and country)."""
    out: dict[str, Any] = {}
    for target, value in values.items():
        if schema.target_spec(target).store != "custom" or value in ("", False, None):
            continue
        key = target.removeprefix(schema.CUSTOM)
        out[key] = value
    return out


def _blank(value: Any) -> bool:
    return value in (None, "", False)


def _fill_blanks(contact: Contact, values: dict[str, Any], consent_given: bool) -> None:
    """Fill the contact's empty fields from the answers; a filled field never changes."""
    changes: dict[str, Any] = {
        column: values[column]
        for column in CONTACT_COLUMNS
        if not _blank(values.get(column)) and not getattr(contact, column)
    }
    current = contact.custom_fields if isinstance(contact.custom_fields, dict) else {}
    fresh = {k: v for k, v in _custom_values(values).items() if _blank(current.get(k))}
    if fresh:
        changes["custom_fields"] = {**current, **fresh}
    if values.get("company_name") and contact.company_id is None:
        changes["company"] = _company_for(values["company_name"], contact.email)
    # Consent subscribes someone who never chose; unsubscribed, bounced and complained stay.
    if consent_given and contact.subscription_status == SubscriptionStatus.NOT_SUBSCRIBED:
        changes["subscription_status"] = SubscriptionStatus.SUBSCRIBED
    if changes:
        crm_services.update_contact(contact=contact, changes=changes)


def _contact_for(
    form: Form, answers: Answers, channel: str | None, tags: dict[str, str], visit: Visit
) -> tuple[Contact, bool]:
    """The contact the email names, created when new or with its blanks filled; (contact, created)."""
    values = answers.values
    email = values["email"]
    contact = Contact.objects.select_for_update().filter(email=email).first()
    if contact is None:
        source = source_of(channel)
        detail = tags.get("campaign") or utm_tags.host_of(visit.referrer)
        try:
            contact = crm_services.create_contact(
                email=email,
                **{c: values[c] for c in CONTACT_COLUMNS if c in values},
                company=(
                    _company_for(values["company_name"], email)
                    if values.get("company_name")
                    else None
                ),
                custom_fields=_custom_values(values),
                subscription_status=(
                    SubscriptionStatus.SUBSCRIBED
                    if answers.consent_given
                    else SubscriptionStatus.NOT_SUBSCRIBED
                ),
                original_source=source,
                original_source_detail=detail[:255],
                rule=f"form:{form.slug}",
            )
            return contact, True
        except Conflict as exc:
            # Created by a concurrent submission of the same email: fill its blanks instead.
            contact = Contact.objects.select_for_update().get(pk=int(exc.existing_id or 0))
    _fill_blanks(contact, values, answers.consent_given)
    return contact, False


@transaction.atomic
def submit_form(*, form: Form, data: Mapping[str, Any], visit: Visit) -> FormSubmission:
    """Validate and record a submission: contact, consent proof, the form_submit event, the bus.

    All in one transaction: a failure anywhere leaves nothing half-written.
    """
    answers = validate(form, data, consent_version=visit.consent_version)
    tags, campaign_id, channel = _tags_and_campaign(form, visit)
    try:
        contact, created = _contact_for(form, answers, channel, tags, visit)
    except InvalidInput as error:
        raise SubmissionInvalid({error.field or "form": str(error)}) from None
    submission = FormSubmission.objects.create(
        form=form,
        contact=contact,
        submitted_at=timezone.now(),
        values=answers.values,
        created_contact=created,
        anonymous_id=visit.anonymous_id,
        ip=visit.ip,
        user_agent=visit.user_agent[:255],
        page_url=visit.page_url[:MAX_URL],
        referrer=visit.referrer[:MAX_URL],
        origin=visit.origin[:255],
        utm=tags,
        campaign_id=campaign_id,
        consent_given=answers.consent_given,
        consent_text=answers.consent_text,
    )
    # Processing writes the timeline row and touchpoint, stitches the visitor's earlier
    # events into the contact's timeline and moves a subscriber to Lead.
    record_server_event(
        type="form_submit",
        anonymous_id=visit.anonymous_id,
        contact=contact,
        properties={"form_id": form.pk, "form_name": form.name, "submission_id": submission.pk},
        context={"url": visit.page_url, "referrer": visit.referrer, "utm": tags},
        occurred_at=submission.submitted_at,
    )
    bus.publish(
        bus.FormSubmitted(
            submission_id=submission.pk,
            form_id=form.pk,
            contact_id=contact.pk,
            hand_raise=form.is_hand_raise,
        )
    )
    return submission
