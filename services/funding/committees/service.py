"""Committee sessions: the stored session is rebuilt as a domain value, the domain rule runs,
and the difference is written back under the session's row lock.

A decision is one transaction: the decision row, the application's transition, the audit
entry, the budget commitment on the locked envelope, the payment schedule and the events.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.applications.rules.workflow import (
    Action,
    ApplicationState,
    Role,
    apply_transition,
)
from services.funding.applications.service import base as applications
from services.funding.applications.service import workflow
from services.funding.committees import repository, rules
from services.funding.committees.errors import (
    AgendaApplicationNotFound,
    AgendaError,
    AmountAboveRequestError,
    DuplicateDeliberationNumberError,
)
from services.funding.committees.events import decision_event
from services.funding.committees.models import (
    AgendaItem,
    CommitteeMember,
    CommitteeSession,
    Conflict,
    Decision,
    Vote,
)
from services.funding.db.repository import Page, add
from services.funding.instruments.errors import InvalidTermsError
from services.funding.instruments.service import base as instruments
from services.funding.programmes import service as programmes
from services.funding.programmes.models import Envelope, Programme
from services.funding.tranches import service as tranches
from shared.auth import Principal
from shared.problems import NotFound


async def create(session: AsyncSession, principal: Principal, data: Any) -> CommitteeSession:
    programme = await programmes.programme_by_code(session, data.programme_code)
    principal.ensure_access("programmes", programme.code)
    members = sorted(set(data.members))
    quorum = data.quorum or rules.majority_quorum(len(members))
    rules.CommitteeSession(session_id="new", members=frozenset(members), quorum=quorum)
    row = CommitteeSession(
        programme_id=programme.id,
        title=data.title,
        scheduled_at=data.scheduled_at,
        quorum=quorum,
        status=rules.SessionStatus.PLANNED.value,
    )
    await add(session, row)
    await add(
        session,
        *(CommitteeMember(session_id=row.id, member_id=m, present=False) for m in members),
    )
    return row


async def load(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, *, lock: bool = True
) -> tuple[CommitteeSession, Programme, rules.CommitteeSession]:
    """The stored session (locked), its programme, and its domain value."""
    row = await repository.committee_session(session, session_id, lock=lock)
    programme = await programmes.programme(session, row.programme_id)
    principal.ensure_access("programmes", programme.code)
    members, agenda, conflicts, votes, decisions = await repository.session_parts(session, row.id)
    value = rules.CommitteeSession(
        session_id=str(row.id),
        members=frozenset(m.member_id for m in members),
        quorum=row.quorum,
        status=rules.SessionStatus(row.status),
        agenda=tuple(str(a.application_id) for a in agenda),
        attendees=frozenset(m.member_id for m in members if m.present),
        conflicts=frozenset(
            rules.ConflictDeclaration(str(c.application_id), c.member_id) for c in conflicts
        ),
        votes=tuple(
            rules.Vote(str(v.application_id), v.member_id, rules.VoteChoice(v.choice))
            for v in votes
        ),
        decisions=tuple(
            rules.Decision(
                application_id=str(d.application_id),
                outcome=rules.DecisionOutcome(d.outcome),
                tally=rules.Tally(d.votes_for, d.votes_against, d.abstentions, 0, row.quorum),
                deliberation_number=d.deliberation_number,
            )
            for d in decisions
        ),
    )
    return row, programme, value


async def read(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID
) -> dict[str, Any]:
    """The session as its readers see it: members, attendees and agenda."""
    row, _, value = await load(session, principal, session_id, lock=False)
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


async def readable(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_code: str | None,
    cursor: uuid.UUID | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Sessions of the programmes this principal is bound to, read, one keyset page."""
    rows, next_cursor = await repository.readable_sessions(
        session, principal, programme_code=programme_code, cursor=cursor, limit=limit
    )
    return [await read(session, principal, r.id) for r in rows], next_cursor


async def add_to_agenda(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, application_id: uuid.UUID
) -> None:
    row, programme, value = await load(session, principal, session_id)
    try:
        application, _, _ = await applications.load(session, principal, application_id)
    except NotFound as exc:
        raise AgendaApplicationNotFound(
            f"no application {application_id} to put on the agenda",
            application_id=str(application_id),
        ) from exc
    if application.programme_id != programme.id:
        raise AgendaError("the application belongs to another programme")
    if application.state != ApplicationState.IN_COMMITTEE:
        raise AgendaError(
            f"only applications in committee go on an agenda; this one is {application.state}",
            application_state=application.state,
        )
    updated = rules.add_to_agenda(value, str(application_id))
    await add(
        session,
        AgendaItem(session_id=row.id, application_id=application_id, position=len(updated.agenda)),
    )


async def declare_conflict(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, data: Any
) -> None:
    row, _, value = await load(session, principal, session_id)
    rules.declare_conflict(value, application_id=str(data.application_id), member_id=data.member_id)
    if value.has_conflict(data.member_id, str(data.application_id)):
        return
    await add(
        session,
        Conflict(session_id=row.id, application_id=data.application_id, member_id=data.member_id),
    )
    await repository.delete_vote(
        session,
        session_id=row.id,
        application_id=data.application_id,
        member_id=data.member_id,
    )
    await session.flush()


