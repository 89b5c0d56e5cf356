"""Fixtures for the diagnostics domain tests: the illustrative demo dataset, parsed."""

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.diagnostics.imports.rules.yearly_data import (
    SECTOR_EMPLOYMENT_SCHEMA,
    TERRITORY_YEAR_SCHEMA,
    ValidationReport,
    territory_year_from_row,
    validate_table,
)
from services.diagnostics.indicators.rules.indicators import TerritoryYear

DEMO = Path(__file__).resolve().parents[3] / "services" / "diagnostics" / "demo" / "data"


@dataclass(frozen=True)
class Demo:
    territories: dict[str, dict[str, str]]
    sectors: dict[str, dict[str, str]]
    years_report: ValidationReport
    sectors_report: ValidationReport
    by_key: dict[tuple[str, int], TerritoryYear]

    def year(self, year: int) -> list[TerritoryYear]:
        return [t for (_, y), t in sorted(self.by_key.items()) if y == year]

    def reference_sectors(self, year: int) -> dict[str, int]:
        """The région's jobs by sector: the sum over its départements."""
        total: dict[str, int] = {}
        for t in self.year(year):
            if self.territories[t.code]["level"] == "departement":
                for sector, jobs in t.sector_jobs.items():
                    total[sector] = total.get(sector, 0) + jobs
        return total


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DEMO / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="session")
def demo() -> Demo:
    _, territory_rows = _read("territories.csv")
    _, sector_rows = _read("sectors.csv")
    territories = {row["insee_code"]: row for row in territory_rows}
    known = set(territories)
    header, rows = _read("territory_years.csv")
    years_report = validate_table(
        header, rows, schema=TERRITORY_YEAR_SCHEMA, known_codes=known, expected_years={2014, 2019}
    )
    header, rows = _read("employment_by_sector.csv")
    sectors_report = validate_table(
        header, rows, schema=SECTOR_EMPLOYMENT_SCHEMA, known_codes=known
    )
    jobs: dict[tuple[str, int], dict[str, int]] = {}
    for row in sectors_report.rows:
        jobs.setdefault((row.code, row.year), {})[row.keys[0]] = row.values["jobs"]
    by_key = {
        (row.code, row.year): territory_year_from_row(
            row,
            name=territories[row.code]["name"],
            sector_jobs=jobs.get((row.code, row.year), {}),
        )
        for row in years_report.rows
    }
    return Demo(
        territories=territories,
        sectors={row["sector"]: row for row in sector_rows},
        years_report=years_report,
        sectors_report=sectors_report,
        by_key=by_key,
    )
