"""Attribution over aggregated journeys: the path CSV layout that attribution tools share.

Input: one row per path (`path,total_conversions,total_conversion_value,total_null`, the last two
optional); a path lists channels in order. Output: one row per model and channel with the
conversions and conversion value credited to it (docs/metrics.md defines every model).

Everything is vectorised: paths are flattened once into integer channel codes and each model is
a weighted `numpy.bincount` over those touches, so 150,000 distinct paths take well under a second.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import polars as pl

from tandem.analytics.compute import markov

MODELS = ("first_touch", "last_touch", "linear", "position_based", "markov", "shapley")
HEADER = ("channel", "model", "conversions", "value")
DECIMALS = 6
PATH = "path"
CONVERSIONS = "total_conversions"
VALUE = "total_conversion_value"
NULLS = "total_null"
RESULT_SCHEMA = {
    "channel": pl.Utf8,
    "model": pl.Utf8,
    "conversions": pl.Float64,
    "value": pl.Float64,
}


class Writable(Protocol):
    """Anything with write(str): a text file, sys.stdout or Django's OutputWrapper."""

    def write(self, text: str, /) -> Any: ...


class PathsError(ValueError):
    """Bad path input; the message is one line naming the row and column."""


# ---------------------------------------------------------------- input


def check_sep(sep: str) -> str:
    """The separator, or PathsError when it cannot separate channels."""
    if not sep or not sep.strip():
        raise PathsError("--sep must contain a visible character")
    if any(ch in sep for ch in "\r\n"):
        raise PathsError("--sep must not contain a line break")
    return sep


