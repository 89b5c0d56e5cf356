"""What a validated file will write: the kinds of import, and each file's rows planned for
its writes (or the errors that refuse it), without I/O."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict
from enum import StrEnum
from typing import Any

from services.diagnostics.imports.rules.official import plan_official
from services.diagnostics.imports.rules.reference_data import (
    validate_perimeters,
    validate_sectors,
    validate_territories,
)
from services.diagnostics.imports.rules.yearly_data import (
    SECTOR_EMPLOYMENT_SCHEMA,
    TERRITORY_YEAR_SCHEMA,
    ErrorKind,
    RowError,
    ValidationReport,
    validate_table,
)
from services.diagnostics.incomes.rules.cells import FileRows
from services.diagnostics.incomes.rules.filosofi import read_filosofi
from services.diagnostics.incomes.rules.ircom import read_ircom
from services.diagnostics.incomes.rules.layouts import HOUSING, TOURISM, read_layout

Row = Mapping[Any, object]
OFFICIAL_KINDS = frozenset(
    {"cog-communes", "cog-mouvements", "zones-emploi-2020", "zones-emploi-2010", "epci-composition"}
)


class ImportKind(StrEnum):
    TERRITORIES = "territories"
    SECTORS = "sectors"
    PERIMETERS = "perimeters"
    TERRITORY_YEARS = "territory-years"
    SECTOR_EMPLOYMENT = "sector-employment"
    COG_COMMUNES = "cog-communes"
    COG_MOUVEMENTS = "cog-mouvements"
    ZONES_EMPLOI_2020 = "zones-emploi-2020"
    ZONES_EMPLOI_2010 = "zones-emploi-2010"
    EPCI_COMPOSITION = "epci-composition"
    INSEE_EMPLOYMENT = "insee-employment"
    FILOSOFI = "filosofi"
    IRCOM = "ircom"
    TOURISM_CAPACITY = "tourism-capacity"
    CENSUS_HOUSING = "census-housing"

    @property
    def official_geography(self) -> bool:
        """INSEE's reference files in their published layouts (geography/rules/insee.py)."""
        return self.value in OFFICIAL_KINDS

    @property
    def stored_as(self) -> ImportKind:
        """The project's own format an official statistics file is translated into (its
        rows then go through that format's carry-over, validation and writes)."""
        return ImportKind.SECTOR_EMPLOYMENT if self is ImportKind.INSEE_EMPLOYMENT else self

    @property
    def dataset(self) -> str | None:
        """The incomes dataset an official income or capacity file is stored in."""
        return _DATASETS.get(self.value)

    @property
    def admin_act(self) -> bool:
        """True for reference data no territory owns: the sectors and their spheres decide
        every territory's engines, so importing them is the administrator's act."""
        return self is ImportKind.SECTORS


_DATASETS = {
    "filosofi": "filosofi",
    "ircom": "income_tax",
    "tourism-capacity": "tourism",
    "census-housing": "housing",
}


def error_dict(error: RowError) -> dict[str, Any]:
    out = asdict(error)
    out["kind"] = error.kind.value
    return out


class Plan:
    """What a validated file will write: batches of rows for one repository function."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.codes: set[str] = set()
        self.rows: list[Any] = []
        self.rows_checked = 0
        self.reference_sectors: list[dict[str, str]] = []
        """Sectors of INSEE's published list the file needs and the table lacks."""


