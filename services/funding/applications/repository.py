"""Every query of applications and their audit trail."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application, Transition
from services.funding.db.repository import Page, get, paginate
from services.funding.programmes.models import Envelope, Programme
from services.funding.tenancy.clauses import visible_territory
from services.funding.tenancy.roles import is_applicant, is_territorial_partner
from shared.auth import Principal

# States in which a file is held by its instructor.
_OPEN_STATES = ("in_instruction", "correction_requested", "in_committee")


async def application(
    session: AsyncSession, application_id: uuid.UUID, *, lock: bool = False
) -> Application:
    """The application; ``lock`` takes its row lock, which every change of the file holds."""
    return await get(session, Application, application_id, lock=lock)


async def readable_applications(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_code: str | None,
    state: str | None,
    territory: str | None,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    """The applications the principal may see, filtered, one keyset page: an applicant's
    own, or those of the staff's programmes (a partner's envelopes) and territories."""
    statement = select(Application)
    if is_applicant(principal):
        statement = statement.where(Application.applicant_client_id == principal.client_id)
    else:
        statement = statement.join(Programme, Programme.id == Application.programme_id).join(
            Envelope, Envelope.id == Application.envelope_id
        )
        programmes = principal.visible("programmes")
        envelopes = principal.visible("envelopes") or frozenset()
        if is_territorial_partner(principal):
            statement = statement.where(Envelope.code.in_(envelopes))
        elif programmes is not None:
            statement = statement.where(
                or_(Programme.code.in_(programmes), Envelope.code.in_(envelopes))
            )
        statement = statement.where(visible_territory(principal))
    if programme_code is not None:
        statement = statement.where(
            Application.programme_id.in_(
                select(Programme.id).where(Programme.code == programme_code)
            )
        )
    if state is not None:
        statement = statement.where(Application.state == state)
    if territory is not None:
        statement = statement.where(Application.territory == territory)
    return await paginate(session, statement, key=Application.id, cursor=cursor, limit=limit)


async def open_cases_by_instructor(session: AsyncSession) -> dict[str, int]:
    """Files currently held by each instructor (routing balances the load on this)."""
    result = await session.execute(
        select(Application.instructor_id, func.count())
        .where(Application.instructor_id.is_not(None), Application.state.in_(_OPEN_STATES))
        .group_by(Application.instructor_id)
    )
    return {str(instructor): int(count) for instructor, count in result.all()}


async def last_transition(session: AsyncSession, application_id: uuid.UUID) -> Transition | None:
    return await session.scalar(
        select(Transition)
        .where(Transition.application_id == application_id)
        .order_by(Transition.sequence.desc())
        .limit(1)
    )


async def transitions_of(session: AsyncSession, application_id: uuid.UUID) -> list[Transition]:
    statement = (
        select(Transition)
        .where(Transition.application_id == application_id)
        .order_by(Transition.sequence)
    )
    return list((await session.scalars(statement)).all())


async def transitions_page(
    session: AsyncSession, application_id: uuid.UUID, *, cursor: int | None, limit: int
) -> Page:
    statement = select(Transition).where(Transition.application_id == application_id)
    return await paginate(session, statement, key=Transition.sequence, cursor=cursor, limit=limit)
