"""Programmes, their yearly envelopes, calls for projects and local accompanists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.funding.http.pagination import Page, PageParams, page_of
from services.funding.http.responses import errors
from services.funding.http.scopes import Admin, Reader
from services.funding.programmes import service
from services.funding.programmes.schemas import (
    AccompanistCreate,
    AccompanistRead,
    CallCreate,
    CallRead,
    EnvelopeCreate,
    EnvelopeDelegate,
    EnvelopeRead,
    EnvelopeResize,
    ProgrammeCreate,
    ProgrammeRead,
)
from shared.service_app import DbSession

router = APIRouter(tags=["programmes"])

ProgrammeCode = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
EnvelopeCodePath = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,59}$")


@router.post("/programmes", status_code=201, response_model=ProgrammeRead, responses=errors())
async def create_programme(body: ProgrammeCreate, session: DbSession, principal: Admin) -> Any:
    """Create a programme with its operator, eligible territories, legal forms and stages."""
    return await service.create_programme(session, principal, body)


@router.get("/programmes", response_model=Page[ProgrammeRead], responses=errors())
async def list_programmes(session: DbSession, principal: Reader, page: PageParams) -> Any:
    """Programmes this client is bound to."""
    rows, cursor = await service.readable_programmes(
        session, principal, cursor=page.cursor, limit=page.limit
    )
    return page_of(rows, cursor, ProgrammeRead)


@router.get("/programmes/{code}", response_model=ProgrammeRead, responses=errors())
async def get_programme(session: DbSession, principal: Reader, code: str = ProgrammeCode) -> Any:
    """One programme."""
    return await service.readable_programme(session, principal, code)


@router.post(
    "/programmes/{code}/envelopes",
    status_code=201,
    response_model=EnvelopeRead,
    responses=errors(),
)
async def create_envelope(
    body: EnvelopeCreate, session: DbSession, principal: Admin, code: str = ProgrammeCode
) -> Any:
    """Open a programme's envelope for a year with its commitment (AP) and payment (CP) credits."""
    return await service.create_envelope(session, principal, code, body)


@router.get("/programmes/{code}/envelopes", response_model=Page[EnvelopeRead], responses=errors())
async def list_envelopes(
    session: DbSession, principal: Reader, page: PageParams, code: str = ProgrammeCode
) -> Any:
    """The programme's envelopes this client may use."""
    rows, cursor = await service.usable_envelopes(
        session, principal, code, cursor=page.cursor, limit=page.limit
    )
    return page_of(rows, cursor, EnvelopeRead)


@router.get("/envelopes/{code}", response_model=EnvelopeRead, responses=errors())
async def get_envelope(session: DbSession, principal: Reader, code: str = EnvelopeCodePath) -> Any:
    """One envelope and its figures."""
    envelope, _ = await service.envelope_for(session, principal, code)
    return envelope


@router.put("/envelopes/{code}/credits", response_model=EnvelopeRead, responses=errors())
async def resize_envelope(
    body: EnvelopeResize, session: DbSession, principal: Admin, code: str = EnvelopeCodePath
) -> Any:
    """Amend AP and CP (a budget decision); refused below what is already used."""
    return await service.resize_envelope(session, principal, code, body)


@router.put("/envelopes/{code}/delegation", response_model=EnvelopeRead, responses=errors())
async def delegate_envelope(
    body: EnvelopeDelegate, session: DbSession, principal: Admin, code: str = EnvelopeCodePath
) -> Any:
    """Delegate the envelope to a territorial partner for some of the programme's territories."""
    return await service.delegate_envelope(session, principal, code, body)


@router.post(
    "/programmes/{code}/calls", status_code=201, response_model=CallRead, responses=errors()
)
async def create_call(
    body: CallCreate, session: DbSession, principal: Admin, code: str = ProgrammeCode
) -> Any:
    """Open a call for projects: submission window, criteria, required documents."""
    return await service.create_call(session, principal, code, body)


@router.get("/programmes/{code}/calls", response_model=Page[CallRead], responses=errors())
async def list_calls(
    session: DbSession, principal: Reader, page: PageParams, code: str = ProgrammeCode
) -> Any:
    """The programme's calls for projects."""
    rows, cursor = await service.calls(
        session, principal, code, cursor=page.cursor, limit=page.limit
    )
    return page_of(rows, cursor, CallRead)


@router.post("/accompanists", status_code=201, response_model=AccompanistRead, responses=errors())
async def create_accompanist(body: AccompanistCreate, session: DbSession, principal: Admin) -> Any:
    """Register a local accompanist and the territories they cover (used for routing)."""
    return await service.create_accompanist(session, body)


@router.get("/accompanists", response_model=Page[AccompanistRead], responses=errors())
async def list_accompanists(
    session: DbSession,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")] = None,
) -> Any:
    """Local accompanists, ordered by id."""
    rows, next_cursor = await service.accompanists(session, cursor=cursor, limit=limit)
    return page_of(rows, next_cursor, AccompanistRead)
