"""Imports of reference files and yearly data: all or nothing, with a line-by-line report.

The import row is written and updated in its own short transactions, so a client polling
``GET /imports/{id}`` sees the progress of a long import and the report of a rejected one;
the data itself is written in the request's transaction, which also marks the import
succeeded, so a failed import leaves no data behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from services.diagnostics.service.errors import ImportRejected
from services.diagnostics.store import repository as repo
from services.diagnostics.store.models import Import
from shared.problems import Forbidden

MAX_REPORTED_ERRORS = 1000
PROGRESS_CHUNK = 500

Row = Mapping[Any, object]


class ImportKind(StrEnum):
    TERRITORIES = "territories"
    SECTORS = "sectors"
    PERIMETERS = "perimeters"
    TERRITORY_YEARS = "territory-years"
    SECTOR_EMPLOYMENT = "sector-employment"

    @property
    def admin_act(self) -> bool:
        """True for reference data no territory owns: the sectors and their spheres decide
        every territory's engines, so importing them is the administrator's act."""
        return self is ImportKind.SECTORS


def error_dict(error: RowError) -> dict[str, Any]:
    out = asdict(error)
    out["kind"] = error.kind.value
    return out


class _Plan:
    """What a validated file will write: batches of rows for one repository function."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.codes: set[str] = set()
        self.rows: list[Any] = []
        self.rows_checked = 0


async def _plan(
    session: AsyncSession,
    kind: ImportKind,
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    import_id: uuid.UUID,
    expected_years: Collection[int] | None,
) -> _Plan:
    plan = _Plan()
    known = await repo.territory_codes(session)
    if kind is ImportKind.TERRITORIES:
        report = validate_territories(header, rows, known=known)
        plan.errors, plan.rows = list(report.errors), list(report.rows)
        plan.codes = {row["code"] for row in report.rows}
        plan.rows_checked = report.rows_checked
    elif kind is ImportKind.SECTORS:
        report = validate_sectors(header, rows)
        plan.errors, plan.rows, plan.rows_checked = (
            list(report.errors),
            list(report.rows),
            report.rows_checked,
        )
    elif kind is ImportKind.PERIMETERS:
        communes = {code for code, level in known.items() if level == "commune"}
        errors, versions, checked = validate_perimeters(header, rows, communes=communes)
        plan.errors, plan.rows, plan.rows_checked = list(errors), list(versions), checked
        plan.codes = {c for v in versions for c in v.communes}
    elif kind is ImportKind.TERRITORY_YEARS:
        table = validate_table(
            header,
            rows,
            schema=TERRITORY_YEAR_SCHEMA,
            known_codes=known,
            expected_years=expected_years,
        )
        _plan_territory_years(plan, table, import_id)
    else:
        table = validate_table(
            header,
            rows,
            schema=SECTOR_EMPLOYMENT_SCHEMA,
            known_codes=known,
            expected_years=expected_years,
        )
        _plan_sector_jobs(plan, table, import_id, await repo.sector_spheres(session))
    return plan


def _plan_territory_years(plan: _Plan, table: ValidationReport, import_id: uuid.UUID) -> None:
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
    plan: _Plan, table: ValidationReport, import_id: uuid.UUID, sectors: Collection[str]
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


async def _write(session: AsyncSession, kind: ImportKind, batch: Sequence[Any]) -> None:
    if kind is ImportKind.TERRITORIES:
        await repo.upsert_territories(session, batch)
    elif kind is ImportKind.SECTORS:
        await repo.upsert_sectors(session, batch)
    elif kind is ImportKind.TERRITORY_YEARS:
        await repo.upsert_territory_years(session, batch)
    elif kind is ImportKind.SECTOR_EMPLOYMENT:
        await repo.upsert_sector_employment(session, batch)
    else:
        for version in batch:
            await repo.save_perimeter_version(
                session,
                kind=version.kind,
                code=version.code,
                name=version.name,
                valid_from=version.valid_from,
                valid_to=version.valid_to,
                communes=version.communes,
            )


def _ordered_territories(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


async def run_import(
    session: AsyncSession,
    *,
    session_factory: async_sessionmaker[AsyncSession],
    client_id: str,
    kind: ImportKind,
    header: Sequence[str],
    rows: Sequence[Row],
    may_access: Callable[[str], bool],
    expected_years: Collection[int] | None = None,
) -> Import:
    """Validate the whole file, then write it in the caller's transaction, or write nothing."""
    import_id = uuid.uuid4()
    async with session_factory() as side, side.begin():
        side.add(
            Import(
                id=import_id,
                kind=kind.value,
                status="running",
                client_id=client_id,
                rows_total=len(rows),
            )
        )

    async def reject(errors: list[RowError], checked: int) -> None:
        report = {
            "rows_checked": checked,
            "error_count": len(errors),
            "errors": [error_dict(e) for e in errors[:MAX_REPORTED_ERRORS]],
        }
        async with session_factory() as side, side.begin():
            await repo.set_import(
                side, import_id, status="rejected", report=report, finished_at=datetime.now(UTC)
            )
        raise ImportRejected(
            f"{len(errors)} error(s) in the file; nothing was imported",
            import_id=str(import_id),
            **report,
        )

    plan = await _plan(
        session, kind, header, rows, import_id=import_id, expected_years=expected_years
    )
    if plan.errors:
        await reject(plan.errors, plan.rows_checked)
    refused = sorted(code for code in plan.codes if not may_access(code))
    if refused:
        async with session_factory() as side, side.begin():
            await repo.set_import(
                side,
                import_id,
                status="rejected",
                finished_at=datetime.now(UTC),
                report={"error_count": 1, "errors": [], "refused": refused[:50]},
            )
        raise Forbidden(
            f"client {client_id!r} may not import data of territories {refused[:10]}",
            import_id=str(import_id),
        )
    batch_rows = _ordered_territories(plan.rows) if kind is ImportKind.TERRITORIES else plan.rows
    done = 0
    try:
        for start in range(0, len(batch_rows), PROGRESS_CHUNK):
            batch = batch_rows[start : start + PROGRESS_CHUNK]
            await _write(session, kind, batch)
            await session.flush()
            done += len(batch)
            async with session_factory() as side, side.begin():
                await repo.set_import(side, import_id, rows_done=done)
    except IntegrityError as exc:
        await reject(
            [RowError(None, ErrorKind.INVALID_VALUE, f"the database refused the data: {exc.orig}")],
            plan.rows_checked,
        )
    await repo.bump_data_version(session)
    await repo.set_import(
        session,
        import_id,
        status="succeeded",
        rows_done=done,
        finished_at=datetime.now(UTC),
        report={
            "rows_checked": plan.rows_checked,
            "rows_imported": done,
            "error_count": 0,
            "errors": [],
        },
    )
    await session.flush()
    imported = await session.get(Import, import_id, populate_existing=True)
    assert imported is not None
    return imported
