"""Import contact rows: a cleaned row, a contact still to insert, and a row merged into a known one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tandem.accounts.models import User
from tandem.crm.models import (
    SUBSCRIPTION_STRICTNESS,
    Company,
    Contact,
    LifecycleStage,
    Source,
    SubscriptionStatus,
)
from tandem.crm.services import CONTACT_TEXT_FIELDS, is_backward


@dataclass
class ContactRow:
    """A cleaned contact row: its line, normalised email, filled fields and custom values."""

    line: int
    email: str
    values: dict[str, Any]
    custom: dict[str, str] = field(default_factory=dict)


class NewContact:
    """A contact still to be inserted; its company may be new too, so it is held as an object."""

    def __init__(self, row: ContactRow, company: Company | None, now: datetime) -> None:
        v = row.values
        owner: User | None = v.get("owner")
        self.pk = 0  # set once inserted
        self.email = row.email
        self.first_name: str = v.get("first_name", "")
        self.last_name: str = v.get("last_name", "")
        self.title: str = v.get("title", "")
        self.phone: str = v.get("phone", "")
        self.company = company
        self.lifecycle_stage: str = v.get("lifecycle_stage", LifecycleStage.SUBSCRIBER.value)
        self.first_stage = self.lifecycle_stage
        self.lead_status: str = v.get("lead_status", "")
        self.owner_id = owner.pk if owner is not None else None
        self.team_id = owner.team_id if owner is not None else None
        self.original_source: str = v.get("original_source", Source.IMPORT.value)
        self.original_source_detail: str = v.get("original_source_detail", "")
        self.subscription_status: str = v.get(
            "subscription_status", SubscriptionStatus.NOT_SUBSCRIBED.value
        )
        self.custom_fields: dict[str, str] = dict(row.custom)
        self.created_at: datetime = v.get("created_at") or now
        # As create_contact leaves it: the creation is the latest thing that happened.
        self.last_activity_at: datetime = v.get("last_activity_at") or self.created_at

    @property
    def company_id(self) -> int | None:
        """The company's id, once it has one."""
        return self.company.pk if self.company is not None else None

    def as_row(self, now: datetime) -> tuple[Any, ...]:
        """The values of NEW_CONTACT_COLUMNS, in order."""
        return (
            self.email,
            self.first_name,
            self.last_name,
            self.title,
            self.phone,
            self.company_id,
            self.lifecycle_stage,
            self.lead_status,
            self.owner_id,
            self.team_id,
            self.original_source,
            self.original_source_detail,
            self.subscription_status,
            self.custom_fields,
            self.created_at,
            now,
            self.last_activity_at,
        )


NEW_CONTACT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "company_id",
    "lifecycle_stage",
    "lead_status",
    "owner_id",
    "team_id",
    "original_source",
    "original_source_detail",
    "subscription_status",
    "custom_fields",
    "created_at",
    "updated_at",
    "last_activity_at",
)


def apply_row(
    contact: Contact | NewContact,
    row: ContactRow,
    company: Company | None,
    fields: set[str],
    now: datetime,
) -> tuple[bool, tuple[str, str] | None]:
    """Apply a row's filled cells to a known contact; returns (changed, stage move or None)."""
    v = row.values
    changed = False

    def put(name: str, value: Any) -> None:
        nonlocal changed
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            fields.add(name.removesuffix("_id"))
            changed = True

    for name in (*CONTACT_TEXT_FIELDS, "lead_status"):
        if name in v:
            put(name, v[name])
    owner: User | None = v.get("owner")
    if owner is not None:
        put("owner_id", owner.pk)
        if owner.team_id:
            put("team_id", owner.team_id)
    if company is not None and (company.pk is None or contact.company_id != company.pk):
        contact.company = company
        fields.add("company")
        changed = True
    # The original source is history: only an unknown one is filled in.
    if "original_source" in v and contact.original_source == Source.OTHER:
        put("original_source", v["original_source"])
    if "original_source_detail" in v and not contact.original_source_detail:
        put("original_source_detail", v["original_source_detail"])
    # Consent only ever gets stricter from a file: an old export must not resubscribe anyone.
    status = v.get("subscription_status")
    if (
        status
        and SUBSCRIPTION_STRICTNESS[status] > SUBSCRIPTION_STRICTNESS[contact.subscription_status]
    ):
        put("subscription_status", status)
    if "created_at" in v and v["created_at"] < contact.created_at:
        put("created_at", v["created_at"])
    last = v.get("last_activity_at")
    if last and (contact.last_activity_at is None or last > contact.last_activity_at):
        put("last_activity_at", last)
    if row.custom:
        put("custom_fields", {**contact.custom_fields, **row.custom})
    move = None
    stage = v.get("lifecycle_stage")
    # Backward moves need a person's reason, so a file never makes them.
    if (
        stage
        and stage != contact.lifecycle_stage
        and not is_backward(contact.lifecycle_stage, stage)
    ):
        move = (contact.lifecycle_stage, stage)
        put("lifecycle_stage", stage)
        if contact.last_activity_at is None or contact.last_activity_at < now:
            put("last_activity_at", now)
    return changed, move
