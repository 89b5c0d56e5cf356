"""Validation of imported rows (CSV or JSON), reported line by line with reasons.

The caller parses the file into a header and rows (``csv.DictReader`` gives both; JSON
objects with string or number values work too) and passes the set of known territory
codes; :func:`validate_table` returns *every* error, so the caller refuses the whole
file when the report is not empty: nothing is ever half-imported. Amounts and counts
must be whole non-negative numbers (euros, jobs, inhabitants); a column name says its
unit (``pensions_eur``, ``jobs``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from services.diagnostics.imports.rules.clean_rows import CleanRows
from services.diagnostics.imports.rules.row_format import SECRET as SECRET
from services.diagnostics.imports.rules.row_format import ImportSchema as ImportSchema
from services.diagnostics.imports.rules.row_format import ParsedRow as ParsedRow
from services.diagnostics.indicators.rules.engines import COMPONENT_NAMES, BasicIncome
from services.diagnostics.indicators.rules.indicators import FIGURE_COLUMNS, TerritoryYear

_INTEGER = re.compile(r"[+-]?\d+")
# Région/département (2–3), zone d'emploi (4), commune (5, Corsica 2A/2B), EPCI SIREN (9).
_INSEE_SHAPE = re.compile(r"\d{2,5}|2[AB]\d{0,3}|97\d{1,3}|\d{9}|R\d{2}|Z[EF][0-9AB]{4}")


class ErrorKind(StrEnum):
    """Why a line (or the file) is refused; stable values for API clients."""

    MISSING_COLUMN = "missing-column"
    UNEXPECTED_COLUMN = "unexpected-column"
    EXTRA_FIELDS = "extra-fields"
    UNKNOWN_CODE = "unknown-code"
    MISSING_VALUE = "missing-value"
    INVALID_NUMBER = "invalid-number"
    INVALID_YEAR = "invalid-year"
    NEGATIVE_AMOUNT = "negative-amount"
    DUPLICATE = "duplicate"
    MISSING_YEAR = "missing-year"
    EMPTY_FILE = "empty-file"
    INVALID_VALUE = "invalid-value"
    INVALID_DATE = "invalid-date"


@dataclass(frozen=True, slots=True)
class RowError:
    """One reason to refuse the file; ``line`` is None for file- or territory-level errors."""

    line: int | None
    kind: ErrorKind
    message: str
    column: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """All errors of a file, and its parsed rows (only meant to be used when ``ok``)."""

    errors: tuple[RowError, ...]
    rows: tuple[ParsedRow, ...]
    rows_checked: int

    @property
    def ok(self) -> bool:
        """True when the file can be imported as a whole."""
        return not self.errors


def _blank(raw: str | None) -> bool:
    return raw is None or not raw.strip()


def _as_text(value: object) -> str | None:
    """CSV cells are strings; JSON numbers are accepted too (then checked the same way)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _number(raw: str, column: str, line: int, errors: list[RowError]) -> int | None:
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        errors.append(
            RowError(
                line, ErrorKind.INVALID_NUMBER, f"{column}: '{raw}' is not a whole number", column
            )
        )
        return None
    value = int(text)
    if value < 0:
        errors.append(
            RowError(
                line, ErrorKind.NEGATIVE_AMOUNT, f"{column}: {value} must not be negative", column
            )
        )
        return None
    return value


def _header_errors(header: Sequence[str], schema: ImportSchema) -> list[RowError]:
    errors = [
        RowError(1, ErrorKind.MISSING_COLUMN, f"column '{name}' is missing", name)
        for name in schema.required_columns
        if name not in header
    ]
    errors += [
        RowError(
            1, ErrorKind.UNEXPECTED_COLUMN, f"column '{name}' is not part of this format", name
        )
        for name in header
        if name not in schema.columns
    ]
    return errors


