"""Demand-history files for ``orderflow history import``: long-format CSV ``sku,date,quantity``, with an
optional ``location_id`` column (where the demand shipped from; empty or absent: ``main``).

The file is checked before anything is sent: the header, ISO dates (``YYYY-MM-DD``), whole
non-negative quantities, and for each SKU (and location) dates that only go forward (a date out of order
or repeated is a problem). Problems name the file's line and the field. A SKU with a problem on any of its lines is
left out whole (a history with a hole or a doubtful day would bias its forecast) and the other SKUs are
imported; a file that cannot be read, or has no usable header, imports nothing. Whether a SKU exists is
the server's business: it imports the other rows and reports the unknown ones.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

COLUMNS = ("sku", "date", "quantity")
LOCATION = "location_id"  # optional column
BATCH_ROWS = 500  # the most rows POST /demand/history takes at once
MAX_QUANTITY = 100_000_000


@dataclass(frozen=True)
class HistoryRow:
    line: int  # the line of the file it came from (the header is line 1)
    sku: str
    day: str
    quantity: int
    location_id: str = ""  # empty: main

    def body(self) -> dict:
        return {"sku": self.sku, "day": self.day, "quantity": self.quantity,
                **({"location_id": self.location_id} if self.location_id else {})}


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str
    sku: str = ""  # the SKU of the line, when it has one

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass(frozen=True)
class HistoryFile:
    """What can be imported, and what cannot: every problem, and the SKUs left out because of them."""

    rows: list[HistoryRow]
    problems: list[Problem]
    rows_left_out: int  # lines not imported: those with a problem and the other lines of their SKUs

    @property
    def skus_left_out(self) -> list[str]:
        return sorted({p.sku for p in self.problems if p.sku})


class HistoryFileError(ValueError):
    """Nothing in the file can be imported; ``problems`` lists every line and field at fault."""

    def __init__(self, path: Path, problems: Sequence[Problem]):
        self.path = path
        self.problems = list(problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s), nothing was imported; first: {self.problems[0]}")


def read_history(path: Path) -> HistoryFile:
    """The importable rows of the file and the problems of the others, or :class:`HistoryFileError` when
    nothing in it can be imported."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _rows(path, csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HistoryFileError(path, [Problem(0, "file", f"cannot be read: {exc}")]) from None


def _rows(path: Path, reader: Iterator[list[str]]) -> HistoryFile:
    header = [name.strip().lower() for name in next(reader, [])]
    if sorted(header) not in (sorted(COLUMNS), sorted((*COLUMNS, LOCATION))):
        raise HistoryFileError(path, [Problem(1, "header", f"expected the columns {','.join(COLUMNS)}[,{LOCATION}], "
                                                           f"found {','.join(header) or 'nothing'}")])
    index = {name: header.index(name) for name in header}
    rows: list[HistoryRow] = []
    problems: list[Problem] = []
    lines = 0
    last_day: dict[tuple[str, str], tuple[str, int]] = {}
    for fields in reader:
        line = reader.line_num  # type: ignore[attr-defined]
        if not any(f.strip() for f in fields):
            continue
        lines += 1
        if len(fields) != len(header):
            problems.append(Problem(line, "row", f"has {len(fields)} fields, expected {len(header)}"))
            continue
        sku, day, quantity = (fields[index[name]].strip() for name in COLUMNS)
        location = fields[index[LOCATION]].strip() if LOCATION in index else ""
        found = _check(line, sku, day, quantity)
        if not found and (sku, location) in last_day and day <= last_day[sku, location][0]:
            earlier, at = last_day[sku, location]
            what = "repeats" if day == earlier else "comes before"
            where = f" at {location}" if location else ""
            found = [Problem(line, "date", f"{day} {what} {earlier} of line {at} for SKU {sku}{where}: "
                                           "each SKU's dates must go forward", sku)]
        if found:
            problems += found
            continue
        last_day[sku, location] = (day, line)
        rows.append(HistoryRow(line, sku, day, int(quantity), location))
    if not lines:
        raise HistoryFileError(path, [Problem(2, "row", "the file has a header but no rows")])
    left_out = {p.sku for p in problems if p.sku}
    importable = [row for row in rows if row.sku not in left_out]
    if not importable:
        raise HistoryFileError(path, problems)
    return HistoryFile(importable, problems, lines - len(importable))


def _check(line: int, sku: str, day: str, quantity: str) -> list[Problem]:
    problems = []
    if not sku:
        problems.append(Problem(line, "sku", "is empty"))
    try:
        if date.fromisoformat(day).isoformat() != day:
            raise ValueError
    except ValueError:
        problems.append(Problem(line, "date", f"{day!r} is not a date written YYYY-MM-DD", sku))
    if not re.fullmatch(r"-?[0-9]+", quantity):
        problems.append(Problem(line, "quantity", f"{quantity!r} is not a whole number", sku))
    elif int(quantity) < 0:
        problems.append(Problem(line, "quantity", f"{quantity} is negative", sku))
    elif int(quantity) > MAX_QUANTITY:
        problems.append(Problem(line, "quantity", f"{quantity} is more than {MAX_QUANTITY:,}", sku))
    return problems


def batches(rows: Sequence[HistoryRow], size: int = BATCH_ROWS) -> Iterator[Sequence[HistoryRow]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
