"""Programmes, their yearly envelopes, calls for projects and local accompanists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from services.funding.api.dependencies import Admin, PageParams, Reader, errors
from services.funding.api.schemas import (
    AccompanistCreate,
    AccompanistRead,
    CallCreate,
    CallRead,
    EnvelopeCreate,
    EnvelopeDelegate,
    EnvelopeRead,
    EnvelopeResize,
    Page,
    ProgrammeCreate,
    ProgrammeRead,
)
from services.funding.service import access, programmes
from services.funding.store import repository
from services.funding.store.models import Accompanist, Call, Envelope, Programme
from shared.service_app import DbSession

router = APIRouter(tags=["programmes"])

ProgrammeCode = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
EnvelopeCodePath = Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,59}$")


def _page(rows: Any, cursor: str | None, schema: Any) -> dict[str, Any]:
    return {"items": [schema.model_validate(r) for r in rows], "next_cursor": cursor}


@router.post("/programmes", status_code=201, response_model=ProgrammeRead, responses=errors())
async def create_programme(body: ProgrammeCreate, session: DbSession, principal: Admin) -> Any:
    """Create a programme with its operator, eligible territories, legal forms and stages."""
    return await programmes.create_programme(session, principal, body)


@router.get("/programmes", response_model=Page[ProgrammeRead], responses=errors())
async def list_programmes(session: DbSession, principal: Reader, page: PageParams) -> Any:
    """Programmes this client is bound to."""
    statement = select(Programme)
    visible = principal.visible("programmes")
    if visible is not None:
        statement = statement.where(Programme.code.in_(visible))
    rows, cursor = await repository.paginate(
        session, statement, key=Programme.id, cursor=page.cursor, limit=page.limit
    )
    return _page(rows, cursor, ProgrammeRead)


@router.get("/programmes/{code}", response_model=ProgrammeRead, responses=errors())
async def get_programme(session: DbSession, principal: Reader, code: str = ProgrammeCode) -> Any:
    """One programme."""
    programme = await repository.programme_by_code(session, code)
    principal.ensure_access("programmes", programme.code)
    return programme


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
    return await programmes.create_envelope(session, principal, code, body)


@router.get("/programmes/{code}/envelopes", response_model=Page[EnvelopeRead], responses=errors())
async def list_envelopes(
    session: DbSession, principal: Reader, page: PageParams, code: str = ProgrammeCode
) -> Any:
    """The programme's envelopes this client may use."""
    programme = await repository.programme_by_code(session, code)
    statement = select(Envelope).where(Envelope.programme_id == programme.id)
    rows, cursor = await repository.paginate(
        session, statement, key=Envelope.id, cursor=page.cursor, limit=page.limit
    )
    if not principal.may_access("programmes", programme.code):
        rows = [r for r in rows if access.may_use_envelope(principal, r, programme)]
    return _page(rows, cursor, EnvelopeRead)


@router.get("/envelopes/{code}", response_model=EnvelopeRead, responses=errors())
async def get_envelope(session: DbSession, principal: Reader, code: str = EnvelopeCodePath) -> Any:
    """One envelope and its figures."""
    envelope, _ = await programmes.envelope_for(session, principal, code)
    return envelope


@router.put("/envelopes/{code}/credits", response_model=EnvelopeRead, responses=errors())
async def resize_envelope(
    body: EnvelopeResize, session: DbSession, principal: Admin, code: str = EnvelopeCodePath
) -> Any:
    """Amend AP and CP (a budget decision); refused below what is already used."""
    return await programmes.resize_envelope(session, principal, code, body)


@router.put("/envelopes/{code}/delegation", response_model=EnvelopeRead, responses=errors())
async def delegate_envelope(
    body: EnvelopeDelegate, session: DbSession, principal: Admin, code: str = EnvelopeCodePath
) -> Any:
    """Delegate the envelope to a territorial partner for some of the programme's territories."""
    return await programmes.delegate_envelope(session, principal, code, body)


@router.post(
    "/programmes/{code}/calls", status_code=201, response_model=CallRead, responses=errors()
)
async def create_call(
    body: CallCreate, session: DbSession, principal: Admin, code: str = ProgrammeCode
) -> Any:
    """Open a call for projects: submission window, criteria, required documents."""
    return await programmes.create_call(session, principal, code, body)


@router.get("/programmes/{code}/calls", response_model=Page[CallRead], responses=errors())
async def list_calls(
    session: DbSession, principal: Reader, page: PageParams, code: str = ProgrammeCode
) -> Any:
    """The programme's calls for projects."""
    programme = await repository.programme_by_code(session, code)
    principal.ensure_access("programmes", programme.code)
    statement = select(Call).where(Call.programme_id == programme.id)
    rows, cursor = await repository.paginate(
        session, statement, key=Call.id, cursor=page.cursor, limit=page.limit
    )
    return _page(rows, cursor, CallRead)


@router.post("/accompanists", status_code=201, response_model=AccompanistRead, responses=errors())
async def create_accompanist(body: AccompanistCreate, session: DbSession, principal: Admin) -> Any:
    """Register a local accompanist and the territories they cover (used for routing)."""
    return await programmes.create_accompanist(session, body)


@router.get("/accompanists", response_model=Page[AccompanistRead], responses=errors())
async def list_accompanists(
    session: DbSession,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")] = None,
) -> Any:
    """Local accompanists, ordered by id."""
    rows, next_cursor = await repository.paginate(
        session, select(Accompanist), key=Accompanist.id, cursor=cursor, limit=limit
    )
    return _page(rows, next_cursor, AccompanistRead)
