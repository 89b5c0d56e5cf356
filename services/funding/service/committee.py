"""Committee sessions: the stored session is rebuilt as a domain value, the domain rule runs,
and the difference is written back under the session's row lock.

A decision is one transaction: the decision row, the application's transition, the audit
entry, the budget commitment on the locked envelope, the payment schedule and the events.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.domain import budget
from services.funding.domain import committee as rules
from services.funding.domain.errors import (
    AgendaError,
    DuplicateDeliberationNumberError,
    FundingDomainError,
)
from services.funding.domain.workflow import Action, ApplicationState, Role, apply_transition
from services.funding.service import applications, tranches
from services.funding.service.events import budget_event, decision_event
from services.funding.store import repository
from services.funding.store.models import (
    AgendaItem,
    Application,
    CommitteeMember,
    CommitteeSession,
    Conflict,
    Decision,
    Envelope,
    Programme,
    Vote,
)
from shared.auth import Principal


class AmountAboveRequestError(FundingDomainError):
    """A committee cannot grant more than was requested."""

    status, code, title = 422, "amount-above-request", "Granted amount exceeds the request"


async def create(session: AsyncSession, principal: Principal, data: Any) -> CommitteeSession:
    programme = await repository.programme_by_code(session, data.programme_code)
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
    session.add(row)
    await session.flush()
    session.add_all(CommitteeMember(session_id=row.id, member_id=m, present=False) for m in members)
    await session.flush()
    return row


async def load(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, *, lock: bool = True
) -> tuple[CommitteeSession, Programme, rules.CommitteeSession]:
    """The stored session (locked), its programme, and its domain value."""
    row = await repository.get(session, CommitteeSession, session_id, lock=lock)
    programme = await repository.get(session, Programme, row.programme_id)
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


async def add_to_agenda(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, application_id: uuid.UUID
) -> None:
    row, programme, value = await load(session, principal, session_id)
    application, _, _ = await applications.load(session, principal, application_id)
    if application.programme_id != programme.id:
        raise AgendaError("the application belongs to another programme")
    if application.state != ApplicationState.IN_COMMITTEE:
        raise AgendaError(
            f"only applications in committee go on an agenda; this one is {application.state}",
            application_state=application.state,
        )
    updated = rules.add_to_agenda(value, str(application_id))
    session.add(
        AgendaItem(session_id=row.id, application_id=application_id, position=len(updated.agenda))
    )
    await session.flush()


async def declare_conflict(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, data: Any
) -> None:
    row, _, value = await load(session, principal, session_id)
    rules.declare_conflict(value, application_id=str(data.application_id), member_id=data.member_id)
    if value.has_conflict(data.member_id, str(data.application_id)):
        return
    session.add(
        Conflict(session_id=row.id, application_id=data.application_id, member_id=data.member_id)
    )
    await session.execute(
        delete(Vote).where(
            Vote.session_id == row.id,
            Vote.application_id == data.application_id,
            Vote.member_id == data.member_id,
        )
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
    session.add(
        Vote(
            session_id=row.id,
            application_id=data.application_id,
            member_id=data.member_id,
            choice=data.choice,
        )
    )
    await session.flush()


async def close(session: AsyncSession, principal: Principal, session_id: uuid.UUID) -> None:
    row, _, value = await load(session, principal, session_id)
    row.status = rules.close_session(value).status.value
    await session.flush()


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
    if (
        data.deliberation_number is not None
        and await session.scalar(
            select(Decision.id).where(Decision.deliberation_number == data.deliberation_number)
        )
        is not None
    ):
        raise DuplicateDeliberationNumberError(
            f"deliberation {data.deliberation_number} already recorded",
            deliberation_number=data.deliberation_number,
        )
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
    try:
        async with session.begin_nested():
            session.add(decision)
            await session.flush()
    except IntegrityError as exc:  # a concurrent decision took the same number
        raise DuplicateDeliberationNumberError(
            f"deliberation {decided.deliberation_number} already recorded",
            deliberation_number=decided.deliberation_number,
        ) from exc
    if decided.workflow_action is Action.APPROVE:
        assert decided.amount_cents is not None
        await _commit_budget(session, application, envelope, programme, decided.amount_cents)
    await session.flush()
    await applications.apply_result(
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


async def _commit_budget(
    session: AsyncSession,
    application: Application,
    envelope: Envelope,
    programme: Programme,
    amount_cents: int,
) -> None:
    locked = await repository.get(session, Envelope, envelope.id, lock=True)
    current = budget.Envelope(
        ap_cents=locked.ap_cents,
        cp_cents=locked.cp_cents,
        committed_cents=locked.committed_cents,
        paid_cents=locked.paid_cents + locked.ordered_cents,
    )
    updated, _ = budget.commit(current, amount_cents)
    locked.committed_cents = updated.committed_cents
    application.granted_amount_cents = amount_cents
    await session.flush()
    await tranches.create_schedule(session, application, programme)
    await budget_event(
        session,
        released=False,
        envelope=locked,
        programme=programme,
        application=application,
        amount_cents=amount_cents,
    )
