"""Imports of reference files and yearly data: all or nothing, with a line-by-line report.

The import row is written and updated in its own short transactions, so a client polling
``GET /imports/{id}`` sees the progress of a long import and the report of a rejected one;
the data itself is written in the request's transaction, which also marks the import
succeeded, so a failed import leaves no data behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.diagnostics.geography import service as geography
from services.diagnostics.http.scopes import ADMIN
from services.diagnostics.imports import repository
from services.diagnostics.imports.errors import ImportNotFound, ImportRejected
from services.diagnostics.imports.models import Import
from services.diagnostics.imports.rules.employment_file import named_in_file, read_employment
from services.diagnostics.imports.rules.plans import (
    ImportKind,
    Plan,
    Row,
    error_dict,
    parents_first,
    plan_file,
)
from services.diagnostics.imports.rules.yearly_data import ErrorKind, RowError
from services.diagnostics.incomes import service as incomes
from services.diagnostics.indicators.service import figures
from services.diagnostics.perimeters import service as perimeters
from services.diagnostics.territories import service as territories
from shared.auth import Principal
from shared.problems import Forbidden

MAX_REPORTED_ERRORS = 1000
CARRIED = (ImportKind.TERRITORY_YEARS, ImportKind.SECTOR_EMPLOYMENT)
"""Figures files that ``?geography_year=`` carries onto one geography (passage table)."""
PROGRESS_CHUNK = 10_000
"""Rows written (one COPY and merge) between two progress reports, each its own committed
transaction: 500 made France's 3.5 million file rows 7,000 merges and 7,000 commits of
the side session; 10,000 still reports a jobs-by-sector file of France about 30 times."""


def ensure_may_import(principal: Principal, kind: ImportKind) -> None:
    """Sectors are reference data of every territory: importing them is an admin act."""
    if kind.admin_act and ADMIN not in principal.scopes and not principal.is_admin:
        raise Forbidden(f"importing {kind.value} is an admin act: scope {ADMIN!r} required")


async def list_imports(
    session: AsyncSession,
    principal: Principal,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Import]:
    """Imports, oldest first (a client sees its own; an admin sees all)."""
    return await repository.list_readable(session, principal, after=after, limit=limit)


async def get_import(session: AsyncSession, principal: Principal, import_id: uuid.UUID) -> Import:
    """One import the client may read (its own, or any for an admin)."""
    found = await repository.get_readable(session, principal, import_id)
    if found is None:
        raise ImportNotFound(f"no import {import_id}")
    return found


async def _plan(
    session: AsyncSession,
    kind: ImportKind,
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    import_id: uuid.UUID,
    expected_years: Collection[int] | None,
    geography_year: int | None,
    extra_sectors: Mapping[str, dict[str, str]] | None = None,
    level: str = "commune",
    year: int | None = None,
) -> Plan:
    """What the file will write, or its errors. An official statistics file is first
    translated into the project's own format; ``extra_sectors``: sectors of INSEE's
    published list the file names, added when the table lacks them."""
    if kind is ImportKind.INSEE_EMPLOYMENT:
        translated = read_employment(header, rows)
        if translated.errors and not translated.rows:
            plan = Plan()
            plan.errors, plan.rows_checked = translated.errors, len(rows)
            return plan
        plan = await _plan(
            session,
            kind.stored_as,
            translated.header,
            translated.rows,
            import_id=import_id,
            expected_years=expected_years,
            geography_year=geography_year,
            extra_sectors=translated.sectors,
        )
        plan.errors = named_in_file(translated.errors, plan.errors, translated.columns)
        return plan
    known = await territories.levels(session)
    if kind.dataset is not None:
        geography_year = await incomes.geography_year(session, geography_year)
    if geography_year is not None and kind in CARRIED:
        rows, refused = await geography.carry_over(session, kind.value, rows, target=geography_year)
        if refused:
            plan = Plan()
            plan.errors = [
                RowError(
                    line,
                    ErrorKind.UNKNOWN_CODE,
                    f"commune {code} scindée depuis : ses chiffres ne peuvent être reportés "
                    f"sur la géographie {geography_year}",
                    "insee_code",
                    code,
                )
                for line, code in refused
            ]
            return plan
    sectors: Collection[str] = ()
    missing: list[dict[str, str]] = []
    if kind is ImportKind.SECTOR_EMPLOYMENT:
        stored = await figures.sector_spheres(session)
        missing = [row for code, row in (extra_sectors or {}).items() if code not in stored]
        sectors = set(stored) | {row["code"] for row in missing}
    plan = plan_file(
        kind,
        header,
        rows,
        known=known,
        sectors=sectors,
        import_id=import_id,
        expected_years=expected_years,
        geography_year=geography_year,
        level=level,
        year=year,
    )
    plan.reference_sectors = missing
    return plan


async def _write(session: AsyncSession, kind: ImportKind, batch: Sequence[Any]) -> None:
    if kind.official_geography:
        for parsed in batch:
            await geography.save_parsed(session, parsed)
    elif kind is ImportKind.TERRITORIES:
        await territories.save(session, batch)
    elif kind is ImportKind.SECTORS:
        await figures.save_sectors(session, batch)
    elif kind is ImportKind.TERRITORY_YEARS:
        await figures.save_territory_years(session, batch)
    elif kind is ImportKind.SECTOR_EMPLOYMENT:
        await figures.save_sector_employment(session, batch)
    elif kind.dataset is not None:
        await incomes.save(session, batch, kind.dataset)
    else:
        for version in batch:
            await perimeters.save_version(session, version)


async def run_import(
    session: AsyncSession,
    principal: Principal,
    *,
    session_factory: async_sessionmaker[AsyncSession],
    kind: ImportKind,
    header: Sequence[str],
    rows: Sequence[Row],
    expected_years: Collection[int] | None = None,
    geography_year: int | None = None,
    level: str = "commune",
    year: int | None = None,
) -> Import:
    """Validate the whole file, then write it in the caller's transaction, or write nothing;
    every territory the file names must be one the client is bound to."""
    import_id = uuid.uuid4()
    client_id = principal.client_id
    async with session_factory() as side, side.begin():
        repository.add(
            side, import_id=import_id, kind=kind.value, client_id=client_id, rows_total=len(rows)
        )

    async def reject(errors: list[RowError], checked: int) -> None:
        report = {
            "rows_checked": checked,
            "error_count": len(errors),
            "errors": [error_dict(e) for e in errors[:MAX_REPORTED_ERRORS]],
        }
        async with session_factory() as side, side.begin():
            await repository.update_import(
                side, import_id, status="rejected", report=report, finished_at=datetime.now(UTC)
            )
        raise ImportRejected(
            f"{len(errors)} error(s) in the file; nothing was imported",
            import_id=str(import_id),
            **report,
        )

    plan = await _plan(
        session,
        kind,
        header,
        rows,
        import_id=import_id,
        expected_years=expected_years,
        geography_year=geography_year,
        level=level,
        year=year,
    )
    if plan.errors:
        await reject(plan.errors, plan.rows_checked)
    refused = sorted(code for code in plan.codes if not principal.may_access("territories", code))
    if refused:
        async with session_factory() as side, side.begin():
            await repository.update_import(
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
    batch_rows = parents_first(plan.rows) if kind is ImportKind.TERRITORIES else plan.rows
    done = 0
    try:
        if plan.reference_sectors:
            await figures.add_reference_sectors(session, plan.reference_sectors)
        for start in range(0, len(batch_rows), PROGRESS_CHUNK):
            batch = batch_rows[start : start + PROGRESS_CHUNK]
            await _write(session, kind.stored_as, batch)
            await session.flush()
            done += len(batch)
            async with session_factory() as side, side.begin():
                await repository.update_import(side, import_id, rows_done=done)
    except (IntegrityError, DataError) as exc:  # a constraint, or a value out of a column's range
        await reject(
            [RowError(None, ErrorKind.INVALID_VALUE, f"the database refused the data: {exc.orig}")],
            plan.rows_checked,
        )
    await figures.data_changed(session)
    await repository.update_import(
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
    imported = await repository.reloaded(session, import_id)
    assert imported is not None
    return imported


# --- jobs: long loads that answer 202 and report through the imports table ----------------
ABANDONED_AFTER = timedelta(minutes=10)
"""A job still "running" this long after it started was cut short (its process stopped)."""


async def running_job(session: AsyncSession, kind: str) -> Import | None:
    """The job of ``kind`` running now, if any (an abandoned one does not count)."""
    return await repository.running_of_kind(
        session, kind, since=datetime.now(UTC) - ABANDONED_AFTER
    )


async def open_job(session: AsyncSession, *, kind: str, client_id: str, steps: int) -> uuid.UUID:
    job_id = uuid.uuid4()
    repository.add(session, import_id=job_id, kind=kind, client_id=client_id, rows_total=steps)
    await session.flush()
    return job_id


async def job_progress(session: AsyncSession, job_id: uuid.UUID, done: int) -> None:
    await repository.update_import(session, job_id, rows_done=done)


async def close_job(
    session: AsyncSession, job_id: uuid.UUID, *, succeeded: bool, report: dict[str, Any]
) -> None:
    await repository.update_import(
        session,
        job_id,
        status="succeeded" if succeeded else "rejected",
        report=report,
        finished_at=datetime.now(UTC),
    )


async def job(session: AsyncSession, job_id: uuid.UUID) -> Import | None:
    return await repository.reloaded(session, job_id)