def plan_file(
    kind: ImportKind,
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    known: Mapping[str, str],
    sectors: Collection[str],
    import_id: uuid.UUID,
    expected_years: Collection[int] | None,
    geography_year: int | None = None,
    level: str = "commune",
    year: int | None = None,
) -> Plan:
    """Validate the file against the known territories (code → level) and ``sectors``;
    INSEE's reference files against the geography of 1 January ``geography_year``;
    a Filosofi, tourism or census file against the territories of its ``level``; an IRCOM
    file as the incomes of ``year``."""
    out = Plan()
    if kind.dataset is not None:
        incomes = _read_incomes(kind, header, rows, level=level, known=known, year=year)
        out.errors, out.rows_checked = incomes.errors, incomes.rows_checked
        out.rows = [
            {**row, "import_id": import_id, "geography_year": geography_year}
            for row in incomes.rows
        ]
        out.codes = {row["code"] for row in incomes.rows}
    elif kind.official_geography:
        parsed = plan_official(kind.value, header, rows, known=known, year=geography_year)
        out.errors, out.rows_checked = parsed.errors, parsed.rows_checked
        out.rows = [] if parsed.errors else [parsed]
        out.codes = parsed.codes
    elif kind is ImportKind.TERRITORIES:
        report = validate_territories(header, rows, known=known)
        out.errors, out.rows = list(report.errors), list(report.rows)
        out.codes = {row["code"] for row in report.rows}
        out.rows_checked = report.rows_checked
    elif kind is ImportKind.SECTORS:
        report = validate_sectors(header, rows)
        out.errors, out.rows, out.rows_checked = (
            list(report.errors),
            list(report.rows),
            report.rows_checked,
        )
    elif kind is ImportKind.PERIMETERS:
        communes = {code for code, level in known.items() if level == "commune"}
        errors, versions, checked = validate_perimeters(header, rows, communes=communes)
        out.errors, out.rows, out.rows_checked = list(errors), list(versions), checked
        out.codes = {c for v in versions for c in v.communes}
    elif kind is ImportKind.TERRITORY_YEARS:
        table = validate_table(
            header,
            rows,
            schema=TERRITORY_YEAR_SCHEMA,
            known_codes=known,
            expected_years=expected_years,
        )
        _plan_territory_years(out, table, import_id)
    else:
        table = validate_table(
            header,
            rows,
            schema=SECTOR_EMPLOYMENT_SCHEMA,
            known_codes=known,
            expected_years=expected_years,
        )
        _plan_sector_jobs(out, table, import_id, sectors)
    return out


def _read_incomes(
    kind: ImportKind,
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    level: str,
    known: Mapping[str, str],
    year: int | None,
) -> Any:
    if kind is ImportKind.FILOSOFI:
        return read_filosofi(header, rows, level=level, known=known)
    if kind is ImportKind.IRCOM:
        return read_ircom(header, rows, year=year, known=known)
    layout = TOURISM if kind is ImportKind.TOURISM_CAPACITY else HOUSING
    read: FileRows = read_layout(header, rows, layout=layout, level=level, known=known)
    return read


def _plan_territory_years(plan: Plan, table: ValidationReport, import_id: uuid.UUID) -> None:
    """Yearly rows, refusing local spending above the consumption potential."""
    plan.errors, plan.rows_checked = list(table.errors), table.rows_checked
    for row in table.rows:
        values: dict[str, int | None] = dict(row.values)
        potential = values.get("consumption_potential_eur")
        spending = values.get("local_spending_eur")
        if potential is not None and spending is not None and spending > potential:
            plan.errors.append(
                RowError(
                    row.line,
                    ErrorKind.INVALID_VALUE,
                    "local_spending_eur must not exceed consumption_potential_eur",
                    "local_spending_eur",
                    row.code,
                )
            )
            continue
        values.setdefault("consumption_potential_eur", None)
        values.setdefault("local_spending_eur", None)
        source = row.text.get("source", "")
        plan.rows.append(
            {"code": row.code, "year": row.year, **values, "source": source, "import_id": import_id}
        )
        plan.codes.add(row.code)


def _plan_sector_jobs(
    plan: Plan, table: ValidationReport, import_id: uuid.UUID, sectors: Collection[str]
) -> None:
    """Jobs by sector, refusing sectors that were not imported first."""
    plan.errors, plan.rows_checked = list(table.errors), table.rows_checked
    for row in table.rows:
        sector = row.keys[0]
        if sector not in sectors:
            plan.errors.append(
                RowError(
                    row.line,
                    ErrorKind.UNKNOWN_CODE,
                    f"unknown sector '{sector}'",
                    "sector",
                    row.code,
                )
            )
            continue
        plan.rows.append(
            {
                "code": row.code,
                "year": row.year,
                "sector": sector,
                "jobs": row.values["jobs"],
                "import_id": import_id,
            }
        )
        plan.codes.add(row.code)


def parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents before children, so a chunk never names a parent not yet written."""
    by_code = {row["code"]: row for row in rows}
    depth: dict[str, int] = {}

    def level(code: str, seen: frozenset[str] = frozenset()) -> int:
        if code not in depth:
            parent = by_code[code]["parent_code"]
            inside = parent in by_code and parent not in seen
            depth[code] = level(parent, seen | {code}) + 1 if inside else 0
        return depth[code]

    return sorted(rows, key=lambda row: (level(row["code"]), row["code"]))
