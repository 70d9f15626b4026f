"""What a capture form may ask: the allow-list of field targets, input types, and value checks.

A form field maps one input onto one place: a contact column (first_name, ...), a key of the
contact's custom_fields (`custom:<key>`, and `country`, which contacts have no column for), the
contact's company (company_name) or the submission alone (message). Only targets listed here
reach a write, so a stored form can never name an arbitrary column. `clean_value` is the one
check of a visitor's answer, shared by the builder's preview and the public submission.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tandem.crm.normalise import check_characters, normalise_email
from tandem.errors import InvalidInput

CUSTOM = "custom:"
INPUT_TYPES: dict[str, str] = {
    "text": "Text",
    "email": "Email",
    "tel": "Phone number",
    "textarea": "Paragraph",
    "select": "Drop-down",
    "checkbox": "Checkbox",
}
MAX_FIELDS = 30
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 120
MAX_LABEL = 120
MAX_HELP = 255
CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PHONE = re.compile(r"^[0-9+().\-\s/x#]*$", re.IGNORECASE)
CHECKED = {"on", "yes", "true", "1", "y"}
# Inputs a public form posts besides its fields (no target starts with "_" or is "website").
# The honeypot is hidden from people by the page's styles; bots that fill every input fill it.
HONEYPOT = "website"
CONSENT = "_consent"
CONSENT_VERSION = "_consent_version"
PAGE_URL = "_page_url"
REFERRER = "_referrer"
ANONYMOUS_ID = "_anonymous_id"


@dataclass(frozen=True)
class Target:
    """Where a field's answer goes, how long it may be and which inputs may ask for it."""

    label: str
    # contact: a Contact column; custom: a custom_fields key; company: the contact's company;
    # submission: kept on the submission only.
    store: str
    max_length: int
    input_types: tuple[str, ...]


TARGETS: dict[str, Target] = {
    "email": Target("Email", "contact", 254, ("email",)),
    "first_name": Target("First name", "contact", 120, ("text",)),
    "last_name": Target("Last name", "contact", 120, ("text",)),
    "title": Target("Job title", "contact", 160, ("text", "select")),
    "phone": Target("Phone", "contact", 40, ("tel", "text")),
    "company_name": Target("Company", "company", 255, ("text",)),
    "country": Target("Country", "custom", 60, ("text", "select")),
    "message": Target("Message", "submission", 5000, ("textarea", "text")),
}
CUSTOM_TARGET = Target("Custom field", "custom", 1000, tuple(INPUT_TYPES))
TEXTAREA_LENGTH = 5000


def target_spec(target: str) -> Target:
    """The spec of a known target (`custom:<key>` included), else InvalidInput."""
    if target in TARGETS:
        return TARGETS[target]
    if target.startswith(CUSTOM) and CUSTOM_KEY.match(target[len(CUSTOM) :]):
        return CUSTOM_TARGET
    if target.startswith(CUSTOM):
        raise InvalidInput(
            "a custom field's key is 1 to 40 lower-case letters, digits or underscores, "
            "starting with a letter (custom:industry)",
            field="target",
        )
    raise InvalidInput(
        f"target {target[:60]!r} is not one of: {', '.join(TARGETS)}, custom:<key>",
        field="target",
    )


def clean_target(raw: Any) -> str:
    """A target from the allow-list (a custom key is lower-cased, spaces and dashes become _)."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise InvalidInput("target is required", field="target")
    if text.lower().startswith(CUSTOM):
        key = re.sub(r"[\s-]+", "_", text[len(CUSTOM) :].strip().lower())
        text = CUSTOM + key
    target_spec(text)
    return text


def clean_input_type(target: str, raw: Any) -> str:
    """An input type the target allows (its first allowed type when blank)."""
    spec = target_spec(target)
    text = "" if raw is None else str(raw).strip().lower()
    if not text:
        return spec.input_types[0]
    if text not in spec.input_types:
        allowed = ", ".join(spec.input_types)
        raise InvalidInput(
            f"{spec.label if target in TARGETS else target} takes input type {allowed}, not {text[:30]!r}",
            field="input_type",
        )
    return text


def clean_choices(input_type: str, raw: Any) -> list[str]:
    """A drop-down's options (one per line or a list): distinct, non-empty, bounded."""
    if input_type != "select":
        return []
    items = raw.splitlines() if isinstance(raw, str) else list(raw or [])
    choices: list[str] = []
    for item in items:
        text = " ".join(str(item).split())
        if not text or text in choices:
            continue
        if len(text) > MAX_CHOICE_LENGTH:
            raise InvalidInput(
                f"option {text[:40]!r}… is longer than {MAX_CHOICE_LENGTH} characters",
                field="choices",
            )
        check_characters(text, field="choices")
        choices.append(text)
    if not choices:
        raise InvalidInput("a drop-down needs at least one option", field="choices")
    if len(choices) > MAX_CHOICES:
        raise InvalidInput(f"a drop-down has at most {MAX_CHOICES} options", field="choices")
    return choices


def max_length(target: str, input_type: str) -> int:
    """How many characters a visitor may type into this field."""
    spec = target_spec(target)
    if spec is CUSTOM_TARGET and input_type == "textarea":
        return TEXTAREA_LENGTH
    return spec.max_length


def clean_value(
    *, target: str, input_type: str, required: bool, choices: list[str], label: str, raw: Any
) -> str | bool | None:
    """A visitor's answer, checked; None when left empty. InvalidInput(field=target) says why.

    Messages speak to the visitor in the field's own label ("Work email is required").
    """
    if input_type == "checkbox":
        checked = str(raw or "").strip().lower() in CHECKED
        if required and not checked:
            raise InvalidInput(f"Tick “{label}” to continue.", field=target)
        return checked
    text = "" if raw is None else str(raw).strip()
    if input_type != "textarea":
        text = " ".join(text.split())
    if not text:
        if required:
            raise InvalidInput(f"{label} is required.", field=target)
        return None
    try:
        check_characters(text, field=target)
    except InvalidInput:
        raise InvalidInput(
            f"{label} contains characters that are not allowed.", field=target
        ) from None
    limit = max_length(target, input_type)
    if len(text) > limit:
        raise InvalidInput(f"{label} is longer than {limit:,} characters.", field=target)
    if input_type == "email" or target == "email":
        try:
            return normalise_email(text)
        except InvalidInput:
            raise InvalidInput(f"{label}: enter a valid email address.", field=target) from None
    if input_type == "tel" and (not _PHONE.match(text) or sum(c.isdigit() for c in text) < 5):
        raise InvalidInput(
            f"{label}: enter a phone number (digits, spaces, + and -).", field=target
        )
    if input_type == "select" and text not in choices:
        raise InvalidInput(f"{label}: choose one of the options.", field=target)
    return text