def _check_row(
    line: int,
    row: Mapping[Any, object],
    *,
    schema: ImportSchema,
    known_codes: Collection[str],
    errors: list[RowError],
) -> ParsedRow | None:
    """Check one row, append its errors, return it parsed when it has none."""
    before = len(errors)
    if row.get(None):
        errors.append(RowError(line, ErrorKind.EXTRA_FIELDS, "more fields than columns"))
    cells = {name: row.get(name) for name in schema.columns}
    texts = {name: _as_text(value) for name, value in cells.items()}
    for name in schema.required_columns:
        if _blank(texts[name]) and name not in schema.secret_columns:
            errors.append(RowError(line, ErrorKind.MISSING_VALUE, f"{name} is empty", name))
    code = (texts[schema.code_column] or "").strip()
    if code and code not in known_codes:
        shape = "" if _INSEE_SHAPE.fullmatch(code) else " (not shaped like an INSEE/SIREN code)"
        errors.append(
            RowError(
                line,
                ErrorKind.UNKNOWN_CODE,
                f"unknown territory code '{code}'{shape}",
                schema.code_column,
                code,
            )
        )
    year: int | None = None
    year_text = (texts[schema.year_column] or "").strip()
    if year_text:
        if _INTEGER.fullmatch(year_text) and schema.min_year <= int(year_text) <= schema.max_year:
            year = int(year_text)
        else:
            errors.append(
                RowError(
                    line,
                    ErrorKind.INVALID_YEAR,
                    f"year '{year_text}' is not between {schema.min_year} and {schema.max_year}",
                    schema.year_column,
                    code or None,
                )
            )
    values: dict[str, int | None] = {}
    for name in (*schema.amount_columns, *schema.optional_columns):
        raw = texts[name]
        if name in schema.secret_columns and (_blank(raw) or raw.strip().lower() in SECRET):  # type: ignore[union-attr]
            values[name] = None
        elif raw is not None and not _blank(raw):
            number = _number(raw, name, line, errors)
            if number is not None:
                values[name] = number
    if len(errors) > before or year is None:
        return None
    return ParsedRow(
        line=line,
        code=code,
        year=year,
        keys=tuple((texts[name] or "").strip() for name in schema.key_columns),
        values=MappingProxyType(values),
        text=MappingProxyType({n: (texts[n] or "").strip() for n in schema.text_columns}),
    )


def validate_table(
    header: Sequence[str],
    rows: Iterable[Mapping[Any, object]],
    *,
    schema: ImportSchema,
    known_codes: Collection[str],
    expected_years: Collection[int] | None = None,
    first_line: int = 2,
) -> ValidationReport:
    """Check every row and return all errors with their line numbers.

    Checks: header columns (missing, unexpected); per line: extra fields, empty required
    cells, unknown territory codes, years out of range, non-integer or negative numbers,
    duplicates of an earlier line (same code, year and keys). With ``expected_years``,
    each territory present must have a row for each of those years. ``first_line`` is the
    file line of the first row (2 for a CSV with one header line).
    """
    errors = _header_errors(header, schema)
    if any(error.kind is ErrorKind.MISSING_COLUMN for error in errors):
        return ValidationReport(errors=tuple(errors), rows=(), rows_checked=0)
    parsed: list[ParsedRow] = []
    seen: dict[tuple[str, int, tuple[str, ...]], int] = {}
    count = 0
    fast = CleanRows(schema, known_codes)
    for count, row in enumerate(rows, start=1):
        line = first_line + count - 1
        result = fast(line, row) or _check_row(
            line, row, schema=schema, known_codes=known_codes, errors=errors
        )
        if result is None:
            continue
        key = (result.code, result.year, result.keys)
        if key in seen:
            errors.append(
                RowError(
                    line, ErrorKind.DUPLICATE, f"same key as line {seen[key]}", None, result.code
                )
            )
            continue
        seen[key] = line
        parsed.append(result)
    if count == 0:
        errors.append(RowError(None, ErrorKind.EMPTY_FILE, "the file has no data rows"))
    if expected_years is not None:
        present: dict[str, set[int]] = {}
        for result in parsed:
            present.setdefault(result.code, set()).add(result.year)
        for code in sorted(present):
            for year in sorted(set(expected_years) - present[code]):
                errors.append(
                    RowError(
                        None,
                        ErrorKind.MISSING_YEAR,
                        f"no row for {code} in {year}",
                        schema.year_column,
                        code,
                    )
                )
    return ValidationReport(errors=tuple(errors), rows=tuple(parsed), rows_checked=count)


TERRITORY_YEAR_SCHEMA = ImportSchema(
    amount_columns=FIGURE_COLUMNS,
    optional_columns=("consumption_potential_eur", "local_spending_eur"),
    text_columns=("source",),
)
"""Format of ``demo/data/territory_years.csv`` and of real yearly imports."""

SECTOR_EMPLOYMENT_SCHEMA = ImportSchema(
    amount_columns=("jobs",), key_columns=("sector",), secret_columns=("jobs",)
)
"""Format of ``demo/data/employment_by_sector.csv``: jobs per territory, year and sector;
a secret cell (``s``, ``nd``, blank) is stored as unknown."""


def territory_year_from_row(
    row: ParsedRow, *, name: str, sector_jobs: Mapping[str, int] | None = None
) -> TerritoryYear:
    """Build a TerritoryYear from a row validated with ``TERRITORY_YEAR_SCHEMA`` (no secret
    column: every amount is a whole number)."""
    v = {name: value or 0 for name, value in row.values.items()}
    optional = row.values
    income = BasicIncome(**{component: v[f"{component}_eur"] for component in COMPONENT_NAMES})
    return TerritoryYear(
        code=row.code,
        name=name,
        year=row.year,
        population=v["population"],
        income=income,
        jobs_presentielle=v["jobs_presentielle"],
        jobs_productive=v["jobs_productive"],
        consumption_potential=optional.get("consumption_potential_eur"),
        local_spending=optional.get("local_spending_eur"),
        sector_jobs=MappingProxyType(dict(sector_jobs or {})),
    )
