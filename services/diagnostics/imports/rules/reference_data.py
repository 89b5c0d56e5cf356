"""Line-by-line validation of reference files: territories, sectors and contract perimeters.

Same contract as :mod:`.yearly_data`: every error is reported with its line, and the caller
imports the file only when there is none. Rows are mappings of column name to text (CSV)
or to JSON scalars.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.diagnostics.imports.rules.yearly_data import ErrorKind, RowError
from services.diagnostics.perimeters.rules import PERIMETER_KINDS, PerimeterVersion
from services.diagnostics.territories.rules import LEVELS

SPHERES = ("presentielle", "productive")

_CODE = re.compile(r"\d{2,5}|2[AB]\d{0,3}|\d{9}|R\d{2}|Z[EF][0-9AB]{4}")
_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,40}")


@dataclass(frozen=True, slots=True)
class ReferenceReport:
    """Errors of a file and its cleaned rows (to be used only when there is no error)."""

    errors: tuple[RowError, ...]
    rows: tuple[dict[str, Any], ...]
    rows_checked: int

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _header(
    header: Sequence[str], required: Sequence[str], optional: Sequence[str]
) -> list[RowError]:
    errors = [
        RowError(1, ErrorKind.MISSING_COLUMN, f"column '{n}' is missing", n)
        for n in required
        if n not in header
    ]
    errors += [
        RowError(1, ErrorKind.UNEXPECTED_COLUMN, f"column '{n}' is not part of this format", n)
        for n in header
        if n not in (*required, *optional)
    ]
    return errors


def _cells(
    line: int, row: Mapping[Any, object], required: Sequence[str], optional: Sequence[str]
) -> tuple[dict[str, str], list[RowError]]:
    errors = []
    if row.get(None):
        errors.append(RowError(line, ErrorKind.EXTRA_FIELDS, "more fields than columns"))
    cells = {name: _text(row.get(name)) for name in (*required, *optional)}
    errors += [
        RowError(line, ErrorKind.MISSING_VALUE, f"{name} is empty", name)
        for name in required
        if not cells[name]
    ]
    return cells, errors


def _choice(
    line: int, cells: dict[str, str], column: str, allowed: Sequence[str]
) -> list[RowError]:
    value = cells[column]
    if value and value not in allowed:
        return [
            RowError(
                line,
                ErrorKind.INVALID_VALUE,
                f"{column} '{value}' is not one of {', '.join(allowed)}",
                column,
            )
        ]
    return []


def validate_territories(
    header: Sequence[str], rows: Iterable[Mapping[Any, object]], *, known: Collection[str]
) -> ReferenceReport:
    """Columns insee_code, level, name, parent_code; a parent must be known or in the file."""
    required, optional = ("insee_code", "level", "name"), ("parent_code",)
    errors = _header(header, required, optional)
    if any(e.kind is ErrorKind.MISSING_COLUMN for e in errors):
        return ReferenceReport(tuple(errors), (), 0)
    parsed: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    count = 0
    for count, row in enumerate(rows, start=1):
        line = count + 1
        cells, row_errors = _cells(line, row, required, optional)
        code = cells["insee_code"]
        if code and not _CODE.fullmatch(code):
            row_errors.append(
                RowError(
                    line,
                    ErrorKind.INVALID_VALUE,
                    f"'{code}' is not an INSEE or SIREN code",
                    "insee_code",
                    code,
                )
            )
        row_errors += _choice(line, cells, "level", LEVELS)
        if len(cells["name"]) > 200:
            row_errors.append(RowError(line, ErrorKind.INVALID_VALUE, "name is too long", "name"))
        if code and code in seen:
            row_errors.append(
                RowError(line, ErrorKind.DUPLICATE, f"same code as line {seen[code]}", None, code)
            )
        if not row_errors:
            seen[code] = line
            parsed.append((line, cells))
        errors += row_errors
    defined = set(known) | set(seen)
    for line, cells in parsed:
        parent = cells["parent_code"]
        if parent and (parent not in defined or parent == cells["insee_code"]):
            errors.append(
                RowError(
                    line,
                    ErrorKind.UNKNOWN_CODE,
                    f"unknown parent territory '{parent}'",
                    "parent_code",
                    parent,
                )
            )
    if count == 0:
        errors.append(RowError(None, ErrorKind.EMPTY_FILE, "the file has no data rows"))
    rows_out = tuple(
        {
            "code": c["insee_code"],
            "level": c["level"],
            "name": c["name"],
            "parent_code": c["parent_code"] or None,
        }
        for _, c in parsed
    )
    return ReferenceReport(tuple(errors), rows_out, count)


def validate_sectors(
    header: Sequence[str], rows: Iterable[Mapping[Any, object]]
) -> ReferenceReport:
    """Columns sector, label, sphere (``presentielle`` or ``productive``)."""
    required: tuple[str, ...] = ("sector", "label", "sphere")
    errors = _header(header, required, ())
    if any(e.kind is ErrorKind.MISSING_COLUMN for e in errors):
        return ReferenceReport(tuple(errors), (), 0)
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    count = 0
    for count, row in enumerate(rows, start=1):
        line = count + 1
        cells, row_errors = _cells(line, row, required, ())
        sector = cells["sector"]
        if sector and not _LABEL.fullmatch(sector):
            row_errors.append(
                RowError(
                    line, ErrorKind.INVALID_VALUE, f"'{sector}' is not a sector code", "sector"
                )
            )
        row_errors += _choice(line, cells, "sphere", SPHERES)
        if sector in seen:
            row_errors.append(
                RowError(line, ErrorKind.DUPLICATE, f"same sector as line {seen[sector]}")
            )
        if not row_errors:
            seen[sector] = line
            out.append({"code": sector, "label": cells["label"][:200], "sphere": cells["sphere"]})
        errors += row_errors
    if count == 0:
        errors.append(RowError(None, ErrorKind.EMPTY_FILE, "the file has no data rows"))
    return ReferenceReport(tuple(errors), tuple(out), count)


def _date(line: int, cells: dict[str, str], column: str, errors: list[RowError]) -> date | None:
    raw = cells[column]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(
            RowError(
                line, ErrorKind.INVALID_DATE, f"{column} '{raw}' is not a date (YYYY-MM-DD)", column
            )
        )
        return None


def validate_perimeters(
    header: Sequence[str], rows: Iterable[Mapping[Any, object]], *, communes: Collection[str]
) -> tuple[tuple[RowError, ...], tuple[PerimeterVersion, ...], int]:
    """Columns perimeter_kind, perimeter_code, name, commune_code, valid_from[, valid_to].

    One line per commune of a version; the lines of one version (kind, code, valid_from)
    must agree on name and valid_to; each commune must be a known commune.
    """
    required = ("perimeter_kind", "perimeter_code", "name", "commune_code", "valid_from")
    optional = ("valid_to",)
    errors = _header(header, required, optional)
    if any(e.kind is ErrorKind.MISSING_COLUMN for e in errors):
        return tuple(errors), (), 0
    versions: dict[tuple[str, str, date], dict[str, Any]] = {}
    count = 0
    for count, row in enumerate(rows, start=1):
        line = count + 1
        cells, row_errors = _cells(line, row, required, optional)
        row_errors += _choice(line, cells, "perimeter_kind", PERIMETER_KINDS)
        if cells["perimeter_code"] and not _LABEL.fullmatch(cells["perimeter_code"]):
            row_errors.append(
                RowError(
                    line,
                    ErrorKind.INVALID_VALUE,
                    "perimeter_code must be 1-40 letters, digits, '_', '.' or '-'",
                    "perimeter_code",
                )
            )
        start = _date(line, cells, "valid_from", row_errors)
        end = _date(line, cells, "valid_to", row_errors)
        if start and end and end <= start:
            row_errors.append(
                RowError(
                    line, ErrorKind.INVALID_DATE, "valid_to must be after valid_from", "valid_to"
                )
            )
        commune = cells["commune_code"]
        if commune and commune not in communes:
            row_errors.append(
                RowError(
                    line,
                    ErrorKind.UNKNOWN_CODE,
                    f"unknown commune '{commune}'",
                    "commune_code",
                    commune,
                )
            )
        if row_errors or start is None:
            errors += row_errors
            continue
        key = (cells["perimeter_kind"], cells["perimeter_code"], start)
        version = versions.setdefault(
            key, {"name": cells["name"][:200], "valid_to": end, "communes": {}, "line": line}
        )
        if version["name"] != cells["name"][:200] or version["valid_to"] != end:
            errors.append(
                RowError(
                    line,
                    ErrorKind.INVALID_VALUE,
                    f"name or valid_to differs from line {version['line']} of this version",
                )
            )
        elif commune in version["communes"]:
            errors.append(
                RowError(
                    line,
                    ErrorKind.DUPLICATE,
                    f"same commune as line {version['communes'][commune]}",
                    None,
                    commune,
                )
            )
        else:
            version["communes"][commune] = line
    if count == 0:
        errors.append(RowError(None, ErrorKind.EMPTY_FILE, "the file has no data rows"))
    out = tuple(
        PerimeterVersion(kind, code, v["name"], start, v["valid_to"], frozenset(v["communes"]))
        for (kind, code, start), v in sorted(versions.items())
    )
    return tuple(errors), out, count
