"""Import basics shared by every step: the rule label and the result types."""

from __future__ import annotations

from dataclasses import dataclass

RULE = "import"  # the rule and actor label on the history and timeline rows an import writes


@dataclass
class RowError:
    """A rejected row: its physical line in the file (the header is line 1) and why."""

    line: int
    reason: str


@dataclass
class ImportResult:
    """What an import did: counts, rejected rows, and how the columns were read."""

    kind: str
    created: int
    updated: int
    rejected: list[RowError]
    mapping: dict[str, str]
    ignored_columns: list[str]
