"""Funding's tenancy checks per path parameter, run before a 422 (`shared.access_first`):
the same loads its use cases make, so a malformed request about another programme's
application, session, report or tranche is refused exactly as a well-formed one is."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.service import base as applications
from services.funding.committees import service as committees
from services.funding.programmes import service as programmes
from services.funding.reports import repository as reports
from services.funding.tranches import repository as tranches
from shared.access_first import path_uuid
from shared.auth import Principal


async def funding_access_gate(
    request: Request, principal: Principal, session: AsyncSession
) -> None:
    path = request.url.path
    if (code := request.path_params.get("code")) is not None:
        if "/programmes/" in path:
            await programmes.readable_programme(session, principal, str(code))
        elif "/envelopes/" in path:
            await programmes.envelope_for(session, principal, str(code))
    if (application_id := path_uuid(request, "application_id")) is not None:
        await applications.load(session, principal, application_id)
    if (session_id := path_uuid(request, "session_id")) is not None:
        await committees.load(session, principal, session_id, lock=False)
    if (report_id := path_uuid(request, "report_id")) is not None:
        report = await reports.progress_report(session, report_id)
        await applications.load(session, principal, report.application_id)
    if (tranche_id := path_uuid(request, "tranche_id")) is not None:
        tranche = await tranches.tranche(session, tranche_id)
        await applications.load(session, principal, tranche.application_id)
