"""Every query of progress reports and of the figures per programme and envelope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.db.repository import get
from services.funding.reports.models import ProgressReport
from services.funding.tenancy.clauses import visible_territory
from shared.auth import Principal


async def progress_report(
    session: AsyncSession, report_id: uuid.UUID, *, lock: bool = False
) -> ProgressReport:
    return await get(session, ProgressReport, report_id, lock=lock)


async def awaiting_review(session: AsyncSession, application_id: uuid.UUID, kind: str) -> int:
    """How many reports of this kind on the file await review."""
    pending = await session.scalar(
        select(func.count())
        .select_from(ProgressReport)
        .where(
            ProgressReport.application_id == application_id,
            ProgressReport.kind == kind,
            ProgressReport.status == "submitted",
        )
    )
    return int(pending or 0)


async def last_number(session: AsyncSession, application_id: uuid.UUID, kind: str) -> int:
    """The number of the file's last report of this kind (0 when none)."""
    previous = await session.scalar(
        select(func.coalesce(func.max(ProgressReport.number), 0)).where(
            ProgressReport.application_id == application_id, ProgressReport.kind == kind
        )
    )
    return int(previous or 0)


def _readable_files(
    principal: Principal, envelope_ids: Sequence[uuid.UUID]
) -> list[ColumnElement[bool]]:
    """The files of these envelopes in the principal's territories."""
    return [Application.envelope_id.in_(envelope_ids), visible_territory(principal)]


async def applications_by_state(
    session: AsyncSession, principal: Principal, envelope_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    result = await session.execute(
        select(Application.state, func.count())
        .where(*_readable_files(principal, envelope_ids))
        .group_by(Application.state)
    )
    return {state: int(count) for state, count in result.all()}


async def figures_by_territory(
    session: AsyncSession, principal: Principal, envelope_ids: Sequence[uuid.UUID]
) -> Sequence[Row[str, int, int, int, int]]:
    """Per territory: files, requested, granted and paid cents, ordered by territory."""
    granted = func.coalesce(Application.granted_amount_cents, 0)
    result = await session.execute(
        select(
            Application.territory,
            func.count(),
            func.sum(Application.requested_amount_cents),
            func.sum(granted),
            func.sum(Application.paid_cents),
        )
        .where(*_readable_files(principal, envelope_ids))
        .group_by(Application.territory)
        .order_by(Application.territory)
    )
    return result.all()


async def indicators(
    session: AsyncSession, principal: Principal, envelope_ids: Sequence[uuid.UUID]
) -> Row[int, int, int, int]:
    """Projects reporting, and the sums of jobs, members and turnover, over the latest
    accepted report of each file (final first, then the last intermediate)."""
    latest = (
        select(
            ProgressReport.jobs_created,
            ProgressReport.members,
            ProgressReport.turnover_cents,
        )
        .join(Application, Application.id == ProgressReport.application_id)
        .where(ProgressReport.status == "accepted", *_readable_files(principal, envelope_ids))
        .ext(distinct_on(ProgressReport.application_id))
        .order_by(
            ProgressReport.application_id,
            (ProgressReport.kind == "final").desc(),
            ProgressReport.number.desc(),
        )
        .subquery()
    )
    result = await session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(latest.c.jobs_created), 0),
            func.coalesce(func.sum(latest.c.members), 0),
            func.coalesce(func.sum(latest.c.turnover_cents), 0),
        ).select_from(latest)
    )
    return result.one()
