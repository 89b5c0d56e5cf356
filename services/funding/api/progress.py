"""Progress reports: indicators and evaluation of funded projects, reviewed by the staff."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from services.funding.api.dependencies import Instructor, PageParams, Reader, errors
from services.funding.api.schemas import Page, ReportCreate, ReportRead, ReportReview
from services.funding.service import applications, reports
from services.funding.store import repository
from services.funding.store.models import ProgressReport
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
    return await reports.submit(session, principal, application_id, body)


@router.get(
    "/applications/{application_id}/progress-reports",
    response_model=Page[ReportRead],
    responses=errors(),
)
async def list_reports(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """The file's progress reports."""
    await applications.load(session, principal, application_id)
    statement = select(ProgressReport).where(ProgressReport.application_id == application_id)
    rows, cursor = await repository.paginate(
        session, statement, key=ProgressReport.id, cursor=page.cursor, limit=page.limit
    )
    return {"items": [ReportRead.model_validate(r) for r in rows], "next_cursor": cursor}


@router.post("/progress-reports/{report_id}/review", response_model=ReportRead, responses=errors())
async def review_report(
    report_id: uuid.UUID, body: ReportReview, session: DbSession, principal: Instructor
) -> Any:
    """Accept or reject a report; accepting the n-th intermediate report releases its tranche."""
    return await reports.review(session, principal, report_id, body)
