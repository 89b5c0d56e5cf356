"""All SQL of the funding service: lookups (optionally under row lock) and keyset pages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.store.models import (
    AgendaItem,
    Application,
    Base,
    CommitteeMember,
    CommitteeSession,
    Conflict,
    Decision,
    Envelope,
    Programme,
    Tranche,
    Transition,
    Vote,
)
from shared.problems import NotFound

M = TypeVar("M", bound=Base)

DEFAULT_PAGE = 50
MAX_PAGE = 200


async def get(session: AsyncSession, model: type[M], key: Any, *, lock: bool = False) -> M:
    """The row with primary key ``key``, or a 404 problem; ``lock`` takes FOR UPDATE."""
    row = await session.get(model, key, with_for_update=lock, populate_existing=lock)
    if row is None:
        raise NotFound(f"no {model.__tablename__[:-1].replace('_', ' ')} {key}")
    return row


async def programme_by_code(session: AsyncSession, code: str) -> Programme:
    found = await session.scalar(select(Programme).where(Programme.code == code))
    if found is None:
        raise NotFound(f"no programme {code!r}")
    return found


async def envelope_by_code(session: AsyncSession, code: str) -> Envelope:
    found = await session.scalar(select(Envelope).where(Envelope.code == code))
    if found is None:
        raise NotFound(f"no envelope {code!r}")
    return found


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    key: Any,
    cursor: Any | None,
    limit: int,
) -> tuple[Sequence[Any], str | None]:
    """One page ordered by the unique ``key`` column, after ``cursor`` (the last key seen)."""
    if cursor is not None:
        statement = statement.where(key > cursor)
    rows = (await session.scalars(statement.order_by(key).limit(limit + 1))).all()
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, str(getattr(rows[-1], key.key))
    return rows, None


async def tranches_of(
    session: AsyncSession, application_id: uuid.UUID, *, lock: bool = False
) -> list[Tranche]:
    statement = select(Tranche).where(Tranche.application_id == application_id)
    if lock:
        statement = statement.with_for_update()
    return list((await session.scalars(statement.order_by(Tranche.number))).all())


async def last_transition(session: AsyncSession, application_id: uuid.UUID) -> Transition | None:
    return await session.scalar(
        select(Transition)
        .where(Transition.application_id == application_id)
        .order_by(Transition.sequence.desc())
        .limit(1)
    )


async def transitions_of(session: AsyncSession, application_id: uuid.UUID) -> list[Transition]:
    return list(
        (
            await session.scalars(
                select(Transition)
                .where(Transition.application_id == application_id)
                .order_by(Transition.sequence)
            )
        ).all()
    )


async def session_parts(
    session: AsyncSession, session_id: uuid.UUID
) -> tuple[list[CommitteeMember], list[AgendaItem], list[Conflict], list[Vote], list[Decision]]:
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


async def open_cases_by_instructor(session: AsyncSession) -> dict[str, int]:
    """Files currently held by each instructor (routing balances the load on this)."""
    open_states = ("in_instruction", "correction_requested", "in_committee")
    result = await session.execute(
        select(Application.instructor_id, func.count())
        .where(Application.instructor_id.is_not(None), Application.state.in_(open_states))
        .group_by(Application.instructor_id)
    )
    return {str(instructor): int(count) for instructor, count in result.all()}


async def committee_session(session: AsyncSession, session_id: uuid.UUID) -> CommitteeSession:
    return await get(session, CommitteeSession, session_id, lock=True)
