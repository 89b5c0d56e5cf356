"""Load the illustrative Rhône-Alpes demo dataset (``demo/data/``; figures are NOT official).

``load_demo_data(session)`` validates the files like an import and upserts them, so running
it twice changes nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.errors import InvalidInput
from services.diagnostics.imports.rules.reference_data import validate_sectors, validate_territories
from services.diagnostics.imports.rules.yearly_data import (
    SECTOR_EMPLOYMENT_SCHEMA,
    TERRITORY_YEAR_SCHEMA,
    validate_table,
)
from services.diagnostics.indicators.service import figures
from services.diagnostics.territories.service import save as save_territories

DEMO_DIR = Path(__file__).resolve().parent / "data"


def _read(name: str) -> tuple[list[str], list[dict[Any, object]]]:
    with (DEMO_DIR / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), [dict(row) for row in reader]


def _ok(report: Any, name: str) -> None:
    if report.errors:
        raise InvalidInput(f"demo file {name} is invalid: {report.errors[0].message}")


async def demo_sectors(session: AsyncSession) -> list[dict[str, Any]]:
    """Upsert the demo's sectors (``sectors.csv``) and return them."""
    sectors = validate_sectors(*_read("sectors.csv"))
    _ok(sectors, "sectors.csv")
    await figures.save_sectors(session, list(sectors.rows))
    return list(sectors.rows)


async def load_demo_data(session: AsyncSession) -> dict[str, int]:
    """Upsert the demo territories, sectors, yearly figures and employment; return counts."""
    territories = validate_territories(*_read("territories.csv"), known=())
    _ok(territories, "territories.csv")
    # Parents first: the file lists the région, then départements, then the others.
    await save_territories(session, list(territories.rows))
    await demo_sectors(session)
    known = {row["code"] for row in territories.rows}
    header, rows = _read("territory_years.csv")
    years = validate_table(header, rows, schema=TERRITORY_YEAR_SCHEMA, known_codes=known)
    _ok(years, "territory_years.csv")
    year_rows = [
        {
            "code": r.code,
            "year": r.year,
            "consumption_potential_eur": None,
            "local_spending_eur": None,
            **r.values,
            "source": r.text.get("source", ""),
            "import_id": None,
        }
        for r in years.rows
    ]
    await figures.save_territory_years(session, year_rows)
    header, rows = _read("employment_by_sector.csv")
    jobs = validate_table(header, rows, schema=SECTOR_EMPLOYMENT_SCHEMA, known_codes=known)
    _ok(jobs, "employment_by_sector.csv")
    await figures.save_sector_employment(
        session,
        [
            {
                "code": r.code,
                "year": r.year,
                "sector": r.keys[0],
                "jobs": r.values["jobs"],
                "import_id": None,
            }
            for r in jobs.rows
        ],
    )
    await figures.data_changed(session)
    await session.flush()
    return {
        "territories": len(territories.rows),
        "territory_years": len(year_rows),
        "sector_rows": len(jobs.rows),
    }
