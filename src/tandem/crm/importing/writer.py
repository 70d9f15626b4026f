"""Import chunk writer: the cell loop and the retried one-transaction write every kind shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from django.db import IntegrityError, transaction

from tandem.accounts.models import User
from tandem.crm.importing.book import CompanyBook
from tandem.crm.importing.cleaners import Owners
from tandem.crm.importing.mapping import Column
from tandem.errors import InvalidInput

RowT = TypeVar("RowT")


class ChunkImporter(ABC, Generic[RowT]):
    """Cleans rows of one kind and writes them a chunk at a time, one transaction per chunk."""

    kind: str
    cleaners: dict[str, Callable[[str], Any]]  # by field: raw cell -> value, or InvalidInput

    def __init__(self, columns: list[Column], width: int, by: User | None) -> None:
        self.columns = columns
        self.width = width
        self.by = by
        self.owners = Owners()
        self.companies = CompanyBook()

    @abstractmethod
    def clean(self, line: int, cells: list[str]) -> RowT:
        """Validate one row into cleaned values, or raise InvalidInput naming the problem."""

    @abstractmethod
    def _write(self, rows: list[RowT]) -> tuple[int, int]:
        """Write one chunk inside the caller's transaction; returns (created, updated)."""

    def filled(self, cells: list[str]) -> Iterator[tuple[Column, str]]:
        """The mapped columns' non-blank cells, once the row is known to fit the header."""
        _check_width(cells, self.width)
        for col in self.columns:
            raw = cells[col.index] if col.index < len(cells) else ""
            if raw and not raw.isspace():
                yield col, raw

    def write(self, rows: list[RowT]) -> tuple[int, int]:
        """Write one chunk in one transaction, retrying once if a concurrent writer collided."""
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    return self._write(rows)
            except IntegrityError:
                self.companies.reset()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _check_width(cells: list[str], width: int) -> None:
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        raise InvalidInput(f"the row has {len(cells)} values but the header has {width} columns")
