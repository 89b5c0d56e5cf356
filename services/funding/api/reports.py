"""Reporting: per programme and per envelope, committed, paid, remaining, files by state and
territory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select

from services.funding.api.dependencies import Reader, errors
from services.funding.api.schemas import ProgrammeReport
from services.funding.service import opendata, programmes, reporting
from services.funding.store import repository
from services.funding.store.models import Envelope
from shared.service_app import DbSession

router = APIRouter(prefix="/reports", tags=["reporting"])


@router.get("/programmes/{code}", response_model=ProgrammeReport, responses=errors())
async def programme_report(
    session: DbSession,
    principal: Reader,
    code: str = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$"),
) -> Any:
    """A programme's figures over the envelopes and territories this client may see."""
    programme = await repository.programme_by_code(session, code)
    envelopes = list(
        (
            await session.scalars(
                select(Envelope)
                .where(Envelope.programme_id == programme.id)
                .order_by(Envelope.year)
            )
        ).all()
    )
    if not principal.may_access("programmes", programme.code) and not any(
        principal.may_access("envelopes", e.code) for e in envelopes
    ):
        principal.ensure_access("programmes", programme.code)
    return await reporting.report(session, principal, programme, envelopes)


@router.get("/envelopes/{code}", response_model=ProgrammeReport, responses=errors())
async def envelope_report(
    session: DbSession,
    principal: Reader,
    code: str = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,59}$"),
) -> Any:
    """One envelope's figures."""
    envelope, programme = await programmes.envelope_for(session, principal, code)
    return await reporting.report(session, principal, programme, [envelope])


@router.get(
    "/awarded-grants.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **errors()},
)
async def awarded_grants(request: Request, session: DbSession, principal: Reader) -> Response:
    """Awarded grants in the national SCDL "subventions" open-data CSV format."""
    content = await opendata.awarded_grants_csv(
        session, principal, attribuant_siret=request.app.state.settings.attribuant_siret
    )
    return Response(content=content, media_type="text/csv")
