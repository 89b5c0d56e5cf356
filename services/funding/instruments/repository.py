"""Every query of the instruments: the instrument, its schedule versions, repayments,
guarantee calls and recoveries, and the rows the report aggregates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, cast, extract, func, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.db.repository import Page, Paging, get, paginate
from services.funding.instruments.models import (
    FollowUp,
    GuaranteeCall,
    InstalmentRow,
    Instrument,
    Recovery,
    Repayment,
    ScheduleVersion,
    WriteOff,
)
from services.funding.programmes.models import Envelope, Programme
from services.funding.reports.models import ProgressReport
from services.funding.tenancy.clauses import usable_envelope, visible_territory
from services.funding.tenancy.roles import is_applicant
from shared.auth import Principal


async def instrument(
    session: AsyncSession, instrument_id: uuid.UUID, *, lock: bool = False
) -> Instrument:
    return await get(session, Instrument, instrument_id, lock=lock)


async def of_application(session: AsyncSession, application_id: uuid.UUID) -> Instrument | None:
    return await session.scalar(
        select(Instrument).where(Instrument.application_id == application_id)
    )


async def versions(session: AsyncSession, instrument_id: uuid.UUID) -> Sequence[ScheduleVersion]:
    """Every schedule version of the loan, oldest first."""
    rows = await session.scalars(
        select(ScheduleVersion)
        .where(ScheduleVersion.instrument_id == instrument_id)
        .order_by(ScheduleVersion.version)
    )
    return rows.all()


async def versions_page(session: AsyncSession, instrument_id: uuid.UUID, paging: Paging) -> Page:
    statement = select(ScheduleVersion).where(ScheduleVersion.instrument_id == instrument_id)
    return await paginate(
        session, statement, key=ScheduleVersion.id, cursor=paging.cursor, limit=paging.limit
    )


async def instalments(session: AsyncSession, schedule_id: uuid.UUID) -> Sequence[InstalmentRow]:
    rows = await session.scalars(
        select(InstalmentRow)
        .where(InstalmentRow.schedule_id == schedule_id)
        .order_by(InstalmentRow.number)
    )
    return rows.all()


COUNTED = ("recorded", "settled")
"""Repayments that count against the schedule: euros recorded, ledger debits settled."""


async def repayments(session: AsyncSession, instrument_id: uuid.UUID) -> Sequence[Repayment]:
    """The repayments received (recorded or settled by the ledger), not orders in flight."""
    rows = await session.scalars(
        select(Repayment).where(
            Repayment.instrument_id == instrument_id, Repayment.status.in_(COUNTED)
        )
    )
    return rows.all()


async def in_flight_cents(session: AsyncSession, instrument_id: uuid.UUID) -> int:
    """What the repayment orders the ledger has not answered yet will collect."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Repayment.amount_cents), 0)).where(
            Repayment.instrument_id == instrument_id, Repayment.status == "ordered"
        )
    )
    return int(total or 0)


async def repayment_by_order(session: AsyncSession, order_id: uuid.UUID) -> Repayment | None:
    return await session.scalar(select(Repayment).where(Repayment.order_id == order_id))


async def call_by_order(session: AsyncSession, order_id: uuid.UUID) -> GuaranteeCall | None:
    return await session.scalar(select(GuaranteeCall).where(GuaranteeCall.order_id == order_id))


async def repayments_page(session: AsyncSession, instrument_id: uuid.UUID, paging: Paging) -> Page:
    statement = select(Repayment).where(Repayment.instrument_id == instrument_id)
    return await paginate(
        session, statement, key=Repayment.id, cursor=paging.cursor, limit=paging.limit
    )


async def call_of(session: AsyncSession, instrument_id: uuid.UUID) -> GuaranteeCall | None:
    return await session.scalar(
        select(GuaranteeCall).where(GuaranteeCall.instrument_id == instrument_id)
    )


