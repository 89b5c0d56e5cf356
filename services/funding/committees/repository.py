"""Every query of committee sessions: members, agenda, conflicts, votes, decisions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.committees.models import (
    AgendaItem,
    CommitteeMember,
    CommitteeSession,
    Conflict,
    Decision,
    Vote,
)
from services.funding.db.repository import Page, get, paginate
from services.funding.programmes.models import Programme
from services.funding.tenancy.clauses import visible_to
from shared.auth import Principal

Parts = tuple[list[CommitteeMember], list[AgendaItem], list[Conflict], list[Vote], list[Decision]]


async def committee_session(
    session: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> CommitteeSession:
    """The session; ``lock`` takes its row lock, which every change of the session holds."""
    return await get(session, CommitteeSession, session_id, lock=lock)


async def readable_sessions(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_code: str | None,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    """Sessions of the programmes the principal is bound to, one keyset page."""
    statement = (
        select(CommitteeSession)
        .join(Programme, Programme.id == CommitteeSession.programme_id)
        .where(visible_to(principal, "programmes", Programme.code))
    )
    if programme_code is not None:
        statement = statement.where(Programme.code == programme_code)
    return await paginate(session, statement, key=CommitteeSession.id, cursor=cursor, limit=limit)


async def session_parts(session: AsyncSession, session_id: uuid.UUID) -> Parts:
    """Everything recorded about a committee session, to rebuild its domain value."""

    async def rows(model: Any, order: Any) -> list[Any]:
        statement = select(model).where(model.session_id == session_id).order_by(order)
        return list((await session.scalars(statement)).all())

    return (
        await rows(CommitteeMember, CommitteeMember.member_id),
        await rows(AgendaItem, AgendaItem.position),
        await rows(Conflict, Conflict.member_id),
        await rows(Vote, Vote.created_at),
        await rows(Decision, Decision.created_at),
    )


async def delete_vote(
    session: AsyncSession, *, session_id: uuid.UUID, application_id: uuid.UUID, member_id: str
) -> None:
    await session.execute(
        delete(Vote).where(
            Vote.session_id == session_id,
            Vote.application_id == application_id,
            Vote.member_id == member_id,
        )
    )


async def deliberation_number_taken(session: AsyncSession, number: str) -> bool:
    found = await session.scalar(select(Decision.id).where(Decision.deliberation_number == number))
    return found is not None


async def insert_decision(session: AsyncSession, decision: Decision) -> bool:
    """Insert the decision under a savepoint; False when its deliberation number (or its
    application in this session) was taken meanwhile."""
    try:
        async with session.begin_nested():
            session.add(decision)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def decisions_page(
    session: AsyncSession, session_id: uuid.UUID, *, cursor: uuid.UUID | None, limit: int
) -> Page:
    statement = select(Decision).where(Decision.session_id == session_id)
    return await paginate(session, statement, key=Decision.id, cursor=cursor, limit=limit)
