"""Committee sessions: agenda, attendance, conflicts of interest, votes and decisions.

Why: a grant is public money awarded by a deliberating body, and a decision is only valid
if the body could deliberate. So a member who declared an interest in an application may
not vote on it and does not count towards its quorum (French "prise illégale d'intérêts"
rules); approval and rejection must follow the votes cast; every approval carries an amount
and a deliberation number, every rejection or adjournment a written reason. A recorded
decision then drives the application's workflow transition (``Decision.workflow_action`` and
``Decision.transition_fields``) and, for an approval, the budget commitment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from services.funding.applications.errors import MissingFieldsError
from services.funding.applications.rules.workflow import Action
from services.funding.committees.errors import (
    AgendaError,
    AlreadyDecidedError,
    AlreadyVotedError,
    ConflictOfInterestError,
    DecisionContradictsVoteError,
    DuplicateDeliberationNumberError,
    InvalidSessionError,
    MemberAbsentError,
    NotACommitteeMemberError,
    QuorumNotReachedError,
    SessionStatusError,
)


class SessionStatus(StrEnum):
    """Life of a session: agenda built while planned, votes while open, frozen once closed."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class VoteChoice(StrEnum):
    """A member's vote on one application."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class DecisionOutcome(StrEnum):
    """What the committee decided on one application."""

    APPROVED = "approved"
    REJECTED = "rejected"
    ADJOURNED = "adjourned"


@dataclass(frozen=True, slots=True)
class Vote:
    """One member's vote on one application."""

    application_id: str
    member_id: str
    choice: VoteChoice


@dataclass(frozen=True, slots=True)
class ConflictDeclaration:
    """A member's declared interest in one application."""

    application_id: str
    member_id: str


@dataclass(frozen=True, slots=True)
class Tally:
    """Votes cast on one application and whether the committee could deliberate on it."""

    votes_for: int
    votes_against: int
    abstentions: int
    eligible_present: int
    quorum: int

    @property
    def quorum_reached(self) -> bool:
        """Enough present members without a conflict of interest."""
        return self.eligible_present >= self.quorum

    @property
    def votes_cast(self) -> int:
        """All votes, abstentions included."""
        return self.votes_for + self.votes_against + self.abstentions


@dataclass(frozen=True, slots=True)
class Decision:
    """A recorded committee decision on one application."""

    application_id: str
    outcome: DecisionOutcome
    tally: Tally
    deliberation_number: str | None = None
    amount_cents: int | None = None
    reason: str | None = None

    @property
    def workflow_action(self) -> Action:
        """The application workflow action this decision performs."""
        return {
            DecisionOutcome.APPROVED: Action.APPROVE,
            DecisionOutcome.REJECTED: Action.REJECT,
            DecisionOutcome.ADJOURNED: Action.ADJOURN,
        }[self.outcome]

    def transition_fields(self) -> dict[str, object]:
        """The fields to pass to ``workflow.apply_transition`` for ``workflow_action``."""
        fields: dict[str, object] = {
            "granted_amount_cents": self.amount_cents,
            "deliberation_number": self.deliberation_number,
            "reason": self.reason,
        }
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True, slots=True)
class CommitteeSession:
    """One sitting of a programme's committee."""

    session_id: str
    members: frozenset[str]
    quorum: int
    status: SessionStatus = SessionStatus.PLANNED
    agenda: tuple[str, ...] = ()
    attendees: frozenset[str] = frozenset()
    conflicts: frozenset[ConflictDeclaration] = frozenset()
    votes: tuple[Vote, ...] = ()
    decisions: tuple[Decision, ...] = ()

    def __post_init__(self) -> None:
        if not self.members:
            raise InvalidSessionError("a committee needs members")
        if not 1 <= self.quorum <= len(self.members):
            raise InvalidSessionError(
                f"quorum must be between 1 and {len(self.members)}", quorum=self.quorum
            )
        if not self.attendees <= self.members:
            raise InvalidSessionError("attendees must be members")

    def has_conflict(self, member_id: str, application_id: str) -> bool:
        """True when the member declared an interest in the application."""
        return ConflictDeclaration(application_id, member_id) in self.conflicts

    def decision_for(self, application_id: str) -> Decision | None:
        """The decision recorded on the application in this session, if any."""
        return next((d for d in self.decisions if d.application_id == application_id), None)


def majority_quorum(member_count: int) -> int:
    """The usual quorum: more than half of the members."""
    return member_count // 2 + 1


def _require_status(session: CommitteeSession, *allowed: SessionStatus) -> None:
    if session.status not in allowed:
        raise SessionStatusError(
            f"session {session.session_id} is {session.status}",
            session_status=str(session.status),
            allowed=[str(s) for s in allowed],
        )


def _require_member(session: CommitteeSession, member_id: str) -> None:
    if member_id not in session.members:
        raise NotACommitteeMemberError(f"{member_id} is not a member", member_id=member_id)


def _require_on_agenda(session: CommitteeSession, application_id: str) -> None:
    if application_id not in session.agenda:
        raise AgendaError(f"{application_id} is not on the agenda", application_id=application_id)


def _require_undecided(session: CommitteeSession, application_id: str) -> None:
    if session.decision_for(application_id) is not None:
        raise AlreadyDecidedError(
            f"{application_id} is already decided", application_id=application_id
        )


def add_to_agenda(session: CommitteeSession, application_id: str) -> CommitteeSession:
    """Put an application on the agenda of a planned or open session."""
    _require_status(session, SessionStatus.PLANNED, SessionStatus.OPEN)
    if application_id in session.agenda:
        raise AgendaError(
            f"{application_id} is already on the agenda", application_id=application_id
        )
    return replace(session, agenda=(*session.agenda, application_id))


