"""Committee sessions: agenda, attendance, conflicts of interest, votes, decisions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.funding.api.dependencies import Decider, PageParams, Reader, errors
from services.funding.api.schemas import (
    AgendaAdd,
    ConflictCreate,
    DecisionCreate,
    DecisionRead,
    Page,
    SessionCreate,
    SessionOpen,
    SessionRead,
    VoteCreate,
)
from services.funding.service import committee
from services.funding.store import repository
from services.funding.store.models import CommitteeSession, Decision, Programme
from shared.auth import Principal
from shared.service_app import DbSession

router = APIRouter(prefix="/committee-sessions", tags=["committee"])


async def _read(session: DbSession, principal: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    row, _, value = await committee.load(session, principal, session_id, lock=False)
    return {
        "id": row.id,
        "programme_id": row.programme_id,
        "title": row.title,
        "scheduled_at": row.scheduled_at,
        "quorum": row.quorum,
        "status": row.status,
        "members": sorted(value.members),
        "attendees": sorted(value.attendees),
        "agenda": [uuid.UUID(a) for a in value.agenda],
    }


@router.post("", status_code=201, response_model=SessionRead, responses=errors())
async def create_session(body: SessionCreate, session: DbSession, principal: Decider) -> Any:
    """Plan a committee session of a programme with its members and quorum."""
    row = await committee.create(session, principal, body)
    return await _read(session, principal, row.id)


@router.get("", response_model=Page[SessionRead], responses=errors())
async def list_sessions(
    session: DbSession,
    principal: Reader,
    page: PageParams,
    programme: Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")] = None,
) -> Any:
    """Committee sessions of the programmes this client is bound to."""
    statement = select(CommitteeSession).join(
        Programme, Programme.id == CommitteeSession.programme_id
    )
    visible = principal.visible("programmes")
    if visible is not None:
        statement = statement.where(Programme.code.in_(visible))
    if programme is not None:
        statement = statement.where(Programme.code == programme)
    rows, cursor = await repository.paginate(
        session, statement, key=CommitteeSession.id, cursor=page.cursor, limit=page.limit
    )
    return {"items": [await _read(session, principal, r.id) for r in rows], "next_cursor": cursor}


@router.get("/{session_id}", response_model=SessionRead, responses=errors())
async def get_session(session_id: uuid.UUID, session: DbSession, principal: Reader) -> Any:
    """One session with its members, attendees and agenda."""
    return await _read(session, principal, session_id)


@router.post("/{session_id}/agenda", response_model=SessionRead, responses=errors())
async def add_to_agenda(
    session_id: uuid.UUID, body: AgendaAdd, session: DbSession, principal: Decider
) -> Any:
    """Put an application that is in committee on the agenda."""
    await committee.add_to_agenda(session, principal, session_id, body.application_id)
    return await _read(session, principal, session_id)


@router.post("/{session_id}/conflicts", response_model=SessionRead, responses=errors())
async def declare_conflict(
    session_id: uuid.UUID, body: ConflictCreate, session: DbSession, principal: Decider
) -> Any:
    """Record a member's declared interest in an application: they will not vote on it."""
    await committee.declare_conflict(session, principal, session_id, body)
    return await _read(session, principal, session_id)


@router.post("/{session_id}/open", response_model=SessionRead, responses=errors())
async def open_session(
    session_id: uuid.UUID, body: SessionOpen, session: DbSession, principal: Decider
) -> Any:
    """Open the session with the members present."""
    await committee.open_session(session, principal, session_id, list(body.attendees))
    return await _read(session, principal, session_id)


@router.post("/{session_id}/votes", status_code=204, responses=errors())
async def cast_vote(
    session_id: uuid.UUID, body: VoteCreate, session: DbSession, principal: Decider
) -> None:
    """Record a present member's vote; refused (403) to a member with a declared conflict."""
    await committee.vote(session, principal, session_id, body)


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
    return await committee.decide(session, principal, session_id, body)


@router.get("/{session_id}/decisions", response_model=Page[DecisionRead], responses=errors())
async def list_decisions(
    session_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """Decisions recorded in the session."""
    await committee.load(session, principal, session_id, lock=False)
    statement = select(Decision).where(Decision.session_id == session_id)
    rows, cursor = await repository.paginate(
        session, statement, key=Decision.id, cursor=page.cursor, limit=page.limit
    )
    return {"items": [DecisionRead.model_validate(r) for r in rows], "next_cursor": cursor}


@router.post("/{session_id}/close", response_model=SessionRead, responses=errors())
async def close_session(session_id: uuid.UUID, session: DbSession, principal: Decider) -> Any:
    """Close the session; undecided applications wait for a later one."""
    await committee.close(session, principal, session_id)
    return await _read(session, principal, session_id)
