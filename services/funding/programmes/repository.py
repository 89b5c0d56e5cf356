"""Every query of the programme catalogue: programmes, envelopes, calls, accompanists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db.repository import Page, get, get_or_none, paginate
from services.funding.programmes.models import Accompanist, Call, Envelope, Programme
from services.funding.tenancy.clauses import usable_envelope, visible_to
from shared.auth import Principal
from shared.problems import NotFound


async def programme(session: AsyncSession, programme_id: uuid.UUID) -> Programme:
    return await get(session, Programme, programme_id)


async def programme_by_code(session: AsyncSession, code: str) -> Programme:
    found = await session.scalar(select(Programme).where(Programme.code == code))
    if found is None:
        raise NotFound(f"no programme {code!r}")
    return found


async def readable_programmes(
    session: AsyncSession, principal: Principal, *, cursor: uuid.UUID | None, limit: int
) -> Page:
    """The programmes the principal is bound to, one keyset page."""
    statement = select(Programme).where(visible_to(principal, "programmes", Programme.code))
    return await paginate(session, statement, key=Programme.id, cursor=cursor, limit=limit)


async def envelope(
    session: AsyncSession, envelope_id: uuid.UUID, *, lock: bool = False
) -> Envelope:
    """The envelope; ``lock`` takes its row lock, which every change of its figures holds."""
    return await get(session, Envelope, envelope_id, lock=lock)


async def envelope_by_code(session: AsyncSession, code: str) -> Envelope:
    found = await session.scalar(select(Envelope).where(Envelope.code == code))
    if found is None:
        raise NotFound(f"no envelope {code!r}")
    return found


async def envelopes_by_year(session: AsyncSession, programme_id: uuid.UUID) -> list[Envelope]:
    statement = select(Envelope).where(Envelope.programme_id == programme_id)
    return list((await session.scalars(statement.order_by(Envelope.year))).all())


async def usable_envelopes(
    session: AsyncSession,
    principal: Principal,
    found: Programme,
    *,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    """The programme's envelopes the principal may use: all of them when bound to the
    programme, else those it is bound to; one keyset page."""
    statement = select(Envelope).where(Envelope.programme_id == found.id)
    if not principal.may_access("programmes", found.code):
        statement = statement.join(Programme, Programme.id == Envelope.programme_id).where(
            usable_envelope(principal)
        )
    return await paginate(session, statement, key=Envelope.id, cursor=cursor, limit=limit)


async def call(session: AsyncSession, call_id: uuid.UUID) -> Call:
    return await get(session, Call, call_id)


async def calls_of(
    session: AsyncSession, programme_id: uuid.UUID, *, cursor: uuid.UUID | None, limit: int
) -> Page:
    statement = select(Call).where(Call.programme_id == programme_id)
    return await paginate(session, statement, key=Call.id, cursor=cursor, limit=limit)


async def accompanists(session: AsyncSession, *, cursor: str | None, limit: int) -> Page:
    return await paginate(
        session, select(Accompanist), key=Accompanist.id, cursor=cursor, limit=limit
    )


async def active_accompanists(session: AsyncSession) -> Sequence[Accompanist]:
    return (await session.scalars(select(Accompanist).where(Accompanist.active))).all()


async def accompanist_exists(session: AsyncSession, accompanist_id: str) -> bool:
    return await get_or_none(session, Accompanist, accompanist_id) is not None
