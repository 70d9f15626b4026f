"""Domain errors raised by services and translated once at each edge (API, pages, CLI)."""

from __future__ import annotations


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
