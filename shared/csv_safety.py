"""CSV cells a spreadsheet will not run: the OWASP "CSV injection" neutralisation.

A spreadsheet opening a CSV file evaluates a cell that starts with ``=``, ``+``, ``-``
or ``@`` as a formula (``=HYPERLINK(...)`` leaks data, ``=cmd|...`` ran programs in old
Excel), and a leading tab or carriage return can hide such a character. OWASP's advice,
followed here: prefix such a cell with a single quote, which spreadsheets show as text and
do not evaluate. The ``csv`` module's quoting takes care of separators, quotes and line
breaks inside cells.

Numbers stay numbers: a non-string cell (an integer amount) is written as is, and so is a
string that is a plain number (``-12.50``, ``-1234``, ``+3``), so negative amounts remain
amounts in the spreadsheet. Every other text cell starting with a trigger is neutralised,
whoever wrote it: a description, a name, a title.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet evaluate (or hide) a formula."""

_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def neutralise(cell: Any) -> Any:
    """``cell`` as it is safe to write: a text starting with a formula trigger gets a
    leading single quote, unless it is a plain number; anything else is unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        if not _PLAIN_NUMBER.fullmatch(cell):
            return "'" + cell
    return cell


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of ``row`` neutralised."""
    return [neutralise(cell) for cell in row]


class SafeWriter:
    """A ``csv.writer`` whose every row is neutralised first."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows(safe_row(row) for row in rows)


def writer(out: Any, **options: Any) -> SafeWriter:
    """Like ``csv.writer(out, **options)``, with every cell neutralised."""
    return SafeWriter(out, **options)
