"""Domain errors raised by services and translated once at each edge (API, pages, CLI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class DomainError(ValueError):
    """Base class: a request the domain refuses, with a message that names the problem."""


class InvalidInput(DomainError):
    """A value is missing, malformed or out of range."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    """The write would duplicate an existing record."""

    def __init__(self, message: str, *, existing_id: int | None = None) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class Forbidden(DomainError):
    """The caller may see the record but may not take this action."""


def refuse_taken(
    others: Any, *, message: Callable[[Any], str], exclude_pk: int | None = None
) -> None:
    """Raise Conflict (with the holder's id) when a row of `others` other than exclude_pk exists.

    `others` is the queryset of rows holding the unique value; `message` words the refusal
    from the holder, so each caller names its own field.
    """
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    existing = others.first()
    if existing is not None:
        raise Conflict(message(existing), existing_id=existing.pk)