async def write_off_of(session: AsyncSession, instrument_id: uuid.UUID) -> WriteOff | None:
    return await session.scalar(select(WriteOff).where(WriteOff.instrument_id == instrument_id))


async def recovered_cents(session: AsyncSession, instrument_id: uuid.UUID) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(Recovery.amount_cents), 0)).where(
            Recovery.instrument_id == instrument_id
        )
    )
    return int(total or 0)


def _visible(principal: Principal) -> list[Any]:
    return [usable_envelope(principal), visible_territory(principal)]


async def readable_page(
    session: AsyncSession, principal: Principal, programme_code: str | None, paging: Paging
) -> Page:
    """The instruments of the files the principal may read, one keyset page."""
    statement = (
        select(Instrument)
        .join(Application, Application.id == Instrument.application_id)
        .join(Envelope, Envelope.id == Application.envelope_id)
        .join(Programme, Programme.id == Application.programme_id)
        .where(*_visible(principal))
    )
    if is_applicant(principal):  # an applicant lists only its own files' instruments
        statement = statement.where(Application.applicant_client_id == principal.client_id)
    if programme_code is not None:
        statement = statement.where(Programme.code == programme_code)
    return await paginate(
        session, statement, key=Instrument.id, cursor=paging.cursor, limit=paging.limit
    )


ReportGroup = tuple[str, str, int, str]
"""A row of the report: (programme code, territory, decision year, kind)."""

_DECIDED_YEAR = cast(extract("year", Instrument.created_at), Integer)
_GROUP = (Programme.code, Application.territory, _DECIDED_YEAR, Instrument.kind)


def _within(
    statement: Any,
    principal: Principal | None,
    programme_code: str | None,
    territory: str | None,
    year: int | None,
) -> Any:
    """The report's joins and filters: readable files (all for None: the service's own
    figures), of a programme, territory and decision year when named."""
    statement = (
        statement.join(Application, Application.id == Instrument.application_id)
        .join(Envelope, Envelope.id == Application.envelope_id)
        .join(Programme, Programme.id == Application.programme_id)
    )
    if principal is not None:
        statement = statement.where(*_visible(principal))
    if programme_code is not None:
        statement = statement.where(Programme.code == programme_code)
    if territory is not None:
        statement = statement.where(Application.territory == territory)
    if year is not None:
        statement = statement.where(_DECIDED_YEAR == year)
    return statement


async def report_groups(
    session: AsyncSession,
    principal: Principal | None,
    *,
    after: ReportGroup | None,
    limit: int,
    programme_code: str | None,
    territory: str | None,
    year: int | None,
) -> list[ReportGroup]:
    """The next ``limit`` rows of the report after ``after``, in key order (a keyset page
    over the groups, so a page holds whole groups)."""
    statement = _within(
        select(*_GROUP).select_from(Instrument).distinct(),
        principal,
        programme_code,
        territory,
        year,
    )
    if after is not None:
        statement = statement.where(tuple_(*_GROUP) > tuple_(*after))
    found = await session.execute(statement.order_by(*_GROUP).limit(limit))
    return [(code, area, int(decided), kind) for code, area, decided, kind in found.all()]


