"""Reporting: progress reports of funded projects (indicators and evaluation, reviewed by
the staff), and per programme and per envelope, committed, paid, remaining, files by state
and territory."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Path

from services.funding.http.pagination import Page, PageParams, page_of
from services.funding.http.responses import errors
from services.funding.http.scopes import Instructor, Reader
from services.funding.reports import service
from services.funding.reports.schemas import ProgrammeReport, ReportCreate, ReportRead, ReportReview
from shared.service_app import DbSession

router = APIRouter(tags=["reporting"])


@router.post(
    "/applications/{application_id}/progress-reports",
    status_code=201,
    response_model=ReportRead,
    responses=errors(),
)
async def submit_report(
    application_id: uuid.UUID, body: ReportCreate, session: DbSession, principal: Reader
) -> Any:
    """File an intermediate or final progress report (jobs, members, turnover, evaluation)."""
    return await service.submit(session, principal, application_id, body)


@router.get(
    "/applications/{application_id}/progress-reports",
    response_model=Page[ReportRead],
    responses=errors(),
)
async def list_reports(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """The file's progress reports."""
    rows, cursor = await service.progress_reports(session, principal, application_id, page)
    return page_of(rows, cursor, ReportRead)


@router.post("/progress-reports/{report_id}/review", response_model=ReportRead, responses=errors())
async def review_report(
    report_id: uuid.UUID, body: ReportReview, session: DbSession, principal: Instructor
) -> Any:
    """Accept or reject a report; accepting the n-th intermediate report releases its tranche."""
    return await service.review(session, principal, report_id, body)


@router.get("/reports/programmes/{code}", response_model=ProgrammeReport, responses=errors())
async def programme_report(
    session: DbSession,
    principal: Reader,
    code: str = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$"),
) -> Any:
    """A programme's figures over the envelopes and territories this client may see."""
    return await service.programme_figures(session, principal, code)


@router.get("/reports/envelopes/{code}", response_model=ProgrammeReport, responses=errors())
async def envelope_report(
    session: DbSession,
    principal: Reader,
    code: str = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,59}$"),
) -> Any:
    """One envelope's figures."""
    return await service.envelope_figures(session, principal, code)