def parse_models(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Models named in `spec` ("all", "markov,shapley" or a list), in MODELS order."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    wanted = {str(n).strip() for n in names if str(n).strip()}
    if not wanted:
        raise PathsError(f"no model given; choose all or some of {', '.join(MODELS)}")
    if "all" in wanted:
        return MODELS
    unknown = sorted(wanted - set(MODELS))
    if unknown:
        shown = repr(unknown[0][:60])
        raise PathsError(f"unknown model {shown}; choose all or some of {', '.join(MODELS)}")
    return tuple(m for m in MODELS if m in wanted)


def read_paths_csv(source: str | os.PathLike[str] | IO[bytes], *, sep: str = ">") -> pl.DataFrame:
    """Read a path CSV into the paths frame (channels, conversions, value, nulls)."""
    check_sep(sep)
    data = _read_bytes(source)
    try:
        # Reading our own bytes keeps Polars from globbing or walking a directory.
        raw = pl.read_csv(data, infer_schema=False, has_header=True)
    except pl.exceptions.NoDataError:
        raise PathsError("the CSV file is empty (no header row)") from None
    except pl.exceptions.PolarsError as exc:
        raise PathsError(_csv_problem(data, exc)) from None
    raw = raw.rename({c: c.strip() for c in raw.columns})
    for required in (PATH, CONVERSIONS):
        if required not in raw.columns:
            found = ", ".join(raw.columns)[:200]
            raise PathsError(f"the header has no {required!r} column (found: {found})")
    # Blank lines are skipped but still counted, so "row N" stays line N + 1 of the file.
    blank = pl.all_horizontal(pl.exclude("_row").is_null())
    numbered = raw.with_row_index("_row").filter(~blank)
    rows = numbered.get_column("_row").to_numpy()

    def label(i: int, column: str) -> str:
        return f"row {int(rows[i]) + 1}, column {column}"

    numbers = {
        "conversions": _csv_numbers(numbered, CONVERSIONS, required=True, label=label),
        "value": _csv_numbers(numbered, VALUE, required=False, label=label),
        "nulls": _csv_numbers(numbered, NULLS, required=False, label=label),
    }
    return _frame(numbered.get_column(PATH), numbers, sep=sep, label=label)


def _read_bytes(source: str | os.PathLike[str] | IO[bytes]) -> bytes:
    """The file's bytes, checked to be UTF-8 text (a leading BOM is dropped)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise PathsError(f"file not found: {path}")
        if not path.is_file():
            raise PathsError(f"not a file: {path}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PathsError(f"cannot read {path}: {exc.strerror}") from None
    else:
        data = source.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PathsError(f"line {line}: the file is not UTF-8 text") from None
    return data.removeprefix(b"\xef\xbb\xbf")


def _csv_problem(data: bytes, exc: Exception) -> str:
    """Name the first malformed row (Polars' own message lacks it), else quote Polars."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    try:
        header = next(reader, [])
        for number, fields in enumerate(reader, start=1):
            if fields and len(fields) != len(header):
                count = f"{len(fields)} field{'' if len(fields) == 1 else 's'}"
                return f"row {number}: {count}, the header has {len(header)}"
    except csv.Error as error:
        return f"row {max(reader.line_num - 1, 1)}: {error}"
    first = (str(exc).strip().splitlines() or ["unreadable"])[0][:200]
    return f"cannot read the CSV: {first}"


def paths_from_records(records: Sequence[Mapping[str, Any]], *, sep: str = ">") -> pl.DataFrame:
    """The paths frame from JSON-like records {path, total_conversions, total_conversion_value?, total_null?}."""
    check_sep(sep)

    def label(i: int, column: str) -> str:
        return f"paths[{i}].{column}"

    paths: list[str | None] = []
    columns: dict[str, list[float]] = {"conversions": [], "value": [], "nulls": []}
    for i, record in enumerate(records):
        path = record.get(PATH)
        if not isinstance(path, str):
            raise PathsError(f"{label(i, PATH)}: must be a string")
        paths.append(path)
        for key, field, required in (
            ("conversions", CONVERSIONS, True),
            ("value", VALUE, False),
            ("nulls", NULLS, False),
        ):
            columns[key].append(_number(record.get(field), label(i, field), required))
    numbers = {k: pl.Series(k, v, dtype=pl.Float64) for k, v in columns.items()}
    return _frame(pl.Series(PATH, paths, dtype=pl.Utf8), numbers, sep=sep, label=label)


def _number(raw: Any, where: str, required: bool) -> float:
    """One record's count or value as a float ≥ 0."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise PathsError(f"{where}: missing")
        return 0.0
    if isinstance(raw, bool):
        raise PathsError(f"{where}: must be a number")
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise PathsError(f"{where}: {str(raw)[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise PathsError(f"{where}: must be a finite number")
    if number < 0:
        raise PathsError(f"{where}: must not be negative")
    return number


def _csv_numbers(
    raw: pl.DataFrame, column: str, *, required: bool, label: Callable[[int, str], str]
) -> pl.Series:
    """A numeric CSV column as floats ≥ 0 (an absent optional column, or empty cell, is 0)."""
    if column not in raw.columns:
        return pl.Series(column, [0.0] * raw.height, dtype=pl.Float64)
    text = raw.get_column(column).str.strip_chars()
    empty = text.is_null() | (text == "")
    numbers = text.cast(pl.Float64, strict=False)
    problems = [
        (~empty & numbers.is_null(), "is not a number"),
        (numbers.is_nan() | numbers.is_infinite(), "is not a finite number"),
        (numbers < 0, "is negative"),
    ]
    if required:
        problems.insert(0, (empty, "is empty"))
    for mask, message in problems:
        bad = mask.fill_null(False).arg_true()
        if len(bad):
            i = int(bad[0])
            cell = text[i] or ""
            shown = f" ({cell[:40]!r})" if cell else ""
            raise PathsError(f"{label(i, column)}: the value{shown} {message}")
    return numbers.fill_null(0.0)


def _frame(
    path: pl.Series,
    numbers: Mapping[str, pl.Series],
    *,
    sep: str,
    label: Callable[[int, str], str],
) -> pl.DataFrame:
    """Split and trim the paths; an empty path names its row."""
    channels = (
        path.fill_null("")
        .str.split(sep, inclusive=False)
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    empty = (channels.list.len() == 0).arg_true()
    if len(empty):
        where = label(int(empty[0]), PATH)
        raise PathsError(f"{where}: the path names no channel; the separator is {sep!r}")
    # Value belongs to conversions: value on a path without any is inconsistent input.
    orphan = ((numbers["value"] > 0) & (numbers["conversions"] == 0)).arg_true()
    if len(orphan):
        where = label(int(orphan[0]), VALUE)
        raise PathsError(f"{where}: conversion value without conversions ({CONVERSIONS} is 0)")
    return pl.DataFrame(
        {
            "channels": channels,
            "conversions": numbers["conversions"],
            "value": numbers["value"],
            "nulls": numbers["nulls"],
        }
    )


# ---------------------------------------------------------------- models


def attribute_paths(paths: pl.DataFrame, *, models: Sequence[str] = MODELS) -> pl.DataFrame:
    """Credit every channel under each model: rows (channel, model, conversions, value).

    Rows come in MODELS order, then by channel name; a channel appears once per model when it is on
    at least one path (with zero credit if its paths carry no journeys) and never otherwise.
    """
    chosen = parse_models(models)
    if paths.height == 0:
        return pl.DataFrame(schema=RESULT_SCHEMA)
    channel_lists = paths.get_column("channels")
    flat = channel_lists.explode()
    names = flat.unique().sort().to_list()
    k = len(names)
    if "markov" in chosen and k > markov.MAX_CHANNELS:
        raise PathsError(
            f"{k:,} distinct channels; the Markov model takes at most {markov.MAX_CHANNELS:,}"
        )
    codes = flat.cast(pl.Enum(names)).to_physical().to_numpy().astype(np.int64)
    lengths = channel_lists.list.len().to_numpy().astype(np.int64)
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    conversions = paths.get_column("conversions").to_numpy().astype(np.float64)
    value = paths.get_column("value").to_numpy().astype(np.float64)
    nulls = paths.get_column("nulls").to_numpy().astype(np.float64)
    row = np.repeat(np.arange(len(lengths)), lengths)

    def per_touch(weights: np.ndarray, idx: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Credit sums per channel when touch i (or touch idx[i]) gets weights[i] of its path."""
        touch_codes = codes if idx is None else codes[idx]
        touch_rows = row if idx is None else row[idx]
        return (
            np.bincount(touch_codes, weights=weights * conversions[touch_rows], minlength=k),
            np.bincount(touch_codes, weights=weights * value[touch_rows], minlength=k),
        )

    results: dict[str, tuple[np.ndarray, ...]] = {}
    for model in chosen:
        if model == "first_touch":
            results[model] = per_touch(np.ones(len(offsets)), offsets)
        elif model == "last_touch":
            results[model] = per_touch(np.ones(len(offsets)), offsets + lengths - 1)
        elif model == "linear":
            results[model] = per_touch(1.0 / lengths[row])
        elif model == "position_based":
            results[model] = per_touch(_position_weights(row, offsets, lengths))
        elif model == "shapley":
            results[model] = _shapley(codes, row, offsets, k, conversions, value)
        else:
            transitions, converted, lost, earned = markov.transition_counts(
                codes=codes,
                offsets=offsets,
                lengths=lengths,
                conversions=conversions,
                value=value,
                nulls=nulls,
                channels=k,
            )
            effects = markov.chain_effects(
                transitions=transitions, converted=converted, lost=lost, value=earned
            )
            results[model] = (
                markov.credits(effects.effects, total=float(conversions.sum())),
                markov.credits(effects.value_effects, total=float(value.sum())),
            )
    return pl.DataFrame(
        {
            "channel": names * len(chosen),
            "model": [m for m in chosen for _ in names],
            "conversions": np.concatenate([results[m][0] for m in chosen]),
            "value": np.concatenate([results[m][1] for m in chosen]),
        },
        schema=RESULT_SCHEMA,
    )


def _position_weights(row: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """40/20/40 per touch: first and last 40 %, the middle touches share 20 %; 1 touch 100 %, 2 touches 50/50."""
    length = lengths[row]
    position = np.arange(len(row)) - offsets[row]
    ends = (position == 0) | (position == length - 1)
    middle = 0.2 / np.maximum(length - 2, 1)
    weights = np.where(ends, 0.4, middle)
    weights[length == 2] = 0.5
    weights[length == 1] = 1.0
    return weights


def _shapley(
    codes: np.ndarray,
    row: np.ndarray,
    offsets: np.ndarray,
    k: int,
    conversions: np.ndarray,
    value: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each path's conversions and value split equally over its distinct channels.

    Intuition: with the characteristic function "a coalition earns a path's conversions when it
    holds all of that path's channels", every channel of an observed channel set is symmetric, so
    the Shapley value of the set splits its conversions equally. Paths are grouped by channel set
    first (150,000 paths collapse to a few thousand sets).
    """
    if k <= 63:
        # The channel set as a bit mask (OR over the path's touches), then one split per set.
        bit = np.left_shift(np.uint64(1), codes.astype(np.uint64))
        masks = np.bitwise_or.reduceat(bit, offsets)
        sets, inverse = np.unique(masks, return_inverse=True)
        set_conv = np.bincount(inverse, weights=conversions, minlength=len(sets))
        set_value = np.bincount(inverse, weights=value, minlength=len(sets))
        member = ((sets[:, None] >> np.arange(k, dtype=np.uint64)[None, :]) & np.uint64(1)).astype(
            bool
        )
        size = member.sum(axis=1)
        return (
            (member * (set_conv / size)[:, None]).sum(axis=0),
            (member * (set_value / size)[:, None]).sum(axis=0),
        )
    # One (path, channel) pair per distinct channel of a path.
    pairs = np.unique(row * k + codes)
    pair_rows = pairs // k
    pair_codes = pairs % k
    size = np.bincount(pair_rows, minlength=len(conversions))
    return (
        np.bincount(pair_codes, weights=conversions[pair_rows] / size[pair_rows], minlength=k),
        np.bincount(pair_codes, weights=value[pair_rows] / size[pair_rows], minlength=k),
    )


# ---------------------------------------------------------------- output and the command


def rounded(number: float) -> float:
    """A credit as published (CSV and API): rounded to DECIMALS places, never "-0.0"."""
    # Six decimals hide float noise (1.2000000000000002) yet keep a millionth of a conversion.
    return round(float(number), DECIMALS) + 0.0


def write_csv(result: pl.DataFrame, out: IO[str]) -> None:
    """Write `channel,model,conversions,value`; numbers rounded, as Python's shortest repr."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for channel, model, conversions, value in result.iter_rows():
        writer.writerow((channel, model, repr(rounded(conversions)), repr(rounded(value))))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `tandem attribution paths` (shared by the fast path and the Django command)."""
    parser.add_argument(
        "file", help="CSV: path,total_conversions[,total_conversion_value][,total_null]"
    )
    parser.add_argument("--sep", default=">", help='separator between channels (default ">")')
    parser.add_argument(
        "--models",
        default="all",
        help=f"all (default) or a comma-separated subset of {','.join(MODELS)}",
    )
    parser.add_argument("--out", default=None, help="write the result here instead of stdout")


def run_paths_command(
    *, file: str, sep: str, models: str, out: str | None, stdout: Writable
) -> None:
    """Read FILE, attribute and write the CSV to `out` (or stdout); PathsError on bad input."""
    chosen = parse_models(models)
    check_sep(sep)
    target = Path(out) if out else None
    if target is not None and not target.parent.is_dir():
        raise PathsError(f"--out: folder not found: {target.parent}")
    result = attribute_paths(read_paths_csv(file, sep=sep), models=chosen)
    if target is None:
        buffer = io.StringIO()
        write_csv(result, buffer)
        stdout.write(buffer.getvalue())
        return
    partial = target.with_name(target.name + ".partial")
    try:
        # Written aside and renamed, so a failure never leaves half a file behind.
        with partial.open("w", newline="", encoding="utf-8") as handle:
            write_csv(result, handle)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise PathsError(f"--out: cannot write {out}: {exc.strerror}") from None