async def report_rows(
    session: AsyncSession,
    principal: Principal | None,
    *,
    programme_code: str | None,
    territory: str | None,
    year: int | None,
    groups: Sequence[ReportGroup] | None = None,
) -> Sequence[Any]:
    """Each readable instrument (of ``groups`` only, when given) with its programme,
    territory, decision year, disbursed amount, jobs declared (in the file's latest
    accepted progress report, the final one first), guarantee call, recoveries and
    write-off (the service aggregates)."""
    recovered = (
        select(Recovery.instrument_id, func.sum(Recovery.amount_cents).label("cents"))
        .group_by(Recovery.instrument_id)
        .subquery()
    )
    jobs = (
        select(ProgressReport.application_id, ProgressReport.jobs_created)
        .where(ProgressReport.status == "accepted")
        .ext(distinct_on(ProgressReport.application_id))
        .order_by(
            ProgressReport.application_id,
            (ProgressReport.kind == "final").desc(),
            ProgressReport.number.desc(),
        )
        .subquery()
    )
    statement = _within(
        select(
            Instrument,
            Programme.code,
            Application.territory,
            _DECIDED_YEAR,
            Application.paid_cents,
            func.coalesce(
                jobs.c.jobs_created, Instrument.jobs_declared, Application.jobs_created, 0
            ),
            func.coalesce(GuaranteeCall.paid_cents, 0),
            func.coalesce(recovered.c.cents, 0),
            WriteOff.approved_at.is_not(None),
        ),
        principal,
        programme_code,
        territory,
        year,
    )
    statement = (
        statement.outerjoin(
            GuaranteeCall,
            (GuaranteeCall.instrument_id == Instrument.id) & (GuaranteeCall.status == "paid"),
        )
        .outerjoin(recovered, recovered.c.instrument_id == Instrument.id)
        .outerjoin(WriteOff, WriteOff.instrument_id == Instrument.id)
        .outerjoin(jobs, jobs.c.application_id == Instrument.application_id)
        .order_by(Instrument.id)
    )
    if groups is not None:
        statement = statement.where(tuple_(*_GROUP).in_(list(groups)))
    return list((await session.execute(statement)).all())


async def follow_up_of(
    session: AsyncSession, instrument_id: uuid.UUID, years: int
) -> FollowUp | None:
    return await session.scalar(
        select(FollowUp).where(FollowUp.instrument_id == instrument_id, FollowUp.years == years)
    )


async def follow_ups_page(session: AsyncSession, instrument_id: uuid.UUID, paging: Paging) -> Page:
    statement = select(FollowUp).where(FollowUp.instrument_id == instrument_id)
    return await paginate(
        session, statement, key=FollowUp.id, cursor=paging.cursor, limit=paging.limit
    )


async def report_details(
    session: AsyncSession, instrument_ids: Sequence[uuid.UUID]
) -> tuple[
    dict[uuid.UUID, ScheduleVersion],
    dict[uuid.UUID, list[InstalmentRow]],
    dict[uuid.UUID, list[tuple[Any, int]]],
    dict[uuid.UUID, list[FollowUp]],
]:
    """For the report, in four queries whatever the number of loans: each instrument's
    current schedule version, that version's instalments, the repayments counted and the
    follow-ups."""
    latest = (
        await session.scalars(
            select(ScheduleVersion)
            .where(ScheduleVersion.instrument_id.in_(instrument_ids))
            .ext(distinct_on(ScheduleVersion.instrument_id))
            .order_by(ScheduleVersion.instrument_id, ScheduleVersion.version.desc())
        )
    ).all()
    versions = {v.instrument_id: v for v in latest}
    by_schedule: dict[uuid.UUID, list[InstalmentRow]] = {v.id: [] for v in latest}
    for instalment in await session.scalars(
        select(InstalmentRow)
        .where(InstalmentRow.schedule_id.in_(list(by_schedule)))
        .order_by(InstalmentRow.schedule_id, InstalmentRow.number)
    ):
        by_schedule[instalment.schedule_id].append(instalment)
    received: dict[uuid.UUID, list[tuple[Any, int]]] = {}
    for repayment in await session.scalars(
        select(Repayment).where(
            Repayment.instrument_id.in_(instrument_ids), Repayment.status.in_(COUNTED)
        )
    ):
        received.setdefault(repayment.instrument_id, []).append(
            (repayment.received_on, repayment.amount_cents)
        )
    follow_ups: dict[uuid.UUID, list[FollowUp]] = {}
    for follow_up in await session.scalars(
        select(FollowUp).where(FollowUp.instrument_id.in_(instrument_ids))
    ):
        follow_ups.setdefault(follow_up.instrument_id, []).append(follow_up)
    instalments = {v.instrument_id: by_schedule[v.id] for v in latest}
    return versions, instalments, received, follow_ups
