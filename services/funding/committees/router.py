"""Committee sessions: agenda, attendance, conflicts of interest, votes, decisions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.funding.committees import service
from services.funding.committees.errors import AgendaApplicationNotFound, AgendaError
from services.funding.committees.schemas import (
    AgendaAdd,
    ConflictCreate,
    DecisionCreate,
    DecisionRead,
    SessionCreate,
    SessionOpen,
    SessionRead,
    VoteCreate,
)
from services.funding.http.pagination import Page, PageParams, page_of
from services.funding.http.responses import errors
from services.funding.http.scopes import Decider, Reader
from shared.problems import problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/committee-sessions", tags=["committee"])


@router.post("", status_code=201, response_model=SessionRead, responses=errors())
async def create_session(body: SessionCreate, session: DbSession, principal: Decider) -> Any:
    """Plan a committee session of a programme with its members and quorum."""
    row = await service.create(session, principal, body)
    return await service.read(session, principal, row.id)


@router.get("", response_model=Page[SessionRead], responses=errors())
async def list_sessions(
    session: DbSession,
    principal: Reader,
    page: PageParams,
    programme: Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")] = None,
) -> Any:
    """Committee sessions of the programmes this client is bound to."""
    items, cursor = await service.readable(
        session, principal, programme_code=programme, cursor=page.cursor, limit=page.limit
    )
    return {"items": items, "next_cursor": cursor}


@router.get("/{session_id}", response_model=SessionRead, responses=errors())
async def get_session(session_id: uuid.UUID, session: DbSession, principal: Reader) -> Any:
    """One session with its members, attendees and agenda."""
    return await service.read(session, principal, session_id)


@router.post(
    "/{session_id}/agenda",
    response_model=SessionRead,
    responses={**errors(), **problem_responses(AgendaApplicationNotFound, AgendaError)},
)
async def add_to_agenda(
    session_id: uuid.UUID, body: AgendaAdd, session: DbSession, principal: Decider
) -> Any:
    """Put an application that is in committee on the agenda."""
    await service.add_to_agenda(session, principal, session_id, body.application_id)
    return await service.read(session, principal, session_id)


@router.post("/{session_id}/conflicts", response_model=SessionRead, responses=errors())
async def declare_conflict(
    session_id: uuid.UUID, body: ConflictCreate, session: DbSession, principal: Decider
) -> Any:
    """Record a member's declared interest in an application: they will not vote on it."""
    await service.declare_conflict(session, principal, session_id, body)
    return await service.read(session, principal, session_id)


@router.post("/{session_id}/open", response_model=SessionRead, responses=errors())
async def open_session(
    session_id: uuid.UUID, body: SessionOpen, session: DbSession, principal: Decider
) -> Any:
    """Open the session with the members present."""
    await service.open_session(session, principal, session_id, list(body.attendees))
    return await service.read(session, principal, session_id)


@router.post("/{session_id}/votes", status_code=204, responses=errors())
async def cast_vote(
    session_id: uuid.UUID, body: VoteCreate, session: DbSession, principal: Decider
) -> None:
    """Record a present member's vote; refused (403) to a member with a declared conflict."""
    await service.vote(session, principal, session_id, body)


@router.post(
    "/{session_id}/decisions", status_code=201, response_model=DecisionRead, responses=errors()
)
async def record_decision(
    session_id: uuid.UUID, body: DecisionCreate, session: DbSession, principal: Decider
) -> Any:
    """Record the decision on an application; an approval commits the envelope atomically.

    Approval needs ``amount_cents`` and ``deliberation_number``; rejection a ``reason`` and a
    deliberation number; the outcome must follow the votes and the quorum. 409 with the
    remaining amount when the envelope cannot cover the grant.
    """
    return await service.decide(session, principal, session_id, body)


@router.get("/{session_id}/decisions", response_model=Page[DecisionRead], responses=errors())
async def list_decisions(
    session_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """Decisions recorded in the session."""
    rows, cursor = await service.decisions(
        session, principal, session_id, cursor=page.cursor, limit=page.limit
    )
    return page_of(rows, cursor, DecisionRead)


@router.post("/{session_id}/close", response_model=SessionRead, responses=errors())
async def close_session(session_id: uuid.UUID, session: DbSession, principal: Decider) -> Any:
    """Close the session; undecided applications wait for a later one."""
    await service.close(session, principal, session_id)
    return await service.read(session, principal, session_id)