async def open_session(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, attendees: list[str]
) -> None:
    row, _, value = await load(session, principal, session_id)
    opened = rules.open_session(value, attendees=attendees)
    members, *_ = await repository.session_parts(session, row.id)
    for member in members:
        member.present = member.member_id in opened.attendees
    row.status = opened.status.value
    await session.flush()


async def vote(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, data: Any
) -> None:
    row, _, value = await load(session, principal, session_id)
    rules.cast_vote(
        value,
        application_id=str(data.application_id),
        member_id=data.member_id,
        choice=rules.VoteChoice(data.choice),
    )
    await add(
        session,
        Vote(
            session_id=row.id,
            application_id=data.application_id,
            member_id=data.member_id,
            choice=data.choice,
        ),
    )


async def close(session: AsyncSession, principal: Principal, session_id: uuid.UUID) -> None:
    row, _, value = await load(session, principal, session_id)
    row.status = rules.close_session(value).status.value
    await session.flush()


async def decisions(
    session: AsyncSession,
    principal: Principal,
    session_id: uuid.UUID,
    *,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    """Decisions recorded in the session, one keyset page."""
    await load(session, principal, session_id, lock=False)
    return await repository.decisions_page(session, session_id, cursor=cursor, limit=limit)


async def decide(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, data: Any
) -> Decision:
    """Record a decision and apply it: transition, commitment (approval), schedule, events."""
    row, programme, value = await load(session, principal, session_id)
    application, envelope, _ = await applications.load(
        session, principal, data.application_id, lock=True
    )
    if data.amount_cents is not None and data.amount_cents > application.requested_amount_cents:
        raise AmountAboveRequestError(
            f"{data.amount_cents} cents granted for {application.requested_amount_cents} requested",
            requested_amount_cents=application.requested_amount_cents,
        )
    if data.deliberation_number is not None and await repository.deliberation_number_taken(
        session, data.deliberation_number
    ):
        raise DuplicateDeliberationNumberError(
            f"deliberation {data.deliberation_number} already recorded",
            deliberation_number=data.deliberation_number,
        )
    instrument = getattr(data, "instrument", None)
    if instrument is not None:
        if data.outcome != rules.DecisionOutcome.APPROVED.value:
            raise InvalidTermsError("only an approval awards an instrument")
        if data.amount_cents is not None:
            instruments.check_terms(instrument, data.amount_cents)
    _, decided = rules.decide(
        value,
        application_id=str(data.application_id),
        outcome=rules.DecisionOutcome(data.outcome),
        deliberation_number=data.deliberation_number,
        amount_cents=data.amount_cents,
        reason=data.reason,
    )
    result = apply_transition(
        ApplicationState(application.state),
        decided.workflow_action,
        actor_role=Role.COMMITTEE,
        fields=decided.transition_fields(),
    )
    decision = Decision(
        session_id=row.id,
        application_id=application.id,
        outcome=decided.outcome.value,
        amount_cents=decided.amount_cents,
        deliberation_number=decided.deliberation_number,
        reason=decided.reason,
        votes_for=decided.tally.votes_for,
        votes_against=decided.tally.votes_against,
        abstentions=decided.tally.abstentions,
    )
    if not await repository.insert_decision(session, decision):
        # a concurrent decision took the same number
        raise DuplicateDeliberationNumberError(
            f"deliberation {decided.deliberation_number} already recorded",
            deliberation_number=decided.deliberation_number,
        )
    if decided.workflow_action is Action.APPROVE:
        assert decided.amount_cents is not None
        await _grant(
            session,
            application,
            envelope,
            programme,
            decided.amount_cents,
            kind=instrument.kind if instrument is not None else None,
        )
        if instrument is not None:
            await instruments.record_at_decision(
                session,
                principal,
                terms=instrument,
                application=application,
                programme_code=programme.code,
                decision_id=decision.id,
                amount_cents=decided.amount_cents,
            )
    await session.flush()
    await workflow.apply_result(
        session,
        principal,
        application=application,
        envelope=envelope,
        programme=programme,
        result=result,
    )
    if decided.workflow_action is not Action.ADJOURN:
        await decision_event(
            session,
            decision=decision,
            application=application,
            envelope=envelope,
            programme=programme,
        )
    return decision


async def _grant(
    session: AsyncSession,
    application: Application,
    envelope: Envelope,
    programme: Programme,
    amount_cents: int,
    *,
    kind: str | None = None,
) -> None:
    """Commit the granted amount on the envelope and schedule its payment: a grant in
    tranches, a loan in one disbursement, a guarantee not at all (it pays when called)."""
    await programmes.change_commitment(
        session,
        envelope=envelope,
        owner=programme,
        grantee=application,
        amount_cents=amount_cents,
    )
    application.granted_amount_cents = amount_cents
    await session.flush()
    if kind is None:
        await tranches.create_schedule(session, application, programme)
    elif kind != "guarantee":
        await tranches.create_disbursement(session, application, programme)
