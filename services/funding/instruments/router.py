"""Instruments: the instrument of a file, schedules and rescheduling, repayments, the
position and arrears of a loan, guarantee calls and recoveries, and the report."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.funding.http.fields import Code, TerritoryCode
from services.funding.http.pagination import Page, PageParams, page_of
from services.funding.http.responses import errors
from services.funding.http.scopes import Payer, Reader
from services.funding.instruments.schemas import (
    FollowUpCreate,
    FollowUpRead,
    GuaranteeCallCreate,
    GuaranteeCallRead,
    InstrumentRead,
    PositionRead,
    RecoveryCreate,
    RecoveryRead,
    RepaymentCreate,
    RepaymentRead,
    ReportRow,
    RescheduleCreate,
    ScheduleRead,
    WriteOffCreate,
    WriteOffRead,
)
from services.funding.instruments.service import base, report, servicing
from shared.service_app import DbSession

router = APIRouter(tags=["instruments"])

ProgrammeFilter = Annotated[Code | None, Query(description="Programme code")]
TerritoryFilter = Annotated[TerritoryCode | None, Query(description="Department code")]
YearFilter = Annotated[int | None, Query(ge=2000, le=2100, description="Year of the decision")]


ReportCursor = Annotated[
    str | None,
    Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of a page"),
]
ReportLimit = Annotated[int, Query(ge=1, le=200, description="Rows (groups) per page")]


@router.get(
    "/instruments/report",
    response_model=Page[ReportRow],
    responses=errors(),
)
async def instruments_report(
    session: DbSession,
    principal: Reader,
    programme_code: ProgrammeFilter = None,
    territory: TerritoryFilter = None,
    year: YearFilter = None,
    limit: ReportLimit = 50,
    cursor: ReportCursor = None,
) -> Any:
    """Per programme, territory, year of decision and instrument: amounts, associated bank
    loans, leverage (bank credit ÷ public money), repayment rate, losses, guarantee fees,
    jobs declared at decision and since, survival at 1, 3 and 5 years. One row per group,
    paged over the group key (programme, territory, year, kind)."""
    rows, following = await report.report_page(
        session,
        principal,
        cursor=cursor,
        limit=limit,
        programme_code=programme_code,
        territory=territory,
        year=year,
    )
    return page_of(rows, following, ReportRow)


@router.get(
    "/instruments/report.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **errors()},
)
async def instruments_report_csv(
    request: Request,
    principal: Reader,
    programme_code: ProgrammeFilter = None,
    territory: TerritoryFilter = None,
    year: YearFilter = None,
) -> StreamingResponse:
    """The whole report as CSV (every page, streamed), French headers, semicolon-separated."""
    chunks = report.report_csv_chunks(
        request.app.state.session_factory,
        principal,
        programme_code=programme_code,
        territory=territory,
        year=year,
    )
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8")


@router.get("/instruments", response_model=Page[InstrumentRead], responses=errors())
async def list_instruments(
    session: DbSession, principal: Reader, page: PageParams, programme_code: ProgrammeFilter = None
) -> Any:
    """Instruments of the files the caller may read, with their state today."""
    rows, cursor = await base.readable(session, principal, programme_code, page)
    return page_of(rows, cursor, InstrumentRead)


@router.get(
    "/applications/{application_id}/instrument",
    response_model=InstrumentRead,
    responses=errors(),
)
async def application_instrument(
    application_id: uuid.UUID, session: DbSession, principal: Reader
) -> Any:
    """The instrument the committee awarded this file, with its terms and state."""
    return await base.of_application(session, principal, application_id)


@router.get("/instruments/{instrument_id}", response_model=InstrumentRead, responses=errors())
async def read_instrument(instrument_id: uuid.UUID, session: DbSession, principal: Reader) -> Any:
    return await base.read(session, principal, instrument_id)


@router.get(
    "/instruments/{instrument_id}/schedules",
    response_model=Page[ScheduleRead],
    responses=errors(),
)
async def list_schedules(
    instrument_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """Every version of the loan's schedule, oldest first, with what was matched to the
    current one."""
    rows, cursor = await servicing.schedules(session, principal, instrument_id, page)
    return page_of(rows, cursor, ScheduleRead)


@router.post(
    "/instruments/{instrument_id}/schedules",
    status_code=201,
    response_model=ScheduleRead,
    responses=errors(),
)
async def reschedule(
    instrument_id: uuid.UUID, body: RescheduleCreate, session: DbSession, principal: Payer
) -> Any:
    """Reschedule: a new version spreads what is still owed, with its reason; the earlier
    versions stay as they were."""
    return await servicing.reschedule(session, principal, instrument_id, body)


@router.get(
    "/instruments/{instrument_id}/position", response_model=PositionRead, responses=errors()
)
async def loan_position(
    instrument_id: uuid.UUID,
    session: DbSession,
    principal: Reader,
    as_of: Annotated[date | None, Query(description="Day of the position (today)")] = None,
) -> Any:
    """What is owed, repaid, due and in arrears on a day; flagged past 90 days of arrears."""
    return await servicing.position(session, principal, instrument_id, as_of)


@router.post(
    "/instruments/{instrument_id}/repayments",
    status_code=201,
    response_model=RepaymentRead,
    responses=errors(),
)
async def record_repayment(
    instrument_id: uuid.UUID, body: RepaymentCreate, session: DbSession, principal: Payer
) -> Any:
    """A repayment received, matched to the instalments in order (409 beyond the balance)."""
    return await servicing.repay(session, principal, instrument_id, body)


@router.get(
    "/instruments/{instrument_id}/repayments",
    response_model=Page[RepaymentRead],
    responses=errors(),
)
async def list_repayments(
    instrument_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    rows, cursor = await servicing.repayments(session, principal, instrument_id, page)
    return page_of(rows, cursor, RepaymentRead)


@router.post(
    "/instruments/{instrument_id}/guarantee-call",
    status_code=201,
    response_model=GuaranteeCallRead,
    responses=errors(),
)
async def call_guarantee(
    instrument_id: uuid.UUID, body: GuaranteeCallCreate, session: DbSession, principal: Payer
) -> Any:
    """The bank reports a default: the guarantee pays its covered share of the outstanding,
    up to its cap, once."""
    return await servicing.call_guarantee(session, principal, instrument_id, body)


@router.post(
    "/instruments/{instrument_id}/recoveries",
    status_code=201,
    response_model=RecoveryRead,
    responses=errors(),
)
async def record_recovery(
    instrument_id: uuid.UUID, body: RecoveryCreate, session: DbSession, principal: Payer
) -> Any:
    """Money recovered after the call, never more than the call paid."""
    return await servicing.recover(session, principal, instrument_id, body)


@router.post(
    "/instruments/{instrument_id}/write-off",
    status_code=201,
    response_model=WriteOffRead,
    responses=errors(),
)
async def request_write_off(
    instrument_id: uuid.UUID, body: WriteOffCreate, session: DbSession, principal: Payer
) -> Any:
    """Ask to write off a flagged loan, with the reason; a second officer approves."""
    return await servicing.request_write_off(session, principal, instrument_id, body.reason)


@router.post(
    "/instruments/{instrument_id}/write-off/approval",
    response_model=WriteOffRead,
    responses=errors(),
)
async def approve_write_off(instrument_id: uuid.UUID, session: DbSession, principal: Payer) -> Any:
    """Approve a write-off asked by another officer (403 to the one who asked)."""
    return await servicing.approve_write_off(session, principal, instrument_id)


@router.post(
    "/instruments/{instrument_id}/follow-ups",
    status_code=201,
    response_model=FollowUpRead,
    responses=errors(),
)
async def record_follow_up(
    instrument_id: uuid.UUID, body: FollowUpCreate, session: DbSession, principal: Payer
) -> Any:
    """The supported firm seen 1, 3 or 5 years after the decision: still active, its jobs
    (the report's survival rates); once per age."""
    return await servicing.record_follow_up(session, principal, instrument_id, body)


@router.get(
    "/instruments/{instrument_id}/follow-ups",
    response_model=Page[FollowUpRead],
    responses=errors(),
)
async def list_follow_ups(
    instrument_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    rows, cursor = await servicing.follow_ups(session, principal, instrument_id, page)
    return page_of(rows, cursor, FollowUpRead)