def declare_conflict(
    session: CommitteeSession, *, application_id: str, member_id: str
) -> CommitteeSession:
    """Record a member's interest in an application; a vote already cast by them is void."""
    _require_status(session, SessionStatus.PLANNED, SessionStatus.OPEN)
    _require_member(session, member_id)
    _require_undecided(session, application_id)
    declaration = ConflictDeclaration(application_id, member_id)
    votes = tuple(
        v for v in session.votes if (v.application_id, v.member_id) != (application_id, member_id)
    )
    return replace(session, conflicts=session.conflicts | {declaration}, votes=votes)


def open_session(session: CommitteeSession, *, attendees: Iterable[str]) -> CommitteeSession:
    """Open a planned session with the members present."""
    _require_status(session, SessionStatus.PLANNED)
    present = frozenset(attendees)
    for member_id in sorted(present - session.members):
        _require_member(session, member_id)
    return replace(session, status=SessionStatus.OPEN, attendees=present)


def cast_vote(
    session: CommitteeSession, *, application_id: str, member_id: str, choice: VoteChoice
) -> CommitteeSession:
    """Record one present, non-conflicted member's vote on an application on the agenda."""
    _require_status(session, SessionStatus.OPEN)
    _require_on_agenda(session, application_id)
    _require_undecided(session, application_id)
    _require_member(session, member_id)
    if member_id not in session.attendees:
        raise MemberAbsentError(f"{member_id} is not present", member_id=member_id)
    if session.has_conflict(member_id, application_id):
        raise ConflictOfInterestError(
            f"{member_id} declared an interest in {application_id}",
            member_id=member_id,
            application_id=application_id,
        )
    if any(v.application_id == application_id and v.member_id == member_id for v in session.votes):
        raise AlreadyVotedError(
            f"{member_id} already voted on {application_id}",
            member_id=member_id,
            application_id=application_id,
        )
    return replace(session, votes=(*session.votes, Vote(application_id, member_id, choice)))


def tally(session: CommitteeSession, application_id: str) -> Tally:
    """Count the votes on an application and the members able to deliberate on it."""
    choices = [v.choice for v in session.votes if v.application_id == application_id]
    eligible = {m for m in session.attendees if not session.has_conflict(m, application_id)}
    return Tally(
        votes_for=choices.count(VoteChoice.FOR),
        votes_against=choices.count(VoteChoice.AGAINST),
        abstentions=choices.count(VoteChoice.ABSTAIN),
        eligible_present=len(eligible),
        quorum=session.quorum,
    )


def _check_decision_fields(
    outcome: DecisionOutcome,
    *,
    deliberation_number: str | None,
    amount_cents: int | None,
    reason: str | None,
) -> None:
    problems: dict[str, str] = {}
    if outcome is not DecisionOutcome.ADJOURNED and not (deliberation_number or "").strip():
        problems["deliberation_number"] = "missing"
    if outcome is DecisionOutcome.APPROVED:
        if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
            problems["amount_cents"] = "must be a positive integer of cents"
    elif amount_cents is not None:
        problems["amount_cents"] = f"must be absent when {outcome}"
    if outcome is not DecisionOutcome.APPROVED and not (reason or "").strip():
        problems["reason"] = "missing"
    if problems:
        raise MissingFieldsError(problems)


def _check_votes_support(outcome: DecisionOutcome, counted: Tally, application_id: str) -> None:
    if outcome is DecisionOutcome.ADJOURNED:
        return
    if counted.votes_cast == 0:
        raise DecisionContradictsVoteError(
            f"no vote recorded on {application_id}", application_id=application_id
        )
    carried = counted.votes_for > counted.votes_against
    if carried != (outcome is DecisionOutcome.APPROVED):
        raise DecisionContradictsVoteError(
            f"{counted.votes_for} for / {counted.votes_against} against cannot give {outcome}",
            application_id=application_id,
            votes_for=counted.votes_for,
            votes_against=counted.votes_against,
        )


def decide(
    session: CommitteeSession,
    *,
    application_id: str,
    outcome: DecisionOutcome,
    deliberation_number: str | None = None,
    amount_cents: int | None = None,
    reason: str | None = None,
) -> tuple[CommitteeSession, Decision]:
    """Record the committee's decision on an application, checked against quorum and votes.

    Approval and rejection need the quorum and must follow the simple majority of votes cast
    (abstentions do not count); adjournment needs neither, since "no quorum" is a reason.
    """
    _require_status(session, SessionStatus.OPEN)
    _require_on_agenda(session, application_id)
    _require_undecided(session, application_id)
    _check_decision_fields(
        outcome, deliberation_number=deliberation_number, amount_cents=amount_cents, reason=reason
    )
    counted = tally(session, application_id)
    if outcome is not DecisionOutcome.ADJOURNED and not counted.quorum_reached:
        raise QuorumNotReachedError(
            application_id=application_id, present=counted.eligible_present, quorum=counted.quorum
        )
    _check_votes_support(outcome, counted, application_id)
    if deliberation_number is not None and any(
        d.deliberation_number == deliberation_number for d in session.decisions
    ):
        raise DuplicateDeliberationNumberError(
            f"deliberation {deliberation_number} already recorded",
            deliberation_number=deliberation_number,
        )
    decision = Decision(
        application_id=application_id,
        outcome=outcome,
        tally=counted,
        deliberation_number=deliberation_number,
        amount_cents=amount_cents,
        reason=reason,
    )
    return replace(session, decisions=(*session.decisions, decision)), decision


def close_session(session: CommitteeSession) -> CommitteeSession:
    """Close an open session; undecided applications stay in committee for a later one."""
    _require_status(session, SessionStatus.OPEN)
    return replace(session, status=SessionStatus.CLOSED)
