"""Progress reports of funded projects: indicators and evaluation, reviewed by the staff.

Accepting the n-th intermediate report is the fact that makes the tranche waiting for it
payable; the final report is the workflow's ``receive_final_report`` action, and its
indicators are recorded here too.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.domain.errors import FundingDomainError
from services.funding.service import access, applications, tranches
from services.funding.store import repository
from services.funding.store.models import ProgressReport
from shared.auth import Principal

_REPORTING_STATES = frozenset({"approved", "convention_signed", "in_payment"})
_FINAL_STATES = frozenset({"in_payment", "final_report_received", "closed"})


class ReportNotExpectedError(FundingDomainError):
    """The file is not at a stage where this report can be filed or reviewed."""

    status, code, title = 409, "report-not-expected", "No such report is expected now"


async def submit(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, data: Any
) -> ProgressReport:
    """File a progress report (the applicant, or staff on its behalf)."""
    access.ensure_may_write_on_file(principal)
    application, _, _ = await applications.load(session, principal, application_id, lock=True)
    allowed = _REPORTING_STATES if data.kind == "intermediate" else _FINAL_STATES
    if application.state not in allowed:
        raise ReportNotExpectedError(
            f"no {data.kind} report is expected while the file is {application.state}",
            application_state=application.state,
        )
    pending = await session.scalar(
        select(func.count())
        .select_from(ProgressReport)
        .where(
            ProgressReport.application_id == application_id,
            ProgressReport.kind == data.kind,
            ProgressReport.status == "submitted",
        )
    )
    if pending:
        raise ReportNotExpectedError(f"a {data.kind} report already awaits review")
    previous = await session.scalar(
        select(func.coalesce(func.max(ProgressReport.number), 0)).where(
            ProgressReport.application_id == application_id, ProgressReport.kind == data.kind
        )
    )
    report = ProgressReport(
        application_id=application_id,
        kind=data.kind,
        number=int(previous or 0) + 1,
        submitted_by=principal.client_id,
        jobs_created=data.jobs_created,
        members=data.members,
        turnover_cents=data.turnover_cents,
        economic_evaluation=data.economic_evaluation or "",
        social_evaluation=data.social_evaluation or "",
        environmental_evaluation=data.environmental_evaluation or "",
        status="submitted",
    )
    session.add(report)
    await session.flush()
    return report


async def review(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, data: Any
) -> ProgressReport:
    """Accept or reject a submitted report; an accepted intermediate report releases its tranche."""
    if not access.is_staff(principal):
        raise access.UnknownRoleError("reports are reviewed by instruction staff")
    found = await repository.get(session, ProgressReport, report_id)
    application, _, programme = await applications.load(
        session, principal, found.application_id, lock=True
    )
    report = await repository.get(session, ProgressReport, report_id, lock=True)
    if report.status != "submitted":
        raise ReportNotExpectedError(f"the report is already {report.status}")
    report.status = data.decision
    report.reviewed_by = principal.client_id
    report.review_note = data.note
    await session.flush()
    if report.kind == "intermediate" and report.status == "accepted":
        await tranches.announce_payable(session, application, programme)
    return report
