"""INSEE's employment by commune and sector, read in its published layout and turned into
the rows of the ``sector-employment`` format (so merger carry-over, validation and storage
are the ones every jobs file goes through).

Layout: one line per commune and sector, INSEE's column names, the vintage as a two-digit
suffix of the figures' columns (as in INSEE's communal bases)::

    CODGEO;LIBGEO;A38;EMPSAL21;EMPNSAL21        (or A88 instead of A38)

``EMPSAL``: salaried jobs, ``EMPNSAL``: non-salaried jobs at the place of work. The two
add up to the sector's jobs; a secret cell (``s``, ``nd``, blank) in either keeps the sum
unknown, never zero. Every error names the file's line and INSEE's column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.diagnostics.imports.rules.naf import reference_sector
from services.diagnostics.imports.rules.yearly_data import SECRET, ErrorKind, RowError

SALARIED, NON_SALARIED = "EMPSAL", "EMPNSAL"
SECTOR_COLUMNS = ("A38", "A88")
_VINTAGE = re.compile(rf"(?P<name>{SALARIED}|{NON_SALARIED})(?P<yy>\d{{2}})")
_WHOLE = re.compile(r"\d+")


@dataclass(slots=True)
class Translated:
    """An official file as the rows of one of the project's own formats, or its errors."""

    header: list[str] = field(default_factory=list)
    rows: list[dict[str, object]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    """The project's column → the official file's column, to name the latter in errors."""
    sectors: dict[str, dict[str, str]] = field(default_factory=dict)
    """Reference sectors the rows name (code → sectors-table row)."""


def vintage_of(header: Sequence[str], pattern: re.Pattern[str]) -> tuple[int | None, str | None]:
    """The year the two-digit suffixes of a header's figure columns name (``21`` → 2021),
    or an error message when they name none or several."""
    suffixes = {m["yy"] for h in header if (m := pattern.fullmatch(h.strip()))}
    if len(suffixes) != 1:
        found = ", ".join(sorted(suffixes)) or "aucun"
        return None, f"un seul millésime attendu par fichier (suffixes trouvés : {found})"
    return 2000 + int(suffixes.pop()), None


def _cell(row: Mapping[Any, object], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def read_employment(header: Sequence[str], rows: Sequence[Mapping[Any, object]]) -> Translated:
    """The file's rows as ``insee_code,year,sector,jobs`` rows, one for one (same lines)."""
    out = Translated()
    names = [h.strip() for h in header]
    sector_column = next((c for c in SECTOR_COLUMNS if c in names), None)
    if "CODGEO" not in names:
        out.errors.append(RowError(1, ErrorKind.MISSING_COLUMN, "colonne CODGEO absente", "CODGEO"))
    if sector_column is None:
        out.errors.append(
            RowError(1, ErrorKind.MISSING_COLUMN, "colonne A38 ou A88 absente", "A38")
        )
    year, problem = vintage_of(names, _VINTAGE)
    if problem:
        out.errors.append(RowError(1, ErrorKind.MISSING_COLUMN, problem, SALARIED))
    if out.errors or year is None or sector_column is None:
        return out
    suffix = f"{year % 100:02d}"
    figures = [f"{SALARIED}{suffix}", f"{NON_SALARIED}{suffix}"]
    for column in figures:
        if column not in names:
            out.errors.append(
                RowError(1, ErrorKind.MISSING_COLUMN, f"colonne {column} absente", column)
            )
    if out.errors:
        return out
    out.header = ["insee_code", "year", "sector", "jobs"]
    out.columns = {"insee_code": "CODGEO", "sector": sector_column, "jobs": figures[0]}
    for line, row in enumerate(rows, start=2):
        sector = _cell(row, sector_column)
        reference = reference_sector(sector)
        if reference is None:
            out.errors.append(
                RowError(
                    line,
                    ErrorKind.INVALID_VALUE,
                    f"{sector_column} : « {sector} » n'est pas un code de la NAF {sector_column}",
                    sector_column,
                    _cell(row, "CODGEO") or None,
                )
            )
        else:
            out.sectors[sector] = reference
        # Kept even when refused, so the next checks' line numbers stay the file's.
        jobs = _jobs(row, figures, line, out.errors)
        out.rows.append(
            {"insee_code": _cell(row, "CODGEO"), "year": str(year), "sector": sector, "jobs": jobs}
        )
    return out


def _jobs(
    row: Mapping[Any, object], columns: Sequence[str], line: int, errors: list[RowError]
) -> str:
    """Σ of the salaried and non-salaried cells as text; ``s`` when either is secret."""
    total, secret = 0, False
    for column in columns:
        text = _cell(row, column)
        if not text or text.lower() in SECRET:
            secret = True
        elif _WHOLE.fullmatch(text):
            total += int(text)
        else:
            errors.append(
                RowError(
                    line,
                    ErrorKind.INVALID_NUMBER,
                    f"{column} : « {text} » n'est ni un nombre entier positif ni une "
                    "marque de secret (s, nd)",
                    column,
                    _cell(row, "CODGEO") or None,
                )
            )
    return "s" if secret else str(total)


def named_in_file(
    own: Sequence[RowError], errors: Sequence[RowError], columns: Mapping[str, str]
) -> list[RowError]:
    """The translation's errors (``own``) and those of the translated rows, the latter
    naming the official file's columns; a cell already refused is reported once."""
    out = list(own)
    refused = {(e.line, e.column) for e in own}
    for e in errors:
        column = columns.get(e.column or "", e.column)
        if (e.line, column) not in refused:
            out.append(RowError(e.line, e.kind, e.message, column, e.code))
    return sorted(out, key=lambda e: (e.line or 0, e.column or ""))
