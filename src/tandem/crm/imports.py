"""CSV import of contacts and companies: column mapping, dedupe, chunked bulk writes.

Intuition: a file is read once to check it is valid UTF-8 CSV (so a broken file imports
nothing), then again row by row. Each row is cleaned with the same helpers the services use;
a bad row becomes a RowError with its physical line number while the others go on. Rows are
written in chunks: one query finds the chunk's existing records, new ones are bulk-created,
changed ones bulk-updated, and the stage history and timeline rows are bulk-inserted, all in
one transaction per chunk. That keeps 100,000 rows well under half a minute on SQLite.

The steps live in the tandem.crm.importing package; this module is the entry point the
command, the web page and the benchmark use, and runs the chunk loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm.importing.base import RULE, ImportResult, RowError
from tandem.crm.importing.cleaners import MAX_CUSTOM_VALUE
from tandem.crm.importing.cleaners import SOURCE_ALIASES as _SOURCE_ALIASES
from tandem.crm.importing.companies import CompanyImporter
from tandem.crm.importing.contact_rows import NEW_CONTACT_COLUMNS
from tandem.crm.importing.contacts import EVENT_COLUMNS, HISTORY_COLUMNS, ContactImporter
from tandem.crm.importing.mapping import (
    COMPANY_ALIASES,
    COMPANY_FIELDS,
    CONTACT_ALIASES,
    CONTACT_FIELDS,
    CUSTOM,
    IGNORE,
    parse_mapping,
    resolve_columns,
)
from tandem.crm.importing.mapping import fold_key as _key
from tandem.crm.importing.reader import (
    READ_BLOCK,
    CsvSource,
    check_readable,
    check_size,
    field_limit,
    header_row,
)
from tandem.crm.importing.writer import ChunkImporter
from tandem.errors import Forbidden, InvalidInput

# Every name this module had before the steps moved into tandem.crm.importing, kept for its
# importers (the benchmark's naive baseline reads _SOURCE_ALIASES and _key).
__all__ = [
    "CHUNK_ROWS",
    "COMPANY_ALIASES",
    "COMPANY_FIELDS",
    "CONTACT_ALIASES",
    "CONTACT_FIELDS",
    "CUSTOM",
    "EVENT_COLUMNS",
    "HISTORY_COLUMNS",
    "IGNORE",
    "MAX_CUSTOM_VALUE",
    "NEW_CONTACT_COLUMNS",
    "READ_BLOCK",
    "RULE",
    "_SOURCE_ALIASES",
    "ImportResult",
    "RowError",
    "_key",
    "import_companies",
    "import_contacts",
    "parse_mapping",
]

# Rows per transaction: fewer, larger commits make SQLite faster. Read on every run, here, so
# that a test can lower it on this module.
CHUNK_ROWS = 5000
_IMPORTERS: dict[str, type[ChunkImporter[Any]]] = {
    "contacts": ContactImporter,
    "companies": CompanyImporter,
}


def _run(
    kind: str,
    source: BinaryIO,
    mapping: dict[str, str] | None,
    by: User | None,
    progress: Callable[[int], None] | None,
    total_bytes: int | None,
) -> ImportResult:
    """Check the file, read its header, then clean and write its rows a chunk at a time."""
    if by is not None and not permissions.can_import(by):
        raise Forbidden("only admin and marketing users may import")
    check_size(source, total_bytes)
    with field_limit():
        check_readable(source)
        reader = CsvSource(source)
        rows = reader.rows()
        header = header_row(rows)
        columns, used, ignored = resolve_columns(header, mapping or {}, kind)
        importer = _IMPORTERS[kind](columns, len(header), by)
        result = ImportResult(
            kind=kind, created=0, updated=0, rejected=[], mapping=used, ignored_columns=ignored
        )
        chunk: list[Any] = []
        data_rows = 0

        def flush() -> None:
            created, updated = importer.write(chunk)
            result.created += created
            result.updated += updated
            chunk.clear()
            if progress is not None:
                progress(reader.bytes_read)

        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            data_rows += 1
            try:
                chunk.append(importer.clean(line, cells))
            except InvalidInput as exc:
                result.rejected.append(RowError(line=line, reason=str(exc)))
            if len(chunk) >= CHUNK_ROWS:
                flush()
        if data_rows == 0:
            raise InvalidInput("the file has a header row but no data rows")
        if chunk:
            flush()
        if progress is not None:
            progress(reader.bytes_read)
    return result


def import_contacts(
    *,
    source: BinaryIO,
    mapping: dict[str, str] | None = None,
    by: User | None = None,
    progress: Callable[[int], None] | None = None,
    total_bytes: int | None = None,
) -> ImportResult:
    """Import contacts from a UTF-8 CSV: dedupe by email, link companies, reject bad rows by line."""
    return _run("contacts", source, mapping, by, progress, total_bytes)


def import_companies(
    *,
    source: BinaryIO,
    mapping: dict[str, str] | None = None,
    by: User | None = None,
    progress: Callable[[int], None] | None = None,
    total_bytes: int | None = None,
) -> ImportResult:
    """Import companies from a UTF-8 CSV: dedupe by domain (else name), reject bad rows by line."""
    return _run("companies", source, mapping, by, progress, total_bytes)
