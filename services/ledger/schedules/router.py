"""Schedules of a currency's operations, and the history of their runs: HTTP only."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from services.ledger.authority.errors import OperatorActRequired
from services.ledger.http.pagination import Cursor, InvalidCursor, Limit, decode_cursor, page
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Reader
from services.ledger.schedules.errors import InvalidSchedule, UnknownSchedule
from services.ledger.schedules.rules import Operation
from services.ledger.schedules.schemas import (
    ScheduleList,
    ScheduleRead,
    ScheduleRunPage,
    ScheduleWrite,
)
from services.ledger.schedules.service import schedules as service
from shared.problems import Forbidden, NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies/{code}/schedules", tags=["schedules"])

Code = Annotated[str, Path(pattern=CODE)]


@router.put(
    "/{operation}",
    response_model=ScheduleRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotFound, OperatorActRequired, Forbidden, InvalidSchedule),
    },
)
async def put_schedule(
    code: Code, operation: Operation, body: ScheduleWrite, principal: Admin, session: DbSession
) -> Any:
    """Record (or replace) when an operation runs: the operator's standing authorisation,
    under which each occurrence runs in its name (it needs the act's own scope too)."""
    return await service.record(
        session,
        principal,
        currency=code,
        operation=operation,
        cadence=body.cadence,
        local_time=time.fromisoformat(body.local_time),
        starts_at=body.starts_at,
        fund=body.fund_account_id,
    )


@router.get(
    "",
    response_model=ScheduleList,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def list_schedules(code: Code, principal: Reader, session: DbSession) -> Any:
    """The currency's schedules, each with its next run."""
    return {"items": await service.list_all(session, principal, code)}


@router.get(
    "/{operation}",
    response_model=ScheduleRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, UnknownSchedule)},
)
async def get_schedule(
    code: Code, operation: Operation, principal: Reader, session: DbSession
) -> Any:
    """One schedule, with its latest and next run."""
    return await service.read(session, principal, code, operation)


@router.delete(
    "/{operation}",
    status_code=204,
    response_class=Response,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotFound, OperatorActRequired, UnknownSchedule),
    },
)
async def delete_schedule(
    code: Code, operation: Operation, principal: Admin, session: DbSession
) -> Response:
    """Withdraw the standing authorisation: nothing more runs; the history stays."""
    await service.withdraw(session, principal, code, operation)
    return Response(status_code=204)


@router.get(
    "/{operation}/runs",
    response_model=ScheduleRunPage,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, InvalidCursor)},
)
async def list_runs(
    code: Code,
    operation: Operation,
    principal: Reader,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """The runs of a schedule, newest first: occurrence, start, end, outcome, progress."""
    rows = await service.history(
        session,
        principal,
        code,
        operation,
        before=decode_cursor(cursor, _aware),
        limit=limit,
    )
    return page([dict(r) for r in rows], limit=limit, key=lambda r: r["scheduled_for"].isoformat())


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive cursor")
    return moment
