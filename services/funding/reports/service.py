"""Progress reports of funded projects, and the figures per programme and per envelope.

Accepting the n-th intermediate report is the fact that makes the tranche waiting for it
payable; the final report is the workflow's ``receive_final_report`` action, and its
indicators are recorded here too. The figures (committed, paid, remaining, files by state
and territory) only cover the envelopes and territories the reader may see.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.service import base as applications
from services.funding.db.repository import Page, Paging, add, page_of_file
from services.funding.programmes import service as programmes
from services.funding.programmes.models import Envelope, Programme
from services.funding.reports import repository
from services.funding.reports.errors import ReportNotExpectedError
from services.funding.reports.models import ProgressReport
from services.funding.tenancy.checks import may_use_envelope
from services.funding.tenancy.errors import UnknownRoleError
from services.funding.tenancy.roles import ensure_may_write_on_file, is_staff
from services.funding.tranches import service as tranches
from shared.auth import Principal

_REPORTING_STATES = frozenset({"approved", "convention_signed", "in_payment"})
_FINAL_STATES = frozenset({"in_payment", "final_report_received", "closed"})


async def submit(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, data: Any
) -> ProgressReport:
    """File a progress report (the applicant, or staff on its behalf)."""
    ensure_may_write_on_file(principal)
    application, _, _ = await applications.load(session, principal, application_id, lock=True)
    allowed = _REPORTING_STATES if data.kind == "intermediate" else _FINAL_STATES
    if application.state not in allowed:
        raise ReportNotExpectedError(
            f"no {data.kind} report is expected while the file is {application.state}",
            application_state=application.state,
        )
    if await repository.awaiting_review(session, application_id, data.kind):
        raise ReportNotExpectedError(f"a {data.kind} report already awaits review")
    report = ProgressReport(
        application_id=application_id,
        kind=data.kind,
        number=await repository.last_number(session, application_id, data.kind) + 1,
        submitted_by=principal.client_id,
        jobs_created=data.jobs_created,
        members=data.members,
        turnover_cents=data.turnover_cents,
        economic_evaluation=data.economic_evaluation or "",
        social_evaluation=data.social_evaluation or "",
        environmental_evaluation=data.environmental_evaluation or "",
        status="submitted",
    )
    await add(session, report)
    return report


async def progress_reports(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, paging: Paging
) -> Page:
    """The file's progress reports, one keyset page."""
    await applications.load(session, principal, application_id)
    return await page_of_file(session, ProgressReport, application_id, paging)


async def review(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, data: Any
) -> ProgressReport:
    """Accept or reject a submitted report; an accepted intermediate report releases its tranche."""
    if not is_staff(principal):
        raise UnknownRoleError("reports are reviewed by instruction staff")
    found = await repository.progress_report(session, report_id)
    application, _, programme = await applications.load(
        session, principal, found.application_id, lock=True
    )
    report = await repository.progress_report(session, report_id, lock=True)
    if report.status != "submitted":
        raise ReportNotExpectedError(f"the report is already {report.status}")
    report.status = data.decision
    report.reviewed_by = principal.client_id
    report.review_note = data.note
    await session.flush()
    if report.kind == "intermediate" and report.status == "accepted":
        await tranches.announce_payable(session, application, programme)
    return report


async def programme_figures(
    session: AsyncSession, principal: Principal, code: str
) -> dict[str, Any]:
    """A programme's figures over the envelopes and territories this principal may see."""
    programme = await programmes.programme_by_code(session, code)
    envelopes = await programmes.envelopes_by_year(session, programme.id)
    if not principal.may_access("programmes", programme.code) and not any(
        principal.may_access("envelopes", e.code) for e in envelopes
    ):
        principal.ensure_access("programmes", programme.code)
    return await _figures(session, principal, programme, envelopes)


async def envelope_figures(
    session: AsyncSession, principal: Principal, code: str
) -> dict[str, Any]:
    """One envelope's figures, over the territories this principal may see."""
    envelope, programme = await programmes.envelope_for(session, principal, code)
    return await _figures(session, principal, programme, [envelope])


def _envelope_figures(envelope: Envelope) -> dict[str, Any]:
    return {
        "envelope_id": envelope.id,
        "code": envelope.code,
        "year": envelope.year,
        "ap_cents": envelope.ap_cents,
        "cp_cents": envelope.cp_cents,
        "committed_cents": envelope.committed_cents,
        "ordered_cents": envelope.ordered_cents,
        "paid_cents": envelope.paid_cents,
        "remaining_ap_cents": envelope.ap_cents - envelope.committed_cents,
        "remaining_cp_cents": envelope.cp_cents - envelope.paid_cents - envelope.ordered_cents,
        "unpaid_commitments_cents": envelope.committed_cents - envelope.paid_cents,
    }


async def _figures(
    session: AsyncSession,
    principal: Principal,
    programme: Programme,
    envelopes: list[Envelope],
) -> dict[str, Any]:
    """The report over ``envelopes`` (all of a programme's, or one) as this client sees it."""
    visible = [e for e in envelopes if may_use_envelope(principal, e, programme)]
    ids = [e.id for e in visible]
    by_state = await repository.applications_by_state(session, principal, ids)
    territory_rows = await repository.figures_by_territory(session, principal, ids)
    figures = [_envelope_figures(e) for e in visible]
    projects, jobs, members, turnover = await repository.indicators(session, principal, ids)
    return {
        "programme_code": programme.code,
        "indicators": {
            "projects_reporting": int(projects),
            "jobs_created": int(jobs),
            "members": int(members),
            "turnover_cents": int(turnover),
        },
        "envelopes": figures,
        "committed_cents": sum(f["committed_cents"] for f in figures),
        "paid_cents": sum(f["paid_cents"] for f in figures),
        "remaining_ap_cents": sum(f["remaining_ap_cents"] for f in figures),
        "applications_by_state": dict(sorted(by_state.items())),
        "by_territory": [
            {
                "territory": territory,
                "applications": int(count),
                "requested_cents": int(requested or 0),
                "granted_cents": int(granted_sum or 0),
                "paid_cents": int(paid or 0),
            }
            for territory, count, requested, granted_sum, paid in territory_rows
        ],
    }
