"""Import reading: size limits, UTF-8 with or without BOM, CSV rows with their physical lines."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from django.conf import settings

from tandem.errors import InvalidInput

READ_BLOCK = 1 << 16


class CsvSource:
    """Rows of a binary CSV source with the physical line each starts on, and bytes read."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.bytes_read = 0
        self.physical = 0  # physical lines handed to the csv reader so far

    def _raw_lines(self) -> Iterator[bytes]:
        # Split on b"\n" ourselves so that every line's byte offset is known for error messages.
        pieces: list[bytes] = []
        while block := self.source.read(READ_BLOCK):
            self.bytes_read += len(block)
            parts = block.split(b"\n")
            if len(parts) == 1:
                pieces.append(block)
                continue
            pieces.append(parts[0])
            yield b"".join(pieces) + b"\n"
            for part in parts[1:-1]:
                yield part + b"\n"
            pieces = [parts[-1]] if parts[-1] else []
        if pieces:
            yield b"".join(pieces)

    def _lines(self) -> Iterator[str]:
        offset = 0
        for raw in self._raw_lines():
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"the file is not valid UTF-8: line {self.physical + 1}, byte offset "
                    f"{offset + exc.start} (0x{raw[exc.start]:02x}); save it as 'CSV UTF-8' and try again"
                ) from None
            if offset == 0:
                text = text.removeprefix("\ufeff")
            offset += len(raw)
            # Old Mac files end lines with a lone CR: split them so line numbers stay physical.
            parts = _LONE_CR.split(text) if "\r" in text[:-2] else (text,)
            for part in parts:
                if part:
                    self.physical += 1
                    yield part

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (line the row starts on, cells) for every row, the header included."""
        reader = csv.reader(self._lines())
        while True:
            start = self.physical + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(f"line {start}: the CSV cannot be read ({exc})") from None
            yield start, cells


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _max_bytes() -> int:
    return int(getattr(settings, "TANDEM_IMPORT_MAX_BYTES", 200 * 1024 * 1024))


@contextmanager
def field_limit() -> Iterator[None]:
    """Let the csv module read cells up to the import size limit, for the duration."""
    # csv refuses fields over 128 KiB by default; a long cell is a row problem, not a crash.
    old = csv.field_size_limit(_max_bytes() + 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _source_size(source: BinaryIO, total_bytes: int | None) -> int | None:
    if total_bytes is not None:
        return total_bytes
    try:
        if source.seekable():
            here = source.tell()
            size = source.seek(0, 2) - here
            source.seek(here)
            return size
    except (AttributeError, OSError):
        return None
    return None


def check_size(source: BinaryIO, total_bytes: int | None) -> None:
    """Refuse a source over TANDEM_IMPORT_MAX_BYTES when its size is given or can be measured."""
    limit = _max_bytes()
    size = _source_size(source, total_bytes)
    if size is not None and size > limit:
        raise InvalidInput(
            f"the file is {size / 1e6:.1f} MB; imports are limited to {limit / 1e6:.0f} MB"
        )


def check_readable(source: BinaryIO) -> None:
    """Read a seekable source through once and rewind, so that a broken file imports nothing."""
    try:
        seekable = source.seekable()
    except AttributeError:
        seekable = False
    if seekable:
        # A first pass checks encoding and CSV syntax before any row is written.
        start = source.tell()
        for _ in CsvSource(source).rows():
            pass
        source.seek(start)


def header_row(rows: Iterator[tuple[int, list[str]]]) -> list[str]:
    """The first row that is not blank: the header."""
    header = next((cells for _, cells in rows if any(c.strip() for c in cells)), None)
    if header is None:
        raise InvalidInput("the file is empty: the first line must be a header row")
    return header
